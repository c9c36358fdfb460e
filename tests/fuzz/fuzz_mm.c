// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the memory model and hot-plug core (kernel/mm over tests/host/sim) driven by
 * a fuzzer-chosen sequence of operations, checked against a reference model after every step.
 *
 * Machine: 640 MiB of RAM at 0x80000000, mem=128M, so section 16 is online at boot and sections
 * 17..19 (384 MiB) are RAM left for hot-add; section 20 holds the DTB (the simulation puts it at
 * the top of RAM below 1 GiB, as OpenSBI does), which keeps it present from boot. Small, so that
 * every walk over the machine (the checks, the reset) is short. Each input is a list of operations, one
 * byte for the kind and a few for the arguments:
 *
 *   alloc      alloc_pages(order 0..10, GFP_KERNEL[|GFP_ZERO]) into one of SLOTS slots
 *   movable    movable_alloc(order 0..10) into a slot (migration may move it)
 *   free       free a slot (its contents checked first)
 *   touch      check a slot's contents (a movable one through its pin)
 *   add        add_memory(sections of the hot area, maybe MHP_MEMMAP_ON_MEMORY)
 *   remove     remove_memory(sections of the hot area)
 *   online     online_pages(2 MiB pieces of the hot area, ZONE_NORMAL or ZONE_MOVABLE)
 *   offline    offline_pages(2 MiB pieces of the hot area): migrates the movable slots in it
 *   bad        one of the four steps on a range that must be refused: unaligned, empty,
 *              wrapping, beyond max_phys, over boot memory, holding the kernel image
 *   failnth    fault injection: the next step fails its Nth allocation (fault_inject_set)
 *   hart       run on another (simulated) hart: a different per-hart page cache
 *
 * The model (struct model) knows which hot sections are present, which pieces are online and in
 * which zone, and what each slot holds. After every step:
 *   - the return code is what the model predicts (hotplug.h's contract), with the latitude the
 *     contract gives: any error under fault injection; -EBUSY offlining ZONE_NORMAL (the
 *     kernel's own allocations may sit there) or with too little free memory to migrate to;
 *   - a failed step changed nothing (figures, section states: fz_snap);
 *   - section states, online pieces and managed pages per zone match the model;
 *   - every slot's memory is still allocated to it, outside offline memory, its contents intact;
 *   - no lock is held, nothing is left isolated; the allocator's invariants hold (mm_check, a
 *     walk over the whole machine) after a step that should have succeeded but failed (a
 *     rollback), and at the end of the input.
 * At the end every slot is freed and the kernel's own checker (mm_check) must pass; then fz_reset
 * returns the machine to its boot state, which must give back the boot figures exactly (no
 * leaked page, table or descriptor) and pass mm_check again if the reset changed anything.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rvmm/errno.h>
#include <rvmm/fault_inject.h>
#include <rvmm/hotplug.h>
#include <rvmm/migrate.h>
#include <rvmm/page_alloc.h>
#include <rvmm/section.h>

#include "fuzz.h"
#include "fuzz_sim.h"

#define RAM_SIZE   MiB(640)
#define BOOT_SIZE  MiB(128)
#define HOT_BASE   (SIM_RAM_BASE + BOOT_SIZE)				   /* 0x88000000 */
#define HOT_SEC0   (HOT_BASE >> SECTION_SHIFT)				   /* 17 */
#define HOT_SECS   ((int)((RAM_SIZE - BOOT_SIZE - SECTION_SIZE) >> SECTION_SHIFT)) /* 3 */
#define HOT_PIECES (HOT_SECS * (int)FZ_PIECES_PER_SECTION)
#define SLOTS	   64
#define MAX_STEPS  64

struct slot {
	bool used, movable;
	unsigned order;
	struct page *page; /* alloc_pages' block (unmovable) */
	struct movable m;  /* movable_alloc's handle */
	uint64_t tag;	   /* what its memory holds */
};

static struct model {
	bool present[HOT_SECS];
	bool memmap_on_memory[HOT_SECS];
	int zone[HOT_SECS]; /* of its online pieces */
	bool online[HOT_PIECES];
	struct slot slot[SLOTS];
	uint64_t managed0[NR_ZONES]; /* at boot */
	uint64_t boot_free;
} M;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sim_config cfg = {.ram_size = RAM_SIZE, .mem_limit = BOOT_SIZE};

	(void)argc;
	(void)argv;
	fz_boot(&cfg);
	for (int z = 0; z < NR_ZONES; z++)
		M.managed0[z] = zone_managed_pages(z);
	for (int i = 0; i < SLOTS; i++)
		M.slot[i].m = (struct movable)MOVABLE_INIT;
	return 0;
}

