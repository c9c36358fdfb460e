// SPDX-License-Identifier: MIT
//
// ZONE_DEVICE: descriptors and a direct map for device memory that never enters an allocator
// (include/rvmm/memremap.h says what and why; docs/zone-device.md draws the vmemmap layout).
//
// Interface: memremap_pages, memunmap_pages, dev_page_head, get_dev_page, put_dev_page,
// memremap_memmap_bytes, memremap_vmemmap_mapped.
//
// memremap_pages, in order (each undone in reverse on failure):
//   sections ABSENT -> PRESENT (SECTION_DEVICE)
//   vmemmap: shared tails (dax_populate, this file) or an ordinary one (vmemmap_populate)
//   descriptors: heads and tails (written before the shared page is mapped read-only)
//   direct map with PROT_DEVMAP (the largest leaves: 1 GiB where aligned)

#include <rvmm/errno.h>
#include <rvmm/fault_inject.h>
#include <rvmm/hotplug.h>
#include <rvmm/kpt.h>
#include <rvmm/mem_ranges.h>
#include <rvmm/memremap.h>
#include <rvmm/page_alloc.h>
#include <rvmm/printk.h>
#include <rvmm/section.h>
#include <string.h>

#include "internal.h"

#define DESCS_PER_PAGE (PAGE_SIZE / sizeof(struct page)) /* 128 */

// Sums over mapped pgmaps, under hotplug_lock (write); read racily for meminfo and mmcheck.
static uint64_t total_memmap_bytes, total_vmemmap_mapped;

uint64_t memremap_memmap_bytes(void) { return READ_ONCE(total_memmap_bytes); }
uint64_t memremap_vmemmap_mapped(void) { return READ_ONCE(total_vmemmap_mapped); }

#define RANGE_ARGS(s, e) (unsigned long long)(s), (unsigned long long)(e)

// Order of the compound page whose head is pfn: 1 GiB where aligned and a whole one fits.
static unsigned compound_order(const struct dev_pagemap *pgmap, pfn_t pfn)
{
	pfn_t g = 1UL << DEV_ORDER_1G;
	return IS_ALIGNED(pfn, g) && pfn + g <= PFN_DOWN(pgmap->end) ? DEV_ORDER_1G : DEV_ORDER_2M;
}

// Every compound page of pgmap in address order: head pfn h, order o (both declared here).
#define for_each_compound(pgmap, h, o)                                                        \
	for (pfn_t h = PFN_DOWN((pgmap)->start), _e = PFN_DOWN((pgmap)->end), o;                \
	     h < _e && ((o = compound_order((pgmap), h)), true); h += 1UL << o)

static void init_head(struct page *p, struct dev_pagemap *pgmap, unsigned order)
{
	*p = (struct page){ .flags = PG_reserved | PG_head, .order = (uint8_t)order,
			    .zone = ZONE_DEVICE, .owner = pgmap };
}

// Every tail of the region is this: nothing in it depends on its position.
static void init_tail(struct page *p, struct dev_pagemap *pgmap)
{
	*p = (struct page){ .flags = PG_reserved, .zone = ZONE_DEVICE, .owner = pgmap };
}

static void init_tails(struct page *p, unsigned long n, struct dev_pagemap *pgmap)
{
	for (unsigned long i = 0; i < n; i++)
		init_tail(&p[i], pgmap);
}

// Pages handed to a gather are single pages from alloc_pages.
static void release_page(phys_addr_t pa, uint64_t size __unused)
{
	free_pages(pfn_to_page(PFN_DOWN(pa)), 0);
}

// Unmap the shared layout of every compound page mapped so far, free its unique pages and the
// shared page after one fence. Whole 4 KiB leaves: cannot fail.
static void dax_depopulate(struct dev_pagemap *pgmap)
{
	struct kpt_gather g;
	kpt_gather_init(&g, release_page);
	for_each_compound(pgmap, h, o) {
		uintptr_t va = (uintptr_t)pfn_to_page(h);
		pte_t pte;
		unsigned level;
		if (kpt_lookup(va, &pte, &level))
			break; // populate stopped before this one
		WARN_ON(kpt_unmap_gather(&g, va, (1UL << o) * sizeof(struct page)));
		kpt_gather_defer(&g, arch_pte_pa(pte), PAGE_SIZE);
		pgmap->memmap_bytes -= PAGE_SIZE;
		pgmap->vmemmap_mapped -= (1UL << o) * sizeof(struct page);
	}
	if (pgmap->shared_pa) {
		kpt_gather_defer(&g, pgmap->shared_pa, PAGE_SIZE);
		pgmap->memmap_bytes -= PAGE_SIZE;
		pgmap->shared_pa = 0;
	}
	kpt_gather_finish(&g);
}

