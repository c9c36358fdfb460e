/* SPDX-License-Identifier: MIT */
/*
 * memtest (kernel/mm/diag/memtest.c), a diagnostic outside the mm core.
 *
 * Interface: memtest, memtest_hook.
 */
#ifndef RVMM_MEMTEST_H
#define RVMM_MEMTEST_H

#include <rvmm/types.h>

/*
 * Take up to size bytes (0 = all) of free memory from the allocator, write and verify two
 * address-dependent patterns, give it back. Prints "memtest: ok (N MiB)" or "memtest: FAILED at
 * pa 0x...". Takes hotplug_lock for reading. Returns 0, -EIO on a mismatch, -ENOMEM if nothing
 * could be taken.
 */
int memtest(uint64_t size);
/* Fault injection for tests: called with the first block taken, between writing and verifying. */
extern void (*memtest_hook)(phys_addr_t pa, uint64_t size);

#endif
