// SPDX-License-Identifier: MIT
//
// The section map (`sections --map`): the physical space memory may occupy drawn one character
// per 128 MiB section, 64 to a line (include/rvmm/charmap.h), with a legend counting each
// character and the online total set against MemTotal. Runs of identical lines fold, so a
// 1 TiB guest is a handful of lines:
//
//   section map: 0x000080000000-0x000200000000, 48 sections of 128 MiB, 64 a line (8 GiB)
//                     0       1G      2G      3G      4G      5G      6G      7G
//   0x000000000000                    NNNNNNNNvMMMom...................
//
// The span runs from the lowest to the highest section that is present or in a range of the
// registry (include/rvmm/mem_ranges.h: RAM, hidden RAM, device regions; a device's driver says
// which of its sections it gave up on: '!'). With NUMA, a line says where each node begins.
//
// Interface: section_map_span, section_map_char, mm_print_section_map
// (include/rvmm/section_map.h).

#include <rvmm/charmap.h>
#include <rvmm/errno.h>
#include <rvmm/hotplug.h>
#include <rvmm/page_alloc.h>
#include <rvmm/printk.h>
#include <rvmm/section.h>
#include <rvmm/section_map.h>

// The registry's range holding section nr (its first byte), if any.
static bool range_of(unsigned long nr, struct mem_range *r)
{
	phys_addr_t pa = (phys_addr_t)nr << SECTION_SHIFT;
	for (int i = 0; mem_range_get(i, r); i++)
		if (pa < r->end && pa + SECTION_SIZE > r->start)
			return true;
	return false;
}

// Widen [*lo, *hi) by the sections of [s, e) (bytes), clipped to the section table.
static void widen(unsigned long *lo, unsigned long *hi, phys_addr_t s, phys_addr_t e)
{
	unsigned long a = s >> SECTION_SHIFT, b = MIN(ALIGN_UP(e, SECTION_SIZE) >> SECTION_SHIFT,
						      nr_mem_sections);
	if (a >= b)
		return;
	*lo = MIN(*lo, a);
	*hi = MAX(*hi, b);
}

bool section_map_span(unsigned long *lo, unsigned long *hi)
{
	*lo = nr_mem_sections;
	*hi = 0;
	for (int s = SECTION_PRESENT; s <= SECTION_ONLINE; s++) {
		unsigned long first = section_next_in_state(0, (enum section_state)s), last = first;
		if (first >= nr_mem_sections)
			continue;
		for (unsigned long nr = first; nr < nr_mem_sections;
		     nr = section_next_in_state(nr + 1, (enum section_state)s))
			last = nr;
		*lo = MIN(*lo, first);
		*hi = MAX(*hi, last + 1);
	}
	struct mem_range r;
	for (int i = 0; mem_range_get(i, &r); i++)
		widen(lo, hi, r.start, r.end);
	return *lo < *hi;
}

char section_map_char(unsigned long nr)
{
	const struct mem_section *ms = section_get(nr);
	struct mem_range r;
	bool owned = range_of(nr, &r);
	if (owned && r.region && r.region->section_failed && r.region->section_failed(r.region, nr))
		return '!';
	if (!ms || ms->state == SECTION_ABSENT)
		return owned ? '.' : '-';
	if (ms->flags & SECTION_MEMMAP_ON_MEMORY)
		return 'v';
	if (ms->state == SECTION_PRESENT)
		return 'o';
	bool full = ms->online_map == SUBSECTION_MAP_FULL;
	if (ms->zone == ZONE_MOVABLE)
		return full ? 'M' : 'm';
	return full ? 'N' : 'n';
}

static const struct {
	char c;
	const char *what;
} legend[] = {
	{ '.', "absent (RAM can be added)" }, { '-', "absent (nothing to add)" },
	{ 'o', "present, offline" },          { 'v', "memmap on its own memory" },
	{ 'N', "online, Normal" },            { 'M', "online, Movable" },
	{ 'n', "partly online, Normal" },     { 'm', "partly online, Movable" },
	{ '!', "given up on by its driver" },
};
#define NR_LEGEND (sizeof(legend) / sizeof(legend[0]))

