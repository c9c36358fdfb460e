/* SPDX-License-Identifier: MIT */
/*
 * mmcheck (kernel/mm/diag/mmcheck.c), a diagnostic outside the mm core.
 *
 * Interface: mm_check, __mm_check.
 */
#ifndef RVMM_MMCHECK_H
#define RVMM_MMCHECK_H

/*
 * Check the memory model's invariants (kernel/mm/diag/mmcheck.c, the `mmcheck` command): sections
 * and their vmemmap, every online page in exactly one state, free lists against zone counters,
 * direct-map and vmemmap leaves against the sections, PageTables and Memmap against the tables.
 * Prints "mmcheck: ok (N sections, N pages checked)" or one line per violation (the first 20)
 * and "mmcheck: FAILED (N problems)". Deferred sections (descriptors not written yet) are skipped
 * (and counted). Takes
 * hotplug_lock for reading, kpt_lock and each zone lock in turn; pauses background `stress`.
 * Returns 0 or -EINVAL. __mm_check: the caller holds hotplug_lock (read, or write between two
 * steps: no range may be isolated then).
 */
int mm_check(void);
int __mm_check(void);

#endif
