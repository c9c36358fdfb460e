// SPDX-License-Identifier: MIT
//
// Memory figures for the `meminfo` (and `meminfo NODE`) and `sections` commands: managed and
// free pages per zone (per node),
// page tables, memmap, deferred init, and the section table: one line per hot-plugged section,
// one per run of alike boot sections (every section with `sections -a`), runs of absent sections
// folded into one line, so 1 TiB (8192 sections) stays a screenful.
//
// Interface: mm_meminfo, mm_print_meminfo, mm_print_node_meminfo, mm_print_sections
// (include/rvmm/mm.h).

#include <rvmm/arch_mm.h>
#include <rvmm/errno.h>
#include <rvmm/hotplug.h>
#include <rvmm/kpt.h>
#include <rvmm/mem_ranges.h>
#include <rvmm/memremap.h>
#include <rvmm/mm.h>
#include <rvmm/page_alloc.h>
#include <rvmm/printk.h>
#include <rvmm/section.h>
#include <stdio.h>

uint64_t (*meminfo_plugged_kb)(int nid);

void mm_meminfo(struct meminfo *mi)
{
	get_online_mems();
	mi->total_kb = total_managed_pages() << (PAGE_SHIFT - 10);
	mi->free_kb = total_free_pages() << (PAGE_SHIFT - 10);
	for (int z = 0; z < NR_ZONES; z++)
		mi->free_zone_kb[z] = zone_free_pages(z) << (PAGE_SHIFT - 10);
	mi->pagetables_kb = kpt_pgtable_pages() << (PAGE_SHIFT - 10);
	mi->memmap_kb = vmemmap_bytes() >> 10;
	mi->dev_memmap_kb = memremap_memmap_bytes() >> 10;
	mi->desc_size = sizeof(struct page);
	mi->paging_mode = arch_paging_mode();
	mi->deferred_pending = deferred_init_pending();
	mi->plugged_kb = meminfo_plugged_kb ? meminfo_plugged_kb(NUMA_NO_NODE) : 0;
	put_online_mems();
}

static void line_kb(const char *name, uint64_t kb)
{
	kprintf("%-16s%8llu kB\n", name, (unsigned long long)kb);
}

void mm_print_meminfo(void)
{
	struct meminfo mi;
	mm_meminfo(&mi);
	line_kb("MemTotal:", mi.total_kb);
	line_kb("MemFree:", mi.free_kb);
	line_kb("MemFreeNormal:", mi.free_zone_kb[ZONE_NORMAL]);
	line_kb("MemFreeMovable:", mi.free_zone_kb[ZONE_MOVABLE]);
	line_kb("PageTables:", mi.pagetables_kb);
	line_kb("Memmap:", mi.memmap_kb);
	line_kb("DevMemmap:", mi.dev_memmap_kb);
	line_kb("MemPlugged:", mi.plugged_kb);
	kprintf("Page descriptor: %u bytes\n", mi.desc_size);
	kprintf("Paging mode: %s\n", mi.paging_mode);
	kprintf("Deferred init: %lu sections pending\n", mi.deferred_pending);
}

static void node_line_kb(int nid, const char *name, uint64_t kb)
{
	kprintf("Node %d %-16s%8llu kB\n", nid, name, (unsigned long long)kb);
}

int mm_print_node_meminfo(int nid)
{
	if (!node_online(nid)) {
		kprintf("meminfo: no node %d (this machine has %d, ids below %d)\n", nid,
			nr_online_nodes(), nr_node_ids());
		return -EINVAL;
	}
	uint64_t free[NR_ZONES], total = 0, free_all = 0, plugged;
	get_online_mems();
	for (int z = 0; z < NR_ZONES; z++) {
		free[z] = node_zone_free_pages(nid, z) << (PAGE_SHIFT - 10);
		free_all += free[z];
		total += node_zone_managed_pages(nid, z) << (PAGE_SHIFT - 10);
	}
	plugged = meminfo_plugged_kb ? meminfo_plugged_kb(nid) : 0;
	put_online_mems();
	node_line_kb(nid, "MemTotal:", total);
	node_line_kb(nid, "MemFree:", free_all);
	node_line_kb(nid, "MemUsed:", total - MIN(total, free_all));
	node_line_kb(nid, "MemFreeNormal:", free[ZONE_NORMAL]);
	node_line_kb(nid, "MemFreeMovable:", free[ZONE_MOVABLE]);
	node_line_kb(nid, "MemPlugged:", plugged);
	return 0;
}

