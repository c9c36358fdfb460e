/* SPDX-License-Identifier: MIT */
/*
 * What the fuzz targets that boot the mm simulation (fuzz_console, fuzz_mm) share: boot once,
 * remember the state after boot, and bring the machine back to it after every input, so that
 * each input starts from the same state (a crash reproduces from its input alone) and whatever
 * an input leaked shows up as a difference from the boot figures.
 *
 * Interface: fz_boot, struct fz_snap with fz_snap_take/fz_snap_diff, fz_reset, fz_check_locks,
 * fz_check_mm, fz_boot_piece_zone, FZ_PIECE_PAGES.
 */
#ifndef RVMM_FUZZ_SIM_H
#define RVMM_FUZZ_SIM_H

#include <rvmm/mm.h>
#include <rvmm/section.h>

#include "sim.h"

/* Hot-plug granularity: what online_pages/offline_pages take (2 MiB). */
#define FZ_PIECE_PAGES	      (SZ_2M >> PAGE_SHIFT)
#define FZ_PIECES_PER_SECTION (SECTION_SIZE / SZ_2M)

/* Figures a finished (or failed) step must leave as they were. Per-hart caches drained first. */
struct fz_snap {
	uint64_t managed[NR_ZONES];
	uint64_t free_total;
	uint64_t isolated[NR_ZONES];
	uint64_t pgtables, memmap;
	unsigned long count[NR_SECTION_STATES];
};

/* Boot the simulation (fuzz_fail if it does not) and record the boot state. */
void fz_boot(const struct sim_config *cfg);

void fz_snap_take(struct fz_snap *s);
/* NULL if equal, else a description of the first difference (static buffer). */
const char *fz_snap_diff(const struct fz_snap *a, const struct fz_snap *b);

/* Was this 2 MiB piece online right after boot (and in which zone; -1 if not)? */
int fz_boot_piece_zone(pfn_t pfn);

/*
 * Bring the machine back to the boot state: offline every piece that was not online at boot,
 * remove every section that was not present, online again (in its boot zone) what was offlined.
 * The caller has freed everything it allocated. fuzz_fail if a step fails or if the figures
 * then differ from boot's (something leaked).
 */
void fz_reset(void);

/* fuzz_fail if hotplug_lock, kpt_lock or a zone lock is held, or pages are left isolated. */
void fz_check_locks(const char *after);

/*
 * The kernel's own checker, mm_check (the `mmcheck` command: sections, vmemmap, every online
 * page exactly one of free, cached, in use or reserved, tail pages, free lists against the
 * descriptors, buddies merged, nr_free and managed per zone, nothing left isolated, direct map,
 * page-table counts). It covers everything sim_check_buddy checks without an allocation map, so
 * the fuzzers run it alone. It walks everything, so it runs at the end of each input, after a
 * rollback and after a reset that changed something, not after every step.
 */
void fz_check_mm(const char *after);

#endif
