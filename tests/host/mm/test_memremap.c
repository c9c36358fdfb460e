// SPDX-License-Identifier: MIT
//
// ZONE_DEVICE against the simulated machine (kernel/mm/memremap.c): memmap set-up and tear-down
// with and without shared tails (figures back where they were), the compound layout (1 GiB where
// aligned, 2 MiB elsewhere), a write to a shared tail page faulting (the sim maps read-only
// vmemmap leaves read-only), device-page references, bad input, fault injection at every
// allocation, and the hot-plug core refusing device sections.
//
// The sim's RAM is [2 GiB, 3 GiB) and [6 GiB, 6 GiB + 128 MiB): the hole between is backed by the
// sim's memory file but is no RAM, as QEMU's device-memory window; the pmem regions sit in it.
//
// Interface: main() runs the "memremap" case table.

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rvmm/errno.h>
#include <rvmm/fault_inject.h>
#include <rvmm/hotplug.h>
#include <rvmm/kpt.h>
#include <rvmm/mem_ranges.h>
#include <rvmm/memremap.h>
#include <rvmm/migrate.h>
#include <rvmm/page_alloc.h>
#include <rvmm/section.h>

#include "sim.h"
#include "test.h"

#define PMEM_1G 0x100000000UL  /* [4 GiB, 6 GiB): two 1 GiB compound pages */
#define PMEM_2M 0xc8000000UL   /* [3.125 GiB, 4 GiB): 448 of 2 MiB */

static int boot(void)
{
	struct sim_config cfg = { .ram = { { SIM_RAM_BASE, GiB(1) }, { 0x180000000UL, MiB(128) } },
				  .nr_ram = 2 };
	return sim_boot(&cfg);
}

static struct mem_region region = { "pmem-test", PMEM_2M, 0x180000000UL, NULL, NULL, 0 };

static unsigned long freed;
static void count_free(struct page *head __unused) { freed++; }

static struct dev_pagemap pgmap_for(phys_addr_t s, phys_addr_t e, bool share)
{
	return (struct dev_pagemap){ .owner = &region, .start = s, .end = e, .share_tails = share,
				     .page_free = count_free };
}

struct snap {
	uint64_t free, pgtables, memmap, devmemmap, devmapped;
	unsigned long count[NR_SECTION_STATES];
};

static void take(struct snap *s)
{
	while (deferred_init_step())
		;
	page_alloc_drain_local();
	*s = (struct snap){ total_free_pages(), kpt_pgtable_pages(), vmemmap_bytes(),
			    memremap_memmap_bytes(), memremap_vmemmap_mapped(), { 0 } };
	for (int i = 0; i < NR_SECTION_STATES; i++)
		s->count[i] = section_count(i);
}

static int same(const struct snap *a)
{
	struct snap b;
	take(&b);
	CHECK_EQ(a->free, b.free);
	CHECK_EQ(a->pgtables, b.pgtables);
	CHECK_EQ(a->memmap, b.memmap);
	CHECK_EQ(a->devmemmap, b.devmemmap);
	CHECK_EQ(a->devmapped, b.devmapped);
	for (int i = 0; i < NR_SECTION_STATES; i++)
		CHECK_EQ(a->count[i], b.count[i]);
	return sim_mmcheck();
}

static int setup(void)
{
	CHECK_RC(boot());
	CHECK_RC(mem_region_register(&region));
	return 0;
}

// Descriptors of a mapped pgmap: zone Device, heads where the layout says, tails alike.
static int check_descs(const struct dev_pagemap *pg)
{
	for (pfn_t pfn = PFN_DOWN(pg->start); pfn < PFN_DOWN(pg->end); pfn += 61) {
		const struct page *p = pfn_to_page(pfn), *h = dev_page_head(pfn);
		CHECK(is_zone_device_page(p));
		CHECK(p->owner == pg);
		CHECK(h && (page_flags(h) & PG_head));
		unsigned o = h->order;
		CHECK(o == DEV_ORDER_2M || o == DEV_ORDER_1G);
		CHECK(page_to_pfn(h) <= pfn && pfn < page_to_pfn(h) + (1UL << o));
		CHECK_EQ(page_flags(p), PG_reserved | (h == p ? PG_head : 0));
	}
	return 0;
}

