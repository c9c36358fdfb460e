/* SPDX-License-Identifier: MIT */
/*
 * Private to kernel/mm/: the buddy primitives shared by page_alloc.c (alloc/free, per-hart
 * caches, range operations) and deferred.c (boot hand-over and deferred descriptor init).
 *
 * Interface: __free_one, __free_range, del_free, add_free, pfn_online, __deferred_init_next,
 * deferred_hot_online/offline, own_memmap_online,
 * zone_add_free, assert_hotplug_writer, assert_zone_locked, PAGEBLOCK_ORDER, drain_gen,
 * mhp_progress.
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
 * Progress of the hot-plug step in hand (hotplug.c): the loops that walk its range call this per
 * section with the bytes done; a log line comes out about once a second. hotplug_lock held for
 * write, no zone lock held.
 */
void mhp_progress(const char *step, uint64_t done, uint64_t total);

/* Isolation and sub-section online work in blocks of this order (2 MiB). */
#define PAGEBLOCK_ORDER 9
#define PAGEBLOCK_NR_PAGES (1UL << PAGEBLOCK_ORDER)

/*
 * Put the free block [pfn, pfn + 2^order) on z's lists, merging with free buddies. A block whose
 * head is PG_isolated is held back instead (isolated free); a 4 MiB block only half isolated is
 * freed as two 2 MiB halves. Returns the number of pages held back. Caller holds z->lock and
 * accounts nr_free.
 */
unsigned long __free_one(struct zone *z, pfn_t pfn, unsigned order);

/* Take a free block off / put it on z's order list (no merging). Caller holds z->lock. */
void del_free(struct zone *z, struct page *p, unsigned order);
void add_free(struct zone *z, struct page *p, unsigned order);

/* pfn is in an online sub-section. */
bool pfn_online(pfn_t pfn);

/*
 * memmap_on_memory: pfn is one of the pages at the start of its (present) section holding the
 * section's own descriptors. They stay PG_reserved|PG_vmemmap whatever the section's state;
 * online and offline count them as managed (in use) but never free, isolate or migrate them.
 * Boot memmap pages (also PG_vmemmap, other sections' descriptors) are not these.
 * own_memmap_end: one past the last of them in section nr (its first pfn if it has none).
 */
static inline pfn_t own_memmap_end(unsigned long nr)
{
	const struct mem_section *ms = section_get(nr);
	return section_nr_to_pfn(nr) +
	       (ms && (ms->flags & SECTION_MEMMAP_ON_MEMORY) ? ms->nr_vmemmap_pages : 0);
}

static inline bool pfn_is_own_memmap(pfn_t pfn)
{
	return pfn < own_memmap_end(pfn_to_section_nr(pfn));
}

/* memmap_on_memory pages of ms that lie in an online sub-section (they all fit in the first). */
static inline unsigned long own_memmap_online(const struct mem_section *ms)
{
	return (ms->online_map & 1) ? ms->nr_vmemmap_pages : 0;
}

/*
 * Deferred descriptors (deferred.c): a hot-plugged section starts or stops being an online
 * deferred section of z (z->lock held).
 */
void deferred_hot_online(struct zone *z, unsigned long nr);
void deferred_hot_offline(struct zone *z);

/* Bumped by isolation: per-hart caches drain on their next use. */
extern unsigned drain_gen;

/* Free [start, end) pfns (descriptors already initialised, flags clear) as maximal blocks. */
void __free_range(struct zone *z, pfn_t start, pfn_t end);

/*
 * Initialise the next deferred section of z (boot_only: skip hot-plugged ones). Caller holds
 * z->lock. False if none is left.
 */
bool __deferred_init_next(struct zone *z, bool boot_only);

static inline void zone_add_free(struct zone *z, int64_t n)
{
	__atomic_add_fetch(&z->nr_free, (uint64_t)n, __ATOMIC_RELAXED);
}

extern bool page_alloc_is_ready;

#endif
