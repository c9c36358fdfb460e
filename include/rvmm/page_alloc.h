/* SPDX-License-Identifier: MIT */
/*
 * The page allocator: a buddy allocator per zone (Normal, Movable on each NUMA node) over the
 * vmemmap descriptors, with per-hart caches of single pages, deferred (lazy) descriptor init of
 * boot sections, and the range operations that memory hotplug builds on (online a range, isolate
 * it, take its free pages out, undo).
 *
 * Interface: alloc_pages, alloc_pages_node, node_zones/node_zone/page_zone/page_to_nid, free_pages,
 * get_free_pages/free_pages_va, page_alloc_init,
 * deferred_init_step, deferred_init_*; zone_online_range, zone_offline_deferred, range_online_zone,
 * page_isolate_range,
 * page_isolated_take_free, page_unisolate_range, free_reserved_pages, page_alloc_drain_local,
 * page_alloc_drain_all, zone_* counters (each allocation is a should_fail() point: fault_inject.h).
 */
#ifndef RVMM_PAGE_ALLOC_H
#define RVMM_PAGE_ALLOC_H

#include <rvmm/list.h>
#include <rvmm/mm.h>
#include <rvmm/numa.h>
#include <rvmm/section.h>
#include <rvmm/spinlock.h>
#include <rvmm/types.h>

#define MAX_ORDER 10 /* largest block: 2^10 pages = 4 MiB */
#define MAX_ORDER_NR_PAGES (1UL << MAX_ORDER)

/* gfp flags */
#define GFP_KERNEL 0x0u  /* ZONE_NORMAL only */
#define GFP_MOVABLE 0x1u /* ZONE_MOVABLE first, then ZONE_NORMAL; the page is marked PG_movable */
#define GFP_ZERO 0x2u    /* zero the block */

struct free_area {
	struct list_head list; /* heads of free blocks of this order (PG_buddy) */
	uint64_t nr;           /* blocks on list */
};

struct zone {
	/*
	 * lock protects free_area[], the PG_buddy/order of free blocks and of isolated free blocks,
	 * managed, nr_isolated_free, the deferred-init cursor and the SECTION_DEFERRED flag of this
	 * zone's sections. Taken by the slow paths of alloc/free, per-hart cache refill and drain,
	 * online, isolation. Order: after hotplug_lock and kpt_lock; never taken with a per-hart cache
	 * in use (interrupts masked).
	 */
	spinlock_t lock;
	const char *name;
	struct free_area free_area[MAX_ORDER + 1];
	uint64_t nr_free;          /* free pages: lists + per-hart caches + deferred; atomic */
	uint64_t managed;          /* pages managed (online, not reserved), incl. deferred */
	uint64_t nr_isolated_free; /* free pages held back in isolated ranges */
	uint64_t nr_deferred;      /* sections whose descriptors are still to be initialised */
	unsigned long deferred_next; /* lowest section that may still be deferred */
};
/*
 * Zones per NUMA node: node_zones[nid][zone type]. A page's zone is named by its descriptor's node
 * and zone, a section's by its node and zone (both set when it goes online).
 */
extern struct zone node_zones[MAX_NUMNODES][NR_ZONES];
static inline struct zone *node_zone(int nid, enum zone_type z) { return &node_zones[nid][z]; }
/*
 * A page's node is its section's (as Linux's SPARSEMEM without the node in page flags): the
 * descriptor stays as it was, and boot writes no more bytes per page than without NUMA.
 */
static inline int page_to_nid(const struct page *p)
{
	if (nr_node_ids() == 1)
		return 0; /* one node: no section lookup on the free path */
	return section_get(pfn_to_section_nr(page_to_pfn(p)))->node;
}
static inline struct zone *page_zone(const struct page *p) { return &node_zones[page_to_nid(p)][p->zone]; }
static inline int zone_nid(const struct zone *z) { return (int)((z - &node_zones[0][0]) / NR_ZONES); }
static inline enum zone_type zone_idx(const struct zone *z)
{
	return (enum zone_type)((z - &node_zones[0][0]) % NR_ZONES);
}

/*
 * Allocate 2^order contiguous pages. gfp chooses zones (see GFP_*). Returns the head descriptor
 * (refcount 1), or NULL if no zone allowed can satisfy it; never a bad pointer. Takes the zone
 * lock (or this hart's cache, interrupts masked for order 0); may initialise one deferred section.
 */
struct page *alloc_pages(unsigned order, unsigned gfp);
/*
 * The same preferring node nid's zones, then the other nodes' in order of distance from nid
 * (alloc_pages prefers the calling hart's node). nid NUMA_NO_NODE: the calling hart's.
 */
struct page *alloc_pages_node(int nid, unsigned order, unsigned gfp);

/*
 * Free a block from alloc_pages with the same order. A double free, a free of a reserved page, of
 * a page outside online memory, or with the wrong order is reported (pr_err naming the pfn) and
 * ignored: the page is not touched. Takes the zone lock or this hart's cache.
 */
void free_pages(struct page *page, unsigned order);

/* Same with kernel virtual addresses (direct map). 0 / NULL on failure. */
void *get_free_pages(unsigned order, unsigned gfp);
void free_pages_va(void *va, unsigned order);

/*
 * Hand boot memory to the allocator: releases memblock and puts every free page of every online
 * boot section into its zone's free count without touching a descriptor; the sections stay
 * SECTION_DEFERRED until first needed or deferred_init_step(). Boot hart only. Returns 0.
 */
int page_alloc_init(void);
bool page_alloc_ready(void);

