// SPDX-License-Identifier: MIT
//
// Buddy allocator tests: long random alloc/free sequences against a reference model, bad frees,
// zones and gfp, isolation.
//
// Interface: main() runs the "buddy" case table (one case by name: build/host/mm/test_buddy CASE).

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rvmm/errno.h>
#include <rvmm/hotplug.h>
#include <rvmm/kpt.h>
#include <rvmm/memblock.h>
#include <rvmm/page_alloc.h>
#include <rvmm/section.h>

#include "sim.h"
#include "test.h"

#define RAM_SIZE MiB(512)

struct block {
	pfn_t pfn;
	unsigned order;
};

static int boot_default(void)
{
	struct sim_config cfg = { .ram_size = RAM_SIZE, .nr_resv = 2,
				  .resv = { { 0x88001000, 0x3000 }, { 0x90000000, MiB(3) } } };
	return sim_boot(&cfg);
}

static int random_run(uint64_t seed, int ops, bool movable_zone)
{
	struct sim_config cfg = { .ram_size = GiB(1), .mem_limit = movable_zone ? MiB(768) : 0,
				  .nr_resv = 1, .resv = { { 0x88001000, 0x3000 } } };
	CHECK_RC(sim_boot(&cfg));
	if (movable_zone)
		CHECK_RC(sim_hotadd(SIM_RAM_BASE + MiB(768), MiB(256), ZONE_MOVABLE, false));
	pfn_t base = SIM_RAM_BASE >> PAGE_SHIFT, end = sim.phys_end >> PAGE_SHIFT;
	uint8_t *map = calloc(end - base, 1);
	if (movable_zone) {
		// The hot-added sections' memmap came from the allocator: allocated, not ours.
		pte_t pte;
		unsigned level;
		CHECK_RC(kpt_lookup((uintptr_t)pfn_to_page(PFN_DOWN(SIM_RAM_BASE + MiB(768))), &pte, &level));
		CHECK_EQ(level, 1);
		memset(map + PFN_DOWN(arch_pte_pa(pte)) - base, 1, 512);
	}
	struct block *blocks = calloc((size_t)ops, sizeof(*blocks));
	int nb = 0;
	uint64_t free0 = total_free_pages();

	for (int op = 0; op < ops; op++) {
		uint64_t r = test_rand(&seed);
		if (nb && (r % 100) < 45) {
			int i = (int)(test_rand(&seed) % (uint64_t)nb);
			struct block b = blocks[i];
			uint64_t *w = pfn_to_kaddr(b.pfn);
			CHECK_EQ(w[0], b.pfn); // nobody else wrote our memory
			free_pages(pfn_to_page(b.pfn), b.order);
			memset(map + b.pfn - base, 0, 1UL << b.order);
			blocks[i] = blocks[--nb];
		} else {
			unsigned order = (r >> 8) % 100 < 60 ? 0 : (r >> 8) % 100 < 90 ? 1 + (r >> 16) % 3 : (r >> 16) % (MAX_ORDER + 1);
			unsigned gfp = (r >> 24) & 1 ? GFP_MOVABLE : GFP_KERNEL;
			if (((r >> 25) & 7) == 0)
				gfp |= GFP_ZERO;
			struct page *p = alloc_pages(order, gfp);
			if (!p)
				continue;
			pfn_t pfn = page_to_pfn(p);
			CHECK(pfn >= base && pfn + (1UL << order) <= end);
			CHECK(IS_ALIGNED(pfn, 1UL << order));
			CHECK_EQ(p->refcount, 1);
			if (!(gfp & GFP_MOVABLE))
				CHECK_EQ(p->zone, ZONE_NORMAL);
			for (unsigned long i = 0; i < (1UL << order); i++) {
				CHECK(!map[pfn + i - base]);
				CHECK(!(pfn_to_page(pfn + i)->flags & PG_reserved));
				map[pfn + i - base] = 1;
			}
			uint64_t *w = pfn_to_kaddr(pfn);
			if (gfp & GFP_ZERO)
				for (unsigned long i = 0; i < (PAGE_SIZE << order) / 8; i += 61)
					CHECK_EQ(w[i], 0);
			memset(w, 0x5a, PAGE_SIZE << order);
			w[0] = pfn;
			blocks[nb++] = (struct block){ pfn, order };
		}
		if (op % 1000 == 999 && sim_check_buddy(map, base, end))
			return 1;
	}
	if (sim_check_buddy(map, base, end))
		return 1;
	while (nb) {
		nb--;
		free_pages(pfn_to_page(blocks[nb].pfn), blocks[nb].order);
		memset(map + blocks[nb].pfn - base, 0, 1UL << blocks[nb].order);
	}
	page_alloc_drain_local();
	CHECK_EQ(total_free_pages(), free0);
	if (sim_check_buddy(map, base, end))
		return 1;
	// Fully coalesced: every initialised free range is made of max-order blocks where aligned.
	CHECK(!log_has("<err>"));
	free(map);
	free(blocks);
	return 0;
}

