/* SPDX-License-Identifier: MIT */
/*
 * Private to kernel/mm/: the buddy primitives shared by page_alloc.c (alloc/free, per-hart
 * caches, range operations) and deferred.c (boot hand-over and deferred descriptor init).
 *
 * Interface: __free_one, __free_range, __deferred_init_next, zone_add_free,
 * assert_hotplug_writer, assert_zone_locked.
 */
#ifndef RVMM_MM_INTERNAL_H
#define RVMM_MM_INTERNAL_H

#include <rvmm/hotplug.h>
#include <rvmm/page_alloc.h>
#include <rvmm/printk.h>
#include <rvmm/section.h>

/*
 * Range operations on sections run at boot (before the page allocator, one hart) or under
 * hotplug_lock held for write; check it, as xv6's holding() does.
 */
#define assert_hotplug_writer()                                                         \
	do {                                                                            \
		if (page_alloc_ready() && !write_held_by_me(&hotplug_lock))             \
			panic("%s: hotplug_lock not held for write", __func__);         \
	} while (0)

#define assert_zone_locked(z)                                                           \
	do {                                                                            \
		if (!spin_held_by_me(&(z)->lock))                                       \
			panic("%s: %s lock not held", __func__, (z)->name);             \
	} while (0)

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
