// SPDX-License-Identifier: MIT
//
// Boot hand-over to the page allocator, with deferred (lazy) descriptor init: at boot no
// descriptor of boot RAM is written and no memmap page is touched. Each boot section only adds its
// free page count to its zone; its 32768 descriptors are initialised (and its free pages put on
// the lists) the first time the allocator runs dry, when something needs a descriptor of it
// (deferred_init_pfn), or from an idle hart (deferred_init_step). Boot time thus does not grow
// with RAM; the work is spread over the first allocations and idle time.
//
// Hot-plugged memory works the same way: hot-add writes no descriptor (its sections are present
// and SECTION_DEFERRED), online only counts the pages free in the zone, and the descriptors are
// written here when the allocator first needs the section or something needs a descriptor of it
// (not by idle harts: see deferred_init_step). Offline and remove of a section still deferred
// write none (page_isolation.c, zone_offline_deferred).
//
// Interface: page_alloc_init, deferred_init_step, deferred_init_pfn, deferred_init_pending,
// deferred_init_done, deferred_init_descs, deferred_hot_descs,
// deferred_free_pages (include/rvmm/page_alloc.h); deferred_hot_online, deferred_hot_offline
// (internal.h).

#include <rvmm/arch_cpu.h>
#include <rvmm/memblock.h>
#include <rvmm/printk.h>

#include "internal.h"

// Written under the zone lock of the section being initialised (or hot-plugged, hotplug_lock
// held for write too); read racily for reports. Boot figures (the "deferred init done" line)
// are kept apart from all pending sections (meminfo).
static unsigned long deferred_pending, boot_pending;
static unsigned long deferred_sections;
static uint64_t deferred_spent_ns, deferred_finished_ns, deferred_descs, hot_descs;
static bool deferred_finished;

static void count_free(phys_addr_t s, phys_addr_t e, void *arg)
{
	*(uint64_t *)arg += (e - s) >> PAGE_SHIFT;
}

static void mark_reserved(phys_addr_t s, phys_addr_t e, enum memblock_tag tag, void *arg __unused)
{
	uint32_t extra = tag == MEMBLOCK_PGTABLE ? PG_pgtable : tag == MEMBLOCK_MEMMAP ? PG_vmemmap : 0;
	if (!extra)
		return;
	for (pfn_t pfn = PFN_DOWN(s); pfn < PFN_UP(e); pfn++)
		if (pfn_online(pfn))
			pfn_to_page(pfn)->flags |= extra;
}

static void free_boot_range(phys_addr_t s, phys_addr_t e, void *arg)
{
	struct zone *z = arg;
	for (pfn_t pfn = PFN_DOWN(s); pfn < PFN_DOWN(e); pfn++)
		pfn_to_page(pfn)->flags = 0;
	__free_range(z, PFN_DOWN(s), PFN_DOWN(e));
}

// Boot section nr: holes and reserved ranges stay PG_reserved (the tag adds PG_pgtable /
// PG_vmemmap), memblock's free pages go on z's lists; the sub-sections mem= hid (a section cut
// in two) are offline.
static void init_boot_descs(struct zone *z, unsigned long nr, const struct mem_section *ms)
{
	pfn_t start = section_nr_to_pfn(nr);
	phys_addr_t lo = PFN_PHYS(start), hi = lo + SECTION_SIZE;
	struct page *p = pfn_to_page(start);
	for (unsigned long i = 0; i < PAGES_PER_SECTION; i++)
		p[i] = ms->online_map >> (i / PAGES_PER_SUBSECTION) & 1
			       ? (struct page){ .flags = PG_reserved, .zone = ms->zone }
			       : (struct page){ .flags = PG_offline };
	memblock_for_each_reserved(lo, hi, mark_reserved, NULL);
	memblock_for_each_free(lo, hi, free_boot_range, z);
}

static bool sub_online(const struct mem_section *ms, unsigned long i)
{
	return ms->online_map >> (i / PAGES_PER_SUBSECTION) & 1;
}