static int random_long(void) { return random_run(1, 20000, false); }
static int random_seed2(void) { return random_run(2 * 7919, 6000, false); }
static int random_seed3(void) { return random_run(3 * 7919, 6000, true); }
static int random_seed4(void) { return random_run(4 * 7919, 6000, false); }
static int random_two_zones(void) { return random_run(42, 20000, true); }

static int coalesce_full(void)
{
	CHECK_RC(boot_default());
	while (deferred_init_step())
		;
	uint64_t big0 = node_zones[0][ZONE_NORMAL].free_area[MAX_ORDER].nr;
	struct page *p[2048];
	int n = 0;
	for (; n < 2048; n++)
		CHECK((p[n] = alloc_pages(0, GFP_KERNEL)));
	while (n--)
		free_pages(p[n + 0], 0);
	page_alloc_drain_local();
	CHECK_EQ(node_zones[0][ZONE_NORMAL].free_area[MAX_ORDER].nr, big0);
	return sim_check_buddy(NULL, 0, 0);
}

static int double_free(void)
{
	CHECK_RC(boot_default());
	struct page *p = alloc_pages(2, GFP_KERNEL);
	CHECK(p);
	pfn_t pfn = page_to_pfn(p);
	free_pages(p, 2);
	uint64_t free1 = total_free_pages();
	struct page saved = *p;
	log_clear();
	free_pages(p, 2);
	char want[96];
	snprintf(want, sizeof(want), "double free of pfn 0x%llx", (unsigned long long)pfn);
	CHECK(log_has(want));
	CHECK_EQ(total_free_pages(), free1);
	CHECK(!memcmp(&saved, p, sizeof(saved)));

	// Order-0 double free (per-hart cache path).
	struct page *q = alloc_pages(0, GFP_KERNEL);
	free_pages(q, 0);
	free1 = total_free_pages();
	log_clear();
	free_pages(q, 0);
	CHECK(log_has("double free"));
	CHECK_EQ(total_free_pages(), free1);

	// Wrong order, and a tail page.
	struct page *r = alloc_pages(3, GFP_KERNEL);
	log_clear();
	free_pages(r, 2);
	CHECK(log_has("freed as order 2, allocated as order 3"));
	free_pages(r + 1, 0);
	CHECK(log_has("double free"));
	free_pages(r, 3);
	return sim_check_buddy(NULL, 0, 0);
}

static int free_reserved(void)
{
	CHECK_RC(boot_default());
	uint64_t free1 = total_free_pages();
	pfn_t kpfn = SIM_KERNEL_PA >> PAGE_SHIFT;
	log_clear();
	free_pages(pfn_to_page(kpfn), 0);
	char want[96];
	snprintf(want, sizeof(want), "pfn 0x%llx is reserved", (unsigned long long)kpfn);
	CHECK(log_has(want));
	CHECK_EQ(total_free_pages(), free1);
	CHECK(pfn_to_page(kpfn)->flags & PG_reserved);
	// Firmware range, and a pfn in an absent section (descriptor not even mapped).
	free_pages(pfn_to_page(SIM_RAM_BASE >> PAGE_SHIFT), 0);
	CHECK(log_has("pfn 0x80000 is reserved"));
	free_pages(pfn_to_page(GiB(64) >> PAGE_SHIFT), 0);
	CHECK(log_has("pfn 0x1000000 is not in online memory"));
	CHECK_EQ(total_free_pages(), free1);
	return sim_check_buddy(NULL, 0, 0);
}

