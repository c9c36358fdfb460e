// SPDX-License-Identifier: MIT
//
// Background work: functions drivers register at probe for idle harts to run (virtio-mem's
// resize worker). The table only grows; a slot is published with a release store after its
// function is written, so idle harts may walk it while a probe adds to it.
//
// Interface: background_work_register, background_work (include/rvmm/kernel.h).

#include <rvmm/errno.h>
#include <rvmm/kernel.h>

#define BACKGROUND_WORK_MAX 8

static bool (*background_fns[BACKGROUND_WORK_MAX])(void);
static unsigned nr_background_fns;

int background_work_register(bool (*fn)(void))
{
	unsigned n = nr_background_fns; /* probes run one at a time, on the boot hart */

	if (n == BACKGROUND_WORK_MAX)
		return -ENOSPC;
	background_fns[n] = fn;
	__atomic_store_n(&nr_background_fns, n + 1, __ATOMIC_RELEASE);
	return 0;
}

bool background_work(void)
{
	unsigned n = __atomic_load_n(&nr_background_fns, __ATOMIC_ACQUIRE);
	bool did = false;

	for (unsigned i = 0; i < n; i++)
		did |= background_fns[i]();
	return did;
}