// Free pages on the buddy lists per section of [lo, hi) (per-hart caches not included), or
// NULL if there is no memory for the table. Deferred sections: their free count.
static uint32_t *free_per_section(unsigned long lo, unsigned long hi, unsigned *order)
{
	uint64_t bytes = (hi - lo) * sizeof(uint32_t);
	*order = 0;
	while ((PAGE_SIZE << *order) < bytes)
		(*order)++;
	uint32_t *f = get_free_pages(*order, GFP_KERNEL | GFP_ZERO);
	if (!f)
		return NULL;
	for (int z = 0; z < nr_node_ids() * NR_ZONES; z++) {
		struct zone *zone = &node_zones[z / NR_ZONES][z % NR_ZONES];
		spin_lock(&zone->lock);
		for (unsigned o = 0; o <= MAX_ORDER; o++) {
			struct list_head *pos;
			if (!zone->free_area[o].list.next)
				continue;
			list_for_each(pos, &zone->free_area[o].list) {
				unsigned long nr = pfn_to_section_nr(page_to_pfn(list_entry(pos, struct page, lru)));
				if (nr >= lo && nr < hi)
					f[nr - lo] += 1u << o;
			}
		}
		spin_unlock(&zone->lock);
	}
	for (unsigned long nr = lo; nr < hi; nr++) {
		const struct mem_section *ms = section_get(nr);
		if (ms && (READ_ONCE(ms->flags) & SECTION_DEFERRED))
			f[nr - lo] = (uint32_t)deferred_free_pages(nr);
	}
	return f;
}

// The end of a sections line: the node, on a machine with more than one.
static void print_node(int nid)
{
	if (nr_online_nodes() > 1)
		kprintf("  node %d", nid);
	kprintf("\n");
}

static void print_run(unsigned long first, unsigned long last, const uint32_t *free,
		      unsigned long lo)
{
	const struct mem_section *ms = section_get(first);
	char idx[24], fr[16];
	uint64_t n = 0;
	for (unsigned long nr = first; free && nr <= last; nr++)
		n += free[nr - lo];
	if (first == last)
		snprintf(idx, sizeof(idx), "%lu", first);
	else
		snprintf(idx, sizeof(idx), "%lu-%lu", first, last);
	if (free)
		snprintf(fr, sizeof(fr), "%llu", (unsigned long long)n);
	else
		snprintf(fr, sizeof(fr), "?");
	kprintf("%13s  0x%012llx-0x%012llx  %-7s  %-7s  %9s  %s%s%s", idx,
		(unsigned long long)PFN_PHYS(section_nr_to_pfn(first)),
		(unsigned long long)PFN_PHYS(section_nr_to_pfn(last + 1)),
		section_state_name(ms->state),
		ms->state == SECTION_ONLINE ? zone_name(ms->zone)
		: ms->flags & SECTION_DEVICE ? zone_name(ZONE_DEVICE) : "-",
		fr, ms->flags & SECTION_BOOT ? "boot" : ms->flags & SECTION_DEVICE ? "device" : "hotplug",
		ms->flags & SECTION_MEMMAP_ON_MEMORY ? " memmap_on_memory"
		: ms->flags & SECTION_MEMMAP_SHARED ? " dax-vmemmap" : "",
		ms->flags & SECTION_DEFERRED ? " deferred" : "");
	if (ms->state == SECTION_ONLINE && ms->online_map != SUBSECTION_MAP_FULL)
		kprintf(" partly online (%u of 64 x 2 MiB)", __builtin_popcountll(ms->online_map));
	print_node(ms->node);
}

