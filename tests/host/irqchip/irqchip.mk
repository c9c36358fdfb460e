# SPDX-License-Identifier: MIT
# Host tests for drivers/irqchip (APLIC in direct and MSI delivery, IMSIC; the PLIC, test_plic.c,
# its own binary) under ASan/UBSan,
# through the real interrupt-domain layer, against a simulated APLIC register file and simulated
# per-hart IMSIC files, with device trees built by libfdt shaped like QEMU virt's aia=aplic and
# aia=aplic-imsic ones (1 and 2 sockets).
#
#   make -f mk/build.mk irqchip-tests     (IRQCHIP_DTB_DIR=build/host/irqchip/dtb binary [case])
#
# Interface: the irqchip-tests target; adds the binary to HOST_TEST_BINS. Variables are prefixed
# IT_. Uses the virtio suite's harness (host stand-ins for printk, ioremap, pages, locks).

include lib/libfdt.mk

IT_BUILD := build/host/irqchip
IT_CC ?= gcc
IT_SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
IT_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror $(IT_SANITIZE) -DHOST_REAL_IRQ -DLOCKDEP=1 \
	-Itests/host/irqchip/include -Itests/host/virtio/include -Itests/host/common -Iinclude \
	$(LIBFDT_CFLAGS) -MMD -MP
# The real interrupt-domain layer and driver walker (kernel/irq.c, device.c) with the DT readers
# of kernel/platform.c; the virtio suite's harness for printk, ioremap, pages and locks.
IT_SRCS := drivers/irqchip/aplic.c drivers/irqchip/imsic.c drivers/irqchip/aia_dt.c \
	kernel/irq.c kernel/device.c \
	kernel/platform.c kernel/platform_mem.c kernel/platform_cpus.c kernel/platform_numa.c \
	tests/host/irqchip/test_aia.c tests/host/irqchip/qemu_dtb.c tests/host/virtio/host_stubs.c \
	tests/host/common/printk.c \
	tests/host/common/test_main.c lib/errname.c kernel/lock.c
IT_OBJS := $(patsubst %.c,$(IT_BUILD)/obj/%.o,$(IT_SRCS)) \
	$(patsubst $(LIBFDT_DIR)/%.c,$(IT_BUILD)/libfdt/%.o,\
		$(LIBFDT_SRCS) $(LIBFDT_DIR)/fdt_sw.c)
IT_BIN := $(IT_BUILD)/irqchip-tests
# The PLIC on QEMU's default trees (aia=none), one socket and two: its own binary, same harness.
IT_PLIC_SRCS := drivers/irqchip/plic.c tests/host/irqchip/test_plic.c \
	$(filter-out drivers/irqchip/aplic.c drivers/irqchip/imsic.c drivers/irqchip/aia_dt.c \
		tests/host/irqchip/test_aia.c,$(IT_SRCS))
IT_PLIC_OBJS := $(patsubst %.c,$(IT_BUILD)/obj/%.o,$(IT_PLIC_SRCS)) \
	$(patsubst $(LIBFDT_DIR)/%.c,$(IT_BUILD)/libfdt/%.o,$(LIBFDT_SRCS))
IT_PLIC_BIN := $(IT_BUILD)/plic-tests
HOST_TEST_BINS += $(IT_BIN) $(IT_PLIC_BIN)

# QEMU virt's own AIA trees: aia=aplic and aia=aplic-imsic, one socket and two (-numa).
IT_QEMU ?= qemu-system-riscv64
IT_DTBS := $(addprefix $(IT_BUILD)/dtb/,aplic-1.dtb aplic-2.dtb aplic-imsic-1.dtb aplic-imsic-2.dtb \
	none-1.dtb none-2.dtb)
IT_NUMA := -object memory-backend-ram,id=m0,size=512M -object memory-backend-ram,id=m1,size=512M \
	-numa node,nodeid=0,memdev=m0,cpus=0-1 -numa node,nodeid=1,memdev=m1,cpus=2-3

.PHONY: irqchip-tests
irqchip-tests: $(IT_BIN) $(IT_PLIC_BIN) $(IT_DTBS)
	@rc=0; for t in $(IT_BIN) $(IT_PLIC_BIN); do IRQCHIP_DTB_DIR=$(IT_BUILD)/dtb $$t || rc=1; done; \
		exit $$rc

$(IT_BUILD)/dtb/%-1.dtb:
	@mkdir -p $(dir $@)
	$(IT_QEMU) -machine virt,aia=$*,dumpdtb=$@ -m 1G -smp 4 -nographic -display none >/dev/null

$(IT_BUILD)/dtb/%-2.dtb:
	@mkdir -p $(dir $@)
	$(IT_QEMU) -machine virt,aia=$*,dumpdtb=$@ -m 1G -smp 4,sockets=2 $(IT_NUMA) \
		-nographic -display none >/dev/null

$(IT_BIN): $(IT_OBJS)
	$(IT_CC) $(IT_SANITIZE) -o $@ $^

$(IT_PLIC_BIN): $(IT_PLIC_OBJS)
	$(IT_CC) $(IT_SANITIZE) -o $@ $^

$(IT_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(IT_CC) $(IT_CFLAGS) -c $< -o $@

$(IT_BUILD)/libfdt/%.o: $(LIBFDT_DIR)/%.c
	@mkdir -p $(dir $@)
	$(IT_CC) $(IT_CFLAGS) -w -c $< -o $@

-include $(IT_OBJS:.o=.d) $(IT_PLIC_OBJS:.o=.d)
