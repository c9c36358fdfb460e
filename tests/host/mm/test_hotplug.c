// SPDX-License-Identifier: MIT
//
// Memory hot(un)plug against the simulated machine: add/online/offline/remove round trips whose
// figures return to where they started, memmap_on_memory, sub-section (2 MiB) online/offline
// against 4 MiB buddy blocks, migration of movable handles, bad input (each case checks that
// nothing changed), every fault-injection point of add, online, offline and remove, an unmovable
// page, a random sequence against a reference model (mmcheck after every step), and the stress
// workload in the foreground and in the background.
//
// Interface: main() runs the "hotplug" case table (one case by name: test_hotplug CASE).

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rvmm/arch_cpu.h>
#include <rvmm/console.h>
#include <rvmm/errno.h>
#include <rvmm/fault_inject.h>
#include <rvmm/hotplug.h>
#include <rvmm/kpt.h>
#include <rvmm/mem_ranges.h>
#include <rvmm/memblock.h>
#include <rvmm/migrate.h>
#include <rvmm/page_alloc.h>
#include <rvmm/section.h>
#include <rvmm/stress.h>

#include "sim.h"
#include "test.h"

#define HOT (SIM_RAM_BASE + GiB(1)) /* 0xc0000000: what mem=1G hides of 4 GiB */
#define HOT_NR (HOT >> SECTION_SHIFT)

static int boot4g(void)
{
	struct sim_config cfg = { .ram_size = GiB(4), .mem_limit = GiB(1) };
	return sim_boot(&cfg);
}

// Everything a failed step must leave as it was.
struct snap {
	uint64_t managed[NR_ZONES], free[NR_ZONES], pgtables, memmap;
	unsigned long count[NR_SECTION_STATES];
	struct mem_section sec[64]; // sections HOT_NR - 8 .. + 56
	uint64_t isolated[NR_ZONES];
};

static void take(struct snap *s)
{
	while (deferred_init_step()) // boot sections' SECTION_DEFERRED is not what we compare
		;
	page_alloc_drain_local();
	memset(s, 0, sizeof(*s));
	for (int z = 0; z < NR_ZONES; z++) {
		s->managed[z] = zone_managed_pages(z);
		s->free[z] = zone_free_pages(z);
		s->isolated[z] = node_zones[0][z].nr_isolated_free;
	}
	s->pgtables = kpt_pgtable_pages();
	s->memmap = vmemmap_bytes();
	for (int i = 0; i < NR_SECTION_STATES; i++)
		s->count[i] = section_count(i);
	for (int i = 0; i < 64; i++) {
		struct mem_section *ms = section_get(HOT_NR - 8 + i);
		if (ms)
			s->sec[i] = *ms;
	}
}

static int same(const struct snap *a, const char *what)
{
	struct snap b;
	take(&b);
	for (int z = 0; z < NR_ZONES; z++) {
		if (a->managed[z] != b.managed[z] || a->free[z] != b.free[z] || a->isolated[z] != b.isolated[z]) {
			test_fail(__FILE__, __LINE__, "%s: zone %d managed %lu->%lu free %lu->%lu isolated %lu->%lu", what, z,
				  (unsigned long)a->managed[z], (unsigned long)b.managed[z], (unsigned long)a->free[z],
				  (unsigned long)b.free[z], (unsigned long)a->isolated[z], (unsigned long)b.isolated[z]);
			return 1;
		}
	}
	if (a->pgtables != b.pgtables || a->memmap != b.memmap) {
		test_fail(__FILE__, __LINE__, "%s: page tables %lu->%lu memmap %lu->%lu", what,
			  (unsigned long)a->pgtables, (unsigned long)b.pgtables, (unsigned long)a->memmap,
			  (unsigned long)b.memmap);
		return 1;
	}
	// Whether a section's descriptors were written yet (SECTION_DEFERRED) is not part of its
	// state: using it, or isolating it for an offline that then rolls back, writes them (the
	// counts compared above stay the same).
	struct mem_section sa[64], sb[64];
	memcpy(sa, a->sec, sizeof(sa));
	memcpy(sb, b.sec, sizeof(sb));
	for (int i = 0; i < 64; i++) {
		sa[i].flags &= (uint8_t)~SECTION_DEFERRED;
		sb[i].flags &= (uint8_t)~SECTION_DEFERRED;
	}
	if (memcmp(a->count, b.count, sizeof(a->count)) || memcmp(sa, sb, sizeof(sa))) {
		test_fail(__FILE__, __LINE__, "%s: section states changed", what);
		return 1;
	}
	return sim_check_buddy(NULL, 0, 0);
}

#define CHECK_SAME(s, what)            \
	do {                           \
		if (same((s), (what))) \
			return 1;      \
	} while (0)

static int plug(phys_addr_t pa, uint64_t size, unsigned flags, enum zone_type z)
{
	int rc = add_memory(pa, size, flags);
	return rc ? rc : online_pages(PFN_DOWN(pa), size >> PAGE_SHIFT, z);
}

static int unplug(phys_addr_t pa, uint64_t size)
{
	int rc = offline_pages(PFN_DOWN(pa), size >> PAGE_SHIFT);
	return rc ? rc : remove_memory(pa, size);
}


