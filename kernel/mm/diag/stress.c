// SPDX-License-Identifier: MIT
//
// `stress SECONDS`: every hart allocates, fills, verifies and frees movable buffers (struct
// movable, include/rvmm/migrate.h) with address-independent patterns, while the hart that runs
// the command also plugs and unplugs the RAM above mem= over and over, so offline migrates the
// buffers out from under their owners. Not one byte may change: every buffer is verified on each
// touch and at the end.
//
// `stress start [SECONDS]` runs the same workers on the other harts in the background and
// returns at once, so the console stays usable (plug/unplug by hand, virtio-mem resizes, the
// soak of tools/soak); `stress status` shows the figures so far, `stress stop` stops the workers,
// verifies and frees every buffer and prints the same summary line as `stress SECONDS`. mmcheck
// pauses the background workers between two of their steps while it walks the allocator.
//
// Interface: stress_run, stress_start, stress_stop, stress_status, stress_pause, stress_resume
// (include/rvmm/migrate.h), the CONSOLE_COMMAND stress.
//
// The cycled range is the first hidden one (RAM above mem=), when it is wholly absent or wholly
// online in ZONE_MOVABLE at the start; it is left as it was found.
//
// Memory: STRESS_BUFS buffers of 4..16 KiB per hart (at most 768 KiB per hart).

#include <rvmm/arch_cpu.h>
#include <rvmm/smp.h>
#include <rvmm/console.h>
#include <rvmm/errno.h>
#include <rvmm/hotplug.h>
#include <rvmm/mem_ranges.h>
#include <rvmm/migrate.h>
#include <rvmm/page_alloc.h>
#include <rvmm/printk.h>
#include <rvmm/progress.h>
#include <rvmm/section.h>
#include <rvmm/stress.h>
#include <stdio.h>
#include <string.h>

#define STRESS_BUFS 48
#define STRESS_HARTS 16 /* harts that take part (more are left idle) */

struct stress_worker {
	struct movable buf[STRESS_BUFS];
	uint64_t seed[STRESS_BUFS]; /* pattern seed of what buf[i] holds */
	uint64_t rng;
	uint64_t ops, bytes_verified;
	bool failed;
	unsigned hart;
	char error[160];
};

static struct stress_worker workers[STRESS_HARTS];
/*
 * The run in progress. Written by the hart that starts and stops it (the console's, one command
 * at a time); stop, pause, active and parked are read by the workers.
 */
static struct {
	uint64_t deadline_ns;
	bool stop;
	bool background;       /* stress start .. stress stop */
	unsigned harts;        /* workers started on other harts (background) */
	uint64_t started_ns, migrated0;
	uint32_t pause;        /* mmcheck: park between two steps */
	uint32_t active;       /* workers inside their loop */
	uint32_t parked;       /* of those, parked */
} run;

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static uint64_t pattern(uint64_t seed, uint64_t i)
{
	uint64_t z = seed + i * 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	return z ^ (z >> 27);
}

static void fail(struct stress_worker *w, int i, uint64_t word, const uint64_t *p, uint64_t want)
{
	if (w->failed)
		return;
	w->failed = true;
	snprintf(w->error, sizeof(w->error),
		 "hart %u buffer %d word %llu at pfn 0x%llx: read 0x%016llx, expected 0x%016llx",
		 w->hart, i, (unsigned long long)word, (unsigned long long)movable_pfn(&w->buf[i]),
		 (unsigned long long)p[word], (unsigned long long)want);
}

// Pin buffer i, check every word, unpin. Returns false (and records it) on a mismatch.
static bool verify(struct stress_worker *w, int i)
{
	uint64_t n = (PAGE_SIZE << w->buf[i].order) / 8;
	const uint64_t *p = movable_pin(&w->buf[i]);
	for (uint64_t k = 0; p && k < n; k++)
		if (p[k] != pattern(w->seed[i], k)) {
			fail(w, i, k, p, pattern(w->seed[i], k));
			movable_unpin(&w->buf[i]);
			return false;
		}
	movable_unpin(&w->buf[i]);
	w->bytes_verified += n * 8;
	return true;
}