/* ---- Slots: what they hold ------------------------------------------------------------------- */

static pfn_t slot_pfn(const struct slot *s)
{
	return s->movable ? movable_pfn(&s->m) : page_to_pfn(s->page);
}

// Three words per block: first page, middle, last. Written at allocation, checked ever after.
static void slot_words(void *va, unsigned order, uint64_t **w)
{
	uint64_t pages = 1UL << order;

	w[0] = va;
	w[1] = (uint64_t *)((char *)va + (pages / 2) * PAGE_SIZE) + 7;
	w[2] = (uint64_t *)((char *)va + pages * PAGE_SIZE) - 1;
}

static void *slot_pin(struct slot *s)
{
	return s->movable ? movable_pin(&s->m) : page_address(s->page);
}

static void slot_unpin(struct slot *s)
{
	if (s->movable)
		movable_unpin(&s->m);
}

static void slot_fill(struct slot *s, uint64_t tag)
{
	uint64_t *w[3];

	s->tag = tag;
	slot_words(slot_pin(s), s->order, w);
	for (int i = 0; i < 3; i++)
		*w[i] = tag + (uint64_t)i;
	slot_unpin(s);
}

static void slot_check(struct slot *s, int i)
{
	pfn_t pfn = slot_pfn(s);
	const struct page *p = pfn_to_page(pfn);
	const struct mem_section *ms = section_get(pfn_to_section_nr(pfn));
	uint64_t *w[3];

	FUZZ_CHECK(ms && ms->state == SECTION_ONLINE &&
		       (ms->online_map >> ((pfn % PAGES_PER_SECTION) / FZ_PIECE_PAGES) & 1),
		   "slot %d at pfn 0x%lx is not in online memory", i, pfn);
	FUZZ_CHECK(p->refcount > 0 && !(p->flags & (PG_buddy | PG_pcp | PG_offline)),
		   "slot %d at pfn 0x%lx: flags 0x%x refcount %d: not allocated", i, pfn, p->flags,
		   p->refcount);
	FUZZ_CHECK(!s->movable || p->zone == ZONE_MOVABLE || p->zone == ZONE_NORMAL,
		   "slot %d: zone %u", i, p->zone);
	FUZZ_CHECK(s->movable || p->zone == ZONE_NORMAL, "unmovable slot %d in zone %u", i,
		   p->zone);
	slot_words(slot_pin(s), s->order, w);
	for (int k = 0; k < 3; k++)
		FUZZ_CHECK(*w[k] == s->tag + (uint64_t)k,
			   "slot %d (%s, order %u, pfn 0x%lx): word %d is 0x%lx, was 0x%lx", i,
			   s->movable ? "movable" : "unmovable", s->order, pfn, k, *w[k],
			   s->tag + (uint64_t)k);
	slot_unpin(s);
}

static void slot_free(struct slot *s, int i)
{
	slot_check(s, i);
	if (s->movable)
		movable_free(&s->m);
	else
		free_pages(s->page, s->order);
	s->used = false;
}

/* ---- The model's view of the hot area -------------------------------------------------------- */

// Pages of slots in [start, end) (unmovable or movable).
static uint64_t slot_pages_in(pfn_t start, pfn_t end, bool movable)
{
	uint64_t n = 0;

	for (int i = 0; i < SLOTS; i++) {
		struct slot *s = &M.slot[i];
		pfn_t pfn;

		if (!s->used || s->movable != movable)
			continue;
		pfn = slot_pfn(s);
		if (pfn < end && pfn + (1UL << s->order) > start)
			n += 1UL << s->order;
	}
	return n;
}

