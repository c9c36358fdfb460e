// SPDX-License-Identifier: MIT
//
// Deferred descriptor init tests: boot writes no descriptor and touches no memmap page, the
// allocator initialises sections on demand, deferred_init_step finishes the job, a 1 TiB guest
// boots, and mm_init time barely grows with RAM.
//
// Interface: main() runs the "deferred" case table (one case by name: build/host/mm/test_deferred CASE).

#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rvmm/kpt.h>
#include <rvmm/memblock.h>
#include <rvmm/page_alloc.h>
#include <rvmm/section.h>

#include "sim.h"
#include "test.h"

// Physical pages behind section nr's descriptors that the host has backed.
static unsigned long memmap_resident(unsigned long nr)
{
	unsigned long n = 0;
	uintptr_t va = (uintptr_t)pfn_to_page(section_nr_to_pfn(nr));
	for (unsigned long off = 0; off < PAGES_PER_SECTION * sizeof(struct page); off += PAGE_SIZE) {
		pte_t pte;
		unsigned l;
		if (kpt_lookup(va + off, &pte, &l))
			continue;
		phys_addr_t pa = arch_pte_pa(pte) + ((va + off) & (LEVEL_SIZE(l) - 1));
		n += sim_resident(pa);
	}
	return n;
}

static int boot_untouched(void)
{
	struct sim_config cfg = { .ram_size = GiB(4) };
	CHECK_RC(sim_boot(&cfg));
	CHECK_EQ(deferred_init_pending(), 32);
	CHECK_EQ(deferred_init_descs(), 0);
	CHECK(!deferred_init_done(NULL));
	for (unsigned long nr = 16; nr < 48; nr++)
		CHECK_EQ(memmap_resident(nr), 0);
	CHECK(!sim_resident(0x100000000)); // free RAM untouched too
	CHECK_EQ(total_free_pages(), memblock_free_pages());
	return 0;
}

static int alloc_triggers(void)
{
	struct sim_config cfg = { .ram_size = GiB(4) };
	CHECK_RC(sim_boot(&cfg));
	struct page *p = alloc_pages(0, GFP_KERNEL);
	CHECK(p);
	CHECK_EQ(deferred_init_pending(), 31);
	CHECK_EQ(deferred_init_descs(), PAGES_PER_SECTION);
	CHECK_EQ(page_to_pfn(p) >> (SECTION_SHIFT - PAGE_SHIFT), 16);
	CHECK(memmap_resident(16) > 0);
	CHECK_EQ(memmap_resident(17), 0);
	// Large blocks: each section gives at most 32 blocks of 4 MiB.
	for (int i = 0; i < 40; i++)
		CHECK(alloc_pages(MAX_ORDER, GFP_KERNEL));
	CHECK(deferred_init_pending() <= 30);
	CHECK(deferred_init_pending() >= 28);
	return sim_check_buddy(NULL, 0, 0);
}

static int step_completes(void)
{
	struct sim_config cfg = { .ram_size = GiB(2), .nr_resv = 1, .resv = { { 0xb0000000, MiB(5) } } };
	CHECK_RC(sim_boot(&cfg));
	uint64_t free0 = total_free_pages();
	int steps = 0;
	while (deferred_init_step())
		steps++;
	CHECK_EQ(steps, 16);
	CHECK_EQ(deferred_init_pending(), 0);
	uint64_t when;
	CHECK(deferred_init_done(&when));
	CHECK(log_has("mm: deferred init done: 16 sections (16 MiB of descriptors) in "));
	CHECK_EQ(total_free_pages(), free0);
	CHECK(!deferred_init_step());
	CHECK(pfn_to_page(PFN_DOWN(0xb0004000))->flags & PG_reserved);
	return sim_check_buddy(NULL, 0, 0);
}

static int pfn_on_demand(void)
{
	struct sim_config cfg = { .ram_size = GiB(4) };
	CHECK_RC(sim_boot(&cfg));
	deferred_init_pfn(PFN_DOWN(0x140000000));
	CHECK_EQ(deferred_init_pending(), 31);
	CHECK(!(section_get(0x140000000 >> SECTION_SHIFT)->flags & SECTION_DEFERRED));
	CHECK(section_get(16)->flags & SECTION_DEFERRED);
	// The memmap itself (reserved at boot, top of RAM) is PG_vmemmap once initialised.
	pte_t pte;
	unsigned l;
	CHECK_RC(kpt_lookup((uintptr_t)pfn_to_page(PFN_DOWN(0x140000000)), &pte, &l));
	deferred_init_pfn(PFN_DOWN(arch_pte_pa(pte)));
	CHECK(pfn_to_page(PFN_DOWN(arch_pte_pa(pte)))->flags & PG_vmemmap);
	return sim_check_buddy(NULL, 0, 0);
}

static int boot_1t(void)
{
	struct sim_config cfg = { .ram_size = GiB(1024) };
	CHECK_RC(sim_boot(&cfg));
	CHECK_EQ(deferred_init_pending(), 8192);
	CHECK_EQ(vmemmap_bytes(), GiB(8));
	CHECK_EQ(memmap_resident(16), 0);
	CHECK_EQ(memmap_resident(8192 + 15), 0);
	CHECK(total_managed_pages() > (GiB(1015) >> PAGE_SHIFT)); // 1 TiB - 8 GiB memmap - image
	for (int i = 0; i < 100; i++)
		CHECK(alloc_pages(MAX_ORDER, GFP_KERNEL));
	for (int i = 0; i < 4; i++)
		CHECK(deferred_init_step());
	CHECK(deferred_init_pending() <= 8192 - 4 - 3);
	fprintf(stderr, "deferred/boot_1t: mm_init %.2f ms\n", sim.mm_init_ns / 1e6);
	return 0;
}

static uint64_t boot_ns(uint64_t ram)
{
	uint64_t best = ~0ull;
	for (int run = 0; run < 3; run++) {
		int p[2];
		if (pipe(p))
			return 0;
		fflush(NULL);
		pid_t pid = fork();
		if (pid == 0) {
			struct sim_config cfg = { .ram_size = ram };
			uint64_t ns = sim_boot(&cfg) ? 0 : sim.mm_init_ns;
			if (write(p[1], &ns, sizeof(ns)) != sizeof(ns))
				_exit(1);
			_exit(0);
		}
		uint64_t ns = 0;
		if (read(p[0], &ns, sizeof(ns)) != sizeof(ns))
			ns = 0;
		waitpid(pid, NULL, 0);
		close(p[0]);
		close(p[1]);
		if (ns && ns < best)
			best = ns;
	}
	return best;
}

// mm_init must not grow with RAM beyond a small per-section cost: 1 GiB vs 256 GiB.
static int boot_time_scaling(void)
{
	uint64_t t1 = boot_ns(GiB(1)), t256 = boot_ns(GiB(256));
	fprintf(stderr, "deferred/boot_time_scaling: mm_init 1 GiB %.2f ms, 256 GiB %.2f ms\n",
		t1 / 1e6, t256 / 1e6);
	CHECK(t1 && t256 && t1 != ~0ull && t256 != ~0ull);
	// 2048 sections, 1024 memmap blocks mirrored by mmap on the host: allow 15 us per section.
	CHECK(t256 < t1 + 2048 * 15000ull);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
		CASE(boot_untouched),
		CASE(alloc_triggers),
		CASE(step_completes),
		CASE(pfn_on_demand),
		CASE(boot_1t),
		CASE(boot_time_scaling),
	};
	return test_main("deferred", cases, ARRAY_SIZE(cases), argc, argv);
}