// One operation on a random buffer: allocate and fill an empty one, or verify a full one (and
// free it one time in four).
static void step(struct stress_worker *w)
{
	int i = (int)(rnd(&w->rng) % STRESS_BUFS);
	struct movable *m = &w->buf[i];
	w->ops++;
	if (!m->page) {
		if (movable_alloc(m, (unsigned)(rnd(&w->rng) % 3)))
			return; // out of memory for now: fine
		w->seed[i] = rnd(&w->rng);
		uint64_t n = (PAGE_SIZE << m->order) / 8;
		uint64_t *p = movable_pin(m);
		for (uint64_t k = 0; k < n; k++)
			p[k] = pattern(w->seed[i], k);
		movable_unpin(m);
		return;
	}
	if (verify(w, i) && rnd(&w->rng) % 4 == 0)
		movable_free(m);
}

// Park while mmcheck walks the allocator; between two steps no buffer is pinned.
static void park(void)
{
	__atomic_add_fetch(&run.parked, 1, __ATOMIC_ACQ_REL);
	while (__atomic_load_n(&run.pause, __ATOMIC_ACQUIRE))
		arch_cpu_relax();
	__atomic_sub_fetch(&run.parked, 1, __ATOMIC_ACQ_REL);
}

static void worker_main(void *arg __unused)
{
	unsigned h = arch_hart_index();
	if (h >= STRESS_HARTS)
		return;
	struct stress_worker *w = &workers[h];
	__atomic_add_fetch(&run.active, 1, __ATOMIC_ACQ_REL);
	while (!READ_ONCE(run.stop) && arch_time_ns() < run.deadline_ns && !w->failed) {
		if (__atomic_load_n(&run.pause, __ATOMIC_ACQUIRE)) {
			park();
			continue;
		}
		step(w);
	}
	__atomic_sub_fetch(&run.active, 1, __ATOMIC_ACQ_REL);
}

bool stress_pause(void)
{
	if (!READ_ONCE(run.background))
		return false;
	__atomic_store_n(&run.pause, 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(&run.parked, __ATOMIC_ACQUIRE) !=
	       __atomic_load_n(&run.active, __ATOMIC_ACQUIRE))
		arch_cpu_relax();
	return true;
}

void stress_resume(void) { __atomic_store_n(&run.pause, 0, __ATOMIC_RELEASE); }

// Everything verified once more, then freed.
static void worker_finish(struct stress_worker *w)
{
	for (int i = 0; i < STRESS_BUFS; i++)
		if (w->buf[i].page) {
			verify(w, i);
			movable_free(&w->buf[i]);
		}
}

// The hidden RAM stress cycles: the first hidden range, section-aligned, if none of it is added
// (cycles plug, then unplug) or all of it is online in ZONE_MOVABLE (cycles unplug, then plug,
// so it ends plugged as it began). *plugged says which.
static bool cycle_range(phys_addr_t *start, uint64_t *size, bool *plugged)
{
	struct mem_range r;
	int i = 0;
	while (mem_range_get(i, &r) && r.kind != MEM_RANGE_HIDDEN)
		i++;
	if (!mem_range_get(i, &r))
		return false;
	phys_addr_t b = r.start;
	uint64_t n = r.end - r.start;
	*start = ALIGN_UP(b, SECTION_SIZE);
	if (b + n <= *start + SECTION_SIZE)
		return false;
	*size = ALIGN_DOWN(b + n - *start, SECTION_SIZE);
	unsigned long absent = 0, movable = 0, count = *size >> SECTION_SHIFT;
	for (unsigned long nr = *start >> SECTION_SHIFT; nr < (*start + *size) >> SECTION_SHIFT; nr++) {
		const struct mem_section *ms = section_get(nr);
		absent += section_state(nr) == SECTION_ABSENT;
		movable += ms && ms->state == SECTION_ONLINE && ms->zone == ZONE_MOVABLE &&
			   ms->online_map == SUBSECTION_MAP_FULL;
	}
	*plugged = movable == count;
	return absent == count || movable == count;
}

static int do_plug(phys_addr_t start, uint64_t size)
{
	int rc = add_memory(start, size, 0);
	return rc ? rc : online_pages(PFN_DOWN(start), size >> PAGE_SHIFT, ZONE_MOVABLE);
}

