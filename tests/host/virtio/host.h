/* SPDX-License-Identifier: MIT */
/*
 * Host harness for the virtio, PCI and virtio-mem tests: stand-ins for what drivers/virtio and
 * drivers/pci take from the kernel (ioremap and MMIO, pages, time, locks, interrupts), beside the
 * shared printk stand-in (tests/host/common/log.h) and case runner (tests/host/common/test.h).
 * Each case runs in a forked child, so driver state (static tables) starts fresh and a crash
 * fails that case only. Output: "PASS: <suite>/<case>" or "FAIL: <suite>/<case>: reason".
 *
 * Interface: host_mmio_add, host_ram_add, host_irq_raise, host_pages_in_use; log.h and test.h.
 */
#ifndef RVMM_TESTS_HOST_VIRTIO_HOST_H
#define RVMM_TESTS_HOST_VIRTIO_HOST_H

#include <rvmm/types.h>

#include "log.h"
#include "test.h"

/* A simulated device register file: accesses at offset off (size 1/2/4/8 bytes). */
struct host_mmio_ops {
	uint64_t (*read)(void *ctx, uint64_t off, unsigned size);
	void (*write)(void *ctx, uint64_t off, uint64_t val, unsigned size);
};

/*
 * Make [pa, pa + size) a device: ioremap() of it returns an address whose accesses go to ops
 * with ctx. Returns that address too (for tests poking registers directly).
 */
void *host_mmio_add(phys_addr_t pa, uint64_t size, const struct host_mmio_ops *ops, void *ctx);

/*
 * Make [pa, pa + size) simulated RAM seen through the direct map: accesses to __va(pa + off)
 * go to ops with ctx (nothing is allocated: the simulation keeps what it needs).
 */
void host_ram_add(phys_addr_t pa, uint64_t size, const struct host_mmio_ops *ops, void *ctx);

/*
 * The one interrupt controller of the host tests: irq_request() takes specifiers <line> of it.
 * host_irq_raise runs the handler installed for line irq; false if there is none.
 */
#define HOST_IRQ_PARENT 1
bool host_irq_raise(uint32_t irq);

/* Pages handed out by get_free_pages and not yet freed (leak checks). */
long host_pages_in_use(void);

#endif