// One compound page: its first vmemmap page unique (head + 127 tails), the rest the shared page.
static int dax_populate_one(struct dev_pagemap *pgmap, pfn_t h, unsigned o)
{
	uintptr_t va = (uintptr_t)pfn_to_page(h);
	uint64_t bytes = (1UL << o) * sizeof(struct page);
	struct page *u = alloc_pages(0, GFP_KERNEL);
	if (!u)
		return -ENOMEM;
	struct page *d = page_address(u);
	init_head(&d[0], pgmap, o);
	init_tails(&d[1], DESCS_PER_PAGE - 1, pgmap);
	int rc = __kpt_map_range(va, page_to_phys(u), PAGE_SIZE, PROT_KERNEL_RW);
	if (rc) {
		free_pages(u, 0);
		return rc;
	}
	pgmap->memmap_bytes += PAGE_SIZE;
	pgmap->vmemmap_mapped += bytes;
	for (uint64_t off = PAGE_SIZE; off < bytes; off += PAGE_SIZE) {
		rc = __kpt_map_range(va + off, pgmap->shared_pa, PAGE_SIZE, PROT_READ);
		if (rc)
			return rc; // what is mapped of this one goes with dax_depopulate
	}
	return 0;
}

static int dax_populate(struct dev_pagemap *pgmap)
{
	struct page *s = alloc_pages(0, GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	pgmap->shared_pa = page_to_phys(s);
	pgmap->memmap_bytes += PAGE_SIZE;
	init_tails(page_address(s), DESCS_PER_PAGE, pgmap); // before anything maps it read-only
	for_each_compound(pgmap, h, o) {
		int rc = dax_populate_one(pgmap, h, o);
		if (rc) {
			dax_depopulate(pgmap);
			return rc;
		}
	}
	return 0;
}

// Ordinary vmemmap (no sharing): every descriptor written through it.
static int full_populate(struct dev_pagemap *pgmap, unsigned long nr, unsigned long count)
{
	uint64_t before = vmemmap_bytes();
	int rc = vmemmap_populate(nr, count, NULL);
	if (rc)
		return rc;
	pgmap->memmap_bytes = vmemmap_bytes() - before; // fenced by vmemmap_populate
	for_each_compound(pgmap, h, o) {
		init_head(pfn_to_page(h), pgmap, o);
		init_tails(pfn_to_page(h + 1), (1UL << o) - 1, pgmap);
	}
	return 0;
}

static int check_pgmap(const struct dev_pagemap *pgmap)
{
	phys_addr_t s = pgmap->start, e = pgmap->end;
	if (s >= e || !IS_ALIGNED(s | e, SECTION_SIZE)) {
		pr_err("memremap [0x%llx-0x%llx): not whole sections (128 MiB)", RANGE_ARGS(s, e));
		return -EINVAL;
	}
	if (e > mm_layout.max_phys) {
		pr_err("memremap [0x%llx-0x%llx): beyond the highest address rvmm maps (0x%llx)",
		       RANGE_ARGS(s, e), (unsigned long long)mm_layout.max_phys);
		return -ERANGE;
	}
	int rc = mem_range_check("memremap", s, e - s, pgmap->owner);
	if (rc)
		return rc;
	for (unsigned long nr = s >> SECTION_SHIFT; nr < e >> SECTION_SHIFT; nr++)
		if (section_state(nr) != SECTION_ABSENT) {
			pr_err("memremap [0x%llx-0x%llx): section %lu is already added (%s)",
			       RANGE_ARGS(s, e), nr, section_state_name(section_state(nr)));
			return -EEXIST;
		}
	return 0;
}

static int __memremap_pages(struct dev_pagemap *pgmap)
{
	unsigned long nr = pgmap->start >> SECTION_SHIFT, count = (pgmap->end - pgmap->start) >> SECTION_SHIFT;
	uint8_t flags = SECTION_DEVICE | SECTION_MEMMAP | (pgmap->share_tails ? SECTION_MEMMAP_SHARED : 0);
	const char *step;
	if (pgmap->mapped)
		return -EBUSY;
	int rc = check_pgmap(pgmap);
	if (rc)
		return rc;
	rc = sections_add(nr, count, SECTION_DEVICE, MAX(mem_range_nid(pgmap->start), 0));
	if (rc) {
		step = "section table";
		goto out;
	}
	pgmap->memmap_bytes = pgmap->vmemmap_mapped = 0;
	if (pgmap->share_tails) {
		rc = dax_populate(pgmap);
		if (!rc)
			arch_flush_tlb_after_map((uintptr_t)pfn_to_page(PFN_DOWN(pgmap->start)),
						 (uintptr_t)pfn_to_page(PFN_DOWN(pgmap->end)));
	} else {
		rc = full_populate(pgmap, nr, count);
	}
	if (rc) {
		step = "vmemmap";
		goto err_sections;
	}
	for (unsigned long i = nr; i < nr + count; i++)
		section_get(i)->flags = flags;
	rc = kpt_map_range((uintptr_t)__va(pgmap->start), pgmap->start, pgmap->end - pgmap->start,
			   PROT_KERNEL_RW | PROT_DEVMAP);
	if (rc) {
		step = "direct map";
		goto err_vmemmap;
	}
	pgmap->nr_2m = pgmap->nr_1g = 0;
	for_each_compound(pgmap, h, o) {
		(void)h;
		if (o == DEV_ORDER_1G)
			pgmap->nr_1g++;
		else
			pgmap->nr_2m++;
	}
	pgmap->refs = 0;
	pgmap->mapped = true;
	total_memmap_bytes += pgmap->memmap_bytes;
	total_vmemmap_mapped += pgmap->vmemmap_mapped;
	return 0;

err_vmemmap:
	if (pgmap->share_tails)
		dax_depopulate(pgmap);
	else
		WARN_ON(vmemmap_depopulate(nr, count, NULL));
err_sections:
	sections_remove(nr, count);
out:
	pr_err("memremap [0x%llx-0x%llx): failed: %s (%d); nothing changed",
	       RANGE_ARGS(pgmap->start, pgmap->end), step, rc);
	return rc;
}

int memremap_pages(struct dev_pagemap *pgmap)
{
	mem_hotplug_begin();
	fault_inject_begin(); // an operation under test: its failure points are its allocations
	int rc = __memremap_pages(pgmap);
	fault_inject_end();
	mem_hotplug_done();
	return rc;
}

int memunmap_pages(struct dev_pagemap *pgmap)
{
	unsigned long nr = pgmap->start >> SECTION_SHIFT, count = (pgmap->end - pgmap->start) >> SECTION_SHIFT;
	int rc = 0;
	mem_hotplug_begin();
	if (!pgmap->mapped) {
		rc = -EINVAL;
		goto out;
	}
	unsigned long refs = __atomic_load_n(&pgmap->refs, __ATOMIC_ACQUIRE);
	if (refs) {
		pr_err("memunmap [0x%llx-0x%llx): %lu page references still held",
		       RANGE_ARGS(pgmap->start, pgmap->end), refs);
		rc = -EBUSY;
		goto out;
	}
	// Whole leaves this file mapped: no split, so no allocation and no failure.
	WARN_ON(kpt_unmap_range((uintptr_t)__va(pgmap->start), pgmap->end - pgmap->start));
	total_memmap_bytes -= pgmap->memmap_bytes;
	total_vmemmap_mapped -= pgmap->vmemmap_mapped;
	if (pgmap->share_tails) {
		dax_depopulate(pgmap);
	} else {
		WARN_ON(vmemmap_depopulate(nr, count, NULL));
		pgmap->memmap_bytes = 0;
	}
	sections_remove(nr, count);
	pgmap->mapped = false;
out:
	mem_hotplug_done();
	return rc;
}

struct page *dev_page_head(pfn_t pfn)
{
	const struct mem_section *ms = section_get(pfn_to_section_nr(pfn));
	if (!ms || ms->state != SECTION_PRESENT || !(ms->flags & SECTION_DEVICE))
		return NULL;
	const struct dev_pagemap *pgmap = pfn_to_page(pfn)->owner;
	// The layout is a function of the region: the 1 GiB head if one covers pfn, else 2 MiB.
	pfn_t g = ALIGN_DOWN(pfn, 1UL << DEV_ORDER_1G);
	if (g >= PFN_DOWN(pgmap->start) && compound_order(pgmap, g) == DEV_ORDER_1G)
		return pfn_to_page(g);
	return pfn_to_page(ALIGN_DOWN(pfn, 1UL << DEV_ORDER_2M));
}

struct page *get_dev_page(pfn_t pfn)
{
	struct page *head = dev_page_head(pfn);
	if (!head)
		return NULL;
	struct dev_pagemap *pgmap = head->owner;
	__atomic_add_fetch(&head->refcount, 1, __ATOMIC_ACQUIRE);
	__atomic_add_fetch(&pgmap->refs, 1, __ATOMIC_ACQUIRE);
	return head;
}

void put_dev_page(struct page *head)
{
	struct dev_pagemap *pgmap = head->owner;
	if (!is_zone_device_page(head) || !(page_flags(head) & PG_head) || head->refcount <= 0) {
		pr_err("put_dev_page: pfn 0x%llx is not a referenced device page",
		       (unsigned long long)page_to_pfn(head));
		return;
	}
	__atomic_sub_fetch(&pgmap->refs, 1, __ATOMIC_RELEASE);
	if (__atomic_sub_fetch(&head->refcount, 1, __ATOMIC_RELEASE) == 0 && pgmap->page_free)
		pgmap->page_free(head);
}
