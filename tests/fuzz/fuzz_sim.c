// SPDX-License-Identifier: MIT
/*
 * Boot-once, reset-after-every-input for the fuzz targets over the mm simulation (fuzz_sim.h),
 * the invariant checks they share, and the stand-ins those targets need for the arch's console
 * input.
 *
 * Interface: fz_boot, fz_snap_take, fz_snap_diff, fz_boot_piece_zone, fz_reset, fz_check_locks,
 * fz_check_mm, console_poll_input, console_idle.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rvmm/fault_inject.h>
#include <rvmm/hotplug.h>
#include <rvmm/kpt.h>
#include <rvmm/mmcheck.h>
#include <rvmm/page_alloc.h>
#include <rvmm/section.h>

#include "fuzz.h"
#include "fuzz_sim.h"
#include "test.h"

/* kernel/console.c's line editor wants these from the arch; console_loop never runs here. */
int console_poll_input(void)
{
	return -1;
}
void console_idle(void) {}
/* dt_cmds.c's device list (kernel/device.c, libfdt): the fuzzed platform has no tree. */
void dt_print_devices(const void *fdt __unused) {}

/* Sections as boot left them; boot_end: one past the last one not absent. */
static struct mem_section *boot_sec;
static unsigned long boot_nr, boot_end;
static struct fz_snap boot_snap;

void fz_snap_take(struct fz_snap *s)
{
	memset(s, 0, sizeof(*s));
	page_alloc_drain_local();
	for (int z = 0; z < NR_ZONES; z++) {
		s->managed[z] = zone_managed_pages(z);
		s->isolated[z] = node_zones[0][z].nr_isolated_free;
	}
	s->free_total = total_free_pages();
	s->pgtables = kpt_pgtable_pages();
	s->memmap = vmemmap_bytes();
	for (int i = 0; i < NR_SECTION_STATES; i++)
		s->count[i] = section_count(i);
}

const char *fz_snap_diff(const struct fz_snap *a, const struct fz_snap *b)
{
	static char why[256];

	for (int z = 0; z < NR_ZONES; z++)
		if (a->managed[z] != b->managed[z] || a->isolated[z] != b->isolated[z]) {
			snprintf(why, sizeof(why),
				 "zone %d managed %lu -> %lu, isolated %lu -> %lu", z,
				 a->managed[z], b->managed[z], a->isolated[z], b->isolated[z]);
			return why;
		}
	if (a->free_total != b->free_total) {
		snprintf(why, sizeof(why), "free pages %lu -> %lu", a->free_total, b->free_total);
		return why;
	}
	if (a->pgtables != b->pgtables || a->memmap != b->memmap) {
		snprintf(why, sizeof(why), "page-table pages %lu -> %lu, memmap bytes %lu -> %lu",
			 a->pgtables, b->pgtables, a->memmap, b->memmap);
		return why;
	}
	for (int i = 0; i < NR_SECTION_STATES; i++)
		if (a->count[i] != b->count[i]) {
			snprintf(why, sizeof(why), "%s sections %lu -> %lu", section_state_name(i),
				 a->count[i], b->count[i]);
			return why;
		}
	return NULL;
}

void fz_boot(const struct sim_config *cfg)
{
	if (sim_boot(cfg)) {
		log_dump();
		fprintf(stderr, "fuzz: sim_boot failed\n");
		exit(1);
	}
	boot_nr = mm_layout.max_phys >> SECTION_SHIFT;
	boot_sec = calloc(boot_nr, sizeof(*boot_sec));
	for (unsigned long nr = 0; nr < boot_nr; nr++)
		if (section_get(nr)) {
			boot_sec[nr] = *section_get(nr);
			if (boot_sec[nr].state != SECTION_ABSENT)
				boot_end = nr + 1;
		}
	fz_snap_take(&boot_snap);
}

int fz_boot_piece_zone(pfn_t pfn)
{
	unsigned long nr = pfn_to_section_nr(pfn);
	unsigned sub = (unsigned)((pfn % PAGES_PER_SECTION) / FZ_PIECE_PAGES);

	if (nr >= boot_nr || boot_sec[nr].state != SECTION_ONLINE ||
	    !(boot_sec[nr].online_map >> sub & 1))
		return -1;
	return boot_sec[nr].zone;
}

