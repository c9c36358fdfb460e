/* SPDX-License-Identifier: MIT */
/*
 * Private to kernel/mm/: the buddy primitives shared by page_alloc.c (alloc/free, per-hart
 * caches, range operations) and deferred.c (boot hand-over and deferred descriptor init).
 */
#ifndef RVMM_MM_INTERNAL_H
#define RVMM_MM_INTERNAL_H

#include <rvmm/page_alloc.h>
#include <rvmm/section.h>

/*
 * Put the free block [pfn, pfn + 2^order) on z's lists, merging with free buddies. A block whose
 * head is PG_isolated is held back instead (isolated free). Returns true if held back. Caller
 * holds z->lock and accounts nr_free.
 */
bool __free_one(struct zone *z, pfn_t pfn, unsigned order);

/* Free [start, end) pfns (descriptors already initialised, flags clear) as maximal blocks. */
void __free_range(struct zone *z, pfn_t start, pfn_t end);

/* Initialise the next deferred section of z. Caller holds z->lock. False if none is left. */
bool __deferred_init_next(struct zone *z);

static inline void zone_add_free(struct zone *z, int64_t n)
{
	__atomic_add_fetch(&z->nr_free, (uint64_t)n, __ATOMIC_RELAXED);
}

extern bool page_alloc_is_ready;

#endif