/*
 * Initialise one pending boot section (lowest first) and put its free pages on the free lists.
 * For idle harts (hot-plugged sections wait for their first use). Returns true if it did some
 * work, false when nothing is pending.
 */
bool deferred_init_step(void);
/* Make sure the descriptors of pfn's section are initialised (no-op if not deferred). */
void deferred_init_pfn(pfn_t pfn);
/* Sections still pending; true (and *done_ns, time of completion) when boot's are done. */
unsigned long deferred_init_pending(void);
bool deferred_init_done(uint64_t *done_ns);
/* Descriptors written by deferred init so far: of boot sections (for tests and the boot line),
 * and of hot-plugged ones (written after the step, not by it). */
uint64_t deferred_init_descs(void);
uint64_t deferred_hot_descs(void);
/*
 * Pages of online deferred section nr counted free without descriptors (boot: what memblock left
 * free; hot-plugged: every online page but its own memmap); 0 if it is not deferred. Racy
 * unless the caller holds the section's zone lock.
 */
uint64_t deferred_free_pages(unsigned long nr);

/*
 * Range operations of memory hot(un)plug (kernel/mm/page_isolation.c). Ranges are pfns, aligned to
 * and a multiple of 2 MiB (PAGES_PER_SUBSECTION: a sub-section, one pageblock). Caller holds
 * hotplug_lock for write. A section's memmap_on_memory pages (its first nr_vmemmap_pages) are
 * never freed or isolated; they count as managed and in use while any of the section is online.
 */

/*
 * Give the offline pages [start_pfn, start_pfn + nr_pages) of present sections (memmap
 * populated) to zone: online_map bits set, sections PRESENT -> ONLINE. A section whose
 * descriptors were never written (SECTION_DEFERRED: hot-added, not used yet) stays so: its pages
 * are only counted free in the zone, and deferred init writes them when first needed. Otherwise
 * the range's descriptors are rewritten for the zone and the pages freed into the buddy lists
 * (never merging with an offline neighbour). A section already partly online must be in the same
 * zone. Adds the descriptor bytes it wrote to *desc_bytes. Returns 0, or -EINVAL with nothing
 * changed.
 */
int zone_online_range(enum zone_type zone, pfn_t start_pfn, unsigned long nr_pages,
		      uint64_t *desc_bytes);

/*
 * Offline [start_pfn, end_pfn) (online, one zone) without reading or writing a descriptor, when
 * every section of it is still deferred: none of its pages was ever handed out, so they are all
 * free. Takes them out of the zone's counts, clears the online_map bits, sections with nothing
 * online left go ONLINE -> PRESENT (still deferred). Returns true if it did; false (nothing
 * changed) when a section of the range has its descriptors.
 */
bool zone_offline_deferred(pfn_t start_pfn, pfn_t end_pfn);

/* The zone every page of [start_pfn, end_pfn) is online in, or -EINVAL (not all online, mixed). */
int range_online_zone(pfn_t start_pfn, pfn_t end_pfn);

/*
 * Isolate the online range [start_pfn, end_pfn) (one zone): every page gets PG_isolated, so it is
 * never handed out again; free blocks inside leave the free lists (and the free count) and are
 * held as isolated free, a free 4 MiB block half inside is split; pages freed later join them.
 * Then every hart's per-hart cache is drained (page_alloc_drain_all). Returns 0 or -EINVAL
 * (nothing changed: not online, mixed zones, misaligned, already isolated).
 */
int page_isolate_range(pfn_t start_pfn, pfn_t end_pfn);

/*
 * For an isolated range: if every page is isolated free or a memmap_on_memory page, take them
 * out of the zone (managed decreases, pages become PG_offline, online_map bits clear, sections
 * with nothing online left go ONLINE -> PRESENT) and return 0. Otherwise return -EBUSY with
 * *nr_busy (if not NULL) set to the pages still in use or cached, and change nothing.
 */
int page_isolated_take_free(pfn_t start_pfn, pfn_t end_pfn, unsigned long *nr_busy);

/* Undo page_isolate_range: clear PG_isolated, free the held blocks back (coalescing). */
void page_unisolate_range(pfn_t start_pfn, pfn_t end_pfn);

/*
 * Return [pfn, pfn + nr) pages that were reserved at boot (PG_reserved: boot page tables, boot
 * memmap) to the allocator; the zone's managed count grows. Used when hot-remove frees the tables
 * and memmap boot created. Pages not reserved are reported and skipped.
 */
void free_reserved_pages(pfn_t pfn, unsigned long nr);

/* Give this hart's cached single pages back to the buddy lists. */
void page_alloc_drain_local(void);

/*
 * Drain every hart's cache now: this hart's directly, the others' through an IPI
 * (arch_smp_call_others) whose handler only moves the cache to a hand-off list (it takes no
 * lock: the interrupted code may hold a zone lock); then this hart frees those lists. Caller
 * holds hotplug_lock for write and no spinlock (the IPI is waited for).
 */
void page_alloc_drain_all(void);

/* Counters (pages): of one zone type summed over the nodes, or of one node's zone. */
uint64_t zone_free_pages(enum zone_type z);
uint64_t zone_managed_pages(enum zone_type z);
uint64_t node_zone_free_pages(int nid, enum zone_type z);
uint64_t node_zone_managed_pages(int nid, enum zone_type z);
uint64_t total_free_pages(void);
uint64_t total_managed_pages(void);

/* Zone name ("Normal", "Movable"). */
const char *zone_name(enum zone_type z);

#endif
