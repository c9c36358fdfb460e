/* SPDX-License-Identifier: MIT */
/*
 * Device MMIO: mapping device registers into the kernel's I/O region, and ordered accessors.
 *
 * Interface: ioremap (kernel/mm/ioremap.c), readb/w/l/q, writeb/w/l/q.
 */
#ifndef RVMM_IO_H
#define RVMM_IO_H

#include <rvmm/types.h>

/*
 * Map [pa, pa + size) of device registers uncached into the I/O region; returns the virtual
 * address, or NULL (after a message) when the region is full or a table cannot be allocated.
 * Mappings last for the kernel's lifetime.
 */
void *ioremap(phys_addr_t pa, uint64_t size);

/* The fences order MMIO against normal memory, as device drivers expect (like Linux's). */
#define __io_br() __asm__ volatile("" ::: "memory")
#define __io_ar() __asm__ volatile("fence i,r" ::: "memory")
#define __io_bw() __asm__ volatile("fence w,o" ::: "memory")

#define DEFINE_MMIO(sz, type)                                                          \
	static inline type read##sz(const volatile void *a)                            \
	{                                                                              \
		__io_br();                                                             \
		type v = *(const volatile type *)a;                                    \
		__io_ar();                                                             \
		return v;                                                              \
	}                                                                              \
	static inline void write##sz(type v, volatile void *a)                         \
	{                                                                              \
		__io_bw();                                                             \
		*(volatile type *)a = v;                                               \
	}
DEFINE_MMIO(b, uint8_t)
DEFINE_MMIO(w, uint16_t)
DEFINE_MMIO(l, uint32_t)
DEFINE_MMIO(q, uint64_t)

#endif