// Section nr's NUMA node: its own once present, else its range's; NUMA_NO_NODE outside both.
static int section_node(unsigned long nr)
{
	const struct mem_section *ms = section_get(nr);
	if (ms && ms->state != SECTION_ABSENT)
		return ms->node;
	return mem_range_nid((phys_addr_t)nr << SECTION_SHIFT);
}

// Where each node's memory begins in [lo, hi), and again after another node's: one line.
static void print_node_starts(unsigned long lo, unsigned long hi)
{
	int prev = NUMA_NO_NODE;
	kprintf("nodes begin:");
	for (unsigned long nr = lo; nr < hi; nr++) {
		int n = section_node(nr);
		if (n == NUMA_NO_NODE || n == prev)
			continue;
		kprintf(" node %d at 0x%012llx (section %lu)", n,
			(unsigned long long)PFN_PHYS(section_nr_to_pfn(nr)), nr);
		prev = n;
	}
	kprintf("\n");
}

static void print_legend(const unsigned long *count)
{
	for (unsigned i = 0; i < NR_LEGEND; i++)
		kprintf("%s%c  %-26s %7lu%s", i % 2 ? "    " : "  ", legend[i].c, legend[i].what,
			count[i], i % 2 || i + 1 == NR_LEGEND ? "\n" : "");
}

void mm_print_section_map(void)
{
	unsigned long lo, hi, count[NR_LEGEND] = { 0 };
	uint64_t online[NR_ZONES] = { 0 }, added = 0;
	get_online_mems();
	if (!section_map_span(&lo, &hi)) {
		kprintf("section map: no memory\n");
		put_online_mems();
		return;
	}
	kprintf("section map: 0x%012llx-0x%012llx, %lu sections of %lu MiB, %u a line (%lu GiB)\n",
		(unsigned long long)PFN_PHYS(section_nr_to_pfn(lo)),
		(unsigned long long)PFN_PHYS(section_nr_to_pfn(hi)), hi - lo, SECTION_SIZE >> 20,
		CHARMAP_WIDTH, (CHARMAP_WIDTH * SECTION_SIZE) >> 30);
	struct charmap m;
	unsigned long first = ALIGN_DOWN(lo, (unsigned long)CHARMAP_WIDTH);
	charmap_start(&m, PFN_PHYS(section_nr_to_pfn(first)), SECTION_SIZE);
	for (unsigned long nr = first; nr < lo; nr++)
		charmap_put(&m, ' ');
	for (unsigned long nr = lo; nr < hi; nr++) {
		char c = section_map_char(nr);
		const struct mem_section *ms = section_get(nr);
		charmap_put(&m, c);
		for (unsigned i = 0; i < NR_LEGEND; i++)
			count[i] += legend[i].c == c;
		if (ms && ms->state != SECTION_ABSENT) {
			added += SECTION_SIZE;
			if (ms->state == SECTION_ONLINE)
				online[ms->zone] += (uint64_t)__builtin_popcountll(ms->online_map)
						    << SUBSECTION_SHIFT;
		}
	}
	charmap_finish(&m);
	print_legend(count);
	if (nr_online_nodes() > 1)
		print_node_starts(lo, hi);
	uint64_t on = online[ZONE_NORMAL] + online[ZONE_MOVABLE];
	kprintf("online %llu MiB (Normal %llu, Movable %llu), added but offline %llu MiB; "
		"MemTotal %llu kB\n", (unsigned long long)(on >> 20),
		(unsigned long long)(online[ZONE_NORMAL] >> 20),
		(unsigned long long)(online[ZONE_MOVABLE] >> 20),
		(unsigned long long)((added - on) >> 20),
		(unsigned long long)(total_managed_pages() << (PAGE_SHIFT - 10)));
	struct mem_range r;
	for (int i = 0; mem_range_get(i, &r); i++)
		if (r.region)
			kprintf("device region %s: 0x%012llx-0x%012llx (sections %llu-%llu)\n",
				r.region->name, (unsigned long long)r.start, (unsigned long long)r.end,
				(unsigned long long)(r.start >> SECTION_SHIFT),
				(unsigned long long)((r.end >> SECTION_SHIFT) - 1));
	put_online_mems();
}
