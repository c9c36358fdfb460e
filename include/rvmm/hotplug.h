/* SPDX-License-Identifier: MIT */
/*
 * Memory hotplug: its lock and the four steps (kernel/mm/hotplug.c). docs/locking.md lists every
 * actor that walks or changes what these steps change, and why it cannot race with them.
 *
 * Interface: hotplug_lock, mem_hotplug_begin/done (write), get_online_mems/put_online_mems (read);
 * add_memory, __add_memory_driver, online_pages, offline_pages, remove_memory (and __ variants), online_pages_in_range;
 * mhp_stats; fault injection through fault_inject.h.
 */
#ifndef RVMM_HOTPLUG_H
#define RVMM_HOTPLUG_H

#include <rvmm/mm.h>
#include <rvmm/spinlock.h>

/*
 * hotplug_lock (kernel/mm/hotplug_lock.c): held for write while memory is added, onlined,
 * offlined or removed, so section states, the direct map and the vmemmap of hot(un)pluggable
 * ranges cannot change under a holder. Held for read by everything that walks them: ptdump,
 * meminfo, sections, memtest, mmcheck. Outermost mm lock: taken before kpt_lock and zone->lock.
 */
extern rwlock_t hotplug_lock;

static inline void mem_hotplug_begin(void) { write_lock(&hotplug_lock); }
static inline void mem_hotplug_done(void) { write_unlock(&hotplug_lock); }
static inline void get_online_mems(void) { read_lock(&hotplug_lock); }
static inline void put_online_mems(void) { read_unlock(&hotplug_lock); }

/*
 * The four steps of memory hot(un)plug (kernel/mm/hotplug.c), as Linux names them. Each takes
 * hotplug_lock for write; the __ variants expect the caller to hold it (virtio-mem, which chains
 * several steps under one hold). Every one either completes or leaves the state exactly as it
 * was, and returns 0 or a negative errno after printing one line saying why.
 *
 *   add_memory      [start, start + size): section-aligned, every section absent and inside
 *                   [0, max_phys), and owned by the caller in the range registry (mem_ranges.h):
 *                   add_memory for the kernel's RAM (the device tree's, e.g. hidden by mem=),
 *                   __add_memory_driver for a driver's own region; anything else is -EINVAL with
 *                   a message naming the range and its owner. Maps the direct map (largest leaves) and populates the vmemmap;
 *                   sections become present (offline). MHP_MEMMAP_ON_MEMORY: the descriptors go at
 *                   the start of the range itself (altmap) and count as used.
 *   online_pages    pfn range inside present sections, aligned to and a multiple of
 *                   MHP_MIN_ONLINE_PAGES (2 MiB: virtio-mem's smallest block), offline now. Hands
 *                   the pages to the buddy allocator in zone. A section is online as soon as part
 *                   of it is (sub-section onlining is what virtio-mem's small blocks need).
 *   offline_pages   the reverse: isolates the range, migrates every movable page in use out of it
 *                   (contents preserved, owner updated), takes the free pages out of the allocator.
 *                   An unmovable page in use: -EBUSY, naming the pfn; the range stays online.
 *   remove_memory   section-aligned, every section present and wholly offline: unmaps the direct
 *                   map, depopulates the vmemmap, frees page tables that became empty, fences the
 *                   TLB on every hart; sections become absent. Online memory is refused (-EBUSY).
 */
#define MHP_MEMMAP_ON_MEMORY 0x1u
#define MHP_MIN_ONLINE_PAGES (SZ_2M >> PAGE_SHIFT)

int add_memory(phys_addr_t start, uint64_t size, unsigned flags);
int __add_memory(phys_addr_t start, uint64_t size, unsigned flags);
struct mem_region;
int __add_memory_driver(const struct mem_region *owner, phys_addr_t start, uint64_t size,
			unsigned flags);
int online_pages(pfn_t start_pfn, unsigned long nr_pages, enum zone_type zone);
int __online_pages(pfn_t start_pfn, unsigned long nr_pages, enum zone_type zone);
int offline_pages(pfn_t start_pfn, unsigned long nr_pages);
int __offline_pages(pfn_t start_pfn, unsigned long nr_pages);
int remove_memory(phys_addr_t start, uint64_t size);
int __remove_memory(phys_addr_t start, uint64_t size);

/* Pages of [start_pfn, +nr_pages) that are online (0 .. nr_pages). Caller holds hotplug_lock. */
unsigned long online_pages_in_range(pfn_t start_pfn, unsigned long nr_pages);

/*
 * Fault injection (include/rvmm/fault_inject.h): each step is an operation under test. Its failure
 * points are its allocations plus three that are not (-EIO): online "going online" (before
 * anything changes), offline "going offline" (before isolation) and the drain of the per-hart
 * caches (after it). failalloc=N arms the first step, host tests and fuzzers fault_inject_set().
 * Every failure point rolls back completely; a failed migration target is retried (the step then
 * succeeds).
 */

/* Figures for the console and the bench: written under hotplug_lock (write). */
struct mhp_stats {
	uint64_t desc_bytes; /* page descriptor bytes written so far by add and online */
};
extern struct mhp_stats mhp_stats;

#endif
