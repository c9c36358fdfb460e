# SPDX-License-Identifier: MIT
# Host tests of the virtio-pmem driver (drivers/virtio/virtio_pmem.c) under ASan/UBSan: its probe
# against configurations QEMU cannot produce (size 0, beyond the direct map, over RAM, no whole
# section, unaligned) and its FLUSH requests against a simulated device that answers ok, fails,
# answers nonsense or not at all; the mm side (range registry, memremap, kmem) is a fake that
# records calls. Uses the virtio harness of tests/host/virtio (vsim.c, host_stubs.c).
#
#   make -f tests/host/pmem/pmem.mk pmem-tests              (standalone, from the top)
#   build/host/pmem/pmem-tests flush_timeout                (one case by name)
#
# Interface: the pmem-tests target; adds the binary to HOST_TEST_BINS. Variables are prefixed
# PM_ so the fragment can sit beside others in one make.

PM_BUILD := build/host/pmem
PM_CC ?= gcc
PM_SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
PM_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror $(PM_SANITIZE) \
	-Itests/host/virtio/include -Iinclude -Idrivers/virtio -Itests/host/virtio -Itests/host/common \
	-DLOCKDEP=1 -MMD -MP
PM_SRCS := drivers/virtio/virtio_pmem.c drivers/virtio/virtio.c drivers/virtio/virtqueue.c \
	drivers/virtio/virtio_mmio.c tests/host/virtio/vsim.c tests/host/virtio/host_stubs.c \
	tests/host/common/printk.c tests/host/common/test_main.c lib/errname.c kernel/lock.c \
	tests/host/pmem/test_pmem.c
PM_BIN := $(PM_BUILD)/pmem-tests
PM_OBJS := $(patsubst %.c,$(PM_BUILD)/obj/%.o,$(PM_SRCS))
HOST_TEST_BINS += $(PM_BIN)

.PHONY: pmem-tests
pmem-tests: $(PM_BIN)
	@$(PM_BIN)

$(PM_BIN): $(PM_OBJS)
	$(PM_CC) $(PM_SANITIZE) -o $@ $^

$(PM_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(PM_CC) $(PM_CFLAGS) -c $< -o $@

-include $(PM_OBJS:.o=.d)
