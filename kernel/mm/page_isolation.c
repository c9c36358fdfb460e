// SPDX-License-Identifier: MIT
//
// The page allocator's range operations that memory hot(un)plug builds on, at 2 MiB (pageblock,
// sub-section) granularity: give an offline range to a zone, isolate an online range so nothing
// in it is handed out again, take its free pages out of the zone, or undo the isolation.
//
// Interface: zone_online_range, zone_offline_deferred, page_isolate_range, page_isolated_take_free,
// page_unisolate_range, range_online_zone (include/rvmm/page_alloc.h).
//
// Granularity against MAX_ORDER: buddy blocks go up to 4 MiB, ranges down to 2 MiB. A range
// onlined alone never merges with an offline neighbour (its descriptors are PG_offline, never
// PG_buddy); isolating 2 MiB out of a free 4 MiB block splits the block; an allocated 4 MiB
// block half inside an isolated range is freed as two halves later (__free_one).
//
// All of it runs under hotplug_lock held for write; each pass over a section takes the zone lock
// once, so other harts allocating from the zone wait at most one section's walk.

#include <rvmm/errno.h>
#include <rvmm/printk.h>

#include "internal.h"

static bool pageblock_aligned(pfn_t pfn) { return IS_ALIGNED(pfn, PAGEBLOCK_NR_PAGES); }

static unsigned subsection_of(pfn_t pfn) { return (pfn % PAGES_PER_SECTION) / PAGES_PER_SUBSECTION; }

// Bits of section nr's online_map covered by [start, end) (clipped to the section).
static uint64_t subsection_mask(unsigned long nr, pfn_t start, pfn_t end)
{
	pfn_t s = MAX(start, section_nr_to_pfn(nr)), e = MIN(end, section_nr_to_pfn(nr + 1));
	unsigned first = subsection_of(s), n = (unsigned)((e - s) / PAGES_PER_SUBSECTION);
	return n >= 64 ? SUBSECTION_MAP_FULL : ((1ULL << n) - 1) << first;
}

// Call fn for every section of [start, end) with the part of the range inside it.
#define for_each_section_part(nr, s, e, start, end)                                            \
	for ((nr) = pfn_to_section_nr(start);                                                  \
	     (nr) <= pfn_to_section_nr((end) - 1) &&                                           \
	     ((s) = MAX((start), section_nr_to_pfn(nr)), (e) = MIN((end), section_nr_to_pfn((nr) + 1)), 1); \
	     (nr)++)

static bool range_ok(pfn_t start, pfn_t end)
{
	return start < end && pageblock_aligned(start) && pageblock_aligned(end) &&
	       end <= (mm_layout.max_phys >> PAGE_SHIFT);
}

int range_online_zone(pfn_t start, pfn_t end)
{
	int zone = -1, node = -1;
	unsigned long nr;
	pfn_t s, e;
	if (!range_ok(start, end))
		return -EINVAL;
	for_each_section_part(nr, s, e, start, end) {
		struct mem_section *ms = section_get(nr);
		uint64_t m = subsection_mask(nr, s, e);
		if (!ms || ms->state != SECTION_ONLINE || (ms->online_map & m) != m ||
		    (zone >= 0 && (ms->zone != zone || ms->node != node)))
			return -EINVAL;
		zone = ms->zone;
		node = ms->node;
	}
	return zone;
}

// The zone of an online range range_online_zone() accepted (zone type zn, one node).
static struct zone *range_zone(pfn_t start, int zn)
{
	return node_zone(section_get(pfn_to_section_nr(start))->node, zn);
}

#define is_vmemmap pfn_is_own_memmap

// A hot-plugged section whose descriptors were never written: give [s, e) of it to z by count
// only (deferred init writes them when first needed). False, with nothing changed, if its
// descriptors exist (then the caller writes them). z->lock is what deferred init holds, so the
// flag is checked and the counts change under it.
static bool online_deferred(struct zone *z, enum zone_type zone, unsigned long nr, pfn_t s, pfn_t e)
{
	struct mem_section *ms = section_get(nr);
	spin_lock(&z->lock);
	if (!(ms->flags & SECTION_DEFERRED) || (ms->flags & SECTION_BOOT)) {
		spin_unlock(&z->lock);
		return false;
	}
	uint64_t own_before = own_memmap_online(ms);
	if (ms->state == SECTION_PRESENT) {
		ms->zone = (uint8_t)zone;
		WARN_ON(section_set_state(nr, SECTION_PRESENT, SECTION_ONLINE)); // checked present
		deferred_hot_online(z, nr);
	}
	WRITE_ONCE(ms->online_map, ms->online_map | subsection_mask(nr, s, e));
	z->managed += e - s; // own memmap pages count as managed and in use
	spin_unlock(&z->lock);
	zone_add_free(z, (int64_t)(e - s) - (int64_t)(own_memmap_online(ms) - own_before));
	return true;
}