static int round_trip(bool share)
{
	CHECK_RC(setup());
	struct snap s0;
	take(&s0);
	struct dev_pagemap pg = pgmap_for(PMEM_1G, PMEM_1G + GiB(2), share);
	CHECK_RC(memremap_pages(&pg));
	CHECK_EQ(pg.nr_1g, 2);
	CHECK_EQ(pg.nr_2m, 0);
	// Shared: one unique page per 1 GiB compound page and the shared page; full: 32 B per page.
	CHECK_EQ(pg.memmap_bytes, share ? 3 * PAGE_SIZE : GiB(2) / PAGE_SIZE * sizeof(struct page));
	CHECK_EQ(memremap_memmap_bytes(), pg.memmap_bytes);
	for (unsigned long nr = PMEM_1G >> SECTION_SHIFT; nr < (PMEM_1G + GiB(2)) >> SECTION_SHIFT; nr++) {
		CHECK_EQ(section_state(nr), SECTION_PRESENT);
		CHECK(section_get(nr)->flags & SECTION_DEVICE);
		CHECK_EQ(!!(section_get(nr)->flags & SECTION_MEMMAP_SHARED), share);
	}
	if (check_descs(&pg))
		return 1;
	// Direct map: 1 GiB leaves with the devmap bit, and ptdump says so.
	pte_t pte;
	unsigned level;
	CHECK_RC(kpt_lookup((uintptr_t)__va(PMEM_1G), &pte, &level));
	CHECK_EQ(level, 2);
	CHECK(arch_pte_prot(pte) & PROT_DEVMAP);
	log_clear();
	CHECK_RC(sim_run("ptdump"));
	CHECK(log_has("devmap"));
	// The data is reachable through it.
	memset(__va(PMEM_1G + GiB(1) + 12345), 0x5a, 100);
	CHECK_EQ(*(uint8_t *)__va(PMEM_1G + GiB(1) + 12400), 0x5a);
	if (sim_mmcheck())
		return 1;
	CHECK_RC(memunmap_pages(&pg));
	CHECK_EQ(kpt_lookup((uintptr_t)__va(PMEM_1G), &pte, &level), -ENOENT);
	return same(&s0);
}

static int shared_round_trip(void) { return round_trip(true); }
static int full_round_trip(void) { return round_trip(false); }

// 2 MiB compound pages below the first 1 GiB boundary, 1 GiB ones above.
static int mixed_layout(void)
{
	CHECK_RC(setup());
	struct snap s0;
	take(&s0);
	struct dev_pagemap pg = pgmap_for(PMEM_2M, PMEM_1G + GiB(2), true);
	CHECK_RC(memremap_pages(&pg));
	CHECK_EQ(pg.nr_2m, (PMEM_1G - PMEM_2M) / MiB(2));
	CHECK_EQ(pg.nr_1g, 2);
	CHECK_EQ(pg.memmap_bytes, (pg.nr_2m + pg.nr_1g + 1) * PAGE_SIZE);
	CHECK_EQ(dev_page_head(PFN_DOWN(PMEM_2M + MiB(3))), pfn_to_page(PFN_DOWN(PMEM_2M + MiB(2))));
	CHECK_EQ(dev_page_head(PFN_DOWN(PMEM_1G + GiB(1) + MiB(700))), pfn_to_page(PFN_DOWN(PMEM_1G + GiB(1))));
	CHECK(dev_page_head(PFN_DOWN(SIM_RAM_BASE + MiB(64))) == NULL);
	if (check_descs(&pg) || sim_mmcheck())
		return 1;
	CHECK_RC(memunmap_pages(&pg));
	return same(&s0);
}