// Allocate n movable blocks of orders 0..2 and mark word 0 of each with tag + i. Each must land
// in the hot-added range: movable allocations prefer ZONE_MOVABLE, where it was onlined.
static int fill_hot_movables(struct movable *m, int n, uint64_t tag)
{
	for (int i = 0; i < n; i++) {
		m[i] = (struct movable)MOVABLE_INIT;
		CHECK_RC(movable_alloc(&m[i], i % 3));
		CHECK(movable_pfn(&m[i]) >= PFN_DOWN(HOT));
		uint64_t *p = movable_pin(&m[i]);
		p[0] = tag + i;
		movable_unpin(&m[i]);
	}
	return 0;
}
static int round_trip(unsigned flags)
{
	CHECK_RC(boot4g());
	struct snap s0;
	take(&s0);
	CHECK_RC(add_memory(HOT, GiB(3), flags));
	CHECK_EQ(section_count(SECTION_PRESENT), 24);
	CHECK_EQ(total_managed_pages(), s0.managed[0] + s0.managed[1]); // added, not online
	CHECK(section_get(HOT_NR)->flags & SECTION_DEFERRED); // no descriptor written
	CHECK_RC(online_pages(PFN_DOWN(HOT), GiB(3) >> PAGE_SHIFT, ZONE_MOVABLE));
	CHECK_EQ(zone_managed_pages(ZONE_MOVABLE), GiB(3) >> PAGE_SHIFT);
	uint64_t own = flags ? 24 * 256 : 0; // memmap_on_memory pages: managed, in use
	CHECK_EQ(zone_free_pages(ZONE_MOVABLE), (GiB(3) >> PAGE_SHIFT) - own);
	if (flags)
		CHECK_EQ(zone_free_pages(ZONE_NORMAL), s0.free[ZONE_NORMAL] - (kpt_pgtable_pages() - s0.pgtables));
	else
		CHECK_EQ(vmemmap_bytes() - s0.memmap, MiB(24));
	if (sim_check_buddy(NULL, 0, 0))
		return 1;
	// Some movable use of it, moved out by offline.
	static struct movable m[64];
	if (fill_hot_movables(m, 64, 0x1234))
		return 1;
	log_clear();
	CHECK_EQ(remove_memory(HOT, GiB(3)), -EBUSY); // refused: online memory holds data
	CHECK(log_has("is online (offline it first)"));
	log_clear();
	CHECK_RC(offline_pages(PFN_DOWN(HOT), GiB(3) >> PAGE_SHIFT));
	for (int i = 0; i < 64; i++) {
		CHECK(movable_pfn(&m[i]) < PFN_DOWN(HOT));
		uint64_t *p = movable_pin(&m[i]);
		CHECK_EQ(p[0], 0x1234 + i);
		movable_unpin(&m[i]);
		CHECK_EQ(m[i].moves, 1);
		movable_free(&m[i]);
	}
	CHECK_RC(remove_memory(HOT, GiB(3)));
	CHECK_SAME(&s0, "after add+online+offline+remove");
	CHECK(!log_has("<err>"));
	return 0;
}

static int round_trip_3g(void) { return round_trip(0); }
static int round_trip_memmap_on_memory(void) { return round_trip(MHP_MEMMAP_ON_MEMORY); }

static int commands(void)
{
	CHECK_RC(boot4g());
	struct snap s0;
	take(&s0);
	log_clear();
	CHECK_RC(sim_run("plug 0xc0000000 3G"));
	CHECK(log_has("plug: 3072 MiB at 0xc0000000 in "));
	CHECK(log_has("KiB/GiB)"));
	CHECK_EQ(sim_run("hotremove 0xc0000000 3G"), -EBUSY);
	CHECK(log_has("section 24 is online (offline it first)"));
	log_clear();
	CHECK_RC(sim_run("sections"));
	CHECK(log_has("           24  0x0000c0000000-0x0000c8000000  online   Movable      32768  hotplug deferred\n"));
	CHECK_RC(sim_run("unplug 0xc0000000 3G"));
	CHECK(log_has("unplug: 3072 MiB at 0xc0000000 in "));
	CHECK_RC(sim_run("hotadd 0xc0000000 256M memmap_on_memory"));
	CHECK_RC(sim_run("online 0xc0000000 2M normal"));
	log_clear();
	CHECK_RC(sim_run("sections"));
	CHECK(log_has("online   Normal         256  hotplug memmap_on_memory deferred partly online (1 of 64 x 2 MiB)"));
	CHECK(log_has("           25  0x0000c8000000-0x0000d0000000  present  -                0  hotplug memmap_on_memory deferred\n"));
	CHECK_RC(sim_run("offline 0xc0000000 2M"));
	CHECK_RC(sim_run("hotremove 0xc0000000 256M"));
	CHECK_SAME(&s0, "after the commands");
	return 0;
}

// Bad input: a clear message, an error, and nothing changed.
struct bad_case {
	const char *line;
	int rc;
	const char *msg;
};

// Each line gets its error and message and changes nothing.
static int run_bad_cases(const struct bad_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct snap s0;
		take(&s0);
		log_clear();
		int rc = sim_run(cases[i].line);
		if (rc != cases[i].rc || !log_has(cases[i].msg)) {
			test_fail(__FILE__, __LINE__, "'%s': rc %d (want %d), log: %s", cases[i].line, rc,
				  cases[i].rc, log_text());
			return 1;
		}
		CHECK_SAME(&s0, cases[i].line);
	}
	return 0;
}