int zone_online_range(enum zone_type zone, pfn_t start, unsigned long nr_pages, uint64_t *desc_bytes)
{
	assert_hotplug_writer();
	pfn_t end = start + nr_pages;
	unsigned long nr;
	pfn_t s, e;
	if ((unsigned)zone >= NR_ZONES || !range_ok(start, end))
		return -EINVAL;
	for_each_section_part(nr, s, e, start, end) {
		struct mem_section *ms = section_get(nr);
		if (!ms || ms->state == SECTION_ABSENT || !(ms->flags & SECTION_MEMMAP) ||
		    (ms->online_map & subsection_mask(nr, s, e)) ||
		    (ms->state == SECTION_ONLINE && ms->zone != zone))
			return -EINVAL;
	}

	for_each_section_part(nr, s, e, start, end) {
		struct mem_section *ms = section_get(nr);
		struct zone *z = node_zone(ms->node, zone); /* a range may span nodes */
		uint64_t freed = 0;
		if (online_deferred(z, zone, nr, s, e)) {
			mhp_progress("online:", PFN_PHYS(e - start), PFN_PHYS(end - start));
			continue;
		}
		deferred_init_pfn(s); // a boot section cut by mem=: its descriptors first
		*desc_bytes += (e - s) * sizeof(struct page);
		for (pfn_t pfn = s; pfn < e; pfn++) {
			struct page *p = pfn_to_page(pfn);
			if (is_vmemmap(pfn))
				p->zone = (uint8_t)zone;
			else
				*p = (struct page){ .zone = (uint8_t)zone };
		}
		if (ms->state == SECTION_PRESENT) {
			ms->zone = (uint8_t)zone;
			WARN_ON(section_set_state(nr, SECTION_PRESENT, SECTION_ONLINE)); // checked above
		}
		spin_lock(&z->lock);
		// The online_map bit goes up under the zone lock: free_pages() of a neighbour's page
		// reads it only to reject frees of offline memory.
		WRITE_ONCE(ms->online_map, ms->online_map | subsection_mask(nr, s, e));
		for (pfn_t pfn = s; pfn < e;) {
			pfn_t run = pfn;
			while (run < e && !is_vmemmap(run))
				run++;
			__free_range(z, pfn, run);
			freed += run - pfn;
			while (run < e && is_vmemmap(run))
				run++;
			pfn = run;
		}
		// memmap_on_memory pages count as managed and in use.
		z->managed += e - s;
		spin_unlock(&z->lock);
		zone_add_free(z, (int64_t)freed);
		mhp_progress("online:", PFN_PHYS(e - start), PFN_PHYS(end - start));
	}
	return 0;
}

bool zone_offline_deferred(pfn_t start, pfn_t end)
{
	assert_hotplug_writer();
	int zn = range_online_zone(start, end);
	if (zn < 0)
		return false;
	struct zone *z = range_zone(start, zn);
	unsigned long nr;
	pfn_t s, e;
	uint64_t freed = 0;
	spin_lock(&z->lock);
	for_each_section_part(nr, s, e, start, end) {
		const struct mem_section *ms = section_get(nr);
		if (!(ms->flags & SECTION_DEFERRED) || (ms->flags & SECTION_BOOT)) {
			spin_unlock(&z->lock);
			return false;
		}
	}
	for_each_section_part(nr, s, e, start, end) {
		struct mem_section *ms = section_get(nr);
		uint64_t own_before = own_memmap_online(ms);
		WRITE_ONCE(ms->online_map, ms->online_map & ~subsection_mask(nr, s, e));
		freed += (e - s) - (own_before - own_memmap_online(ms));
		z->managed -= e - s;
		if (!ms->online_map) {
			WARN_ON(section_set_state(nr, SECTION_ONLINE, SECTION_PRESENT)); // it is online
			ms->zone = 0;
			deferred_hot_offline(z);
		}
	}
	spin_unlock(&z->lock);
	zone_add_free(z, -(int64_t)freed);
	return true;
}

// Take the free block with head p (order o, not isolated) off the lists and hold the part of it
// inside [start, end) as isolated free; a part outside goes back on the lists. z->lock held.
static uint64_t isolate_free_block(struct zone *z, pfn_t head, pfn_t start, pfn_t end)
{
	struct page *p = pfn_to_page(head);
	unsigned o = p->order;
	pfn_t bend = head + (1UL << o);
	del_free(z, p, o);
	if (head < start || bend > end) { // a 4 MiB block half inside: split it
		pfn_t in = head < start ? start : head, out = head < start ? head : end;
		add_free(z, pfn_to_page(out), o - 1);
		head = in;
		o--;
	}
	for (unsigned long i = 0; i < (1UL << o); i++)
		page_flags_set(pfn_to_page(head + i), PG_isolated);
	return __free_one(z, head, o); // held back
}

