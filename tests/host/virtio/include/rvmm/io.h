/* SPDX-License-Identifier: MIT */
/*
 * Host stand-in for include/rvmm/io.h (found first on the host tests' include path): device
 * register accesses go to host_mmio_read/write, which hand them to the simulated device that
 * owns the address (tests/host/virtio/host_mmio.c), or to plain memory if none does.
 *
 * Interface: ioremap, readb/w/l/q, writeb/w/l/q.
 */
#ifndef RVMM_IO_H
#define RVMM_IO_H

#include <rvmm/types.h>

void *ioremap(phys_addr_t pa, uint64_t size);

uint64_t host_mmio_read(const volatile void *addr, unsigned size);
void host_mmio_write(volatile void *addr, uint64_t val, unsigned size);

static inline uint8_t readb(const volatile void *a) { return (uint8_t)host_mmio_read(a, 1); }
static inline uint16_t readw(const volatile void *a) { return (uint16_t)host_mmio_read(a, 2); }
static inline uint32_t readl(const volatile void *a) { return (uint32_t)host_mmio_read(a, 4); }
static inline uint64_t readq(const volatile void *a) { return host_mmio_read(a, 8); }
static inline void writeb(uint8_t v, volatile void *a) { host_mmio_write(a, v, 1); }
static inline void writew(uint16_t v, volatile void *a) { host_mmio_write(a, v, 2); }
static inline void writel(uint32_t v, volatile void *a) { host_mmio_write(a, v, 4); }
static inline void writeq(uint64_t v, volatile void *a) { host_mmio_write(a, v, 8); }

#endif
