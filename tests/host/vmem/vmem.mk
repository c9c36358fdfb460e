# SPDX-License-Identifier: MIT
# Host tests of the virtio-mem driver (drivers/virtio/virtio_mem*.c) under ASan/UBSan, against a
# simulated virtio-mem device (vmem_dev.c, on tests/host/virtio/vsim.c) and a fake hot-plug core
# (fake_hotplug.c; owners checked by the real range registry, kernel/mm/mem_ranges.c), with the
# virtio harness of tests/host/virtio (host_stubs.c) and tests/host/common.
#
#   make -f tests/host/vmem/vmem.mk vmem-tests            (standalone, from the top)
#   make -f mk/build.mk vmem-tests                        (once included there)
#   build/host/vmem/vmem-tests unmovable                  (one case by name)
#
# Interface: the vmem-tests target; adds the binary to HOST_TEST_BINS. Variables are prefixed
# VM_ so the fragment can sit beside others in one make.

VM_BUILD := build/host/vmem
VM_CC ?= gcc
VM_DRV_DIR ?= drivers/virtio
VM_SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# The stand-in io.h of tests/host/virtio/include comes before the kernel's.
VM_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror $(VM_SANITIZE) \
	-Itests/host/virtio/include -Iinclude -I$(VM_DRV_DIR) -Itests/host/virtio -Itests/host/common -DLOCKDEP=1 -MMD -MP
VM_SRCS := $(VM_DRV_DIR)/virtio_mem.c $(VM_DRV_DIR)/virtio_mem_plug.c \
	$(VM_DRV_DIR)/virtio_mem_cmd.c $(VM_DRV_DIR)/virtio_mem_selftest.c drivers/virtio/virtio.c drivers/virtio/virtqueue.c \
	drivers/virtio/virtio_mmio.c tests/host/virtio/vsim.c tests/host/virtio/host_stubs.c \
	tests/host/common/printk.c tests/host/common/test_main.c lib/errname.c kernel/lock.c \
	kernel/mm/mem_ranges.c tests/host/vmem/fake_hotplug.c tests/host/vmem/vmem_dev.c \
	tests/host/vmem/test_vmem.c kernel/mm/numa.c
VM_BIN := $(VM_BUILD)/vmem-tests
VM_OBJS := $(patsubst %.c,$(VM_BUILD)/obj/%.o,$(VM_SRCS))
HOST_TEST_BINS += $(VM_BIN)

.PHONY: vmem-tests
vmem-tests: $(VM_BIN)
	@$(VM_BIN)

$(VM_BIN): $(VM_OBJS)
	$(VM_CC) $(VM_SANITIZE) -o $@ $^

$(VM_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(VM_CC) $(VM_CFLAGS) -c $< -o $@

-include $(VM_OBJS:.o=.d)