static int bad_ranges(void)
{
	static const struct bad_case cases[] = {
		{ "hotadd 0xc0001000 128M", -EINVAL, "not aligned to sections" },
		{ "hotadd 0xc0000000 100M", -EINVAL, "not aligned to sections" },
		{ "hotadd 0xc0000000 0", -EINVAL, "not aligned to sections" },
		{ "hotadd 0x100000000000 128M", -ERANGE, "beyond the highest address rvmm maps" },
		{ "hotadd 0x10000000000 128M", -EINVAL, "0x10000000000 is not RAM the device tree describes" },
		{ "hotadd 0x80000000 128M", -EEXIST, "section 16 at 0x80000000 is already added" },
		{ "hotadd 0x170000000 512M", -EINVAL, "0x180000000 is not RAM the device tree describes" },
		{ "hotadd 0xc8000000 128M", -EEXIST, "section 25 at 0xc8000000 is already added" },
		{ "hotadd 0xc0000000 512M", -EEXIST, "is already added" },
		{ "hotremove 0xd0000000 128M", -ENOENT, "section 26 is not added" },
		{ "hotremove 0xc0000000 128M", -EBUSY, "section 24 is online" },
		{ "hotremove 0xc8000000 128M", -EBUSY, "section 25 is online" },
		{ "hotremove 0x80000000 128M", -EBUSY, "section 16 is online" },
		{ "hotremove 0xc0000000 64M", -EINVAL, "not aligned to sections" },
		{ "online 0xd0000000 2M", -ENOENT, "section 26 is not added" },
		{ "online 0xc8000000 2M", -EBUSY, "part of it is online already" },
		{ "online 0xc8000000 2M normal", -EINVAL, "already online in zone Movable" },
		{ "online 0xc8100000 2M", -EINVAL, "not aligned to 2 MiB" },
		{ "offline 0xd0000000 2M", -EINVAL, "not all of it is online" },
		{ "offline 0xc8000000 256M", -EINVAL, "not all of it is online" },
		{ "offline 0xc8000000 3M", -EINVAL, "not aligned to 2 MiB" },
		{ "offline 0xc7800000 16M", -EINVAL, "spans two zones" },
		{ "plug 0xc8000000 128M", -EEXIST, "plug: stopped at hotadd" },
		{ "unplug 0xd0000000 128M", -EINVAL, "unplug: stopped at offline" },
	};
	CHECK_RC(boot4g());
	CHECK_RC(plug(HOT, MiB(128), 0, ZONE_NORMAL));
	CHECK_RC(plug(HOT + MiB(128), MiB(128), 0, ZONE_MOVABLE));
	return run_bad_cases(cases, ARRAY_SIZE(cases));
}

// Walk every failure point of op: fail its 1st, 2nd, ... allocation until it succeeds without
// one. Each failure must leave everything as it was. Returns the number of failure points.
static int walk_failures(int (*op)(void), int (*undo)(void), int *points)
{
	for (unsigned long n = 1; n < 64; n++) {
		struct snap s0;
		take(&s0);
		log_clear();
		fault_inject_set(n);
		int rc = op();
		if (!rc) {
			bool fired = fault_inject_get() == 0;
			fault_inject_set(0);
			CHECK_RC(undo());
			if (fired) // a failure it works around (a 2 MiB memmap block -> 4 KiB leaves)
				continue;
			*points = (int)n - 1; // nothing failed: every point was walked
			return 0;
		}
		CHECK(log_has("failed on purpose"));
		CHECK_EQ(fault_inject_get(), 0);
		char what[64];
		snprintf(what, sizeof(what), "failure point %lu (rc %d)", n, rc);
		CHECK_SAME(&s0, what);
	}
	test_fail(__FILE__, __LINE__, "more than 63 failure points?");
	return 1;
}

static phys_addr_t fx_pa;
static uint64_t fx_size;
static unsigned fx_flags;
static int fx_add(void) { return add_memory(fx_pa, fx_size, fx_flags); }
static int fx_remove(void) { return remove_memory(fx_pa, fx_size); }
static int fx_online(void) { return online_pages(PFN_DOWN(fx_pa), fx_size >> PAGE_SHIFT, ZONE_MOVABLE); }
static int fx_offline(void) { return offline_pages(PFN_DOWN(fx_pa), fx_size >> PAGE_SHIFT); }
static int fx_none(void) { return 0; }

