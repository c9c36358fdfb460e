// SPDX-License-Identifier: MIT
//
// Kernel page table tests: leaf choice, random map/unmap against a model, splitting, rollback on
// -EEXIST and -ENOMEM, freeing of every table made (PageTables back to baseline), and that the
// root never changes after boot.
//
// Interface: main() runs the "kpt" case table (one case by name: build/host/mm/test_kpt CASE).

#include <stdlib.h>
#include <string.h>

#include <rvmm/errno.h>
#include <rvmm/hotplug.h>
#include <rvmm/kpt.h>
#include <rvmm/page_alloc.h>
#include <rvmm/section.h>

#include "sim.h"
#include "test.h"

#define IO_PA 0x4000000000UL /* pretend device addresses: never touched */

static int boot(void)
{
	struct sim_config cfg = { .ram_size = MiB(512) };
	return sim_boot(&cfg);
}

static int expect_leaf(uintptr_t va, unsigned level, phys_addr_t pa)
{
	pte_t pte;
	unsigned l;
	if (kpt_lookup(va, &pte, &l)) {
		test_fail(__FILE__, __LINE__, "va %#lx not mapped", (unsigned long)va);
		return 1;
	}
	if (l != level || arch_pte_pa(pte) != ALIGN_DOWN(pa, LEVEL_SIZE(l))) {
		test_fail(__FILE__, __LINE__, "va %#lx: level %u pa %#lx, want level %u pa %#lx",
			  (unsigned long)va, l, (unsigned long)arch_pte_pa(pte), level, (unsigned long)pa);
		return 1;
	}
	return 0;
}

static int leaf_choice(void)
{
	CHECK_RC(boot());
	uint64_t pt0 = kpt_pgtable_pages(), free0 = total_free_pages();
	uintptr_t io = mm_layout.io_base;
	uintptr_t va = io + GiB(1) - SZ_2M - 2 * SZ_4K;
	phys_addr_t pa = IO_PA + (va - io);
	uint64_t size = 2 * SZ_4K + SZ_2M + SZ_1G + SZ_2M + 3 * SZ_4K;
	CHECK_RC(kpt_map_range(va, pa, size, PROT_READ | PROT_WRITE | PROT_IO));
	uintptr_t v = va;
	if (expect_leaf(v, 0, pa) || expect_leaf(v + SZ_4K, 0, pa + SZ_4K))
		return 1;
	v += 2 * SZ_4K;
	if (expect_leaf(v, 1, pa + (v - va)))
		return 1;
	v += SZ_2M;
	CHECK(IS_ALIGNED(v, SZ_1G));
	if (expect_leaf(v, 2, pa + (v - va)) || expect_leaf(v + SZ_1G - 1, 2, pa + (v - va)))
		return 1;
	v += SZ_1G;
	if (expect_leaf(v, 1, pa + (v - va)))
		return 1;
	v += SZ_2M;
	for (int i = 0; i < 3; i++)
		if (expect_leaf(v + i * SZ_4K, 0, pa + (v - va) + i * SZ_4K))
			return 1;
	pte_t pte;
	unsigned l;
	CHECK_EQ(kpt_lookup(v + 3 * SZ_4K, &pte, &l), -ENOENT);
	CHECK_EQ(kpt_lookup(va - SZ_4K, &pte, &l), -ENOENT);
	CHECK(arch_pte_prot(pte = 0) == 0);
	CHECK_RC(kpt_unmap_range(va, size));
	CHECK_EQ(kpt_lookup(v, &pte, &l), -ENOENT);
	CHECK_EQ(kpt_pgtable_pages(), pt0);
	page_alloc_drain_local();
	CHECK_EQ(total_free_pages(), free0);
	return 0;
}

static int bad_args(void)
{
	CHECK_RC(boot());
	uintptr_t io = mm_layout.io_base;
	CHECK_EQ(kpt_map_range(io + 1, IO_PA, SZ_4K, PROT_READ), -EINVAL);
	CHECK_EQ(kpt_map_range(io, IO_PA + 1, SZ_4K, PROT_READ), -EINVAL);
	CHECK_EQ(kpt_map_range(io, IO_PA, 0, PROT_READ), -EINVAL);
	CHECK_EQ(kpt_map_range(io, IO_PA, SZ_4K, 0), -EINVAL);
	CHECK_EQ(kpt_unmap_range(io, 123), -EINVAL);
	CHECK_RC(kpt_unmap_range(io, SZ_1G)); // nothing there: fine
	return 0;
}

