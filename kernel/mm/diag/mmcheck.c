// SPDX-License-Identifier: MIT
//
// mmcheck: walk the memory model and cross-check what its parts say about each other, so a
// hot(un)plug bug shows up as a named violation instead of a crash much later.
//
//   sections   per-state counts match the table; online sections have online_map bits, present
//              ones none; every present section's vmemmap is mapped (each 4 KiB of its 1 MiB)
//   pages      in every initialised online section: each online page is exactly one of free (in
//              exactly one buddy block, on the list of its order), in a per-hart cache (PG_pcp),
//              in use (refcount > 0, or a tail of a block in use), reserved; offline sub-sections
//              are PG_offline (or the section's own memmap); nothing is PG_isolated
//   zones      nr_free = list blocks + cached pages + deferred sections' free pages; managed =
//              online pages not reserved (+ own memmap + deferred); free_area[o].nr = list length
//   page tables every direct-map leaf lies in present sections (or the arch's early window, as
//              boot left it); every vmemmap leaf backs a section with a memmap; Memmap = vmemmap
//              leaves; PageTables = tables below the root not in the kernel image
//
// Deferred boot sections (descriptors not written yet) are skipped and counted. The check is
// exact on a quiet allocator: it holds hotplug_lock for reading (no hot-plug step runs), kpt_lock
// while it walks the tables and each zone's lock while it walks that zone; background `stress`
// is paused for the walk (stress_pause). Cost: one pass over the descriptors of online memory
// (about 1M descriptors for 4 GiB).
//
// Interface: mm_check, __mm_check (include/rvmm/mm.h), the console command mmcheck.

#include <rvmm/arch_mm.h>
#include <rvmm/console.h>
#include <rvmm/errno.h>
#include <rvmm/hotplug.h>
#include <rvmm/memremap.h>
#include <rvmm/kpt.h>
#include <rvmm/memblock.h>
#include <rvmm/migrate.h>
#include <rvmm/mmcheck.h>
#include <rvmm/stress.h>
#include <stdarg.h>
#include <stdio.h>

#include "../internal.h"

#define MAX_REPORTED 20 /* violation lines printed; the rest are only counted */

struct check {
	unsigned long problems, sections, deferred;
	uint64_t pages;
	phys_addr_t kernel_lo, kernel_hi; /* the image: the arch's own tables live there */
};

__printf(2, 3) static void problem(struct check *c, const char *fmt, ...)
{
	char buf[200];
	va_list ap;

	if (c->problems++ >= MAX_REPORTED)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	kprintf("mmcheck: %s\n", buf);
}

/* ---- sections and their vmemmap ------------------------------------------------------------ */

static bool memmap_mapped(unsigned long nr)
{
	uintptr_t va = (uintptr_t)pfn_to_page(section_nr_to_pfn(nr));
	uintptr_t end = va + PAGES_PER_SECTION * sizeof(struct page);
	while (va < end) {
		pte_t pte;
		unsigned level;
		if (kpt_lookup(va, &pte, &level))
			return false;
		va = ALIGN_DOWN(va, LEVEL_SIZE(level)) + LEVEL_SIZE(level);
	}
	return true;
}

static void check_sections(struct check *c)
{
	unsigned long count[NR_SECTION_STATES] = { 0 };
	for (unsigned long nr = 0; nr < nr_mem_sections; nr++) {
		const struct mem_section *ms = section_get(nr);
		if (!ms) {
			count[SECTION_ABSENT]++;
			continue;
		}
		if (ms->state >= NR_SECTION_STATES) {
			problem(c, "section %lu: bad state %u", nr, ms->state);
			continue;
		}
		count[ms->state]++;
		if (ms->state == SECTION_ABSENT) {
			if (ms->flags & (SECTION_MEMMAP | SECTION_MEMMAP_ON_MEMORY) || ms->online_map)
				problem(c, "section %lu: absent with flags 0x%x online_map 0x%llx", nr,
					ms->flags, (unsigned long long)ms->online_map);
			continue;
		}
		c->sections++;
		if (!(ms->flags & SECTION_MEMMAP) || !memmap_mapped(nr))
			problem(c, "section %lu: %s but its vmemmap is not mapped", nr,
				section_state_name(ms->state));
		if (ms->state == SECTION_ONLINE && (!ms->online_map || ms->zone >= NR_ZONES))
			problem(c, "section %lu: online with online_map 0x%llx zone %u", nr,
				(unsigned long long)ms->online_map, ms->zone);
		if (ms->state == SECTION_PRESENT && ms->online_map)
			problem(c, "section %lu: present (offline) with online_map 0x%llx", nr,
				(unsigned long long)ms->online_map);
	}
	for (int s = 0; s < NR_SECTION_STATES; s++)
		if (count[s] != section_count(s))
			problem(c, "%lu sections %s, the counter says %lu", count[s],
				section_state_name(s), section_count(s));
}