int page_isolate_range(pfn_t start, pfn_t end)
{
	assert_hotplug_writer();
	int zn = range_online_zone(start, end);
	if (zn < 0)
		return -EINVAL;
	struct zone *z = range_zone(start, zn);
	for (pfn_t pfn = start; pfn < end; pfn += PAGES_PER_SECTION - pfn % PAGES_PER_SECTION)
		deferred_init_pfn(pfn);
	spin_lock(&z->lock);
	for (pfn_t pfn = start; pfn < end; pfn++)
		if (page_flags(pfn_to_page(pfn)) & PG_isolated) {
			spin_unlock(&z->lock);
			return -EINVAL; // already isolated
		}
	uint64_t pulled = 0;
	// A free 4 MiB block starting 2 MiB before the range.
	if (!IS_ALIGNED(start, MAX_ORDER_NR_PAGES)) {
		pfn_t head = ALIGN_DOWN(start, MAX_ORDER_NR_PAGES);
		struct page *h = pfn_to_page(head);
		if ((page_flags(h) & PG_buddy) && !(page_flags(h) & PG_isolated) && h->order == MAX_ORDER)
			pulled += isolate_free_block(z, head, start, end);
	}
	for (pfn_t pfn = start; pfn < end;) {
		struct page *p = pfn_to_page(pfn);
		uint32_t f = page_flags(p);
		if ((f & PG_buddy) && !(f & PG_isolated)) {
			pfn_t next = pfn + (1UL << p->order);
			pulled += isolate_free_block(z, pfn, start, end);
			pfn = next;
		} else {
			page_flags_set(p, PG_isolated);
			pfn++;
		}
		if (pfn < end && !(pfn % PAGES_PER_SECTION)) { // let allocators in between sections
			spin_unlock(&z->lock);
			mhp_progress("offline: isolated", PFN_PHYS(pfn - start),
				     PFN_PHYS(end - start));
			spin_lock(&z->lock);
		}
	}
	spin_unlock(&z->lock);
	zone_add_free(z, -(int64_t)pulled);
	page_alloc_drain_all();
	return 0;
}

int page_isolated_take_free(pfn_t start, pfn_t end, unsigned long *nr_busy)
{
	assert_hotplug_writer();
	int zn = range_online_zone(start, end);
	if (zn < 0)
		return -EINVAL;
	struct zone *z = range_zone(start, zn);
	unsigned long busy = 0;
	uint64_t freed = 0;
	spin_lock(&z->lock);
	for (pfn_t pfn = start; pfn < end;) {
		struct page *p = pfn_to_page(pfn);
		uint32_t f = page_flags(p);
		if ((f & PG_buddy) && (f & PG_isolated)) {
			pfn += 1UL << p->order;
			continue;
		}
		if (!is_vmemmap(pfn))
			busy++;
		pfn++;
	}
	if (nr_busy)
		*nr_busy = busy;
	if (busy) {
		spin_unlock(&z->lock);
		return -EBUSY;
	}
	unsigned long nr;
	pfn_t s, e;
	for_each_section_part(nr, s, e, start, end) {
		pfn_t own_end = own_memmap_end(nr); // one lookup per section, not per page
		for (pfn_t pfn = s; pfn < e; pfn++) {
			struct page *p = pfn_to_page(pfn);
			if (pfn < own_end) {
				page_flags_clear(p, PG_isolated);
				continue;
			}
			p->flags = PG_offline;
			freed++;
		}
	}
	for_each_section_part(nr, s, e, start, end) {
		struct mem_section *ms = section_get(nr);
		WRITE_ONCE(ms->online_map, ms->online_map & ~subsection_mask(nr, s, e));
	}
	z->nr_isolated_free -= freed;
	z->managed -= end - start;
	spin_unlock(&z->lock);
	for_each_section_part(nr, s, e, start, end)
		if (!section_get(nr)->online_map) {
			WARN_ON(section_set_state(nr, SECTION_ONLINE, SECTION_PRESENT)); // it is online
			section_get(nr)->zone = 0;
		}
	return 0;
}

void page_unisolate_range(pfn_t start, pfn_t end)
{
	assert_hotplug_writer();
	int zn = range_online_zone(start, end);
	if (zn < 0)
		return;
	struct zone *z = range_zone(start, zn);
	uint64_t back = 0;
	spin_lock(&z->lock);
	for (pfn_t pfn = start; pfn < end;) {
		struct page *p = pfn_to_page(pfn);
		uint32_t f = page_flags(p);
		if ((f & PG_buddy) && (f & PG_isolated)) {
			unsigned o = p->order;
			unsigned long n = 1UL << o;
			for (unsigned long i = 0; i < n; i++)
				page_flags_clear(p + i, PG_isolated);
			page_flags_clear(p, PG_buddy);
			z->nr_isolated_free -= n;
			__free_one(z, pfn, o);
			back += n;
			pfn += n;
		} else {
			page_flags_clear(p, PG_isolated);
			pfn++;
		}
	}
	spin_unlock(&z->lock);
	zone_add_free(z, (int64_t)back);
}