static int gfp_zones(void)
{
	struct sim_config cfg = { .ram_size = GiB(1), .mem_limit = MiB(768) };
	CHECK_RC(sim_boot(&cfg));
	CHECK_RC(sim_hotadd(SIM_RAM_BASE + MiB(768), MiB(128), ZONE_MOVABLE, false));
	CHECK_EQ(zone_free_pages(ZONE_MOVABLE), PAGES_PER_SECTION);
	struct page *p = alloc_pages(0, GFP_MOVABLE);
	CHECK(p && p->zone == ZONE_MOVABLE && (p->flags & PG_movable));
	free_pages(p, 0);
	// GFP_KERNEL never takes movable memory, even with NORMAL nearly drained.
	for (int i = 0; i < 200; i++) {
		struct page *k = alloc_pages(0, GFP_KERNEL);
		CHECK(k && k->zone == ZONE_NORMAL);
	}
	// Exhaust MOVABLE: GFP_MOVABLE falls back to NORMAL.
	uint64_t n = 0;
	while (zone_free_pages(ZONE_MOVABLE)) {
		CHECK(alloc_pages(0, GFP_MOVABLE));
		if (++n > PAGES_PER_SECTION)
			break;
	}
	CHECK_EQ(n, PAGES_PER_SECTION);
	p = alloc_pages(0, GFP_MOVABLE);
	CHECK(p && p->zone == ZONE_NORMAL);
	CHECK(alloc_pages(MAX_ORDER + 1, GFP_KERNEL) == NULL);
	return 0;
}

static int exhaust_null(void)
{
	CHECK_RC(boot_default());
	uint64_t n = 0;
	while (alloc_pages(MAX_ORDER, GFP_KERNEL))
		n++;
	while (alloc_pages(0, GFP_KERNEL))
		n++;
	CHECK(n > 0);
	CHECK_EQ(total_free_pages(), 0);
	CHECK(alloc_pages(0, GFP_KERNEL | GFP_ZERO) == NULL);
	CHECK(get_free_pages(3, GFP_MOVABLE) == NULL);
	return 0;
}

static int isolate_offline(void)
{
	struct sim_config cfg = { .ram_size = GiB(1), .mem_limit = MiB(768) };
	CHECK_RC(sim_boot(&cfg));
	phys_addr_t pa = SIM_RAM_BASE + MiB(768);
	CHECK_RC(sim_hotadd(pa, MiB(256), ZONE_MOVABLE, false));
	pfn_t s = PFN_DOWN(pa), e = s + 2 * PAGES_PER_SECTION;
	uint64_t free0 = zone_free_pages(ZONE_MOVABLE), managed0 = zone_managed_pages(ZONE_MOVABLE);
	struct page *held[10];
	for (int i = 0; i < 10; i++)
		CHECK((held[i] = alloc_pages(i % 3, GFP_MOVABLE)));
	struct page *cached = alloc_pages(0, GFP_MOVABLE);
	free_pages(cached, 0); // sits in this hart's cache
	uint64_t used = 0;
	for (int i = 0; i < 10; i++)
		used += 1UL << (i % 3);
	mem_hotplug_begin();
	CHECK_EQ(page_isolate_range(s + 1, e), -EINVAL);
	CHECK_RC(page_isolate_range(s, e));
	CHECK_EQ(zone_free_pages(ZONE_MOVABLE), 0);
	CHECK(alloc_pages(0, GFP_MOVABLE)->zone == ZONE_NORMAL); // nothing handed out from the range
	unsigned long busy = 0;
	CHECK_EQ(page_isolated_take_free(s, e, &busy), -EBUSY);
	CHECK_EQ(busy, used);
	for (int i = 0; i < 10; i++)
		free_pages(held[i], i % 3);
	CHECK_EQ(zone_free_pages(ZONE_MOVABLE), 0); // freed into the isolated range, held back
	// Undo, then isolate again and take it all.
	page_unisolate_range(s, e);
	CHECK_EQ(zone_free_pages(ZONE_MOVABLE), free0);
	if (sim_check_buddy(NULL, 0, 0))
		return 1;
	CHECK_RC(page_isolate_range(s, e));
	CHECK_RC(page_isolated_take_free(s, e, &busy));
	CHECK_EQ(busy, 0);
	CHECK_EQ(zone_managed_pages(ZONE_MOVABLE), managed0 - 2 * PAGES_PER_SECTION);
	CHECK(pfn_to_page(s + 5)->flags & PG_offline);
	CHECK_EQ(node_zones[0][ZONE_MOVABLE].nr_isolated_free, 0);
	return 0;
}