/* ---- pages, free lists and counters of one zone --------------------------------------------- */

struct zone_sum {
	uint64_t blocks[MAX_ORDER + 1]; /* free blocks found walking the descriptors */
	uint64_t pcp, managed, deferred_free;
};

// A block in use starting at pfn: its order, or -1 if pfn does not start one.
static int used_block_order(pfn_t pfn, const struct page *p, uint32_t f)
{
	if (READ_ONCE(p->refcount) <= 0)
		return -1;
	unsigned o = (f & PG_head) ? p->order : 0;
	return o <= MAX_ORDER && IS_ALIGNED(pfn, 1UL << o) ? (int)o : -1;
}

// Tail pages of a block (free or in use) carry no state of their own.
static void check_tails(struct check *c, pfn_t head, unsigned order, pfn_t end)
{
	for (pfn_t pfn = head + 1; pfn < head + (1UL << order) && pfn < end; pfn++) {
		const struct page *p = pfn_to_page(pfn);
		uint32_t f = page_flags(p);
		if ((f & (PG_buddy | PG_pcp | PG_head | PG_reserved | PG_offline | PG_isolated)) ||
		    READ_ONCE(p->refcount)) {
			problem(c, "pfn 0x%llx: inside the order-%u block at 0x%llx but flags 0x%x "
				"refcount %d", (unsigned long long)pfn, order,
				(unsigned long long)head, f, p->refcount);
			return;
		}
	}
}

// One online sub-section [s, e) of zone z (zone lock held).
static void check_online_pages(struct check *c, struct zone_sum *sum, int z, pfn_t s, pfn_t e)
{
	for (pfn_t pfn = s; pfn < e;) {
		const struct page *p = pfn_to_page(pfn);
		uint32_t f = page_flags(p);
		unsigned long step = 1;
		int o;
		c->pages++;
		if (p->zone != z)
			problem(c, "pfn 0x%llx: zone %u in a section of zone %d", (unsigned long long)pfn,
				p->zone, z);
		if (f & (PG_offline | PG_isolated)) {
			problem(c, "pfn 0x%llx: online but flags 0x%x (%s)", (unsigned long long)pfn, f,
				f & PG_isolated ? "isolated outside an offline" : "offline");
		} else if (f & PG_reserved) {
			if (pfn_is_own_memmap(pfn))
				sum->managed++;
			if (READ_ONCE(p->refcount) > 0 || (f & (PG_buddy | PG_pcp)))
				problem(c, "pfn 0x%llx: reserved but flags 0x%x refcount %d",
					(unsigned long long)pfn, f, p->refcount);
		} else if (f & PG_buddy) {
			unsigned order = p->order;
			if (order > MAX_ORDER || !IS_ALIGNED(pfn, 1UL << order) ||
			    pfn + (1UL << order) > e || (f & PG_pcp) || READ_ONCE(p->refcount)) {
				problem(c, "pfn 0x%llx: free block of order %u, flags 0x%x refcount %d, "
					"does not fit its online range", (unsigned long long)pfn, order,
					f, p->refcount);
			} else {
				sum->blocks[order]++;
				check_tails(c, pfn, order, e);
				step = 1UL << order;
			}
			sum->managed += step;
		} else if (f & PG_pcp) {
			if (READ_ONCE(p->refcount))
				problem(c, "pfn 0x%llx: cached (PG_pcp) with refcount %d",
					(unsigned long long)pfn, p->refcount);
			sum->pcp++;
			sum->managed++;
		} else if ((o = used_block_order(pfn, p, f)) >= 0) {
			step = 1UL << o;
			if (pfn + step > e)
				problem(c, "pfn 0x%llx: order-%d block in use runs past its online range",
					(unsigned long long)pfn, o);
			else
				check_tails(c, pfn, (unsigned)o, e);
			sum->managed += step;
		} else {
			problem(c, "pfn 0x%llx: online but neither free, cached, in use nor reserved "
				"(flags 0x%x order %u refcount %d)", (unsigned long long)pfn, f,
				p->order, p->refcount);
			sum->managed++;
		}
		c->pages += step - 1;
		pfn += step;
	}
}

