/* SPDX-License-Identifier: MIT */
/*
 * The `stress` workload (kernel/mm/diag/stress.c), a diagnostic outside the mm core: harts fill,
 * verify and free checksummed movable buffers (migrate.h) while one plugs and unplugs hidden RAM.
 *
 * Interface: struct stress_result, stress_run, stress_start, stress_status, stress_stop,
 * stress_pause, stress_resume.
 */
#ifndef RVMM_STRESS_H
#define RVMM_STRESS_H

#include <rvmm/types.h>

/*
 * The `stress SECONDS` workload (kernel/mm/diag/stress.c): every idle hart (smp_start_others)
 * and the calling one fill, verify and free movable buffers while the caller plugs and unplugs
 * the first hidden RAM range (if none of it is added) over and over. Returns 0, or -EIO (a byte
 * changed: r->error says where) or the failing step's error.
 */
struct stress_result {
	uint64_t ops, bytes_verified, migrations, cycles, busy_retries;
	unsigned harts;
	int rc;
	char error[200];
};
int stress_run(unsigned seconds, struct stress_result *r);

/*
 * Background mode (`stress start|status|stop`): the workers run on the other idle harts until
 * stress_stop (or for seconds, 0 = no limit) while the caller goes on; no hidden RAM is cycled
 * (whoever drives the console plugs and unplugs). stress_start returns 0, -EBUSY (already
 * running) or -ENODEV (no other hart). stress_status fills the figures so far (-EIO once a byte
 * changed, -ENOENT when not running). stress_stop stops and joins the workers, verifies and
 * frees every buffer and returns like stress_run. Called from one hart at a time (the console).
 */
int stress_start(unsigned seconds, struct stress_result *r);
int stress_status(struct stress_result *r);
int stress_stop(struct stress_result *r);

/*
 * Park the background workers between two steps (none holds a pin or is inside the allocator
 * then) until stress_resume: mmcheck's quiet allocator. stress_pause returns false (and does
 * nothing) when no background run is going. Caller holds no spinlock.
 */
bool stress_pause(void);
void stress_resume(void);

#endif