// Tails past the first vmemmap page of a compound page are the one shared page, read-only.
static int shared_tail_write_faults(void)
{
	CHECK_RC(setup());
	struct dev_pagemap pg = pgmap_for(PMEM_2M, PMEM_1G, true);
	CHECK_RC(memremap_pages(&pg));
	pfn_t h = PFN_DOWN(PMEM_2M + MiB(8));
	struct page *unique_tail = pfn_to_page(h + 5), *shared_tail = pfn_to_page(h + 200);
	// Same bytes, and those of another compound page's tail are the same physical page.
	CHECK(memcmp(unique_tail, shared_tail, sizeof(struct page)) == 0);
	pte_t a, b;
	unsigned la, lb;
	CHECK_RC(kpt_lookup((uintptr_t)shared_tail, &a, &la));
	CHECK_RC(kpt_lookup((uintptr_t)pfn_to_page(h + 512 + 300), &b, &lb));
	CHECK_EQ(arch_pte_pa(a), arch_pte_pa(b));
	CHECK_EQ(arch_pte_pa(a), pg.shared_pa);
	CHECK(!(arch_pte_prot(a) & PROT_WRITE));
	fflush(NULL);
	for (int which = 0; which < 2; which++) {
		pid_t pid = fork();
		if (pid == 0) {
			struct sigaction sa = { .sa_handler = _exit }; // exit status = signal number
			sigaction(SIGSEGV, &sa, NULL);
			WRITE_ONCE((which ? shared_tail : unique_tail)->private, 7);
			_exit(0);
		}
		int st;
		waitpid(pid, &st, 0);
		if (which)
			CHECK(WIFSIGNALED(st) || (WIFEXITED(st) && WEXITSTATUS(st) == SIGSEGV));
		else
			CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0); // the unique page is writable
	}
	CHECK_RC(memunmap_pages(&pg));
	return 0;
}

// References go to the head; unmapping waits for the last; device pages never reach the buddy.
static int references(void)
{
	CHECK_RC(setup());
	struct dev_pagemap pg = pgmap_for(PMEM_1G, PMEM_1G + GiB(1), true);
	CHECK_RC(memremap_pages(&pg));
	struct snap s;
	take(&s);
	struct page *hd = get_dev_page(PFN_DOWN(PMEM_1G) + 4000);
	CHECK(hd == pfn_to_page(PFN_DOWN(PMEM_1G)));
	CHECK_EQ(hd->refcount, 1);
	CHECK(get_dev_page(PFN_DOWN(SIM_RAM_BASE + MiB(100))) == NULL);
	CHECK_EQ(memunmap_pages(&pg), -EBUSY);
	CHECK(pg.mapped);
	log_clear();
	free_pages(hd, 0);
	CHECK(log_has("not in online memory"));
	CHECK_EQ(hd->refcount, 1);
	freed = 0;
	put_dev_page(hd);
	CHECK_EQ(freed, 1);
	CHECK_EQ(pg.refs, 0);
	log_clear();
	put_dev_page(hd);
	CHECK(log_has("not a referenced device page"));
	if (same(&s))
		return 1;
	CHECK_RC(memunmap_pages(&pg));
	return 0;
}

