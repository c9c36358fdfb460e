// SPDX-License-Identifier: MIT
//
// memblock tests: merging, tags, top-down allocation inside the window, mem= and hidden RAM, and
// that boot hands every unreserved page to the page allocator (nothing lost).
//
// Interface: main() runs the "memblock" case table (one case by name: build/host/mm/test_memblock CASE).

#include <rvmm/errno.h>
#include <rvmm/kpt.h>
#include <rvmm/memblock.h>
#include <rvmm/page_alloc.h>
#include <rvmm/platform.h>
#include <rvmm/section.h>

#include "sim.h"
#include "test.h"

struct seen {
	phys_addr_t s[16], e[16];
	int tag[16];
	int n;
};

static void rec_free(phys_addr_t s, phys_addr_t e, void *arg)
{
	struct seen *v = arg;
	v->s[v->n] = s;
	v->e[v->n++] = e;
}

static void rec_resv(phys_addr_t s, phys_addr_t e, enum memblock_tag tag, void *arg)
{
	struct seen *v = arg;
	v->s[v->n] = s;
	v->tag[v->n] = tag;
	v->e[v->n++] = e;
}

static int add_merge(void)
{
	CHECK_RC(memblock_add(0x80000000, 0x1000000));
	CHECK_RC(memblock_add(0x81000000, 0x1000000)); // adjacent: merges
	CHECK_RC(memblock_add(0x80800000, 0x2000000)); // overlapping
	CHECK_RC(memblock_add(0x90000000, 0x100000));  // separate
	CHECK_EQ(memblock_add(0x1000, 0), -EINVAL);
	CHECK_EQ(memblock_memory_total(), 0x2800000 + 0x100000);
	CHECK_EQ(memblock_start(), 0x80000000);
	CHECK_EQ(memblock_end(), 0x90100000);
	CHECK(memblock_is_memory(0x80000000, 0x2800000));
	CHECK(!memblock_is_memory(0x80000000, 0x2800001));

	CHECK_RC(memblock_reserve(0x80000000, 0x80000, MEMBLOCK_FIRMWARE));
	CHECK_RC(memblock_reserve(0x80040123, 0x100000, MEMBLOCK_KERNEL)); // overlaps: first tag wins
	struct seen v = { .n = 0 };
	memblock_for_each_reserved(0, ~0UL, rec_resv, &v);
	CHECK_EQ(v.n, 2);
	CHECK_EQ(v.s[0], 0x80000000);
	CHECK_EQ(v.e[0], 0x80080000);
	CHECK_EQ(v.tag[0], MEMBLOCK_FIRMWARE);
	CHECK_EQ(v.s[1], 0x80080000);
	CHECK_EQ(v.e[1], 0x80141000); // widened to pages
	CHECK_EQ(v.tag[1], MEMBLOCK_KERNEL);
	CHECK_EQ(memblock_reserved_total(-1), 0x141000);
	CHECK_EQ(memblock_reserved_total(MEMBLOCK_KERNEL), 0xc1000);

	// free splits a reservation
	CHECK_RC(memblock_free(0x80100000, 0x1000));
	v.n = 0;
	memblock_for_each_reserved(0, ~0UL, rec_resv, &v);
	CHECK_EQ(v.n, 3);
	v.n = 0;
	memblock_for_each_free(0x80000000, 0x80200000, rec_free, &v);
	CHECK_EQ(v.n, 2);
	CHECK_EQ(v.s[0], 0x80100000);
	CHECK_EQ(v.e[0], 0x80101000);
	CHECK_EQ(v.s[1], 0x80141000);
	CHECK_EQ(v.e[1], 0x80200000);
	return 0;
}

static int alloc_topdown(void)
{
	CHECK_RC(memblock_add(0x80000000, 0x10000000));
	CHECK_RC(memblock_add(0xa0000000, 0x10000000));
	memblock_set_window(0x80000000, 0x88000000);
	CHECK_RC(memblock_reserve(0x87f00000, 0x100000, MEMBLOCK_DTB));
	phys_addr_t a = memblock_alloc_raw(0x3000, PAGE_SIZE, MEMBLOCK_OTHER);
	CHECK_EQ(a, 0x87efd000); // highest free below the window top
	phys_addr_t b = memblock_alloc_raw(SZ_2M, SZ_2M, MEMBLOCK_MEMMAP);
	CHECK_EQ(b, 0x87c00000);
	CHECK_EQ(memblock_alloc_raw(0x1000, 3000, MEMBLOCK_OTHER), 0); // bad alignment
	memblock_set_window(0, ~0UL);
	CHECK_EQ(memblock_alloc_raw(SZ_1G, PAGE_SIZE, MEMBLOCK_OTHER), 0); // no room
	CHECK_EQ(memblock_alloc_raw(PAGE_SIZE, PAGE_SIZE, MEMBLOCK_OTHER), 0xaffff000);
	CHECK_EQ(memblock_reserved_total(MEMBLOCK_MEMMAP), SZ_2M);
	memblock_release();
	CHECK_EQ(memblock_alloc_raw(PAGE_SIZE, PAGE_SIZE, MEMBLOCK_OTHER), 0);
	CHECK_EQ(memblock_reserve(0x80000000, 0x1000, MEMBLOCK_OTHER), -EPERM);
	return 0;
}