// Offline (or online into zone) each run of consecutive pieces whose bit is set in mask, one
// call per run. Returns the number of calls that failed (the last one described in last).
static int piece_runs(pfn_t base, uint64_t mask, bool offline, int zone, bool *changed, char *last,
		      size_t len)
{
	int failed = 0;

	for (unsigned sub = 0; sub < FZ_PIECES_PER_SECTION;) {
		if (!(mask >> sub & 1)) {
			sub++;
			continue;
		}
		unsigned end = sub;
		while (end < FZ_PIECES_PER_SECTION && mask >> end & 1)
			end++;
		pfn_t pfn = base + sub * FZ_PIECE_PAGES, nr = (end - sub) * FZ_PIECE_PAGES;
		int rc = offline ? offline_pages(pfn, nr) : online_pages(pfn, nr, zone);
		if (rc) {
			snprintf(last, len, "%s pfn 0x%lx +0x%lx: %d", offline ? "offline" : "online",
				 pfn, nr, rc);
			failed++;
		} else {
			*changed = true;
		}
		sub = end;
	}
	return failed;
}

// One past the last section that is not absent now or was not at boot: the reset's scan stops
// there instead of walking every section up to max_phys.
static unsigned long reset_end(void)
{
	unsigned long end = boot_end, nr;

	for_each_section_in_state(nr, SECTION_PRESENT)
		end = MAX(end, nr + 1);
	for_each_section_in_state(nr, SECTION_ONLINE)
		end = MAX(end, nr + 1);
	return MIN(end, boot_nr);
}

// One pass over every section towards its boot state. Returns the number of steps that failed.
static int reset_pass(bool *changed, char *last, size_t len)
{
	unsigned long end = reset_end();
	int failed = 0, rc;

	for (unsigned long nr = 0; nr < end; nr++) {
		const struct mem_section *ms = section_get(nr), *b = &boot_sec[nr];
		pfn_t base = section_nr_to_pfn(nr);

		if (!ms || ms->state == SECTION_ABSENT) {
			if (b->state != SECTION_ABSENT) {
				snprintf(last, len, "boot section %lu was removed", nr);
				failed++;
			}
			continue;
		}
		uint64_t cur = ms->state == SECTION_ONLINE ? ms->online_map : 0;
		uint64_t want = b->state == SECTION_ONLINE ? b->online_map : 0;
		/* Pieces to offline: online but not at boot, or in another zone. Then to online. */
		uint64_t off = ms->zone == b->zone ? cur & ~want : cur;
		failed += piece_runs(base, off, true, 0, changed, last, len);
		failed += piece_runs(base, want & ~cur, false, b->zone, changed, last, len);
		ms = section_get(nr);
		if (b->state == SECTION_ABSENT && ms->state == SECTION_PRESENT) {
			rc = remove_memory(PFN_PHYS(base), SECTION_SIZE);
			if (rc) {
				snprintf(last, len, "remove section %lu: %d", nr, rc);
				failed++;
			} else {
				*changed = true;
			}
		}
	}
	return failed;
}

void fz_reset(void)
{
	char last[128] = "";
	struct fz_snap now;
	const char *diff;
	bool changed = true, reset_anything = false;
	int failed = 0;

	fault_inject_set(0);
	/* A piece of ZONE_NORMAL may hold the vmemmap of a section added later: several passes. */
	for (int pass = 0; pass < 8 && changed; pass++) {
		changed = false;
		failed = reset_pass(&changed, last, sizeof(last));
		reset_anything |= changed;
	}
	FUZZ_CHECK(!failed, "reset: cannot return to the boot state: %d steps fail, last: %s",
		   failed, last);
	/* Nothing done: the state is the one the target has just checked (at the end of its input). */
	if (reset_anything)
		fz_check_mm("the reset to the boot state");
	fz_snap_take(&now);
	diff = fz_snap_diff(&boot_snap, &now);
	FUZZ_CHECK(!diff, "reset: back at the boot state, but %s (a leak)", diff);
}

void fz_check_locks(const char *after)
{
	FUZZ_CHECK(!rw_is_held(&hotplug_lock), "hotplug_lock held after %s", after);
	FUZZ_CHECK(!spin_is_locked(&kpt_lock), "kpt_lock held after %s", after);
	for (int z = 0; z < NR_ZONES; z++) {
		FUZZ_CHECK(!spin_is_locked(&node_zones[0][z].lock), "zone %d lock held after %s", z, after);
		FUZZ_CHECK(node_zones[0][z].nr_isolated_free == 0,
			   "zone %d: %lu pages left isolated after %s", z,
			   node_zones[0][z].nr_isolated_free, after);
	}
}

void fz_check_mm(const char *after)
{
	/* mm_check's problems go to the log; fuzz_fail (fuzz_fail.c) prints it and aborts. */
	FUZZ_CHECK(mm_check() == 0, "after %s: mm_check failed (its lines are in the log)", after);
}
