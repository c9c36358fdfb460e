# SPDX-License-Identifier: MIT
# Host tests for drivers/virtio (core, split virtqueues, virtio-mmio transport, virtio-rng) and
# drivers/pci (enumeration, BARs, capabilities, virtio-pci), under ASan/UBSan, against simulated
# devices (tests/host/virtio/vsim.c; the ECAM simulated in test_pci.c) and host stand-ins for
# the kernel services.
#
#   make -f tests/host/virtio/virtio.mk virtio-tests      (standalone, from the top)
#   make -f mk/build.mk virtio-tests                      (once included there)
#
# Interface: the virtio-tests target; adds the binaries to HOST_TEST_BINS. Variables are
# prefixed VT_ so the fragment can sit beside others in one make.

VT_BUILD := build/host/virtio
VT_CC ?= gcc
VT_SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# The stand-in io.h in tests/host/virtio/include comes before the kernel's.
VT_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror $(VT_SANITIZE) -Itests/host/virtio/include \
	-Iinclude -Itests/host/common -DLOCKDEP=1 -MMD -MP
VT_HARNESS := tests/host/virtio/host_stubs.c tests/host/common/printk.c \
	tests/host/common/test_main.c lib/errname.c kernel/lock.c

VT_VIRTIO_SRCS := drivers/virtio/virtio.c drivers/virtio/virtqueue.c drivers/virtio/virtio_mmio.c \
	drivers/virtio/virtio_rng.c tests/host/virtio/vsim.c tests/host/virtio/test_virtio.c \
	$(VT_HARNESS)
VT_VIRTIO_BIN := $(VT_BUILD)/virtio-tests
VT_VIRTIO_OBJS := $(patsubst %.c,$(VT_BUILD)/obj/%.o,$(VT_VIRTIO_SRCS))

VT_PCI_SRCS := drivers/pci/pci.c drivers/pci/pci_bar.c drivers/pci/pci_msix.c \
	tests/host/virtio/test_pci.c $(VT_HARNESS)
VT_PCI_BIN := $(VT_BUILD)/pci-tests
VT_PCI_OBJS := $(patsubst %.c,$(VT_BUILD)/obj/%.o,$(VT_PCI_SRCS))

VT_BINS := $(VT_VIRTIO_BIN) $(VT_PCI_BIN)
HOST_TEST_BINS += $(VT_BINS)

.PHONY: virtio-tests
virtio-tests: $(VT_BINS)
	@rc=0; for t in $(VT_BINS); do $$t || rc=1; done; exit $$rc

$(VT_VIRTIO_BIN): $(VT_VIRTIO_OBJS)
	$(VT_CC) $(VT_SANITIZE) -o $@ $^

$(VT_PCI_BIN): $(VT_PCI_OBJS)
	$(VT_CC) $(VT_SANITIZE) -o $@ $^

$(VT_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(VT_CC) $(VT_CFLAGS) -c $< -o $@

-include $(VT_VIRTIO_OBJS:.o=.d) $(VT_PCI_OBJS:.o=.d)