static void print_absent(unsigned long first, unsigned long last)
{
	char idx[24];
	snprintf(idx, sizeof(idx), "%lu-%lu", first, last);
	kprintf("%13s  0x%012llx-0x%012llx  absent   (%lu sections)\n", idx,
		(unsigned long long)PFN_PHYS(section_nr_to_pfn(first)),
		(unsigned long long)PFN_PHYS(section_nr_to_pfn(last + 1)), last - first + 1);
}

// Sections fold into one line when both are boot sections alike (or, without `all`, never
// otherwise): hot-plugged sections get a line each, the boot ones a line per run.
static bool same_run(const struct mem_section *a, const struct mem_section *b, bool all)
{
	return !all && (a->flags & SECTION_BOOT) && a->state == b->state && a->zone == b->zone &&
	       a->flags == b->flags && a->online_map == b->online_map && a->node == b->node;
}

void mm_print_sections(bool all)
{
	get_online_mems();
	kprintf("sections of %lu MiB: %lu online, %lu present, %lu absent\n", SECTION_SIZE >> 20,
		section_count(SECTION_ONLINE), section_count(SECTION_PRESENT),
		section_count(SECTION_ABSENT));
	unsigned long lo = MIN(section_next_in_state(0, SECTION_ONLINE),
			       section_next_in_state(0, SECTION_PRESENT));
	unsigned long hi = lo;
	for (unsigned long nr = lo; nr < nr_mem_sections;
	     nr = MIN(section_next_in_state(nr + 1, SECTION_ONLINE),
		      section_next_in_state(nr + 1, SECTION_PRESENT)))
		hi = nr + 1;
	unsigned order = 0;
	uint32_t *free = hi > lo ? free_per_section(lo, hi, &order) : NULL;
	kprintf("%13s  %-29s  %-7s  %-7s  %9s\n", "section", "physical range", "state", "zone",
		"free");
	if (lo > 0 && lo < nr_mem_sections)
		print_absent(0, lo - 1);
	unsigned long run = lo, gap = nr_mem_sections;
	for (unsigned long nr = lo; nr < hi; nr++) {
		const struct mem_section *ms = section_get(nr);
		bool absent = !ms || ms->state == SECTION_ABSENT;
		if (absent) {
			if (run < nr)
				print_run(run, nr - 1, free, lo);
			run = nr + 1;
			if (gap == nr_mem_sections)
				gap = nr;
			continue;
		}
		if (gap != nr_mem_sections) {
			print_absent(gap, nr - 1);
			gap = nr_mem_sections;
		}
		if (run < nr && !same_run(section_get(run), ms, all)) {
			print_run(run, nr - 1, free, lo);
			run = nr;
		}
	}
	if (run < hi)
		print_run(run, hi - 1, free, lo);
	if (hi < nr_mem_sections)
		print_absent(hi, nr_mem_sections - 1);
	if (free)
		free_pages_va(free, order);
	struct mem_range r;
	for (int i = 0; mem_range_get(i, &r); i++) {
		if (r.kind != MEM_RANGE_HIDDEN)
			continue;
		// The part sharing a section with boot RAM is onlined into that section.
		phys_addr_t base = r.start, head = MIN(r.end, ALIGN_UP(base, SECTION_SIZE));
		if (base < head && section_state(base >> SECTION_SHIFT) != SECTION_ABSENT) {
			kprintf("0x%012llx-0x%012llx  RAM above mem= in section %llu (online can add it)",
				(unsigned long long)base, (unsigned long long)head,
				(unsigned long long)(base >> SECTION_SHIFT));
			print_node(r.node);
			base = head;
		}
		if (base < r.end) {
			kprintf("0x%012llx-0x%012llx  RAM above mem= (hot-add can add it)",
				(unsigned long long)base, (unsigned long long)r.end);
			print_node(r.node);
		}
	}
	put_online_mems();
}