// full: also walk the whole machine (mm_check).
static void check_model(const char *after, bool full)
{
	uint64_t on[NR_ZONES] = {0};

	for (int sec = 0; sec < HOT_SECS; sec++) {
		const struct mem_section *ms = section_get(HOT_SEC0 + (unsigned long)sec);
		enum section_state want = M.present[sec] ? SECTION_PRESENT : SECTION_ABSENT;
		uint64_t map = 0;

		for (unsigned j = 0; j < FZ_PIECES_PER_SECTION; j++)
			if (M.online[sec * (int)FZ_PIECES_PER_SECTION + (int)j]) {
				map |= 1ULL << j;
				on[M.zone[sec]] += FZ_PIECE_PAGES;
				want = SECTION_ONLINE;
			}
		FUZZ_CHECK((ms ? ms->state : SECTION_ABSENT) == want,
			   "after %s: section %lu is %s, the model says %s", after,
			   HOT_SEC0 + (unsigned long)sec, section_state_name(ms ? ms->state : 0),
			   section_state_name(want));
		if (want == SECTION_ONLINE)
			FUZZ_CHECK(
			    ms->online_map == map && ms->zone == M.zone[sec],
			    "after %s: section %lu online map 0x%lx zone %u, the model 0x%lx %d",
			    after, HOT_SEC0 + (unsigned long)sec, ms->online_map, ms->zone, map,
			    M.zone[sec]);
	}
	for (int z = 0; z < NR_ZONES; z++)
		FUZZ_CHECK(zone_managed_pages(z) == M.managed0[z] + on[z],
			   "after %s: zone %d manages %lu pages, the model %lu", after, z,
			   zone_managed_pages(z), M.managed0[z] + on[z]);
	for (int i = 0; i < SLOTS; i++)
		if (M.slot[i].used)
			slot_check(&M.slot[i], i);
	fz_check_locks(after);
	if (full)
		fz_check_mm(after);
}

/* ---- The hot-plug steps ---------------------------------------------------------------------- */

enum step { ADD, REMOVE, ONLINE, OFFLINE };
static const char *const step_name[] = {"add", "remove", "online", "offline"};

// What the contract says of step on [pa, pa + size) (sections for add/remove, pieces else).
// Returns true if it must succeed; *may_fail_busy: -EBUSY is acceptable too.
static bool predict(enum step st, int first, int n, int zone, bool *may_fail_busy)
{
	*may_fail_busy = false;
	switch (st) {
	case ADD:
		for (int s = first; s < first + n; s++)
			if (M.present[s])
				return false;
		return true;
	case REMOVE:
		for (int s = first; s < first + n; s++) {
			if (!M.present[s])
				return false;
			for (unsigned j = 0; j < FZ_PIECES_PER_SECTION; j++)
				if (M.online[s * (int)FZ_PIECES_PER_SECTION + (int)j])
					return false;
		}
		return true;
	case ONLINE:
		for (int p = first; p < first + n; p++) {
			int s = p / (int)FZ_PIECES_PER_SECTION;

			if (!M.present[s] || M.online[p])
				return false;
			for (unsigned j = 0; j < FZ_PIECES_PER_SECTION; j++)
				if (M.online[s * (int)FZ_PIECES_PER_SECTION + (int)j] &&
				    M.zone[s] != zone)
					return false;
		}
		return true;
	case OFFLINE: {
		int z = M.zone[first / (int)FZ_PIECES_PER_SECTION];
		pfn_t start = PFN_DOWN(HOT_BASE) + (pfn_t)first * FZ_PIECE_PAGES;
		pfn_t end = start + (pfn_t)n * FZ_PIECE_PAGES;
		uint64_t used;

		for (int p = first; p < first + n; p++)
			if (!M.online[p] || M.zone[p / (int)FZ_PIECES_PER_SECTION] != z)
				return false;
		if (slot_pages_in(start, end, false))
			return false; /* an unmovable slot: -EBUSY for sure */
		/* ZONE_NORMAL also holds the kernel's own pages (vmemmap, page tables). */
		*may_fail_busy = z == ZONE_NORMAL;
		/* Movable slots need somewhere to go; allow for fragmentation (4 MiB blocks). */
		used = slot_pages_in(start, end, true);
		if (used && total_free_pages() < (end - start) + 2 * used + 4 * MAX_ORDER_NR_PAGES)
			*may_fail_busy = true;
		return true;
	}
	}
	return false;
}

static void apply(enum step st, int first, int n, int zone, bool mom)
{
	for (int i = first; i < first + n; i++) {
		switch (st) {
		case ADD:
			M.present[i] = true;
			M.memmap_on_memory[i] = mom;
			break;
		case REMOVE: M.present[i] = false; break;
		case ONLINE:
			M.online[i] = true;
			M.zone[i / (int)FZ_PIECES_PER_SECTION] = zone;
			break;
		case OFFLINE: M.online[i] = false; break;
		}
	}
}

