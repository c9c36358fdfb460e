// SPDX-License-Identifier: MIT
//
// Invariant checks over the allocator state, for tests: walks every free list and every
// initialised descriptor of online memory and cross-checks flags, counts and coalescing, then
// runs the kernel's own mmcheck (kernel/mm/diag/mmcheck.c: sections, vmemmap, direct map, PageTables);
// and a hot-add + online for tests that need hot-added memory.
//
// Interface: sim_check_buddy, sim_mmcheck, sim_hotadd.

#include <stdlib.h>
#include <string.h>

#include <rvmm/hotplug.h>
#include <rvmm/kpt.h>
#include <rvmm/mmcheck.h>
#include <rvmm/page_alloc.h>
#include <rvmm/section.h>

#include "sim.h"
#include "test.h"

// Free pages of deferred sections of node nid's zone z (counted in nr_free, not on lists).
static uint64_t zone_deferred_free(int nid, int z)
{
	uint64_t n = 0;
	for (unsigned long nr = 0; nr < nr_mem_sections; nr++) {
		struct mem_section *ms = section_get(nr);
		if (ms && ms->zone == z && ms->node == nid)
			n += deferred_free_pages(nr);
	}
	return n;
}

int sim_check_buddy(const uint8_t *alloc_map, pfn_t map_base, pfn_t map_end)
{
	pfn_t lo = SIM_RAM_BASE >> PAGE_SHIFT, hi = sim.phys_end >> PAGE_SHIFT;
	uint8_t *seen = calloc(hi - lo, 1);
	int rc = 1;
	for (int zi = 0; zi < nr_node_ids() * NR_ZONES; zi++) {
		int nid = zi / NR_ZONES, z = zi % NR_ZONES;
		struct zone *zone = node_zone(nid, z);
		uint64_t on_lists = 0, in_pcp = 0;
		for (unsigned o = 0; o <= MAX_ORDER; o++) {
			uint64_t n = 0;
			struct list_head *pos;
			list_for_each(pos, &zone->free_area[o].list) {
				struct page *p = list_entry(pos, struct page, lru);
				pfn_t pfn = page_to_pfn(p);
				struct mem_section *ms = section_get(pfn_to_section_nr(pfn));
				if (pfn < lo || pfn + (1UL << o) > hi || !ms || ms->state != SECTION_ONLINE ||
				    (ms->flags & SECTION_DEFERRED) || ms->zone != z || ms->node != nid) {
					test_fail(__FILE__, __LINE__, "free block pfn %#lx order %u outside online zone memory", (unsigned long)pfn, o);
					goto out;
				}
				if (!(p->flags & PG_buddy) || (p->flags & PG_isolated) || p->order != o ||
				    !IS_ALIGNED(pfn, 1UL << o)) {
					test_fail(__FILE__, __LINE__, "free block pfn %#lx order %u: flags %#x order %u", (unsigned long)pfn, o, p->flags, p->order);
					goto out;
				}
				for (unsigned long i = 0; i < (1UL << o); i++) {
					if (seen[pfn + i - lo]) {
						test_fail(__FILE__, __LINE__, "pfn %#lx in two free blocks", (unsigned long)(pfn + i));
						goto out;
					}
					seen[pfn + i - lo] = 1;
				}
				if (o < MAX_ORDER) {
					struct page *b = pfn_to_page(pfn ^ (1UL << o));
					if ((b->flags & PG_buddy) && !(b->flags & PG_isolated) && b->order == o) {
						test_fail(__FILE__, __LINE__, "free buddies %#lx/%#lx order %u not merged", (unsigned long)pfn, (unsigned long)(pfn ^ (1UL << o)), o);
						goto out;
					}
				}
				n++;
				on_lists += 1UL << o;
			}
			if (n != zone->free_area[o].nr) {
				test_fail(__FILE__, __LINE__, "zone %d order %u: %lu on list, nr says %lu", z, o, (unsigned long)n, (unsigned long)zone->free_area[o].nr);
				goto out;
			}
		}
		// Every initialised page of the zone: exactly one state.
		for (unsigned long nr = lo >> (SECTION_SHIFT - PAGE_SHIFT); nr <= (hi - 1) >> (SECTION_SHIFT - PAGE_SHIFT); nr++) {
			struct mem_section *ms = section_get(nr);
			if (!ms || ms->state != SECTION_ONLINE || (ms->flags & SECTION_DEFERRED) || ms->zone != z ||
			    ms->node != nid)
				continue;
			for (pfn_t pfn = section_nr_to_pfn(nr); pfn < section_nr_to_pfn(nr + 1) && pfn < hi; pfn++) {
				struct page *p = pfn_to_page(pfn);
				bool f = seen[pfn - lo];
				bool pcp = p->flags & PG_pcp;
				bool res = p->flags & PG_reserved;
				bool isol = p->flags & PG_isolated;
				bool al = alloc_map && pfn >= map_base && pfn < map_end && alloc_map[pfn - map_base];
				in_pcp += pcp;
				if (alloc_map && !isol && (int)f + pcp + res + al != 1) {
					test_fail(__FILE__, __LINE__, "pfn %#lx: free %d pcp %d reserved %d allocated %d (flags %#x order %u ref %d zone %u, checking zone %d)", (unsigned long)pfn, f, pcp, res, al, p->flags, p->order, p->refcount, p->zone, z);
					goto out;
				}
			}
		}
		uint64_t expect = on_lists + in_pcp + zone_deferred_free(nid, z);
		if (expect != zone->nr_free) {
			test_fail(__FILE__, __LINE__, "zone %d: lists %lu + pcp %lu + deferred = %lu, nr_free %lu", z, (unsigned long)on_lists, (unsigned long)in_pcp, (unsigned long)expect, (unsigned long)zone->nr_free);
			goto out;
		}
	}
	rc = sim_mmcheck();
out:
	free(seen);
	return rc;
}

int sim_mmcheck(void)
{
	size_t mark = strlen(log_text());
	if ((write_held_by_me(&hotplug_lock) ? __mm_check() : mm_check()) == 0)
		return 0;
	test_fail(__FILE__, __LINE__, "mmcheck: %.600s", log_text() + mark);
	return 1;
}

// Hot-add and online through hotplug.c (what the plug command does).
int sim_hotadd(phys_addr_t pa, uint64_t size, int zone, bool memmap_on_memory)
{
	int rc = add_memory(pa, size, memmap_on_memory ? MHP_MEMMAP_ON_MEMORY : 0);
	return rc ? rc : online_pages(PFN_DOWN(pa), size >> PAGE_SHIFT, (enum zone_type)zone);
}