static int failalloc_add(void)
{
	// RAM far up too: a new section-table chunk, new vmemmap and direct-map tables.
	struct sim_config cfg = { .nr_ram = 2, .mem_limit = GiB(1),
				  .ram = { { SIM_RAM_BASE, GiB(1) }, { GiB(96) + MiB(128), MiB(384) } } };
	CHECK_RC(sim_boot(&cfg));
	static const struct { phys_addr_t pa; uint64_t size; unsigned flags; int min_points; } cases[] = {
		{ GiB(96) + MiB(128), MiB(128), 0, 4 },                 // chunk, memmap, tables
		{ GiB(96) + MiB(128), MiB(384), MHP_MEMMAP_ON_MEMORY, 3 }, // chunk, tables, no memmap
		{ GiB(96) + MiB(256), MiB(256), 0, 3 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		fx_pa = cases[i].pa;
		fx_size = cases[i].size;
		fx_flags = cases[i].flags;
		int points = 0;
		if (walk_failures(fx_add, fx_remove, &points))
			return 1;
		fprintf(stderr, "hotplug/failure points: add case %zu: %d\n", i, points);
		if (points < cases[i].min_points) {
			test_fail(__FILE__, __LINE__, "case %zu: %d failure points, expected >= %d", i, points,
				  cases[i].min_points);
			return 1;
		}
	}
	return 0;
}

static int failalloc_online_offline_remove(void)
{
	CHECK_RC(boot4g());
	fx_pa = HOT;
	fx_size = MiB(256);
	CHECK_RC(add_memory(fx_pa, fx_size, 0));
	int points[4] = { 0 };
	// Online allocates nothing; its one failure point is "going online".
	if (walk_failures(fx_online, fx_offline, &points[1]))
		return 1;
	CHECK_EQ(points[1], 1);
	CHECK_RC(fx_online());
	// Offline with movable blocks of each order to migrate: "going offline", the drain (both
	// roll back), then the first migration target (retried: the step succeeds, and the blocks
	// are out of the range from then on).
	static struct movable m[12];
	if (fill_hot_movables(m, 12, 0xabc0))
		return 1;
	if (walk_failures(fx_offline, fx_online, &points[2]))
		return 1;
	CHECK_EQ(points[2], 3);
	CHECK_RC(fx_offline());
	for (int i = 0; i < 12; i++) {
		CHECK(movable_pfn(&m[i]) < PFN_DOWN(HOT));
		uint64_t *p = movable_pin(&m[i]);
		CHECK_EQ(p[0], 0xabc0 + i);
		movable_unpin(&m[i]);
		movable_free(&m[i]);
	}
	// Each migration target allocation failing alone: retried, the step succeeds.
	CHECK_RC(fx_online());
	int targets = 0;
	for (int n = 3;; n++) {
		struct movable t = MOVABLE_INIT;
		CHECK_RC(movable_alloc(&t, 1));
		CHECK(movable_pfn(&t) >= PFN_DOWN(HOT));
		fault_inject_set((unsigned long)n);
		CHECK_RC(fx_offline());
		bool fired = fault_inject_get() == 0;
		fault_inject_set(0);
		CHECK(movable_pfn(&t) < PFN_DOWN(HOT));
		movable_free(&t);
		if (sim_check_buddy(NULL, 0, 0))
			return 1;
		if (!fired)
			break;
		targets++;
		CHECK_RC(fx_online());
	}
	CHECK_EQ(targets, 1);
	// Remove: one section out of a 1 GiB direct-map leaf needs a split table.
	CHECK_RC(remove_memory(HOT, MiB(256)));
	CHECK_RC(add_memory(HOT, GiB(1), 0));
	fx_pa = HOT + MiB(512);
	fx_size = MiB(128);
	if (walk_failures(fx_remove, fx_none, &points[3]))
		return 1;
	CHECK_EQ(points[3], 1);
	fprintf(stderr, "hotplug/failure points: online %d, offline %d (2 rolled back, 1 migration "
		"target retried), remove %d\n", points[1], points[2], points[3]);
	return 0;
}

static int unmovable_busy(void)
{
	CHECK_RC(boot4g());
	CHECK_RC(plug(HOT, MiB(128), 0, ZONE_NORMAL));
	deferred_init_pfn(PFN_DOWN(HOT)); // its free pages on the lists, first in line
	// Kernel allocations until one lands in the hot-added range.
	struct page *in = NULL;
	void *others[4096];
	int n = 0;
	while (!in && n < 4096) {
		struct page *p = alloc_pages(0, GFP_KERNEL);
		CHECK(p);
		if (page_to_pfn(p) >= PFN_DOWN(HOT))
			in = p;
		else
			others[n++] = p;
	}
	while (n)
		free_pages(others[--n], 0);
	CHECK(in);
	struct snap s0;
	take(&s0);
	log_clear();
	CHECK_EQ(offline_pages(PFN_DOWN(HOT), PAGES_PER_SECTION), -EBUSY);
	char msg[80];
	snprintf(msg, sizeof(msg), "unmovable page at pfn 0x%lx", (unsigned long)page_to_pfn(in));
	CHECK(log_has(msg));
	CHECK(log_has("range left online"));
	CHECK_SAME(&s0, "after a refused offline");
	free_pages(in, 0);
	return unplug(HOT, MiB(128));
}

static int no_target_busy(void)
{
	// Movable pages that have nowhere to go: offline gives up and undoes the isolation.
	struct sim_config cfg = { .ram_size = GiB(2), .mem_limit = MiB(256) };
	CHECK_RC(sim_boot(&cfg));
	phys_addr_t pa = SIM_RAM_BASE + MiB(256);
	CHECK_RC(plug(pa, MiB(128), 0, ZONE_MOVABLE));
	static struct movable m[131072];
	int n = 0;
	for (; n < 131072; n++) {
		m[n] = (struct movable)MOVABLE_INIT;
		if (movable_alloc(&m[n], 0))
			break;
	}
	CHECK(n > 32768 && n < 131072);
	struct snap s0;
	take(&s0);
	log_clear();
	CHECK_EQ(offline_pages(PFN_DOWN(pa), PAGES_PER_SECTION), -EBUSY);
	CHECK(log_has("no memory to migrate them to"));
	CHECK_SAME(&s0, "after an offline without targets");
	while (n--)
		movable_free(&m[n]);
	return unplug(pa, MiB(128));
}

static int subsection(void)
{
	CHECK_RC(boot4g());
	pfn_t s = PFN_DOWN(HOT);
	CHECK_RC(add_memory(HOT, MiB(128), 0));
	struct snap s0;
	take(&s0);
	// 2 MiB alone: online, never merging with its offline buddy.
	CHECK_RC(online_pages(s + 1536, 512, ZONE_MOVABLE));
	CHECK_EQ(online_pages_in_range(s, PAGES_PER_SECTION), 512);
	CHECK_EQ(section_state(HOT_NR), SECTION_ONLINE);
	deferred_init_pfn(s); // the descriptors, as the allocator's first use would write them
	CHECK(pfn_to_page(s + 1024)->flags & PG_offline);
	CHECK_EQ(pfn_to_page(s + 1536)->order, 9);
	if (sim_check_buddy(NULL, 0, 0))
		return 1;
	// Its buddy too: one 4 MiB block.
	CHECK_RC(online_pages(s + 1024, 512, ZONE_MOVABLE));
	CHECK_EQ(pfn_to_page(s + 1024)->order, 10);
	CHECK(pfn_to_page(s + 1024)->flags & PG_buddy);
	// Offline the upper half: the free 4 MiB block is split.
	CHECK_RC(offline_pages(s + 1536, 512));
	CHECK_EQ(pfn_to_page(s + 1024)->order, 9);
	CHECK(pfn_to_page(s + 1536)->flags & PG_offline);
	if (sim_check_buddy(NULL, 0, 0))
		return 1;
	// A 4 MiB movable block over both halves, then only the lower half online... not possible:
	// online the upper again, allocate the whole 4 MiB, offline the lower half: the block moves.
	CHECK_RC(online_pages(s + 1536, 512, ZONE_MOVABLE));
	struct movable m = MOVABLE_INIT;
	uint64_t free_before = zone_free_pages(ZONE_MOVABLE);
	CHECK_RC(movable_alloc(&m, 10));
	CHECK_EQ(movable_pfn(&m), s + 1024);
	uint64_t *p = movable_pin(&m);
	for (int i = 0; i < 512 * 1024 / 8; i++)
		p[i * 1] = i * 7;
	movable_unpin(&m);
	CHECK_RC(online_pages(s + 2048, 1024, ZONE_MOVABLE)); // somewhere to move to
	CHECK_RC(offline_pages(s + 1536, 512));
	CHECK_EQ(movable_pfn(&m), s + 2048);
	p = movable_pin(&m);
	for (int i = 0; i < 512 * 1024 / 8; i++)
		CHECK_EQ(p[i], (uint64_t)i * 7);
	movable_unpin(&m);
	movable_free(&m);
	CHECK_EQ(zone_free_pages(ZONE_MOVABLE), free_before + 1024 - 512);
	if (sim_check_buddy(NULL, 0, 0))
		return 1;
	CHECK_RC(offline_pages(s + 1024, 512));
	CHECK_RC(offline_pages(s + 2048, 1024));
	CHECK_EQ(section_state(HOT_NR), SECTION_PRESENT);
	CHECK_SAME(&s0, "after sub-section online/offline");
	CHECK_RC(remove_memory(HOT, MiB(128)));
	return 0;
}

// Random operations at 2 MiB granularity over 4 sections against a model of what each should do.
#define MS 4
#define SUBS (MS * 64)
static int random_model(void)
{
	CHECK_RC(boot4g());
	bool present[MS] = { 0 };
	int online[SUBS]; // -1 offline, else zone
	int zone_of[MS];
	for (int i = 0; i < SUBS; i++)
		online[i] = -1;
	static struct movable m[256];
	uint64_t sum[256];
	for (int i = 0; i < 256; i++)
		m[i] = (struct movable)MOVABLE_INIT;
	uint64_t seed = 12345, managed0 = total_managed_pages();
	for (int step = 0; step < 600; step++) {
		uint64_t r = test_rand(&seed);
		int op = (int)(r % 5), a, n;
		bool ok = true;
		int rc = 0;
		if (op <= 1) { // add / remove whole sections
			a = (int)((r >> 8) % MS);
			n = 1 + (int)((r >> 16) % (MS - a));
			for (int i = a; i < a + n; i++)
				for (int j = 0; j < 64; j++)
					if (online[i * 64 + j] >= 0 && op == 1)
						ok = false;
			for (int i = a; i < a + n; i++)
				if (present[i] != (op == 1))
					ok = false;
			rc = op == 0 ? add_memory(HOT + (uint64_t)a * SECTION_SIZE, (uint64_t)n * SECTION_SIZE, (r >> 30) & 1)
				     : remove_memory(HOT + (uint64_t)a * SECTION_SIZE, (uint64_t)n * SECTION_SIZE);
			if (!rc)
				for (int i = a; i < a + n; i++)
					present[i] = op == 0;
		} else if (op <= 3) { // online / offline 2 MiB pieces
			a = (int)((r >> 8) % SUBS);
			n = 1 + (int)((r >> 20) % 24);
			if (a + n > SUBS)
				n = SUBS - a;
			int z = (r >> 40) & 1 ? ZONE_MOVABLE : ZONE_NORMAL;
			for (int i = a; i < a + n; i++) {
				int sec = i / 64;
				if (!present[sec])
					ok = false;
				if (op == 2) {
					if (online[i] >= 0)
						ok = false;
					for (int j = 0; j < 64; j++)
						if (online[sec * 64 + j] >= 0 && zone_of[sec] != z)
							ok = false;
				} else if (online[i] < 0 || online[i] != online[a]) {
					ok = false;
				}
			}
			rc = op == 2 ? online_pages(PFN_DOWN(HOT) + (pfn_t)a * 512, (unsigned long)n * 512, z)
				     : offline_pages(PFN_DOWN(HOT) + (pfn_t)a * 512, (unsigned long)n * 512);
			if (!rc)
				for (int i = a; i < a + n; i++) {
					online[i] = op == 2 ? z : -1;
					if (op == 2)
						zone_of[i / 64] = z;
				}
		} else { // movable allocations come and go (and must survive every offline)
			int k = (int)((r >> 8) % 256);
			if (m[k].page) {
				uint64_t *p = movable_pin(&m[k]);
				CHECK_EQ(p[1], sum[k]);
				movable_unpin(&m[k]);
				movable_free(&m[k]);
			} else if (!movable_alloc(&m[k], (r >> 20) % 3)) {
				uint64_t *p = movable_pin(&m[k]);
				p[1] = sum[k] = r;
				movable_unpin(&m[k]);
			}
			continue;
		}
		if ((rc == 0) != ok) {
			test_fail(__FILE__, __LINE__, "step %d: op %d at %d+%d: rc %d, model says %s", step, op, a, n, rc,
				  ok ? "ok" : "fail");
			return 1;
		}
		// Figures against the model.
		uint64_t on = 0;
		for (int i = 0; i < SUBS; i++)
			on += online[i] >= 0 ? 512 : 0;
		CHECK_EQ(total_managed_pages(), managed0 + on);
		for (int i = 0; i < MS; i++) {
			unsigned long want = !present[i] ? SECTION_ABSENT : SECTION_PRESENT;
			for (int j = 0; j < 64; j++)
				if (online[i * 64 + j] >= 0)
					want = SECTION_ONLINE;
			CHECK_EQ(section_state(HOT_NR + i), want);
		}
		if (step % 50 == 0 && sim_check_buddy(NULL, 0, 0))
			return 1;
		if (sim_mmcheck())
			return 1;
	}
	for (int k = 0; k < 256; k++)
		if (m[k].page) {
			uint64_t *p = movable_pin(&m[k]);
			CHECK_EQ(p[1], sum[k]);
			movable_unpin(&m[k]);
		}
	return sim_check_buddy(NULL, 0, 0);
}

// The stress workload with threads as harts: workers verify movable buffers while hart 0 plugs
// and unplugs 512 MiB; cross-hart drains arrive as simulated IPIs.
static int stress_threads(void)
{
	struct sim_config cfg = { .ram_size = GiB(1) + MiB(512), .mem_limit = GiB(1) };
	CHECK_RC(sim_boot(&cfg));
	sim_set_hart(0, 4);
	struct snap s0;
	take(&s0);
	struct stress_result r;
	int rc = stress_run(2, &r);
	if (rc) {
		test_fail(__FILE__, __LINE__, "stress: %d: %s", rc, r.error);
		return 1;
	}
	CHECK_EQ(r.harts, 4);
	CHECK(r.cycles > 0);
	CHECK(r.migrations > 0);
	CHECK(r.bytes_verified > 0);
	fprintf(stderr, "hotplug/stress_threads: %llu ops, %llu migrations, %llu cycles\n",
		(unsigned long long)r.ops, (unsigned long long)r.migrations, (unsigned long long)r.cycles);
	CHECK_SAME(&s0, "after stress");
	return 0;
}

// stress start/stop: workers (threads as harts) keep verifying buffers in the background while
// hart 0 plugs and unplugs by hand and runs mmcheck (which parks the workers for its walk).
static int stress_background(void)
{
	struct sim_config cfg = { .ram_size = GiB(1) + MiB(512), .mem_limit = GiB(1) };
	CHECK_RC(sim_boot(&cfg));
	sim_set_hart(0, 4);
	struct snap s0;
	take(&s0);
	struct stress_result r;
	CHECK_RC(stress_start(0, &r));
	CHECK_EQ(r.harts, 3);
	CHECK_EQ(stress_start(0, &r), -EBUSY);
	CHECK_EQ(stress_run(1, &r), -EBUSY);
	int cycles = 0;
	for (uint64_t until = arch_time_ns() + 2000000000ULL; arch_time_ns() < until; cycles++) {
		CHECK_RC(plug(GiB(1) + SIM_RAM_BASE, MiB(512), 0, ZONE_MOVABLE));
		usleep(20000); // the workers fill some of it
		CHECK_RC(sim_mmcheck());
		int rc;
		for (int tries = 0; (rc = unplug(GiB(1) + SIM_RAM_BASE, MiB(512))) == -EBUSY && tries < 20; tries++)
			;
		CHECK_RC(rc);
		CHECK_RC(sim_mmcheck());
		CHECK_RC(stress_status(&r));
	}
	CHECK_RC(stress_stop(&r));
	struct stress_result again;
	CHECK_EQ(stress_stop(&again), -ENOENT);
	CHECK(r.ops > 0 && r.bytes_verified > 0);
	CHECK(r.migrations > 0);
	fprintf(stderr, "hotplug/stress_background: %d cycles, %llu ops, %llu migrations\n", cycles,
		(unsigned long long)r.ops, (unsigned long long)r.migrations);
	CHECK_SAME(&s0, "after background stress");
	return 0;
}

// The TLB rule: hart 1 looks at the direct map and the vmemmap of hidden RAM before it is added,
// and its TLB (as the spec allows) keeps those invalid translations. After hart 0 hot-adds the
// range, hart 1 must reach it: only the fence every hart takes after a new mapping makes it so.
// With Svvptc no invalid entry is cached and no remote fence is made.
static int tlb_rule_pass(bool svvptc, phys_addr_t pa)
{
	sim.svvptc = svvptc;
	uintptr_t dm = (uintptr_t)__va(pa), vm = (uintptr_t)pfn_to_page(PFN_DOWN(pa));
	sim_set_hart(1, 2);
	CHECK(!sim_tlb_access(dm));
	CHECK(!sim_tlb_access(vm));
	sim_set_hart(0, 2);
	uint64_t fences = sim.map_fences;
	CHECK_RC(add_memory(HOT, MiB(256), 0));
	CHECK(sim_tlb_access(dm) && sim_tlb_access(vm));
	sim_set_hart(1, 2);
	CHECK(sim_tlb_access(dm));
	CHECK(sim_tlb_access(vm));
	sim_set_hart(0, 2);
	CHECK(svvptc ? sim.map_fences == fences : sim.map_fences > fences);
	CHECK(svvptc || sim.map_fences - fences <= 2); // one per range mapped, not per section
	CHECK_RC(remove_memory(HOT, MiB(256)));
	sim_set_hart(1, 2);
	CHECK(!sim_tlb_access(dm)); // hot-remove fenced every hart
	sim_set_hart(0, 1);
	return 0;
}

static int tlb_rule(void)
{
	CHECK_RC(boot4g());
	CHECK_RC(tlb_rule_pass(false, HOT + MiB(130)));
	CHECK_RC(tlb_rule_pass(true, HOT + MiB(200) + PAGE_SIZE)); // pages hart 1 has not cached
	return 0;
}

// The range registry: a driver's region is added only by its driver; the console refuses to add,
// online, offline or remove any of it, naming the owner; a region overlapping RAM is refused.
static bool never_failed(const struct mem_region *r __unused, unsigned long nr __unused) { return false; }

static int ownership(void)
{
	static const struct mem_region region = { "vmem-test", 0x200000000, 0x240000000, never_failed, NULL, 0 };
	static const struct mem_region clash = { "clash", 0x100000000, 0x280000000, NULL, NULL, 0 };
	CHECK_RC(boot4g());
	CHECK_RC(mem_region_register(&region));
	CHECK_EQ(mem_region_register(&clash), -EEXIST);
	CHECK(log_has("overlaps [0xc0000000-0x180000000) of RAM hidden by mem="));
	struct snap s0;
	take(&s0);
	static const struct bad_case cases[] = {
		{ "hotadd 0x200000000 128M", -EINVAL, "[0x200000000-0x240000000) belongs to vmem-test" },
		{ "hotadd 0x178000000 256M", -EINVAL, "0x180000000 is not RAM the device tree describes" },
	};
	if (run_bad_cases(cases, ARRAY_SIZE(cases)))
		return 1;
	// Its driver may; then the console still may not touch it.
	mem_hotplug_begin();
	CHECK_EQ(__add_memory_driver(NULL, 0x200000000, SECTION_SIZE, 0), -EINVAL);
	CHECK_RC(__add_memory_driver(&region, 0x200000000, SECTION_SIZE, 0));
	CHECK_RC(__online_pages(PFN_DOWN(0x200000000), PAGES_PER_SECTION, ZONE_MOVABLE));
	mem_hotplug_done();
	static const char *const refused[] = { "offline 0x200000000 2M", "hotremove 0x200000000 128M",
					       "online 0x200000000 2M", "unplug 0x200000000 128M" };
	for (size_t i = 0; i < ARRAY_SIZE(refused); i++) {
		log_clear();
		CHECK_EQ(sim_run(refused[i]), -EINVAL);
		CHECK(log_has("belongs to vmem-test (its driver plugs and unplugs it)"));
	}
	log_clear();
	CHECK_RC(sim_run("sections --map"));
	CHECK(log_has("device region vmem-test: 0x000200000000-0x000240000000 (sections 64-71)"));
	mem_hotplug_begin();
	CHECK_RC(__offline_pages(PFN_DOWN(0x200000000), PAGES_PER_SECTION));
	CHECK_RC(__remove_memory(0x200000000, SECTION_SIZE));
	mem_hotplug_done();
	mem_region_unregister(&region);
	CHECK_EQ(sim_run("hotadd 0x200000000 128M"), -EINVAL); // nobody's now: not RAM
	CHECK_SAME(&s0, "after the driver's round trip");
	return 0;
}

// Lazy descriptors: hot-add + online of 3 GiB write no descriptor (the memmap behind them is
// never even touched), offline + remove of never-used sections write none either; the first use
// of a section writes its descriptors (32768), and only its.
static bool memmap_touched(unsigned long nr)
{
	pte_t pte;
	unsigned level;
	if (kpt_lookup((uintptr_t)pfn_to_page(section_nr_to_pfn(nr)), &pte, &level))
		return true;
	phys_addr_t pa = arch_pte_pa(pte) + (level ? (nr & 1) * MiB(1) : 0);
	for (phys_addr_t a = pa; a < pa + MiB(1); a += PAGE_SIZE)
		if (sim_resident(a))
			return true;
	return false;
}

static int lazy_descriptors(void)
{
	CHECK_RC(boot4g());
	struct snap s0;
	take(&s0);
	uint64_t d0 = mhp_stats.desc_bytes, h0 = deferred_hot_descs();
	CHECK_RC(plug(HOT, GiB(3), 0, ZONE_MOVABLE));
	CHECK_EQ(mhp_stats.desc_bytes, d0);
	for (unsigned long nr = HOT_NR; nr < HOT_NR + 24; nr++)
		CHECK((section_get(nr)->flags & SECTION_DEFERRED) && !memmap_touched(nr));
	CHECK_EQ(zone_free_pages(ZONE_MOVABLE), GiB(3) >> PAGE_SHIFT);
	CHECK_EQ(deferred_init_pending(), 24);
	CHECK_RC(sim_mmcheck());
	CHECK_RC(unplug(HOT, GiB(3)));
	CHECK_EQ(mhp_stats.desc_bytes, d0);
	CHECK_EQ(deferred_hot_descs(), h0);
	CHECK_EQ(deferred_init_pending(), 0);
	CHECK_SAME(&s0, "after a lazy round trip");

	// First use: one section's descriptors, then offline writes the others' to isolate them.
	CHECK_RC(plug(HOT, GiB(3), 0, ZONE_MOVABLE));
	struct movable m = MOVABLE_INIT;
	CHECK_RC(movable_alloc(&m, 0));
	CHECK(movable_pfn(&m) >= PFN_DOWN(HOT)); // Movable first: the hot range
	CHECK_EQ(deferred_hot_descs() - h0, PAGES_PER_SECTION);
	CHECK_EQ(mhp_stats.desc_bytes, d0);
	if (sim_check_buddy(NULL, 0, 0))
		return 1;
	CHECK_RC(unplug(HOT, GiB(3)));
	CHECK(movable_pfn(&m) < PFN_DOWN(HOT));
	movable_free(&m);
	CHECK_SAME(&s0, "after a used round trip");

	// Sub-sections of a deferred section: online and offline 2 MiB pieces, still nothing written;
	// then the first use writes them, and the two online halves of a 4 MiB block merge.
	pfn_t s = PFN_DOWN(HOT);
	CHECK_RC(add_memory(HOT, MiB(128), 0));
	CHECK_RC(online_pages(s + 1536, 512, ZONE_MOVABLE));
	CHECK_RC(offline_pages(s + 1536, 512));
	CHECK_EQ(section_state(HOT_NR), SECTION_PRESENT);
	CHECK_RC(online_pages(s + 1536, 512, ZONE_MOVABLE));
	CHECK_RC(online_pages(s + 1024, 512, ZONE_MOVABLE));
	CHECK_EQ(mhp_stats.desc_bytes, d0);
	CHECK(!memmap_touched(HOT_NR));
	CHECK_RC(sim_mmcheck());
	deferred_init_pfn(s);
	CHECK_EQ(pfn_to_page(s + 1024)->order, 10);
	CHECK(pfn_to_page(s)->flags & PG_offline);
	if (sim_check_buddy(NULL, 0, 0))
		return 1;
	CHECK_RC(offline_pages(s + 1024, 1024));
	CHECK_RC(remove_memory(HOT, MiB(128)));
	CHECK_SAME(&s0, "after sub-sections");
	return 0;
}

// A memmap_on_memory section re-added beside a neighbour whose 2 MiB vmemmap leaf still covers it
// takes no memory of its own; when both go, that leaf is freed (found by the fuzzer: a 2 MiB leak).
static int memmap_on_memory_neighbour_leaf(void)
{
	CHECK_RC(boot4g());
	struct snap s0;
	take(&s0);
	CHECK_RC(add_memory(HOT, MiB(256), 0)); // one shared 2 MiB leaf
	CHECK_RC(remove_memory(HOT + MiB(128), MiB(128)));
	CHECK_RC(add_memory(HOT + MiB(128), MiB(128), MHP_MEMMAP_ON_MEMORY));
	CHECK_EQ(section_get(HOT_NR + 1)->nr_vmemmap_pages, 0);
	CHECK_RC(remove_memory(HOT, MiB(128)));
	CHECK_RC(remove_memory(HOT + MiB(128), MiB(128)));
	CHECK_SAME(&s0, "after both are removed");
	return 0;
}

// Hot-remove of 3 GiB fences every hart twice: once for the direct map, once for the vmemmap
// (not once per section or per 2 MiB leaf).
static int remove_fences(void)
{
	CHECK_RC(boot4g());
	CHECK_RC(add_memory(HOT, GiB(3), 0));
	uint64_t f0 = sim.flushes;
	CHECK_RC(remove_memory(HOT, GiB(3)));
	CHECK_EQ(sim.flushes - f0, 2);
	return 0;
}

// Hidden RAM anywhere, whatever mem= says: with the arch's 1 GiB early window reaching hidden RAM
// (512M), a section cut in two (700M: its hidden part is onlined into it), section-aligned cuts
// and one that is not (3G + 1M: cut at 2 MiB). Every hidden byte goes online through the console,
// then everything comes back out, and every figure returns.
static int hidden_one(uint64_t mem)
{
	struct sim_config cfg = { .ram_size = GiB(4), .mem_limit = mem };
	char cmd[96];
	CHECK_RC(sim_boot(&cfg));
	while (deferred_init_step())
		;
	phys_addr_t cut = memblock_mem_limit_pa(), sec = ALIGN_UP(cut, SECTION_SIZE);
	phys_addr_t end = SIM_RAM_BASE + GiB(4);
	CHECK_EQ(cut, SIM_RAM_BASE + ALIGN_DOWN(mem, SZ_2M));
	struct meminfo a, b;
	mm_meminfo(&a);
	struct snap s0;
	take(&s0);
	log_clear();
	CHECK_RC(sim_run("sections --map"));
	snprintf(cmd, sizeof(cmd), "online %llu MiB (Normal %llu, Movable 0)",
		 (unsigned long long)((cut - SIM_RAM_BASE) >> 20), (unsigned long long)((cut - SIM_RAM_BASE) >> 20));
	CHECK(log_has(cmd));
	if (sec > cut) {
		snprintf(cmd, sizeof(cmd), "online 0x%llx 0x%llx", (unsigned long long)cut,
			 (unsigned long long)(sec - cut));
		CHECK_RC(sim_run(cmd));
	}
	snprintf(cmd, sizeof(cmd), "plug 0x%llx 0x%llx", (unsigned long long)sec, (unsigned long long)(end - sec));
	CHECK_RC(sim_run(cmd));
	CHECK_RC(sim_mmcheck());
	mm_meminfo(&b);
	CHECK_EQ(b.total_kb - a.total_kb, (end - cut) >> 10);
	log_clear();
	CHECK_RC(sim_run("sections --map"));
	CHECK(log_has("added but offline 0 MiB"));
	snprintf(cmd, sizeof(cmd), "unplug 0x%llx 0x%llx", (unsigned long long)sec, (unsigned long long)(end - sec));
	CHECK_RC(sim_run(cmd));
	if (sec > cut) {
		snprintf(cmd, sizeof(cmd), "offline 0x%llx 0x%llx", (unsigned long long)cut,
			 (unsigned long long)(sec - cut));
		CHECK_RC(sim_run(cmd));
	}
	CHECK_RC(sim_mmcheck());
	mm_meminfo(&b);
	CHECK_EQ(b.total_kb, a.total_kb);
	CHECK_EQ(b.free_kb, a.free_kb);
	CHECK_SAME(&s0, "after the round trip");
	return 0;
}

static int hidden_512m(void) { return hidden_one(MiB(512)); }
static int hidden_700m(void) { return hidden_one(MiB(700)); }
static int hidden_1536m(void) { return hidden_one(MiB(1536)); }
static int hidden_3g_1m(void) { return hidden_one(GiB(3) + MiB(1)); }

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
		CASE(round_trip_3g),
		CASE(round_trip_memmap_on_memory),
		CASE(commands),
		CASE(bad_ranges),
		CASE(failalloc_add),
		CASE(failalloc_online_offline_remove),
		CASE(unmovable_busy),
		CASE(no_target_busy),
		CASE(subsection),
		CASE(random_model),
		CASE(stress_threads),
		CASE(stress_background),
		CASE(tlb_rule),
		CASE(remove_fences),
		CASE(lazy_descriptors),
		CASE(memmap_on_memory_neighbour_leaf),
		CASE(ownership),
		CASE(hidden_512m),
		CASE(hidden_700m),
		CASE(hidden_1536m),
		CASE(hidden_3g_1m),
	};
	return test_main("hotplug", cases, ARRAY_SIZE(cases), argc, argv);
}