// [s, e) lies in one section: its own memmap pages, if any, are where the section starts.
static void check_offline_pages(struct check *c, pfn_t s, pfn_t e)
{
	pfn_t own_end = own_memmap_end(pfn_to_section_nr(s));

	for (pfn_t pfn = s; pfn < e; pfn++) {
		uint32_t f = page_flags(pfn_to_page(pfn));
		bool ok = pfn < own_end ? (f & (PG_reserved | PG_vmemmap)) ==
						  (PG_reserved | PG_vmemmap)
					: f == PG_offline;
		if (!ok) {
			problem(c, "pfn 0x%llx: in an offline sub-section but flags 0x%x",
				(unsigned long long)pfn, f);
			return;
		}
	}
}

// The free lists of z against what the descriptor walk found (zone lock held).
static void check_lists(struct check *c, struct zone *zone, int z, const struct zone_sum *sum)
{
	uint64_t on_lists = 0;
	for (unsigned o = 0; o <= MAX_ORDER; o++) {
		struct list_head *head = &zone->free_area[o].list, *pos;
		uint64_t n = 0, limit = zone->free_area[o].nr + 1;
		if (!head->next)
			continue;
		for (pos = head->next; pos != head && n <= limit; pos = pos->next, n++) {
			struct page *p = list_entry(pos, struct page, lru);
			pfn_t pfn = page_to_pfn(p);
			const struct mem_section *ms = section_get(pfn_to_section_nr(pfn));
			if (!ms || ms->state != SECTION_ONLINE || ms->zone != z ||
			    ms->node != zone_nid(zone) ||
			    (ms->flags & SECTION_DEFERRED) || !pfn_online(pfn)) {
				problem(c, "zone %s order %u: free block at pfn 0x%llx is not in online "
					"memory of the zone", zone->name, o, (unsigned long long)pfn);
				return;
			}
			uint32_t f = page_flags(p);
			if (!(f & PG_buddy) || (f & PG_isolated) || p->order != o) {
				problem(c, "zone %s order %u: listed pfn 0x%llx has flags 0x%x order %u",
					zone->name, o, (unsigned long long)pfn, f, p->order);
				return;
			}
			if (o < MAX_ORDER) {
				const struct page *b = pfn_to_page(pfn ^ (1UL << o));
				uint32_t bf = page_flags(b);
				if ((bf & PG_buddy) && !(bf & PG_isolated) && b->order == o &&
				    pfn_online(pfn ^ (1UL << o)))
					problem(c, "zone %s: free buddies 0x%llx and 0x%llx of order %u "
						"not merged", zone->name, (unsigned long long)pfn,
						(unsigned long long)(pfn ^ (1UL << o)), o);
			}
		}
		if (n != zone->free_area[o].nr || n != sum->blocks[o])
			problem(c, "zone %s order %u: %llu blocks on the list, %llu counted, %llu found "
				"in the descriptors", zone->name, o, (unsigned long long)n,
				(unsigned long long)zone->free_area[o].nr,
				(unsigned long long)sum->blocks[o]);
		on_lists += sum->blocks[o] << o;
	}
	uint64_t want = on_lists + sum->pcp + sum->deferred_free;
	uint64_t nr_free = __atomic_load_n(&zone->nr_free, __ATOMIC_RELAXED);
	if (nr_free != want)
		problem(c, "zone %s: nr_free %llu, but lists %llu + cached %llu + deferred %llu = %llu",
			zone->name, (unsigned long long)nr_free, (unsigned long long)on_lists,
			(unsigned long long)sum->pcp, (unsigned long long)sum->deferred_free,
			(unsigned long long)want);
	if (zone->managed != sum->managed + sum->deferred_free)
		problem(c, "zone %s: managed %llu, but %llu online pages not reserved (+ %llu deferred)",
			zone->name, (unsigned long long)zone->managed,
			(unsigned long long)sum->managed, (unsigned long long)sum->deferred_free);
	if (zone->nr_isolated_free)
		problem(c, "zone %s: %llu isolated free pages outside an offline", zone->name,
			(unsigned long long)zone->nr_isolated_free);
}