// Greedy leaf level for a fresh mapping at va with `left` bytes to go.
static unsigned greedy(uintptr_t va, uint64_t left)
{
	for (unsigned l = 2; l > 0; l--)
		if (IS_ALIGNED(va, LEVEL_SIZE(l)) && left >= LEVEL_SIZE(l))
			return l;
	return 0;
}

#define WIN GiB(4)
#define WPAGES (WIN >> PAGE_SHIFT)

static int random_map_unmap(void)
{
	CHECK_RC(boot());
	uint64_t pt0 = kpt_pgtable_pages(), free0 = total_free_pages();
	uintptr_t base = mm_layout.io_base + GiB(8);
	uint8_t *model = calloc(WPAGES, 1);
	uint64_t seed = 12345;
	int maps = 0, eexist = 0, unmaps = 0;

	for (int op = 0; op < 600; op++) {
		uint64_t r = test_rand(&seed);
		uint64_t align = (r & 7) < 3 ? SZ_4K : (r & 7) < 6 ? SZ_2M : SZ_1G;
		uint64_t start = ALIGN_DOWN(test_rand(&seed) % WIN, align);
		uint64_t size;
		switch ((r >> 8) % 4) {
		case 0: size = (1 + test_rand(&seed) % 16) * SZ_4K; break;
		case 1: size = (1 + test_rand(&seed) % 8) * SZ_2M; break;
		case 2: size = (1 + test_rand(&seed) % 600) * SZ_2M + (test_rand(&seed) % 4) * SZ_4K; break;
		default: size = SZ_1G + (test_rand(&seed) % 3) * SZ_2M; break;
		}
		if (start + size > WIN)
			size = WIN - start;
		uint64_t p0 = start >> PAGE_SHIFT, np = size >> PAGE_SHIFT;
		if ((r >> 16) % 3) {
			bool overlap = false;
			for (uint64_t i = 0; i < np && !overlap; i++)
				overlap = model[p0 + i];
			uint64_t pt = kpt_pgtable_pages();
			int rc = kpt_map_range(base + start, IO_PA + start, size, PROT_READ | PROT_WRITE);
			if (overlap) {
				CHECK_EQ(rc, -EEXIST);
				CHECK_EQ(kpt_pgtable_pages(), pt);
				eexist++;
			} else {
				CHECK_RC(rc);
				memset(model + p0, 1, np);
				maps++;
				for (uint64_t off = 0; off < size;) {
					unsigned l = greedy(base + start + off, size - off);
					if (expect_leaf(base + start + off, l, IO_PA + start + off))
						return 1;
					off += LEVEL_SIZE(l);
				}
			}
		} else {
			CHECK_RC(kpt_unmap_range(base + start, size));
			memset(model + p0, 0, np);
			unmaps++;
		}
		// Sample the model against the tables.
		for (int k = 0; k < 64; k++) {
			uint64_t pg = test_rand(&seed) % WPAGES;
			pte_t pte;
			unsigned l;
			int rc = kpt_lookup(base + (pg << PAGE_SHIFT), &pte, &l);
			if (model[pg]) {
				CHECK_RC(rc);
				CHECK_EQ(arch_pte_pa(pte) + ((pg << PAGE_SHIFT) & (LEVEL_SIZE(l) - 1)),
					 IO_PA + (pg << PAGE_SHIFT));
			} else {
				CHECK_EQ(rc, -ENOENT);
			}
		}
	}
	CHECK(maps > 50 && eexist > 20 && unmaps > 50);
	CHECK_RC(kpt_unmap_range(base, WIN));
	CHECK_EQ(kpt_pgtable_pages(), pt0);
	page_alloc_drain_local();
	CHECK_EQ(total_free_pages(), free0);
	free(model);
	return 0;
}

