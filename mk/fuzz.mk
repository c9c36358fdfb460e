# SPDX-License-Identifier: MIT
#
# libFuzzer targets over the host build of the kernel's own sources (tests/fuzz/), built with
# Debian's clang and ASan/UBSan into build/fuzz/. Each target has a committed seed corpus in
# tests/fuzz/corpus/<target>/ and the inputs of crashes once found (and fixed) in
# tests/fuzz/regress/<target>/.
#
#   make fuzz                     build, then run each target FUZZ_SECONDS (default 5) on a
#                                 scratch copy of its corpus; prints execs and execs/s per target;
#                                 fails on a crash, whose input is kept in build/fuzz/crashes/
#   make fuzz FUZZ_SECONDS=60 FUZZ_TARGETS="dt console"
#   make fuzz FUZZ_MERGE=1        also merge the inputs that found new coverage into the corpus
#   make fuzz-regress             replay every corpus and regression input once through its
#                                 target (fast; `PASS: fuzz/<target>/...` lines for tests/run.py)
#   make fuzz-seeds               regenerate tests/fuzz/corpus/dt/ from QEMU's and the fixtures'
#                                 DTBs (tests/host/platform/platform.mk makes them)
#   build/fuzz/fuzz_dt CRASHFILE  reproduce one input (RVMM_TEST_VERBOSE=1: the kernel log)
#
# Included by mk/build.mk after the host fragments (it reuses HOST_MM_SRCS, HOST_SIM_SRCS and
# the DTB rules); standalone: make -f mk/fuzz.mk fuzz. Variables are prefixed FZ_.

FZ_HOST_FRAGMENTS := $(if $(HOST_MM_SRCS),,tests/host/host.mk) \
	$(if $(PT_DTB),,tests/host/platform/platform.mk)
ifneq ($(strip $(FZ_HOST_FRAGMENTS)),)
include lib/libfdt.mk
-include $(FZ_HOST_FRAGMENTS)
endif

FUZZ_SECONDS ?= 5
FUZZ_MERGE ?= 0
FZ_CC ?= clang
FZ_BUILD := build/fuzz
FZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FZ_COV := -fsanitize=fuzzer-no-link
FZ_CFLAGS = -std=gnu11 -O1 -g -Wall -Wextra $(FZ_SAN) $(FZ_COV) -Iinclude \
	-Itests/host/sim -Itests/host/common -Itests/fuzz $(LIBFDT_CFLAGS) -DLOCKDEP=1 -MMD -MP
# The virtio targets see the host tests' stand-in io.h before the kernel's (as virtio.mk does).
FZ_VCFLAGS = $(subst -Iinclude,-Itests/host/virtio/include -Iinclude -Itests/host/virtio \
	-Itests/host/vmem -Idrivers/virtio,$(FZ_CFLAGS))
FZ_NICE := nice -n 10
Q ?= $(if $(filter 1,$(V)),,@)

# ---- Targets and their sources ----------------------------------------------------------------
FZ_ALL := dt cmdline console vmem mm
FUZZ_TARGETS ?= $(FZ_ALL)

FZ_LOG := tests/host/common/printk.c tests/fuzz/fuzz_fail.c
FZ_PLATFORM := kernel/platform.c kernel/platform_mem.c kernel/platform_cpus.c kernel/platform_numa.c \
	kernel/platform_print.c kernel/cmdline.c kernel/parse.c kernel/irq.c
# The mm simulation without its case runner and its stand-in shell (the real console.c is used).
FZ_SIM := $(filter-out tests/host/common/test_main.c \
	tests/host/sim/sim_console.c,$(HOST_SIM_SRCS))

FZ_SRCS_dt := tests/fuzz/fuzz_dt.c $(FZ_LOG) $(FZ_PLATFORM) drivers/pci/pci_host_dt.c lib/errname.c
FZ_FDT_dt := fdt.c fdt_ro.c fdt_strerror.c fdt_rw.c fdt_wip.c
FZ_GEN_dt := $(FZ_BUILD)/gen/fuzz_dt_blobs.o
FZ_SRCS_cmdline := tests/fuzz/fuzz_cmdline.c $(FZ_LOG) kernel/cmdline.c kernel/parse.c
FZ_SRCS_console := $(sort tests/fuzz/fuzz_console.c tests/fuzz/fuzz_sim.c tests/fuzz/fuzz_fail.c \
	kernel/console.c kernel/dt_cmds.c kernel/cmdline.c kernel/platform_print.c $(HOST_MM_SRCS) \
	$(FZ_SIM))
