/* SPDX-License-Identifier: MIT */
/*
 * Fault injection (kernel/fault_inject.c), as Linux's should_fail(): make the Nth failure point of
 * the next operation under test fail, once, so that tests (failalloc=N on the command line, host
 * tests, fuzzers) can walk every rollback path.
 *
 * An operation under test (a hot-plug step) brackets itself with fault_inject_begin/end; its
 * failure points are every allocation it makes (alloc_pages) and the points where Linux's memory
 * notifier may veto (hotplug.c). Only the hart that began counts: other harts' allocations are not
 * the operation under test.
 *
 * Interface: fault_inject_set, fault_inject_get, fault_inject_begin, fault_inject_end,
 * should_fail.
 */
#ifndef RVMM_FAULT_INJECT_H
#define RVMM_FAULT_INJECT_H

#include <rvmm/types.h>

/* Arm: the next operation fails its Nth failure point (0: off). */
void fault_inject_set(unsigned long nth);
/* What is armed: N, or 0 once it fired (or when off). */
unsigned long fault_inject_get(void);

/* An operation under test starts / ends on this hart. Not nested; caller serialises them. */
void fault_inject_begin(void);
void fault_inject_end(void);

/*
 * A failure point: true if this is the armed one (then it prints "<what>: failed on purpose
 * (fault injection)" and disarms). Cheap when nothing is armed.
 */
bool should_fail(const char *what);

#endif
