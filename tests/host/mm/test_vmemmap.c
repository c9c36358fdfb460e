// SPDX-License-Identifier: MIT
//
// Sections and vmemmap tests: state setter, 2 MiB leaves shared by section pairs, 4 KiB leaves for
// lone sections, altmap (memmap_on_memory), no leak after depopulate, and that touching an
// unpopulated descriptor faults like it would on the target.
//
// Interface: main() runs the "vmemmap" case table (one case by name: build/host/mm/test_vmemmap CASE).

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rvmm/errno.h>
#include <rvmm/hotplug.h>
#include <rvmm/kpt.h>
#include <rvmm/page_alloc.h>
#include <rvmm/section.h>

#include "sim.h"
#include "test.h"

static int memmap_level(unsigned long nr, unsigned *level)
{
	pte_t pte;
	return kpt_lookup((uintptr_t)pfn_to_page(section_nr_to_pfn(nr)), &pte, level);
}

static int state_setter(void)
{
	struct sim_config cfg = { .ram_size = MiB(512) };
	CHECK_RC(sim_boot(&cfg));
	mem_hotplug_begin(); // what hotplug.c will hold around these steps
	unsigned long online = section_count(SECTION_ONLINE), absent = section_count(SECTION_ABSENT);
	CHECK_EQ(online, 4);
	CHECK_EQ(absent, nr_mem_sections - 4);
	unsigned long nr, n = 0;
	for_each_section_in_state(nr, SECTION_ONLINE)
		n++;
	CHECK_EQ(n, 4);
	for_each_section_in_state(nr, SECTION_PRESENT)
		return test_fail(__FILE__, __LINE__, "present section %lu", nr), 1;
	log_clear();
	CHECK_EQ(section_set_state(16, SECTION_PRESENT, SECTION_ABSENT), -EBUSY);
	CHECK(log_has("section 16: invalid state online"));
	CHECK_EQ(section_state(16), SECTION_ONLINE);
	CHECK_EQ(section_count(SECTION_ONLINE), online);
	CHECK_EQ(section_set_state(nr_mem_sections, SECTION_ABSENT, SECTION_PRESENT), -EINVAL);
	CHECK_RC(section_set_state(100, SECTION_ABSENT, SECTION_PRESENT));
	CHECK_EQ(section_count(SECTION_PRESENT), 1);
	CHECK_EQ(section_count(SECTION_ABSENT), absent - 1);
	CHECK(sizeof(struct mem_section) == 16);
	return 0;
}

static int boot_leaves(void)
{
	// 384 MiB: sections 16, 17 (a pair: one 2 MiB leaf) and 18 (alone: 4 KiB leaves).
	struct sim_config cfg = { .ram_size = MiB(384) };
	CHECK_RC(sim_boot(&cfg));
	mem_hotplug_begin(); // what hotplug.c will hold around these steps
	unsigned l;
	CHECK_RC(memmap_level(16, &l));
	CHECK_EQ(l, 1);
	CHECK_RC(memmap_level(17, &l));
	CHECK_EQ(l, 1);
	CHECK_RC(memmap_level(18, &l));
	CHECK_EQ(l, 0);
	CHECK_EQ(vmemmap_bytes(), MiB(3)); // exactly 32 bytes per 4 KiB page
	CHECK(vmemmap_bytes() * 1000 <= MiB(384) * 8);
	return 0;
}

static int hot_sections_no_leak(void)
{
	struct sim_config cfg = { .ram_size = GiB(1) };
	CHECK_RC(sim_boot(&cfg));
	mem_hotplug_begin(); // what hotplug.c will hold around these steps
	uint64_t free0 = total_free_pages(), pt0 = kpt_pgtable_pages(), mm0 = vmemmap_bytes();
	unsigned long a = 41; // odd: its pair is 40
	CHECK_RC(section_set_state(a, SECTION_ABSENT, SECTION_PRESENT));
	CHECK_RC(vmemmap_populate(a, 1, NULL));
	unsigned l;
	CHECK_RC(memmap_level(a, &l));
	CHECK_EQ(l, 0);
	CHECK_EQ(vmemmap_bytes(), mm0 + MiB(1));
	CHECK_EQ(vmemmap_populate(a, 1, NULL), -EEXIST);
	// The neighbour joins the same 4 KiB table.
	CHECK_RC(vmemmap_populate(40, 1, NULL));
	CHECK_RC(memmap_level(40, &l));
	CHECK_EQ(l, 0);
	pfn_to_page(section_nr_to_pfn(40))->flags = 0; // descriptors are usable memory
	pfn_to_page(section_nr_to_pfn(42) - 1)->flags = 0;
	CHECK_RC(vmemmap_depopulate(40, 2, NULL));
	CHECK_EQ(memmap_level(40, &l), -ENOENT);
	CHECK_EQ(memmap_level(41, &l), -ENOENT);
	CHECK_EQ(vmemmap_bytes(), mm0);
	CHECK_EQ(kpt_pgtable_pages(), pt0);
	page_alloc_drain_local();
	CHECK_EQ(total_free_pages(), free0);
	return 0;
}

