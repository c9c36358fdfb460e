/* SPDX-License-Identifier: MIT */
/*
 * Early boot memory allocator: which physical ranges are RAM, which of them are reserved (and for
 * what), and top-down allocation from what is left, before the page allocator exists.
 *
 * Interface: memblock_add/_node, memblock_nid, memblock_reserve, memblock_free, memblock_mem_limit (mem=),
 * memblock_set_window, memblock_alloc/_raw, memblock_for_each_free, memblock_for_each_reserved,
 * memblock_hidden_* (RAM above mem=, for hot-add), memblock_release, totals.
 *
 * All of it runs on the boot hart before other harts start and takes no lock. After
 * memblock_release() the tables are frozen (allocation refuses) but stay readable: deferred
 * descriptor init reads them to learn which pages of a boot section are reserved.
 */
#ifndef RVMM_MEMBLOCK_H
#define RVMM_MEMBLOCK_H

#include <rvmm/types.h>

/* Why a range is reserved; deferred init turns the tag into page flags and counters. */
enum memblock_tag {
	MEMBLOCK_MEMORY,   /* not a reservation: a RAM range */
	MEMBLOCK_FIRMWARE, /* reserved-memory / memreserve from the device tree (OpenSBI) */
	MEMBLOCK_NOMAP,    /* firmware range with no-map: also kept out of the direct map */
	MEMBLOCK_KERNEL,   /* the kernel image, including bss and boot stacks */
	MEMBLOCK_DTB,      /* the flattened device tree blob */
	MEMBLOCK_PGTABLE,  /* kernel page-table pages allocated at boot */
	MEMBLOCK_MEMMAP,   /* vmemmap backing (page descriptors) allocated at boot */
	MEMBLOCK_OTHER,    /* other boot allocations (section array ...) */
	NR_MEMBLOCK_TAGS,
};

#define MEMBLOCK_MAX_REGIONS 128
#define MEMBLOCK_MAX_HIDDEN 64

/*
 * Add RAM [base, base + size), bytes. Overlapping or adjacent ranges merge. Returns 0, -EINVAL for
 * an empty or wrapping range, -ENOSPC if the table is full (nothing added then).
 */
int memblock_add(phys_addr_t base, uint64_t size);
/*
 * The same for RAM of NUMA node nid: it merges only with RAM of the same node, and RAM of
 * another node may touch it but not overlap it (-EEXIST). memblock_add is node 0.
 */
int memblock_add_node(phys_addr_t base, uint64_t size, int nid);
/* The node of the RAM (added or hidden) holding pa, or NUMA_NO_NODE. */
int memblock_nid(phys_addr_t pa);

/*
 * Reserve [base, base + size), widened to whole pages, with a tag. Parts already reserved keep
 * their first tag; the range need not be RAM. Returns 0, -EINVAL, or -ENOSPC (table full: the
 * parts inserted before the failure stay reserved). Refused with -EPERM after memblock_release().
 */
int memblock_reserve(phys_addr_t base, uint64_t size, enum memblock_tag tag);

/* Drop any reservation of [base, base + size) (page-widened). Returns 0, -EINVAL or -ENOSPC. */
int memblock_free(phys_addr_t base, uint64_t size);

/*
 * mem=: keep the lowest `bytes` of RAM (rounded down to 2 MiB, a sub-section) and move everything
 * above into the hidden list. Hidden RAM is known but not added; hot-add may add it later (online,
 * for the part of a section that boot RAM shares). 0 means no limit.
 */
void memblock_mem_limit(uint64_t bytes);

/* The first address that memblock_mem_limit() hid, or ~0 if nothing is hidden. */
phys_addr_t memblock_mem_limit_pa(void);

/* Hidden RAM ranges, sorted (memblock_nid gives their node). False when i is past the end. */
bool memblock_hidden_get(int i, phys_addr_t *base, uint64_t *size);
int memblock_hidden_count(void);
/* Forget [base, base + size) from the hidden list (hot-add took it). Returns 0 or -ENOENT. */
int memblock_hidden_remove(phys_addr_t base, uint64_t size);

/*
 * Allocation window: only [lo, hi) may be handed out, because only that much is reachable through
 * __va() yet (the arch's early direct map). Widened once the whole direct map exists.
 */
void memblock_set_window(phys_addr_t lo, phys_addr_t hi);

/*
 * Allocate size bytes aligned to align (a power of two >= PAGE_SIZE), top-down inside the window,
 * and reserve them with tag. memblock_alloc zeroes the memory through __va; memblock_alloc_raw
 * does not touch it (the vmemmap uses it so untouched memmap costs the host nothing). Returns the
 * physical address, or 0 on failure (no room, bad arguments, or after memblock_release): address 0
 * is never handed out.
 */
phys_addr_t memblock_alloc(uint64_t size, uint64_t align, enum memblock_tag tag);
phys_addr_t memblock_alloc_raw(uint64_t size, uint64_t align, enum memblock_tag tag);

/*
 * Call fn for every free page-aligned range (RAM, not reserved) intersecting [lo, hi), clipped to
 * it, in ascending order. fn gets [start, end) in bytes.
 */
void memblock_for_each_free(phys_addr_t lo, phys_addr_t hi,
			    void (*fn)(phys_addr_t start, phys_addr_t end, void *arg), void *arg);

/* Same for reserved ranges, with their tag (clipped, ascending; may lie outside RAM). */
void memblock_for_each_reserved(phys_addr_t lo, phys_addr_t hi,
				void (*fn)(phys_addr_t start, phys_addr_t end,
					   enum memblock_tag tag, void *arg),
				void *arg);

/* Call fn for every RAM range intersecting [lo, hi), clipped (not page-aligned). */
void memblock_for_each_memory(phys_addr_t lo, phys_addr_t hi,
			      void (*fn)(phys_addr_t start, phys_addr_t end, void *arg), void *arg);

/* True if [base, base + size) lies entirely in RAM. */
bool memblock_is_memory(phys_addr_t base, uint64_t size);

/* Bytes of RAM added; bytes reserved within RAM (all tags or one); pages free (page-aligned). */
uint64_t memblock_memory_total(void);
uint64_t memblock_reserved_total(int tag); /* tag < 0: all */
uint64_t memblock_free_pages(void);
phys_addr_t memblock_start(void); /* lowest RAM address, 0 if none */
phys_addr_t memblock_end(void);   /* end of the highest RAM range */

/* Freeze the tables: from now on the page allocator owns free memory. */
void memblock_release(void);

#endif