static int split_partial(void)
{
	CHECK_RC(boot());
	uint64_t pt0 = kpt_pgtable_pages();
	uintptr_t va = mm_layout.io_base + GiB(2);
	CHECK_RC(kpt_map_range(va, IO_PA, SZ_1G, PROT_READ | PROT_WRITE));
	if (expect_leaf(va, 2, IO_PA))
		return 1;
	uintptr_t hole = va + SZ_1G / 2 + 3 * SZ_4K;
	uint64_t flush0 = sim.flushes;
	CHECK_RC(kpt_unmap_range(hole, SZ_4K));
	CHECK(sim.flushes > flush0);
	pte_t pte;
	unsigned l;
	CHECK_EQ(kpt_lookup(hole, &pte, &l), -ENOENT);
	if (expect_leaf(va, 1, IO_PA) || expect_leaf(hole - SZ_4K, 0, IO_PA + (hole - SZ_4K - va)) ||
	    expect_leaf(hole + SZ_4K, 0, IO_PA + (hole + SZ_4K - va)) ||
	    expect_leaf(va + SZ_1G - SZ_2M, 1, IO_PA + SZ_1G - SZ_2M))
		return 1;
	CHECK_EQ(kpt_pgtable_pages(), pt0 + 2); // a 2 MiB table and a 4 KiB table
	CHECK_RC(kpt_unmap_range(va, SZ_1G));
	CHECK_EQ(kpt_pgtable_pages(), pt0);
	return 0;
}

static int enomem_rollback(void)
{
	CHECK_RC(boot());
	uint64_t pt0 = kpt_pgtable_pages();
	struct page *head = NULL, *p;
	while ((p = alloc_pages(0, GFP_KERNEL))) {
		p->owner = head;
		head = p;
	}
	CHECK_EQ(total_free_pages(), 0);
	// One page free: a fresh 4 KiB I/O mapping needs two tables (level 1 and 0; the level-2
	// table under the root is shared with the preallocated vmemmap entry).
	for (int i = 0; i < 1; i++) {
		p = head;
		head = head->owner;
		free_pages(p, 0);
	}
	CHECK_EQ(total_free_pages(), 1);
	uintptr_t va = mm_layout.io_base + GiB(20) + SZ_4K;
	CHECK_EQ(kpt_map_range(va, IO_PA, SZ_4K, PROT_READ), -ENOMEM);
	CHECK_EQ(kpt_pgtable_pages(), pt0);
	CHECK_EQ(total_free_pages(), 1);
	pte_t pte;
	unsigned l;
	CHECK_EQ(kpt_lookup(va, &pte, &l), -ENOENT);
	// A 2 MiB leaf needs only the level-1 table: the page that is left.
	CHECK_RC(kpt_map_range(mm_layout.io_base + GiB(21), IO_PA, SZ_2M, PROT_READ));
	CHECK_EQ(kpt_pgtable_pages(), pt0 + 1);
	CHECK_EQ(total_free_pages(), 0);
	return 0;
}

static int root_unchanged(void)
{
	struct sim_config cfg = { .ram_size = GiB(2), .mem_limit = GiB(1) };
	CHECK_RC(sim_boot(&cfg));
	static pte_t root[512];
	memcpy(root, __va(arch_kpt_root()), sizeof(root));
	// Hot-add by hand, and a memmap far up (1 TiB): the root does not change.
	CHECK_RC(sim_hotadd(SIM_RAM_BASE + GiB(1), GiB(1), ZONE_MOVABLE, false));
	mem_hotplug_begin();
	CHECK_RC(section_set_state(GiB(1024) >> SECTION_SHIFT, SECTION_ABSENT, SECTION_PRESENT));
	CHECK_RC(vmemmap_populate(GiB(1024) >> SECTION_SHIFT, 1, NULL));
	CHECK(!memcmp(root, __va(arch_kpt_root()), sizeof(root)));
	CHECK_RC(vmemmap_depopulate(GiB(1024) >> SECTION_SHIFT, 1, NULL));
	CHECK(!memcmp(root, __va(arch_kpt_root()), sizeof(root)));
	return 0;
}