static int shared_2m(void)
{
	struct sim_config cfg = { .ram_size = GiB(1) };
	CHECK_RC(sim_boot(&cfg));
	mem_hotplug_begin(); // what hotplug.c will hold around these steps
	uint64_t free0 = total_free_pages(), pt0 = kpt_pgtable_pages(), mm0 = vmemmap_bytes();
	CHECK_RC(vmemmap_populate(60, 2, NULL));
	unsigned l;
	CHECK_RC(memmap_level(60, &l));
	CHECK_EQ(l, 1);
	CHECK_EQ(vmemmap_bytes(), mm0 + SZ_2M);
	// Remove one: the block stays for the other.
	CHECK_RC(vmemmap_depopulate(60, 1, NULL));
	CHECK_RC(memmap_level(61, &l));
	CHECK_EQ(l, 1);
	pfn_to_page(section_nr_to_pfn(61))->flags = 0;
	CHECK_EQ(vmemmap_bytes(), mm0 + SZ_2M);
	// Repopulate 60 alone: shares the existing leaf.
	CHECK_RC(vmemmap_populate(60, 1, NULL));
	CHECK_EQ(vmemmap_bytes(), mm0 + SZ_2M);
	CHECK_RC(vmemmap_depopulate(61, 1, NULL));
	CHECK_RC(memmap_level(60, &l));
	CHECK_RC(vmemmap_depopulate(60, 1, NULL));
	CHECK_EQ(memmap_level(60, &l), -ENOENT);
	CHECK_EQ(vmemmap_bytes(), mm0);
	CHECK_EQ(kpt_pgtable_pages(), pt0);
	page_alloc_drain_local();
	CHECK_EQ(total_free_pages(), free0);
	return 0;
}

static int altmap(void)
{
	struct sim_config cfg = { .ram_size = GiB(2), .mem_limit = GiB(1) };
	CHECK_RC(sim_boot(&cfg));
	mem_hotplug_begin(); // what hotplug.c will hold around these steps
	uint64_t free0 = total_free_pages(), mm0 = vmemmap_bytes(), pt0 = kpt_pgtable_pages();
	unsigned long nr = (SIM_RAM_BASE + GiB(1)) >> SECTION_SHIFT;
	CHECK_RC(directmap_map(SIM_RAM_BASE + GiB(1), 3 * SECTION_SIZE));
	struct vmem_altmap am = { .base_pfn = section_nr_to_pfn(nr), .free = 3 * 256 };
	CHECK_RC(vmemmap_populate(nr, 3, &am));
	// Pair -> one 2 MiB leaf from the range itself (512 pages), the third alone (256 pages).
	CHECK_EQ(am.alloc, 768);
	unsigned l;
	CHECK_RC(memmap_level(nr, &l));
	CHECK_EQ(l, 1);
	CHECK_RC(memmap_level(nr + 2, &l));
	CHECK_EQ(l, 0);
	// Only page tables came from the allocator, no descriptor memory.
	CHECK_EQ(free0 - total_free_pages(), kpt_pgtable_pages() - pt0);
	CHECK(section_get(nr)->flags & SECTION_MEMMAP_ON_MEMORY);
	CHECK_EQ(vmemmap_bytes(), mm0 + MiB(3));
	// Not enough room in the altmap: fails, nothing left populated.
	struct vmem_altmap small = { .base_pfn = section_nr_to_pfn(nr + 4), .free = 100 };
	CHECK_EQ(vmemmap_populate(nr + 4, 2, &small), -ENOMEM);
	CHECK_EQ(memmap_level(nr + 4, &l), -ENOENT);
	CHECK(!(section_get(nr + 4)->flags & SECTION_MEMMAP));
	CHECK_RC(vmemmap_depopulate(nr, 3, &am));
	CHECK_EQ(vmemmap_bytes(), mm0);
	return 0;
}

static int touch_unpopulated_faults(void)
{
	struct sim_config cfg = { .ram_size = GiB(1) };
	CHECK_RC(sim_boot(&cfg));
	mem_hotplug_begin(); // what hotplug.c will hold around these steps
	CHECK_RC(vmemmap_populate(50, 1, NULL));
	CHECK_RC(vmemmap_depopulate(50, 1, NULL));
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		struct sigaction sa = { .sa_handler = _exit }; // exit status = signal number
		sigaction(SIGSEGV, &sa, NULL);
		WRITE_ONCE(pfn_to_page(section_nr_to_pfn(50))->flags, 1); // must fault
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	CHECK(WIFSIGNALED(st) || (WIFEXITED(st) && WEXITSTATUS(st) == SIGSEGV));
	return 0;
}

// After boot, changing a section without hotplug_lock held for write is a bug: it panics.
static int unlocked_panics(void)
{
	struct sim_config cfg = { .ram_size = MiB(256) };
	CHECK_RC(sim_boot(&cfg));
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		section_set_state(100, SECTION_ABSENT, SECTION_PRESENT);
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
	pid = fork();
	if (pid == 0) {
		vmemmap_populate(100, 1, NULL);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
	CHECK_EQ(section_state(100), SECTION_ABSENT);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
		CASE(state_setter),
		CASE(boot_leaves),
		CASE(hot_sections_no_leak),
		CASE(shared_2m),
		CASE(altmap),
		CASE(touch_unpopulated_faults),
		CASE(unlocked_panics),
	};
	return test_main("vmemmap", cases, ARRAY_SIZE(cases), argc, argv);
}