static int do_unplug(phys_addr_t start, uint64_t size, struct stress_result *r)
{
	int rc;
	for (int tries = 0;; tries++) {
		rc = offline_pages(PFN_DOWN(start), size >> PAGE_SHIFT);
		if (rc != -EBUSY || tries == 20)
			break;
		r->busy_retries++;
	}
	return rc ? rc : remove_memory(start, size);
}

// One plug/unplug cycle (in the order that ends where it began); worker steps in between so the
// plugged memory fills with data that the unplug must migrate.
static int cycle_once(struct stress_worker *me, phys_addr_t start, uint64_t size, bool plugged,
		      struct stress_result *r)
{
	for (int half = 0; half < 2; half++) {
		bool plug = plugged == (half == 1);
		int rc = plug ? do_plug(start, size) : do_unplug(start, size, r);
		if (rc) {
			snprintf(r->error, sizeof(r->error), "%s of [0x%llx-0x%llx) failed (%d)",
				 plug ? "plug" : "unplug", (unsigned long long)start,
				 (unsigned long long)(start + size), rc);
			return rc;
		}
		uint64_t until = arch_time_ns() + 20000000ULL;
		while (plug && arch_time_ns() < until && !me->failed)
			step(me);
	}
	return 0;
}

static void workers_init(uint64_t seconds)
{
	for (unsigned h = 0; h < STRESS_HARTS; h++) {
		workers[h] = (struct stress_worker){ .rng = 0x5eed0000ULL + h * 7919, .hart = h };
		for (int i = 0; i < STRESS_BUFS; i++)
			workers[h].buf[i] = (struct movable)MOVABLE_INIT;
	}
	run.migrated0 = migrate_stats.migrated;
	run.started_ns = arch_time_ns();
	run.stop = false;
	run.pause = run.active = run.parked = 0;
	run.deadline_ns = seconds ? run.started_ns + seconds * 1000000000ULL : ~0ULL;
}

// Figures of every worker so far into r (ops, bytes, migrations; the first error, -EIO).
static void workers_sum(struct stress_result *r)
{
	r->ops = r->bytes_verified = 0;
	for (unsigned h = 0; h < STRESS_HARTS; h++) {
		struct stress_worker *w = &workers[h];
		r->ops += READ_ONCE(w->ops);
		r->bytes_verified += READ_ONCE(w->bytes_verified);
		if (READ_ONCE(w->failed) && !r->error[0]) {
			snprintf(r->error, sizeof(r->error), "%s", w->error);
			r->rc = -EIO;
		}
	}
	r->migrations = migrate_stats.migrated - run.migrated0;
}

// After the workers returned: verify and free every buffer, sum up.
static void workers_finish(struct stress_result *r)
{
	for (unsigned h = 0; h < STRESS_HARTS; h++)
		worker_finish(&workers[h]);
	workers_sum(r);
}

int stress_run(unsigned seconds, struct stress_result *r)
{
	*r = (struct stress_result){ 0 };
	if (READ_ONCE(run.background)) {
		snprintf(r->error, sizeof(r->error), "stress is running in the background (stress stop)");
		return r->rc = -EBUSY;
	}
	workers_init(seconds);
	r->harts = 1 + smp_start_others(worker_main, NULL);
	struct stress_worker *me = &workers[arch_hart_index() % STRESS_HARTS];
	phys_addr_t start = 0;
	uint64_t size = 0;
	get_online_mems(); // the range registry and section states
	bool plugged = false, cycling = cycle_range(&start, &size, &plugged);
	put_online_mems();
	struct progress pr;
	progress_start(&pr);
	while (arch_time_ns() < run.deadline_ns && !r->rc) {
		if (progress_due(&pr))
			pr_info("stress: %llu/%u s, %llu plug/unplug cycles, %llu migrations",
				(unsigned long long)(progress_ns(&pr) / 1000000000ULL), seconds,
				(unsigned long long)r->cycles,
				(unsigned long long)(migrate_stats.migrated - run.migrated0));
		if (cycling) {
			r->rc = cycle_once(me, start, size, plugged, r);
			if (!r->rc)
				r->cycles++;
		}
		uint64_t until = arch_time_ns() + 10000000ULL;
		while (arch_time_ns() < until && !me->failed)
			step(me);
		for (unsigned h = 0; h < STRESS_HARTS; h++)
			if (READ_ONCE(workers[h].failed))
				r->rc = -EIO;
	}
	WRITE_ONCE(run.stop, true);
	smp_wait_others();
	workers_finish(r);
	return r->rc;
}

