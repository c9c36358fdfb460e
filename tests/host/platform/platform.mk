# SPDX-License-Identifier: MIT
# Host tests for the platform layer (kernel/platform*.c, cmdline.c, parse.c, dt_cmds.c) and the
# device model (kernel/device.c, irq.c, drivers/pci/pci_host_dt.c) with the
# real libfdt, under ASan/UBSan. The DTBs they read are made here: QEMU virt's own (dumped for
# several -m/-smp), the DTS fixtures in tests/fixtures/dts/, and the system-test DTBs made by
# tests/fixtures/make-bad-dtbs.sh, all into build/host/dtb/.
#
#   make -f tests/host/platform/platform.mk platform-tests     (standalone, from the top)
#   make -f mk/build.mk platform-tests                         (included there; tests/run.py)
#
# Interface: the platform-tests target; adds build/host/platform-tests to HOST_TEST_BINS.
# Variables are prefixed PT_ so the fragment can sit beside others in one make.

PT_BUILD := build/host
PT_OBJ := $(PT_BUILD)/platform-obj
PT_DTB := $(PT_BUILD)/dtb
PT_BIN := $(PT_BUILD)/platform-tests
PT_CC ?= gcc
PT_QEMU ?= qemu-system-riscv64
PT_DTC ?= dtc

.PHONY: platform-tests platform-dtbs
platform-tests: $(PT_BIN) platform-dtbs
	PLATFORM_DTB_DIR=$(PT_DTB) $(PT_BIN)

include lib/libfdt.mk

PT_SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
PT_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror $(PT_SANITIZE) -Iinclude \
	-Itests/host/common $(LIBFDT_CFLAGS) \
	-MMD -MP
PT_SRCS := kernel/platform.c kernel/platform_mem.c kernel/platform_cpus.c kernel/platform_numa.c kernel/platform_print.c \
	kernel/cmdline.c kernel/parse.c kernel/dt_cmds.c kernel/device.c kernel/irq.c \
	drivers/pci/pci_host_dt.c lib/errname.c \
	$(wildcard tests/host/platform/*.c) tests/host/common/test_main.c \
	tests/host/common/printk.c
PT_OBJS := $(patsubst %.c,$(PT_OBJ)/%.o,$(PT_SRCS))
# fdt_sw.c too: the tests build some trees themselves (test_platform.c many_cpus_dtb).
PT_FDT_OBJS := $(patsubst $(LIBFDT_DIR)/%.c,$(PT_OBJ)/libfdt/%.o,$(LIBFDT_SRCS) $(LIBFDT_DIR)/fdt_sw.c)

PT_QEMU_DTBS := $(addprefix $(PT_DTB)/,qemu-1g-1.dtb qemu-3g-4.dtb qemu-16g-2.dtb qemu-256g-8.dtb \
	qemu-2g-2.dtb)
PT_FX_DTBS := $(patsubst tests/fixtures/dts/%.dts,$(PT_DTB)/fx/%.dtb, \
	$(wildcard tests/fixtures/dts/*.dts))
PT_BAD_DTBS := $(addprefix $(PT_DTB)/bad/,memreg12.dtb nomem.dtb overlap.dtb resv-kernel.dtb)

# Two sockets: QEMU virt makes a socket of each NUMA node, each with its own PLIC.
PT_SOCKETS_DTB := $(PT_DTB)/qemu-2g-4-2sockets.dtb

# Four NUMA nodes with a distance-map; node 3 has harts only (riscv virt makes no memory-only node).
PT_NUMA4_DTB := $(PT_DTB)/qemu-numa4.dtb

platform-dtbs: $(PT_QEMU_DTBS) $(PT_SOCKETS_DTB) $(PT_NUMA4_DTB) $(PT_FX_DTBS) $(PT_BAD_DTBS)

HOST_TEST_BINS += $(PT_BIN)

# host-build builds the binary only; its DTBs come along so the binary can run at once.
$(PT_BIN): $(PT_OBJS) $(PT_FDT_OBJS) | platform-dtbs
	$(PT_CC) $(PT_SANITIZE) -o $@ $(PT_OBJS) $(PT_FDT_OBJS)

$(PT_OBJ)/%.o: %.c
	@mkdir -p $(dir $@)
	$(PT_CC) $(PT_CFLAGS) -c $< -o $@

$(PT_OBJ)/libfdt/%.o: $(LIBFDT_DIR)/%.c
	@mkdir -p $(dir $@)
	$(PT_CC) $(filter-out -Werror,$(PT_CFLAGS)) $(LIBFDT_WARN_CFLAGS) -c $< -o $@

# QEMU's own tree: -m and -smp from the name (qemu-<mem>-<smp>.dtb). Large RAM uses a backend
# with reserve=off, so nothing is allocated.
PT_QEMU_MEM = $(shell echo $(word 2,$(subst -, ,$(basename $(notdir $@)))) | tr a-z A-Z)
PT_QEMU_SMP = $(word 3,$(subst -, ,$(basename $(notdir $@))))
$(PT_SOCKETS_DTB):
	@mkdir -p $(dir $@)
	$(PT_QEMU) -machine virt,dumpdtb=$@ -m 2G -smp 4,sockets=2 \
		-object memory-backend-ram,id=m0,size=1G -object memory-backend-ram,id=m1,size=1G \
		-numa node,nodeid=0,memdev=m0,cpus=0-1 -numa node,nodeid=1,memdev=m1,cpus=2-3 \
		-nographic -display none >/dev/null

$(PT_NUMA4_DTB):
	@mkdir -p $(dir $@)
	$(PT_QEMU) -machine virt,dumpdtb=$@ -m 3G -smp 8,sockets=4 \
		-object memory-backend-ram,id=m0,size=1G -object memory-backend-ram,id=m1,size=1G \
		-object memory-backend-ram,id=m2,size=1G \
		-numa node,nodeid=0,memdev=m0,cpus=0-1 -numa node,nodeid=1,memdev=m1,cpus=2-3 \
		-numa node,nodeid=2,memdev=m2,cpus=4-5 -numa node,nodeid=3,cpus=6-7 \
		-numa dist,src=0,dst=1,val=20 -numa dist,src=0,dst=2,val=30 \
		-numa dist,src=0,dst=3,val=40 -numa dist,src=1,dst=2,val=20 \
		-numa dist,src=1,dst=3,val=30 -numa dist,src=2,dst=3,val=20 \
		-nographic -display none >/dev/null

$(PT_DTB)/qemu-%.dtb:
	@mkdir -p $(dir $@)
	$(PT_QEMU) -machine virt,memory-backend=ram0,dumpdtb=$@ \
		-object memory-backend-ram,id=ram0,size=$(PT_QEMU_MEM),reserve=off \
		-m $(PT_QEMU_MEM) -smp $(PT_QEMU_SMP) -nographic -display none >/dev/null

$(PT_DTB)/fx/%.dtb: tests/fixtures/dts/%.dts
	@mkdir -p $(dir $@)
	$(PT_DTC) -q -I dts -O dtb -o $@ $<

$(PT_BAD_DTBS) &: tests/fixtures/make-bad-dtbs.sh $(PT_DTB)/qemu-2g-2.dtb
	tests/fixtures/make-bad-dtbs.sh $(PT_DTB)/qemu-2g-2.dtb $(PT_DTB)/bad >/dev/null

-include $(PT_OBJS:.o=.d)