static int directmap_leaves(void)
{
	struct sim_config cfg = { .ram_size = GiB(4) };
	CHECK_RC(sim_boot(&cfg));
	// The arch's 1 GiB early window, cut back around OpenSBI's no-map 512 KiB (4 KiB leaves to
	// 2 MiB, then 2 MiB leaves), then 1 GiB leaves.
	pte_t pte;
	unsigned l;
	CHECK_EQ(kpt_lookup((uintptr_t)__va(SIM_RAM_BASE), &pte, &l), -ENOENT);
	if (expect_leaf((uintptr_t)__va(SIM_RAM_BASE + SIM_FW_SIZE), 0, SIM_RAM_BASE + SIM_FW_SIZE) ||
	    expect_leaf((uintptr_t)__va(SIM_RAM_BASE + MiB(512)), 1, SIM_RAM_BASE + MiB(512)) ||
	    expect_leaf((uintptr_t)__va(0x100000000), 2, 0x100000000) ||
	    expect_leaf((uintptr_t)__va(0x17fffffff), 2, 0x140000000))
		return 1;
	// Hot-remove style: unmap one section inside a 1 GiB leaf, map it back.
	uint64_t pt0 = kpt_pgtable_pages();
	CHECK_RC(directmap_unmap(0x100000000 + SECTION_SIZE, SECTION_SIZE));
	CHECK_EQ(kpt_lookup((uintptr_t)__va(0x100000000 + SECTION_SIZE), &pte, &l), -ENOENT);
	if (expect_leaf((uintptr_t)__va(0x100000000), 1, 0x100000000))
		return 1;
	CHECK_RC(directmap_map(0x100000000 + SECTION_SIZE, SECTION_SIZE));
	if (expect_leaf((uintptr_t)__va(0x100000000 + SECTION_SIZE), 1, 0x100000000 + SECTION_SIZE))
		return 1;
	CHECK_EQ(kpt_pgtable_pages(), pt0 + 1); // the split 2 MiB table stays while in use
	return 0;
}

// Sv39: the root's entries are 1 GiB leaves; nothing is preallocated; the rest works the same.
static int sv39_mode(void)
{
	struct sim_config cfg = { .levels = 3, .ram_size = GiB(4), .mem_limit = GiB(3) };
	CHECK_RC(sim_boot(&cfg));
	CHECK(log_has("mm: sv39"));
	if (expect_leaf((uintptr_t)__va(0x100000000), 2, 0x100000000))
		return 1;
	uint64_t pt0 = kpt_pgtable_pages(), free0 = total_free_pages();
	CHECK_RC(directmap_unmap(0x100000000 + SECTION_SIZE, SECTION_SIZE));
	CHECK_RC(directmap_map(0x100000000 + SECTION_SIZE, SECTION_SIZE));
	CHECK_RC(directmap_unmap(0x100000000, SZ_1G));
	CHECK_RC(directmap_map(0x100000000, SZ_1G));
	if (expect_leaf((uintptr_t)__va(0x100000000), 2, 0x100000000))
		return 1;
	CHECK_RC(sim_hotadd(0x140000000, GiB(1), ZONE_MOVABLE, true));
	CHECK(alloc_pages(MAX_ORDER, GFP_MOVABLE)->zone == ZONE_MOVABLE);
	unsigned long nr = 0x140000000 >> SECTION_SHIFT;
	mem_hotplug_begin();
	CHECK_RC(vmemmap_populate(100, 3, NULL));
	CHECK_RC(vmemmap_depopulate(100, 3, NULL));
	mem_hotplug_done();
	CHECK_EQ(section_count(SECTION_ONLINE), 32);
	CHECK(section_get(nr)->flags & SECTION_MEMMAP_ON_MEMORY);
	page_alloc_drain_local();
	// NORMAL lost only the page tables (memmap came from the hot-added range itself).
	CHECK_EQ(zone_free_pages(ZONE_NORMAL), free0 - (kpt_pgtable_pages() - pt0));
	return 0;
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
		CASE(leaf_choice),
		CASE(bad_args),
		CASE(random_map_unmap),
		CASE(split_partial),
		CASE(enomem_rollback),
		CASE(root_unchanged),
		CASE(directmap_leaves),
		CASE(sv39_mode),
	};
	return test_main("kpt", cases, ARRAY_SIZE(cases), argc, argv);
}