FZ_SRCS_mm := $(sort tests/fuzz/fuzz_mm.c tests/fuzz/fuzz_sim.c tests/fuzz/fuzz_fail.c \
	kernel/cmdline.c $(HOST_MM_SRCS) $(FZ_SIM))
# fuzz_vmem: the virtio core, transport and virtio-mem driver over the simulated device and the
# fake hot-plug core of tests/host/vmem/ (built like virtio.mk and vmem.mk build them).
FZ_VSRCS_vmem := tests/fuzz/fuzz_vmem.c tests/fuzz/fuzz_fail.c drivers/virtio/virtio.c kernel/mm/numa.c \
	drivers/virtio/virtqueue.c drivers/virtio/virtio_mmio.c \
	$(wildcard drivers/virtio/virtio_mem*.c) \
	tests/host/virtio/vsim.c tests/host/virtio/host_stubs.c tests/host/common/printk.c \
	lib/errname.c kernel/lock.c kernel/mm/mem_ranges.c \
	$(filter-out %/test_vmem.c,$(wildcard tests/host/vmem/*.c))

FZ_OBJS_OF = $(patsubst %.c,$(FZ_BUILD)/obj/%.o,$(FZ_SRCS_$(1))) \
	$(patsubst %.c,$(FZ_BUILD)/vobj/%.o,$(FZ_VSRCS_$(1))) \
	$(patsubst %.c,$(FZ_BUILD)/obj/libfdt/%.o,$(FZ_FDT_$(1))) $(FZ_GEN_$(1))
FZ_BINS := $(addprefix $(FZ_BUILD)/fuzz_,$(FUZZ_TARGETS))

.PHONY: fuzz fuzz-build fuzz-regress fuzz-seeds
fuzz-build: $(FZ_BINS)

fuzz: $(FZ_BINS)
	@rc=0; for t in $(FUZZ_TARGETS); do \
		FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_MERGE=$(FUZZ_MERGE) \
			$(FZ_NICE) tests/fuzz/fuzz.sh run $$t $(FZ_BUILD) || rc=1; \
	done; exit $$rc

fuzz-regress: $(FZ_BINS)
	@rc=0; for t in $(FUZZ_TARGETS); do \
		tests/fuzz/fuzz.sh regress $$t $(FZ_BUILD) || rc=1; \
	done; exit $$rc

define FZ_LINK
$(FZ_BUILD)/fuzz_$(1): $(call FZ_OBJS_OF,$(1))
	@echo "  FUZZLD  $$@"
	$$(Q)$$(FZ_NICE) $$(FZ_CC) $$(FZ_SAN) -fsanitize=fuzzer -o $$@ $$^ -lpthread
endef
$(foreach t,$(FZ_ALL),$(eval $(call FZ_LINK,$(t))))

$(FZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  $<"
	$(Q)$(FZ_NICE) $(FZ_CC) $(FZ_CFLAGS) -c $< -o $@

$(FZ_BUILD)/vobj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  $< (virtio)"
	$(Q)$(FZ_NICE) $(FZ_CC) $(FZ_VCFLAGS) -c $< -o $@

# Coverage feedback is for the code under test. libfdt keeps its edges but its comparisons are not
# traced (a quarter of fuzz_dt's time), nor are kernel/mm's: its loops over every page of a range
# (online, isolation, memtest's patterns, mm_check's walk) made comparison tracing most of
# fuzz_mm's and fuzz_console's time, and the harness, not a magic value, decides what mm does.
# The same holds for the virtio-mem driver's scans over its block bitmaps (60% of fuzz_vmem's
# time); the virtio core and transport, which read the device's values, keep it. The simulation
# and the fuzzers' own checks are not instrumented at all; fuzz_mm's model keeps its edges (they
# tell states apart) but not its comparisons, loops over every piece and slot after each step.
$(FZ_BUILD)/obj/libfdt/%.o: FZ_COV += -fno-sanitize-coverage=trace-cmp
$(FZ_BUILD)/obj/kernel/mm/%.o $(FZ_BUILD)/obj/tests/fuzz/fuzz_mm.o: \
	FZ_COV += -fno-sanitize-coverage=trace-cmp
$(FZ_BUILD)/vobj/drivers/virtio/virtio_mem.o $(FZ_BUILD)/vobj/drivers/virtio/virtio_mem_%.o: \
	FZ_COV += -fno-sanitize-coverage=trace-cmp
$(FZ_BUILD)/obj/tests/host/%.o $(FZ_BUILD)/vobj/tests/host/%.o $(FZ_BUILD)/obj/tests/fuzz/fuzz_sim.o: \
	FZ_COV :=

# The checker, mm_check, is not code under test but the fuzzers' oracle: it runs over every page
# of the machine once or twice per input (a quarter of fuzz_mm's time). It only reads, and what
# it reads page by page (descriptors, page tables) is the simulation's mmap'd memory, which ASan
# does not track; its edges would only reward the fuzzer for states it already rewards
# elsewhere. So it is built without ASan and without coverage; UBSan stays.
$(FZ_BUILD)/obj/kernel/mm/diag/mmcheck.o: FZ_SAN += -fno-sanitize=address
$(FZ_BUILD)/obj/kernel/mm/diag/mmcheck.o: FZ_COV :=

$(FZ_BUILD)/obj/libfdt/%.o: $(LIBFDT_DIR)/%.c
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  libfdt/$(notdir $<)"
	$(Q)$(FZ_NICE) $(FZ_CC) $(FZ_CFLAGS) $(LIBFDT_WARN_CFLAGS) -c $< -o $@

# The real trees fuzz_dt's structured mode edits: committed seeds, embedded with .incbin.
FZ_DT_BASES := qemu-1g-1 qemu-3g-4 qemu-256g-8 fx-multi-mem fx-pci-imap fx-reserved fx-cells1 \
	qemu-numa4 fx-numa-bad
FZ_DT_BASE_FILES := $(patsubst %,tests/fuzz/corpus/dt/%.dtb,$(FZ_DT_BASES))
$(FZ_BUILD)/gen/fuzz_dt_blobs.S: $(FZ_DT_BASE_FILES) mk/fuzz.mk
	@mkdir -p $(dir $@)
	@{ echo '	.section .rodata'; \
	  i=0; for f in $(FZ_DT_BASE_FILES); do \
		echo "	.balign 8"; echo "blob$$i: .incbin \"$(CURDIR)/$$f\""; echo "blob$${i}_end:"; \
		i=$$((i + 1)); done; \
	  echo '	.section .data.rel.ro'; echo '	.balign 8'; \
	  echo '	.globl fuzz_dt_blobs'; echo 'fuzz_dt_blobs:'; \
	  i=0; for f in $(FZ_DT_BASE_FILES); do echo "	.quad blob$$i, blob$${i}_end"; \
		i=$$((i + 1)); done; \
	  echo '	.section .rodata'; echo '	.balign 4'; \
	  echo '	.globl fuzz_dt_nr_blobs'; echo "fuzz_dt_nr_blobs: .long $(words $(FZ_DT_BASES))"; \
	  echo '	.section .note.GNU-stack,"",@progbits'; } > $@

$(FZ_BUILD)/gen/%.o: $(FZ_BUILD)/gen/%.S
	$(Q)$(FZ_CC) -c $< -o $@

# Seeds for fuzz_dt: QEMU virt at several -m/-smp, the DTS fixtures, the system tests' bad trees.
fuzz-seeds: platform-dtbs
	@mkdir -p tests/fuzz/corpus/dt
	@for f in $(PT_QEMU_DTBS) $(PT_NUMA4_DTB); do cp $$f tests/fuzz/corpus/dt/; done
	@for f in $(PT_FX_DTBS); do cp $$f tests/fuzz/corpus/dt/fx-$$(basename $$f); done
	@for f in $(PT_BAD_DTBS); do cp $$f tests/fuzz/corpus/dt/bad-$$(basename $$f); done
	@echo "fuzz-seeds: $$(ls tests/fuzz/corpus/dt | wc -l) files in tests/fuzz/corpus/dt"

-include $(shell find $(FZ_BUILD) -name '*.d' 2>/dev/null)