// Each refused with a message and nothing changed.
static int bad_input(void)
{
	CHECK_RC(setup());
	static struct mem_region other = { "other", 0x200000000UL, 0x240000000UL, NULL, NULL, 0 };
	CHECK_RC(mem_region_register(&other));
	struct snap s0;
	take(&s0);
	struct {
		phys_addr_t s, e;
		const struct mem_region *owner;
		int rc;
		const char *msg;
	} bad[] = {
		{ PMEM_1G, PMEM_1G, &region, -EINVAL, "not whole sections" },
		{ PMEM_1G + MiB(2), PMEM_1G + GiB(1), &region, -EINVAL, "not whole sections" },
		{ SIM_RAM_BASE, SIM_RAM_BASE + MiB(256), &region, -EINVAL, "belongs to boot RAM" },
		{ 0x200000000UL, 0x240000000UL, &region, -EINVAL, "belongs to other" },
		{ PMEM_1G, PMEM_1G + GiB(1), &other, -EINVAL, "belongs to pmem-test" },
		{ mm_layout.max_phys - SECTION_SIZE, mm_layout.max_phys + SECTION_SIZE, &region, -ERANGE,
		  "beyond the highest address" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct dev_pagemap pg = pgmap_for(bad[i].s, bad[i].e, true);
		pg.owner = bad[i].owner;
		log_clear();
		CHECK_EQ(memremap_pages(&pg), bad[i].rc);
		CHECK_MSG(log_has(bad[i].msg), "case %zu: no \"%s\"", i, bad[i].msg);
		if (same(&s0))
			return 1;
	}
	// Twice the same range.
	struct dev_pagemap a = pgmap_for(PMEM_1G, PMEM_1G + GiB(1), true), b = a;
	CHECK_RC(memremap_pages(&a));
	struct snap s1;
	take(&s1);
	log_clear();
	CHECK_EQ(memremap_pages(&b), -EEXIST);
	CHECK(log_has("already added"));
	if (same(&s1))
		return 1;
	CHECK_RC(memunmap_pages(&a));
	return same(&s0);
}

// Every allocation of memremap_pages failing in turn leaves everything as it was.
static int fault_injection(void)
{
	CHECK_RC(setup());
	for (int share = 0; share < 2; share++) {
		struct snap s0;
		take(&s0);
		int n;
		for (n = 1; n < 5000; n++) {
			struct dev_pagemap pg = pgmap_for(PMEM_2M, PMEM_1G + GiB(1), share);
			fault_inject_set((unsigned long)n);
			int rc = memremap_pages(&pg);
			bool fired = fault_inject_get() == 0;
			fault_inject_set(0);
			if (!rc) { // a fallback (4 KiB vmemmap leaves) may absorb a failure
				CHECK_RC(memunmap_pages(&pg));
				if (!fired)
					break;
				continue;
			}
			CHECK_EQ(rc, -ENOMEM);
			CHECK(!pg.mapped);
			if (same(&s0))
				return 1;
		}
		CHECK(n > 3);
		if (same(&s0))
			return 1;
	}
	return 0;
}

// Movable pages in [s, e) of the region, their contents checked after migration.
#define NR_MOV 64
static struct movable mov[NR_MOV];

// GFP_MOVABLE takes ZONE_MOVABLE first: the region is the only Movable memory.
static int fill_movable(phys_addr_t s, phys_addr_t e, int *n)
{
	for (*n = 0; *n < NR_MOV; (*n)++) {
		mov[*n] = (struct movable)MOVABLE_INIT;
		CHECK_RC(movable_alloc(&mov[*n], 0));
		phys_addr_t pa = PFN_PHYS(movable_pfn(&mov[*n]));
		CHECK(pa >= s && pa < e);
		uint64_t *p = movable_pin(&mov[*n]);
		for (int w = 0; w < 512; w++)
			p[w] = (uint64_t)*n * 1000003 + (uint64_t)w;
		movable_unpin(&mov[*n]);
	}
	return 0;
}

static int check_movable(int n, phys_addr_t s, phys_addr_t e)
{
	for (int i = 0; i < n; i++) {
		phys_addr_t pa = PFN_PHYS(movable_pfn(&mov[i]));
		CHECK(pa < s || pa >= e); // migrated out
		uint64_t *p = movable_pin(&mov[i]);
		for (int w = 0; w < 512; w++)
			CHECK_EQ(p[w], (uint64_t)i * 1000003 + (uint64_t)w);
		movable_unpin(&mov[i]);
		movable_free(&mov[i]);
	}
	return 0;
}

// kmem: devdax -> System RAM (Movable) -> pages in use there -> offline migrates them -> devdax.
static int kmem_round_trip(void)
{
	CHECK_RC(setup());
	phys_addr_t s = PMEM_1G, e = PMEM_1G + GiB(1);
	struct dev_pagemap pg = pgmap_for(s, e, true);
	CHECK_RC(memremap_pages(&pg));
	struct snap s0;
	take(&s0);
	uint64_t managed0 = total_managed_pages();
	struct page *hd = get_dev_page(PFN_DOWN(s));
	log_clear();
	CHECK_EQ(kmem_online(&pg, ZONE_MOVABLE), -EBUSY); // a devdax user
	CHECK(log_has("page references still held"));
	if (same(&s0))
		return 1;
	put_dev_page(hd);
	CHECK_RC(kmem_online(&pg, ZONE_MOVABLE));
	CHECK(!pg.mapped);
	CHECK_EQ(total_managed_pages(), managed0 + (GiB(1) >> PAGE_SHIFT));
	CHECK_EQ(section_state(s >> SECTION_SHIFT), SECTION_ONLINE);
	CHECK(!(section_get(s >> SECTION_SHIFT)->flags & SECTION_DEVICE));
	CHECK_EQ(memremap_memmap_bytes(), 0);
	CHECK(dev_page_head(PFN_DOWN(s)) == NULL);
	if (sim_mmcheck())
		return 1;
	int n;
	if (fill_movable(s, e, &n))
		return 1;
	CHECK(n > 0);
	CHECK_EQ(kmem_online(&pg, ZONE_MOVABLE), -EINVAL); // already System RAM
	CHECK_RC(kmem_offline(&pg));
	CHECK(pg.mapped);
	if (check_movable(n, s, e))
		return 1;
	CHECK_EQ(section_state(s >> SECTION_SHIFT), SECTION_PRESENT);
	CHECK(section_get(s >> SECTION_SHIFT)->flags & SECTION_DEVICE);
	if (check_descs(&pg))
		return 1;
	CHECK_EQ(kmem_offline(&pg), -EINVAL); // devdax already
	return same(&s0);
}

// Every failure point of kmem online (hot-add, online) and offline (offline, remove) leaves the
// region as it was: devdax, or System RAM.
static int kmem_fault_injection(void)
{
	CHECK_RC(setup());
	phys_addr_t s = PMEM_2M, e = PMEM_1G + GiB(1);
	struct dev_pagemap pg = pgmap_for(s, e, true);
	CHECK_RC(memremap_pages(&pg));
	struct snap dev;
	take(&dev);
	int n;
	for (n = 1; n < 2000; n++) {
		fault_inject_set((unsigned long)n);
		int rc = kmem_online(&pg, ZONE_MOVABLE);
		bool fired = fault_inject_get() == 0;
		fault_inject_set(0);
		if (!rc && !fired)
			break;
		if (!rc) { // a fallback (4 KiB vmemmap leaves) absorbed the failure
			CHECK_RC(kmem_offline(&pg));
			if (same(&dev))
				return 1;
			continue;
		}
		CHECK(fired);
		CHECK(pg.mapped);
		if (same(&dev) || check_descs(&pg))
			return 1;
	}
	CHECK(n > 2);
	int nmov; // pages in use: offline isolates, drains and migrates (allocating) them
	if (fill_movable(s, e, &nmov))
		return 1;
	struct snap ram;
	take(&ram);
	int m;
	for (m = 1; m < 2000; m++) {
		fault_inject_set((unsigned long)m);
		int rc = kmem_offline(&pg);
		bool fired = fault_inject_get() == 0;
		fault_inject_set(0);
		if (!rc)
			break; // memremap after it is not a hot-plug step: injection ends there
		CHECK(fired);
		CHECK(!pg.mapped);
		if (same(&ram))
			return 1;
	}
	CHECK(m > 2); // going offline, the drain; a failed migration target is retried
	CHECK(pg.mapped);
	if (check_movable(nmov, s, e))
		return 1;
	printf("note: kmem fault injection: %d points online, %d offline\n", n - 1, m - 1);
	return same(&dev);
}

// The hot-plug core leaves device sections to their driver.
static int hotplug_refuses_device(void)
{
	CHECK_RC(setup());
	struct dev_pagemap pg = pgmap_for(PMEM_1G, PMEM_1G + GiB(1), true);
	CHECK_RC(memremap_pages(&pg));
	struct snap s;
	take(&s);
	log_clear();
	CHECK_EQ(online_pages(PFN_DOWN(PMEM_1G), SECTION_SIZE >> PAGE_SHIFT, ZONE_MOVABLE), -EBUSY);
	CHECK(log_has("device memory (ZONE_DEVICE)"));
	CHECK_EQ(remove_memory(PMEM_1G, SECTION_SIZE), -EBUSY);
	if (same(&s))
		return 1;
	log_clear();
	CHECK_RC(sim_run("sections"));
	CHECK(log_has("Device"));
	CHECK_RC(memunmap_pages(&pg));
	return 0;
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
		CASE(shared_round_trip),
		CASE(full_round_trip),
		CASE(mixed_layout),
		CASE(shared_tail_write_faults),
		CASE(references),
		CASE(bad_input),
		CASE(fault_injection),
		CASE(hotplug_refuses_device),
		CASE(kmem_round_trip),
		CASE(kmem_fault_injection),
	};
	return test_main("memremap", cases, ARRAY_SIZE(cases), argc, argv);
}