static int mem_limit_hidden(void)
{
	CHECK_RC(memblock_add(0x80000000, GiB(1)));
	CHECK_RC(memblock_add(0x100000000, GiB(2)));
	memblock_mem_limit(MiB(1536));
	CHECK_EQ(memblock_memory_total(), MiB(1536));
	CHECK_EQ(memblock_end(), 0x100000000 + MiB(512));
	CHECK_EQ(memblock_hidden_count(), 1);
	phys_addr_t base;
	uint64_t size;
	CHECK(memblock_hidden_get(0, &base, &size));
	CHECK_EQ(base, 0x100000000 + MiB(512));
	CHECK_EQ(size, MiB(1536));
	CHECK_EQ(memblock_mem_limit_pa(), 0x120000000);
	CHECK_RC(memblock_hidden_remove(base, SECTION_SIZE));
	CHECK(memblock_hidden_get(0, &base, &size));
	CHECK_EQ(base, 0x120000000 + SECTION_SIZE);
	CHECK_EQ(memblock_hidden_remove(0x80000000, PAGE_SIZE), -ENOENT);
	return 0;
}

// Boot: free pages = usable RAM - reservations, before and after deferred init.
static int boot_nothing_lost(void)
{
	struct sim_config cfg = {
		.nr_ram = 3,
		.ram = { { SIM_RAM_BASE, MiB(700) + 0x800 }, { 0xc0000000, MiB(300) }, { 0x100000000, GiB(1) } },
		.nr_resv = 3,
		.resv = { { 0x90000123, 0x5000 }, { 0xc0000000, MiB(1) }, { 0x1f0000000, MiB(300) } },
		.mem_limit = MiB(1800),
	};
	CHECK_RC(sim_boot(&cfg));
	CHECK_EQ(memblock_memory_total(), MiB(1798) + 0x800); // cut at a 2 MiB boundary
	CHECK_EQ(memblock_mem_limit_pa(), 0x100000000 + MiB(798));
	CHECK_EQ(memblock_hidden_count(), 1);
	uint64_t expect = memblock_free_pages();
	CHECK_EQ(expect, (memblock_memory_total() - 0x800 - memblock_reserved_total(-1)) >> PAGE_SHIFT);
	CHECK_EQ(memblock_reserved_total(-1), memblock_reserved_total(MEMBLOCK_NOMAP) +
		 memblock_reserved_total(MEMBLOCK_FIRMWARE) + memblock_reserved_total(MEMBLOCK_KERNEL) +
		 memblock_reserved_total(MEMBLOCK_DTB) + memblock_reserved_total(MEMBLOCK_PGTABLE) +
		 memblock_reserved_total(MEMBLOCK_MEMMAP) + memblock_reserved_total(MEMBLOCK_OTHER));
	CHECK_EQ(total_free_pages(), expect);
	CHECK_EQ(total_managed_pages(), expect);
	// The reservations of memmap and page tables are what meminfo reports.
	CHECK_EQ(memblock_reserved_total(MEMBLOCK_MEMMAP), vmemmap_bytes());
	CHECK_EQ(memblock_reserved_total(MEMBLOCK_PGTABLE), kpt_pgtable_pages() * PAGE_SIZE);
	while (deferred_init_step())
		;
	CHECK_EQ(deferred_init_pending(), 0);
	CHECK_EQ(total_free_pages(), expect);
	if (sim_check_buddy(NULL, 0, 0))
		return 1;
	// Descriptors say why each page is reserved.
	CHECK(pfn_to_page(PFN_DOWN(SIM_KERNEL_PA))->flags & PG_reserved);
	CHECK(!(pfn_to_page(PFN_DOWN(0x8ffff000 - MiB(16)))->flags & PG_reserved)); // below boot allocations
	CHECK(pfn_to_page(PFN_DOWN(0x90000000))->flags & PG_reserved); // widened to the page
	CHECK(pfn_to_page(PFN_DOWN(0x90005000))->flags & PG_reserved);
	CHECK(!(pfn_to_page(PFN_DOWN(0x90006000))->flags & PG_reserved));
	CHECK(pfn_to_page(PFN_DOWN(0xadf00000))->flags & PG_reserved); // hole after 700 MiB, same section
	// Section states: 700 MiB + 300 MiB + 800 MiB of RAM, partial sections count as present.
	CHECK_EQ(section_state(0x80000000 >> SECTION_SHIFT), SECTION_ONLINE);
	CHECK_EQ(section_state((0x100000000 + MiB(900)) >> SECTION_SHIFT), SECTION_ABSENT);
	return 0;
}

static int boot_errors(void)
{
	struct sim_config cfg = { .ram_size = MiB(256) };
	sim_machine(&cfg);
	extern struct platform platform;
	struct mm_boot bad = { .plat = &platform };
	CHECK_EQ(mm_init(&bad), -EINVAL);
	CHECK_EQ(mm_init(NULL), -EINVAL);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
		CASE(add_merge),
		CASE(alloc_topdown),
		CASE(mem_limit_hidden),
		CASE(boot_nothing_lost),
		CASE(boot_errors),
	};
	return test_main("memblock", cases, ARRAY_SIZE(cases), argc, argv);
}