static int memmap_on_memory_online(void)
{
	struct sim_config cfg = { .ram_size = GiB(1), .mem_limit = MiB(768) };
	CHECK_RC(sim_boot(&cfg));
	uint64_t normal0 = zone_free_pages(ZONE_NORMAL), pt0 = kpt_pgtable_pages();
	phys_addr_t pa = SIM_RAM_BASE + MiB(768);
	CHECK_RC(sim_hotadd(pa, MiB(256), ZONE_MOVABLE, true));
	// The memmap did not come from NORMAL: only the table holding its 4 KiB leaves did.
	CHECK_EQ(normal0 - zone_free_pages(ZONE_NORMAL), kpt_pgtable_pages() - pt0);
	// Each section's first 256 pages hold its descriptors: managed, in use, never free.
	CHECK_EQ(zone_managed_pages(ZONE_MOVABLE), 2 * PAGES_PER_SECTION);
	CHECK_EQ(zone_free_pages(ZONE_MOVABLE), 2 * PAGES_PER_SECTION - 512);
	// Descriptors deferred until something needs them: here.
	CHECK(section_get(pa >> SECTION_SHIFT)->flags & SECTION_DEFERRED);
	deferred_init_pfn(PFN_DOWN(pa));
	deferred_init_pfn(PFN_DOWN(pa) + PAGES_PER_SECTION);
	CHECK_EQ(zone_free_pages(ZONE_MOVABLE), 2 * PAGES_PER_SECTION - 512);
	CHECK(pfn_to_page(PFN_DOWN(pa) + PAGES_PER_SECTION + 255)->flags & PG_vmemmap);
	CHECK(!(pfn_to_page(PFN_DOWN(pa) + PAGES_PER_SECTION + 256)->flags & PG_reserved));
	CHECK(pfn_to_page(PFN_DOWN(pa))->flags & PG_vmemmap);
	CHECK(section_get(pa >> SECTION_SHIFT)->flags & SECTION_MEMMAP_ON_MEMORY);
	pfn_t s = PFN_DOWN(pa), e = s + 2 * PAGES_PER_SECTION;
	mem_hotplug_begin();
	CHECK_RC(page_isolate_range(s, e));
	CHECK_RC(page_isolated_take_free(s, e, NULL));
	CHECK_EQ(zone_managed_pages(ZONE_MOVABLE), 0);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
		CASE(random_long),
		CASE(random_seed2),
		CASE(random_seed3),
		CASE(random_seed4),
		CASE(random_two_zones),
		CASE(coalesce_full),
		CASE(double_free),
		CASE(free_reserved),
		CASE(gfp_zones),
		CASE(exhaust_null),
		CASE(isolate_offline),
		CASE(memmap_on_memory_online),
	};
	return test_main("buddy", cases, ARRAY_SIZE(cases), argc, argv);
}