// Hot-plugged section nr: its own memmap pages (memmap_on_memory) reserved, the pages of online
// sub-sections free on z's lists, those of offline ones PG_offline.
static void init_hot_descs(struct zone *z, unsigned long nr, const struct mem_section *ms)
{
	pfn_t start = section_nr_to_pfn(nr);
	unsigned long own = ms->nr_vmemmap_pages;
	struct page *p = pfn_to_page(start);
	for (unsigned long i = 0; i < PAGES_PER_SECTION; i++)
		p[i] = i < own ? (struct page){ .flags = PG_reserved | PG_vmemmap, .zone = ms->zone }
		       : sub_online(ms, i) ? (struct page){ .zone = ms->zone }
					   : (struct page){ .flags = PG_offline };
	for (unsigned long i = own; i < PAGES_PER_SECTION;) {
		unsigned long j = i;
		while (j < PAGES_PER_SECTION && sub_online(ms, j) == sub_online(ms, i))
			j++;
		if (sub_online(ms, i))
			__free_range(z, start + i, start + j);
		i = j;
	}
}

uint64_t deferred_free_pages(unsigned long nr)
{
	const struct mem_section *ms = section_get(nr);
	uint64_t n = 0;
	if (!ms || !(READ_ONCE(ms->flags) & SECTION_DEFERRED) || ms->state != SECTION_ONLINE)
		return 0;
	if (ms->flags & SECTION_BOOT) {
		memblock_for_each_free(PFN_PHYS(section_nr_to_pfn(nr)),
				       PFN_PHYS(section_nr_to_pfn(nr + 1)), count_free, &n);
		return n;
	}
	for (unsigned i = 0; i < SUBSECTIONS_PER_SECTION; i++)
		if (ms->online_map >> i & 1)
			n += PAGES_PER_SUBSECTION;
	return n - MIN(n, own_memmap_online(ms));
}

// Write every descriptor of deferred section nr and put its free pages on z's lists. z->lock held.
static void init_section(struct zone *z, unsigned long nr)
{
	uint64_t t0 = arch_time_ns();
	struct mem_section *ms = section_get(nr);
	bool boot = ms->flags & SECTION_BOOT;

	if (boot)
		init_boot_descs(z, nr, ms);
	else
		init_hot_descs(z, nr, ms);
	WRITE_ONCE(ms->flags, ms->flags & (uint8_t)~SECTION_DEFERRED);
	z->nr_deferred--;
	deferred_pending--;
	if (!boot) {
		hot_descs += PAGES_PER_SECTION;
		return;
	}
	deferred_descs += PAGES_PER_SECTION;
	boot_pending--;
	uint64_t now = arch_time_ns();
	deferred_spent_ns += now - t0;
	if (!boot_pending && !deferred_finished) {
		deferred_finished = true;
		deferred_finished_ns = now;
		pr_info("mm: deferred init done: %lu sections (%llu MiB of descriptors) in %llu.%03llu ms",
			deferred_sections,
			(unsigned long long)(deferred_sections * PAGES_PER_SECTION * sizeof(struct page)) >> 20,
			(unsigned long long)deferred_spent_ns / 1000000,
			(unsigned long long)(deferred_spent_ns / 1000) % 1000);
	}
}

void deferred_hot_online(struct zone *z, unsigned long nr)
{
	assert_zone_locked(z);
	z->nr_deferred++;
	z->deferred_next = MIN(z->deferred_next, nr);
	deferred_pending++;
}

void deferred_hot_offline(struct zone *z)
{
	assert_zone_locked(z);
	z->nr_deferred--;
	deferred_pending--;
}