static int run_step(enum step st, phys_addr_t pa, uint64_t size, int zone, unsigned flags)
{
	switch (st) {
	case ADD: return add_memory(pa, size, flags);
	case REMOVE: return remove_memory(pa, size);
	case ONLINE: return online_pages(PFN_DOWN(pa), size >> PAGE_SHIFT, zone);
	case OFFLINE: return offline_pages(PFN_DOWN(pa), size >> PAGE_SHIFT);
	}
	return -EINVAL;
}

static unsigned fail_nth; /* armed by a failnth op for the next step */

// One step on the hot area, against the model.
static void hot_step(enum step st, int first, int n, int zone, bool mom)
{
	bool section_step = st == ADD || st == REMOVE, busy_ok, must;
	uint64_t unit = section_step ? SECTION_SIZE : SZ_2M;
	phys_addr_t pa = HOT_BASE + (uint64_t)first * unit;
	struct fz_snap before, after;
	char what[96];
	const char *diff;
	int rc;

	snprintf(what, sizeof(what), "%s [0x%lx, +0x%lx)%s%s", step_name[st], pa,
		 (uint64_t)n * unit,
		 st == ONLINE ? (zone == ZONE_MOVABLE ? " movable" : " normal") : "",
		 st == ADD && mom ? " memmap_on_memory" : "");
	must = predict(st, first, n, zone, &busy_ok);
	fz_snap_take(&before);
	fault_inject_set(fail_nth);
	rc = run_step(st, pa, (uint64_t)n * unit, zone, mom ? MHP_MEMMAP_ON_MEMORY : 0);
	fault_inject_set(0);
	if (!must)
		FUZZ_CHECK(rc < 0, "%s succeeded; the model says it must fail", what);
	else if (rc)
		/* Fault injection: an allocation (-ENOMEM) or a "going offline" hook (-EIO). */
		FUZZ_CHECK(fail_nth || (busy_ok && rc == -EBUSY),
			   "%s failed (%d); the model says it must succeed", what, rc);
	fail_nth = 0;
	if (rc == 0) {
		apply(st, first, n, zone, mom);
	} else {
		fz_snap_take(&after);
		diff = fz_snap_diff(&before, &after);
		FUZZ_CHECK(!diff, "%s failed (%d) but changed the state: %s", what, rc, diff);
	}
	check_model(what, must && rc);
}

/* Ranges every step must refuse, whatever the state: (start, size) in bytes. */
static void bad_step(struct fuzz_in *in)
{
	static const struct {
		uint64_t pa, size;
	} bad[] = {
	    {HOT_BASE + SZ_2M, SECTION_SIZE},		     /* not section aligned */
	    {HOT_BASE + PAGE_SIZE, SZ_2M},		     /* not 2 MiB aligned */
	    {HOT_BASE, SZ_2M + PAGE_SIZE},		     /* size not a multiple */
	    {HOT_BASE, 0},				     /* empty */
	    {~SECTION_SIZE + 1, SECTION_SIZE},		     /* last section of 2^64 */
	    {~SECTION_SIZE + 1, 2 * SECTION_SIZE},	     /* wraps */
	    {1UL << 41, SECTION_SIZE},			     /* at max_phys (2 TiB) */
	    {(1UL << 41) - SECTION_SIZE, 2 * SECTION_SIZE},  /* across max_phys */
	    {SIM_RAM_BASE, SECTION_SIZE},		     /* boot memory: firmware and kernel */
	    {SIM_RAM_BASE + SZ_2M, SZ_2M},		     /* the kernel image's piece */
	    {HOT_BASE - SECTION_SIZE, SECTION_SIZE},	     /* the last boot section */
	    {SIM_RAM_BASE - SECTION_SIZE, SECTION_SIZE},     /* below RAM: nothing there */
	};
	unsigned k = fin_pick(in, ARRAY_SIZE(bad));
	enum step st = (enum step)fin_pick(in, 4);
	struct fz_snap before, after;
	char what[96];
	const char *diff;
	int rc;

	/*
	 * Not bad for every step: 2 MiB-aligned ranges are fine to online/offline; RAM below
	 * 0x80000000 may be hot-added (nothing says there is none); offlining boot memory that is
	 * all free may succeed.
	 */
	if (k == 0 && (st == ONLINE || st == OFFLINE))
		st = ADD;
	if ((k == 10 && st == OFFLINE) || (k == 11 && st == ADD))
		st = REMOVE;
	snprintf(what, sizeof(what), "%s [0x%lx, +0x%lx) (must fail)", step_name[st], bad[k].pa,
		 bad[k].size);
	fz_snap_take(&before);
	rc = run_step(st, bad[k].pa, bad[k].size, ZONE_MOVABLE, 0);
	FUZZ_CHECK(rc < 0, "%s succeeded", what);
	fz_snap_take(&after);
	diff = fz_snap_diff(&before, &after);
	FUZZ_CHECK(!diff, "%s failed (%d) but changed the state: %s", what, rc, diff);
	check_model(what, false);
}

