# SPDX-License-Identifier: MIT
#
# Host build of the memory model (kernel/mm + kernel/lock.c) over the simulated arch
# (tests/host/sim/), and its unit tests under ASan+UBSan.
#
#   make -f tests/host/host.mk host-tests      (standalone, from the top)
#   make -f mk/build.mk host-tests             (included there; tests/run.py)
#   build/host/mm/test_buddy random_long       (one case by name)
#
# Interface: the host-tests target; HOST_MM_SRCS (kernel sources the host build uses) and
# HOST_SIM_SRCS (the simulation), for fuzzers to reuse; adds the binaries to HOST_TEST_BINS.
# Other variables are prefixed HM_ so the fragment can sit beside others in one make.

HOST_MM_SRCS := kernel/lock.c kernel/mm/memblock.c kernel/mm/pgtable.c kernel/mm/section.c \
	kernel/mm/vmemmap.c kernel/mm/page_alloc.c kernel/mm/deferred.c kernel/mm/directmap.c \
	kernel/mm/mm_init.c kernel/mm/numa.c kernel/mm/hotplug_lock.c kernel/mm/ptdump.c kernel/mm/meminfo.c \
	kernel/mm/hotplug.c kernel/mm/page_isolation.c kernel/mm/migrate.c kernel/mm/mem_ranges.c \
	kernel/mm/diag/memtest.c kernel/mm/diag/mm_cmds.c kernel/mm/diag/hotplug_cmds.c \
	kernel/mm/diag/stress.c kernel/mm/diag/mmcheck.c kernel/mm/diag/section_map.c kernel/mm/diag/nodes.c kernel/mm/memremap.c kernel/mm/kmem.c \
	kernel/cmdline.c kernel/fault_inject.c
HM_PARSE_SRC := kernel/parse.c
HOST_SIM_SRCS := tests/host/sim/sim_arch.c tests/host/sim/sim_boot.c \
	tests/host/common/printk.c tests/host/sim/sim_console.c tests/host/sim/sim_check.c \
	tests/host/common/test_main.c lib/errname.c $(HM_PARSE_SRC)

HM_CC ?= gcc
HM_BUILD := build/host/mm
HM_SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
HM_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror $(HM_SANITIZE) -Iinclude -Itests/host/sim \
	-Itests/host/common \
	-DLOCKDEP=1 -MMD -MP
HM_OBJS := $(patsubst %.c,$(HM_BUILD)/obj/%.o,$(HOST_MM_SRCS) $(HOST_SIM_SRCS))
HM_TESTS := test_lock test_memblock test_kpt test_vmemmap test_buddy test_deferred test_report \
	test_numa \
	test_hotplug test_memremap
HM_BINS := $(addprefix $(HM_BUILD)/,$(HM_TESTS))
HOST_TEST_BINS += $(HM_BINS)
# detect_leaks=0: the sim maps memory and never frees it; allow_user_segv_handler: a test expects
# a fault on an unpopulated descriptor and catches it.
HM_ASAN := ASAN_OPTIONS=detect_leaks=0:allow_user_segv_handler=1 UBSAN_OPTIONS=print_stacktrace=1

$(HM_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(HM_CC) $(HM_CFLAGS) -c $< -o $@

$(HM_BUILD)/%: $(HM_BUILD)/obj/tests/host/mm/%.o $(HM_OBJS)
	$(HM_CC) $(HM_SANITIZE) -o $@ $^ -lpthread

.PHONY: host-tests
host-tests: $(HM_BINS)
	@fail=0; for t in $(HM_BINS); do $(HM_ASAN) $$t || fail=1; done; exit $$fail

-include $(HM_OBJS:.o=.d) $(patsubst %,$(HM_BUILD)/obj/tests/host/mm/%.d,$(HM_TESTS))