int stress_start(unsigned seconds, struct stress_result *r)
{
	*r = (struct stress_result){ 0 };
	if (READ_ONCE(run.background)) {
		snprintf(r->error, sizeof(r->error), "already running (stress stop first)");
		return r->rc = -EBUSY;
	}
	workers_init(seconds);
	r->harts = smp_start_others(worker_main, NULL);
	if (!r->harts) {
		snprintf(r->error, sizeof(r->error), "no idle hart to run it on (SMP=2 or more)");
		return r->rc = -ENODEV;
	}
	run.harts = r->harts;
	WRITE_ONCE(run.background, true);
	return 0;
}

int stress_status(struct stress_result *r)
{
	*r = (struct stress_result){ 0 };
	if (!READ_ONCE(run.background))
		return -ENOENT;
	r->harts = run.harts;
	workers_sum(r);
	return r->rc;
}

int stress_stop(struct stress_result *r)
{
	*r = (struct stress_result){ 0 };
	if (!READ_ONCE(run.background))
		return -ENOENT;
	r->harts = run.harts;
	WRITE_ONCE(run.stop, true);
	stress_resume();
	smp_wait_others();
	workers_finish(r);
	WRITE_ONCE(run.background, false);
	return r->rc;
}

static void print_result(const char *state, int rc, uint64_t secs, const struct stress_result *r)
{
	kprintf("stress: %s%s: %llu s on %u harts: %llu operations, %llu migrations, %llu MiB verified, "
		"%llu plug/unplug cycles (%llu offline retries)\n",
		rc ? "FAILED: " : state, rc ? r->error : "", (unsigned long long)secs,
		r->harts, (unsigned long long)r->ops, (unsigned long long)r->migrations,
		(unsigned long long)(r->bytes_verified >> 20), (unsigned long long)r->cycles,
		(unsigned long long)r->busy_retries);
}

static uint64_t elapsed_s(void) { return (arch_time_ns() - run.started_ns) / 1000000000ULL; }

static int cmd_stress(int argc, char **argv)
{
	struct stress_result r;
	uint64_t secs = 0;
	int rc;
	if (argc == 2 && !strcmp(argv[1], "status")) {
		rc = stress_status(&r);
		if (rc == -ENOENT) {
			kprintf("stress: not running in the background\n");
			return 0;
		}
		print_result("running", rc, elapsed_s(), &r);
		return rc;
	}
	if (argc == 2 && !strcmp(argv[1], "stop")) {
		uint64_t s = elapsed_s();
		rc = stress_stop(&r);
		if (rc == -ENOENT) {
			kprintf("stress: not running in the background\n");
			return rc;
		}
		print_result("ok", rc, s, &r);
		return rc;
	}
	if (argc >= 2 && !strcmp(argv[1], "start")) {
		if (argc > 3 || (argc == 3 && (parse_u64(argv[2], &secs) || !secs || secs > 86400)))
			return CMD_USAGE;
		rc = stress_start((unsigned)secs, &r);
		if (rc)
			kprintf("stress: FAILED: %s\n", r.error);
		else
			kprintf("stress: started on %u harts in the background (stress status, stress "
				"stop)\n", r.harts);
		return rc;
	}
	if (argc != 2 || parse_u64(argv[1], &secs) || !secs || secs > 3600)
		return CMD_USAGE;
	rc = stress_run((unsigned)secs, &r);
	print_result("ok", rc, secs, &r);
	return rc;
}

CONSOLE_COMMAND(stress, .name = "stress", .usage = "stress SECONDS | start [SECONDS] | status | stop",
		.summary = "verify movable buffers on every hart while hidden RAM is plugged/unplugged; "
			   "or in the background",
		.run = cmd_stress);