/* ---- Allocations ----------------------------------------------------------------------------- */

static uint64_t tag_seq;

static void alloc_step(struct fuzz_in *in, bool movable)
{
	int i = fin_pick(in, SLOTS);
	unsigned order = fin_pick(in, MAX_ORDER + 1);
	bool zero = fin_pick(in, 2);
	struct slot *s = &M.slot[i];
	char what[64];

	if (s->used)
		return;
	s->order = order;
	s->movable = movable;
	if (movable) {
		if (movable_alloc(&s->m, order))
			return;
	} else {
		s->page = alloc_pages(order, GFP_KERNEL | (zero ? GFP_ZERO : 0));
		if (!s->page)
			return;
		if (zero) {
			const uint64_t *w = page_address(s->page);
			for (uint64_t k = 0; k < (PAGE_SIZE << order) / 8; k += 511)
				FUZZ_CHECK(w[k] == 0,
					   "GFP_ZERO block pfn 0x%lx not zeroed at word %lu",
					   page_to_pfn(s->page), k);
		}
	}
	s->used = true;
	slot_fill(s, 0x5107000000000000ull | ++tag_seq << 8);
	snprintf(what, sizeof(what), "%s alloc order %u into slot %d",
		 movable ? "movable" : "kernel", order, i);
	check_model(what, false);
}

/* ---- The input ------------------------------------------------------------------------------- */

static void step(struct fuzz_in *in)
{
	int first, n, i;

	switch (fin_pick(in, 13)) {
	case 0:
	case 1: alloc_step(in, false); break;
	case 2:
	case 3: alloc_step(in, true); break;
	case 4:
		i = fin_pick(in, SLOTS);
		if (M.slot[i].used) {
			slot_free(&M.slot[i], i);
			check_model("free", false);
		}
		break;
	case 5:
		i = fin_pick(in, SLOTS);
		if (M.slot[i].used)
			slot_check(&M.slot[i], i);
		break;
	case 6:
		first = fin_pick(in, HOT_SECS);
		n = 1 + fin_pick(in, 4);
		hot_step(ADD, first, MIN(n, HOT_SECS - first), 0, fin_pick(in, 2));
		break;
	case 7:
		first = fin_pick(in, HOT_SECS);
		n = 1 + fin_pick(in, 4);
		hot_step(REMOVE, first, MIN(n, HOT_SECS - first), 0, false);
		break;
	case 8:
	case 9:
		first = (int)(fin_u16(in) % HOT_PIECES);
		n = 1 + fin_pick(in, 128);
		hot_step(ONLINE, first, MIN(n, HOT_PIECES - first),
			 fin_pick(in, 2) ? ZONE_MOVABLE : ZONE_NORMAL, false);
		break;
	case 10:
		first = (int)(fin_u16(in) % HOT_PIECES);
		n = 1 + fin_pick(in, 128);
		hot_step(OFFLINE, first, MIN(n, HOT_PIECES - first), 0, false);
		break;
	case 11:
		if (fin_pick(in, 2))
			bad_step(in);
		else
			fail_nth = 1 + fin_pick(in, 24);
		break;
	case 12: sim_set_hart(fin_pick(in, 4), 4); break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};

	log_clear();
	fail_nth = 0;
	for (int k = 0; k < MAX_STEPS && !fin_empty(&in); k++)
		step(&in);
	for (int i = 0; i < SLOTS; i++)
		if (M.slot[i].used)
			slot_free(&M.slot[i], i);
	sim_set_hart(0, 4);
	check_model("freeing every slot", true); /* mm_check included */
	fz_reset();
	memset(M.present, 0, sizeof(M.present));
	memset(M.online, 0, sizeof(M.online));
	return 0;
}