static void check_zone(struct check *c, int nid, int z)
{
	struct zone *zone = node_zone(nid, z);
	struct zone_sum sum = { 0 };
	unsigned long nr;
	spin_lock(&zone->lock);
	for_each_section_in_state(nr, SECTION_ONLINE) {
		const struct mem_section *ms = section_get(nr);
		if (ms->zone != z || ms->node != nid || !(ms->flags & SECTION_MEMMAP))
			continue;
		pfn_t base = section_nr_to_pfn(nr);
		if (ms->flags & SECTION_DEFERRED) {
			c->deferred++;
			sum.deferred_free += deferred_free_pages(nr);
			if (!(ms->flags & SECTION_BOOT))
				sum.managed += own_memmap_online(ms); // managed, in use, never free
			continue;
		}
		// Runs of sub-sections alike: a 4 MiB block spans two online ones.
		for (unsigned i = 0, j; i < SUBSECTIONS_PER_SECTION; i = j) {
			bool on = ms->online_map >> i & 1;
			for (j = i + 1; j < SUBSECTIONS_PER_SECTION && (bool)(ms->online_map >> j & 1) == on; j++)
				;
			pfn_t s = base + i * PAGES_PER_SUBSECTION, e = base + j * PAGES_PER_SUBSECTION;
			if (on)
				check_online_pages(c, &sum, z, s, e);
			else
				check_offline_pages(c, s, e);
		}
	}
	check_lists(c, zone, z, &sum);
	spin_unlock(&zone->lock);
}

// ZONE_DEVICE pages (memremap.h): zone Device, reserved, heads where the layout puts them.
static void check_device_pages(struct check *c, pfn_t s, pfn_t e)
{
	for (pfn_t pfn = s; pfn < e; pfn++) {
		const struct page *p = pfn_to_page(pfn), *h = dev_page_head(pfn);
		uint32_t f = page_flags(p), want = PG_reserved | (h == p ? PG_head : 0);
		c->pages++;
		if (p->zone != ZONE_DEVICE || f != want || !h || (h != p && p->refcount)) {
			problem(c, "pfn 0x%llx: device page with zone %u flags 0x%x refcount %d",
				(unsigned long long)pfn, p->zone, f, p->refcount);
			return;
		}
	}
}

static void check_present_pages(struct check *c)
{
	unsigned long nr;
	for_each_section_in_state(nr, SECTION_PRESENT) {
		const struct mem_section *ms = section_get(nr);
		if (ms->flags & SECTION_DEVICE) {
			check_device_pages(c, section_nr_to_pfn(nr), section_nr_to_pfn(nr + 1));
			continue;
		}
		if (ms->flags & SECTION_DEFERRED) {
			c->deferred++; // descriptors never written: nothing to check
			continue;
		}
		if (ms->flags & SECTION_MEMMAP)
			check_offline_pages(c, section_nr_to_pfn(nr),
					    section_nr_to_pfn(nr) + PAGES_PER_SECTION);
	}
}

/* ---- page tables ----------------------------------------------------------------------------- */

struct walk {
	struct check *c;
	unsigned levels; /* arch_pgtable_levels(), read once for the whole walk */
	uint64_t tables, memmap_bytes, shared_bytes;
};

static void check_leaf(struct walk *w, uintptr_t va, pte_t pte, unsigned level)
{
	uint64_t size = LEVEL_SIZE(level);
	const struct mm_layout *l = &mm_layout;
	if (va - l->page_offset < l->directmap_size) {
		phys_addr_t pa = arch_pte_pa(pte);
		if (pa != va - l->page_offset)
			problem(w->c, "direct map: va 0x%lx maps pa 0x%llx", (unsigned long)va,
				(unsigned long long)pa);
		for (unsigned long nr = pa >> SECTION_SHIFT; nr <= (pa + size - 1) >> SECTION_SHIFT; nr++)
			if (section_state(nr) == SECTION_ABSENT) {
				problem(w->c, "direct map: %s leaf at pa 0x%llx reaches absent section %lu",
					level == 2 ? "1 GiB" : level == 1 ? "2 MiB" : "4 KiB",
					(unsigned long long)pa, nr);
				return;
			}
	} else if (va - l->vmemmap_base < l->vmemmap_size) {
		pfn_t pfn = (va - l->vmemmap_base) / sizeof(struct page);
		unsigned long nr = pfn_to_section_nr(pfn);
		const struct mem_section *a = section_get(nr), *b = level ? section_get(nr ^ 1) : NULL;
		if (a && (a->flags & SECTION_MEMMAP_SHARED))
			w->shared_bytes += size; // DAX layout: many leaves, one page (memremap.c)
		else
			w->memmap_bytes += size;
		if (!(a && (a->flags & SECTION_MEMMAP)) && !(b && (b->flags & SECTION_MEMMAP)))
			problem(w->c, "vmemmap: leaf at 0x%lx backs section %lu, which has no memmap",
				(unsigned long)va, nr);
	}
}