bool __deferred_init_next(struct zone *z, bool boot_only)
{
	assert_zone_locked(z);
	unsigned long first_skipped = nr_mem_sections;
	// Deferred sections are online: walk the online ones.
	for (unsigned long nr = section_next_in_state(z->deferred_next, SECTION_ONLINE);
	     nr < nr_mem_sections; nr = section_next_in_state(nr + 1, SECTION_ONLINE)) {
		struct mem_section *ms = section_get(nr);
		if (!(ms->flags & SECTION_DEFERRED) || node_zone(ms->node, ms->zone) != z)
			continue;
		if (boot_only && !(ms->flags & SECTION_BOOT)) {
			first_skipped = MIN(first_skipped, nr);
			continue;
		}
		init_section(z, nr);
		z->deferred_next = MIN(first_skipped, nr + 1);
		return true;
	}
	z->deferred_next = first_skipped;
	return false;
}

// Idle harts initialise boot sections only. Hot-plugged ones wait for their first use: memory
// plugged and unplugged again unused (virtio-mem following the host, `plug` + `unplug`) then
// costs no descriptor write at all, and offline finds it still deferred (zone_offline_deferred).
// Each hart starts with its own node's sections, then the nearest node's: the harts of several
// nodes work on different zones (locks) at once, and each writes its own node's memory first.
bool deferred_init_step(void)
{
	int nid = numa_node_id();
	for (int i = 0; i < nr_online_nodes() * NR_ZONES && READ_ONCE(boot_pending); i++) {
		struct zone *z = node_zone(node_fallback(nid, i / NR_ZONES), i % NR_ZONES);
		if (!READ_ONCE(z->nr_deferred))
			continue;
		spin_lock(&z->lock);
		bool did = z->nr_deferred && __deferred_init_next(z, true);
		spin_unlock(&z->lock);
		if (did)
			return true;
	}
	page_alloc_drain_local(); // idle: also a chance to answer a drain request
	return false;
}

void deferred_init_pfn(pfn_t pfn)
{
	struct mem_section *ms = section_get(pfn_to_section_nr(pfn));
	// A present (not online) hot-plugged section stays deferred: nothing reads its descriptors
	// until it goes online, and its zone is not chosen yet.
	if (!ms || !(READ_ONCE(ms->flags) & SECTION_DEFERRED) || ms->state != SECTION_ONLINE)
		return;
	struct zone *z = node_zone(ms->node, ms->zone);
	spin_lock(&z->lock);
	if (ms->flags & SECTION_DEFERRED)
		init_section(z, pfn_to_section_nr(pfn));
	spin_unlock(&z->lock);
}

unsigned long deferred_init_pending(void) { return READ_ONCE(deferred_pending); }
uint64_t deferred_hot_descs(void) { return READ_ONCE(hot_descs); }
uint64_t deferred_init_descs(void) { return READ_ONCE(deferred_descs); }

bool deferred_init_done(uint64_t *done_ns)
{
	if (!READ_ONCE(deferred_finished))
		return false;
	if (done_ns)
		*done_ns = deferred_finished_ns;
	return true;
}

int page_alloc_init(void)
{
	for (int i = 0; i < MAX_NUMNODES * NR_ZONES; i++) {
		struct zone *z = &node_zones[i / NR_ZONES][i % NR_ZONES];
		for (int o = 0; o <= MAX_ORDER; o++) {
			list_init(&z->free_area[o].list);
			z->free_area[o].nr = 0;
		}
		z->deferred_next = 0;
	}
	memblock_release();
	unsigned long nr;
	for_each_section_in_state(nr, SECTION_ONLINE) {
		struct mem_section *ms = section_get(nr);
		struct zone *z = node_zone(ms->node, ms->zone);
		uint64_t n = 0;
		memblock_for_each_free(PFN_PHYS(section_nr_to_pfn(nr)),
				       PFN_PHYS(section_nr_to_pfn(nr + 1)), count_free, &n);
		ms->flags |= SECTION_DEFERRED;
		z->nr_free += n;
		z->managed += n;
		z->nr_deferred++;
		deferred_pending++;
		boot_pending++;
		deferred_sections++;
	}
	page_alloc_is_ready = true;
	if (!boot_pending)
		deferred_finished = true;
	return 0;
}
