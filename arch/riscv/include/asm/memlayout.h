/* SPDX-License-Identifier: MIT */
/*
 * The kernel's virtual address space (docs/memory-map.md draws the same table).
 *
 *   Sv48 (4 levels, 128 TiB upper half)          Sv39 (3 levels, 256 GiB upper half)
 *   0xffff800000000000  direct map  16 TiB        0xffffffc000000000  direct map  128 GiB
 *   0xffffc00000000000  vmemmap    128 GiB        0xffffffe000000000  vmemmap       1 GiB
 *   0xffffd00000000000  I/O         64 GiB        0xffffffe800000000  I/O          16 GiB
 *   0xffffffff80000000  kernel image 2 GiB        0xffffffff80000000  kernel image  2 GiB
 *
 * The direct map covers every physical address that may ever hold RAM ([0, max_phys)), so hot-add
 * never needs a new top-level entry; the vmemmap is the struct page array indexed by pfn over the
 * same range (32 bytes per 4 KiB page).
 */
#ifndef ASM_MEMLAYOUT_H
#define ASM_MEMLAYOUT_H

#define KIMAGE_VA 0xffffffff80000000UL

#define SV48_PAGE_OFFSET 0xffff800000000000UL
#define SV48_MAX_PHYS (1UL << 44)
#define SV48_VMEMMAP 0xffffc00000000000UL
#define SV48_IO_BASE 0xffffd00000000000UL
#define SV48_IO_SIZE (64UL << 30)

#define SV39_PAGE_OFFSET 0xffffffc000000000UL
#define SV39_MAX_PHYS (128UL << 30)
#define SV39_VMEMMAP 0xffffffe000000000UL
#define SV39_IO_BASE 0xffffffe800000000UL
#define SV39_IO_SIZE (16UL << 30)

/* Early page tables map at most this much of the kernel image (4 pte tables). */
#define KIMAGE_MAX_SIZE (8UL << 20)

#define BOOT_STACK_SIZE (16 * 1024)

#endif