static void walk_table(struct walk *w, phys_addr_t table, unsigned level, uintptr_t base)
{
	const pte_t *t = __va(table);
	for (unsigned i = 0; i < PTRS_PER_TABLE; i++) {
		pte_t e = READ_ONCE(t[i]);
		uintptr_t va = base + ((uintptr_t)i << LEVEL_SHIFT(level));
		if (level == w->levels - 1 && (va >> 47) & 1) // sign-extend the root's upper half
			va |= ~0UL << 48;
		if (level == 2 && w->levels == 3 && (va >> 38) & 1)
			va |= ~0UL << 39;
		if (!arch_pte_present(e))
			continue;
		if (arch_pte_is_leaf(e)) {
			check_leaf(w, va, e, level);
			continue;
		}
		if (level == 0) {
			problem(w->c, "page tables: non-leaf entry at level 0 for va 0x%lx",
				(unsigned long)va);
			continue;
		}
		phys_addr_t pa = arch_pte_pa(e);
		if (pa < w->c->kernel_lo || pa >= w->c->kernel_hi)
			w->tables++;
		walk_table(w, pa, level - 1, va);
	}
}

static void kernel_range_cb(phys_addr_t s, phys_addr_t e, enum memblock_tag tag, void *arg)
{
	struct check *c = arg;
	if (tag == MEMBLOCK_KERNEL && !c->kernel_hi) {
		c->kernel_lo = s;
		c->kernel_hi = e;
	}
}

static void check_page_tables(struct check *c)
{
	struct walk w = { .c = c, .levels = arch_pgtable_levels() };
	memblock_for_each_reserved(0, mm_layout.max_phys, kernel_range_cb, c);
	spin_lock(&kpt_lock);
	walk_table(&w, arch_kpt_root(), w.levels - 1, 0);
	uint64_t counted = kpt_pgtable_pages();
	spin_unlock(&kpt_lock);
	if (w.tables != counted)
		problem(c, "page tables: %llu tables below the root, PageTables counts %llu",
			(unsigned long long)w.tables, (unsigned long long)counted);
	if (w.memmap_bytes != vmemmap_bytes())
		problem(c, "vmemmap: leaves map %llu KiB, Memmap counts %llu KiB",
			(unsigned long long)(w.memmap_bytes >> 10),
			(unsigned long long)(vmemmap_bytes() >> 10));
	if (w.shared_bytes != memremap_vmemmap_mapped())
		problem(c, "vmemmap: device leaves map %llu KiB, memremap counts %llu KiB",
			(unsigned long long)(w.shared_bytes >> 10),
			(unsigned long long)(memremap_vmemmap_mapped() >> 10));
}

/* ---- the whole check ------------------------------------------------------------------------- */

int __mm_check(void)
{
	struct check c = { 0 };
	bool paused = stress_pause();
	check_sections(&c);
	for (int nid = 0; nid < nr_node_ids(); nid++)
		for (int z = 0; z < NR_ZONES; z++)
			check_zone(&c, nid, z);
	check_present_pages(&c);
	check_page_tables(&c);
	if (paused)
		stress_resume();
	if (c.problems > MAX_REPORTED)
		kprintf("mmcheck: ... %lu more not shown\n", c.problems - MAX_REPORTED);
	if (c.problems) {
		kprintf("mmcheck: FAILED (%lu problems)\n", c.problems);
		return -EINVAL;
	}
	kprintf("mmcheck: ok (%lu sections, %llu pages checked", c.sections,
		(unsigned long long)c.pages);
	if (c.deferred)
		kprintf("; %lu deferred sections skipped: descriptors not initialised yet", c.deferred);
	kprintf(")\n");
	return 0;
}

int mm_check(void)
{
	get_online_mems();
	int rc = __mm_check();
	put_online_mems();
	return rc;
}

static int cmd_mmcheck(int argc, char **argv __unused)
{
	if (argc != 1)
		return CMD_USAGE;
	return mm_check();
}

CONSOLE_COMMAND(mmcheck, .name = "mmcheck", .usage = "mmcheck",
		.summary = "check the memory model's invariants (sections, vmemmap, free lists, "
			   "counters, page tables)",
		.run = cmd_mmcheck);
