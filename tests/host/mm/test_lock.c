// SPDX-License-Identifier: MIT
//
// Lock tests with threads as harts: ticket spinlock exclusion, trylock, reader-writer exclusion
// and writer preference, the LOCKDEP order check, and the page allocator hammered by several
// harts at once (per-hart caches, zone locks, deferred init under contention).
//
// Interface: main() runs the "lock" case table (one case by name: build/host/mm/test_lock CASE).

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <rvmm/kpt.h>
#include <rvmm/page_alloc.h>
#include <rvmm/spinlock.h>

#include "sim.h"
#include "test.h"

#define NTHREADS 4

static spinlock_t lock = SPINLOCK_INIT("test", LOCK_CLASS_NONE);
static rwlock_t rw = RWLOCK_INIT("test_rw", LOCK_CLASS_NONE);
static volatile unsigned long counter;
static volatile int bad;

static void *spin_worker(void *arg)
{
	sim_set_hart((unsigned)(uintptr_t)arg, NTHREADS);
	for (int i = 0; i < 100000; i++) {
		spin_lock(&lock);
		if (!spin_held_by_me(&lock))
			bad = 1;
		counter = counter + 1;
		spin_unlock(&lock);
	}
	return NULL;
}

static int spin_exclusion(void)
{
	pthread_t t[NTHREADS];
	for (uintptr_t i = 0; i < NTHREADS; i++)
		pthread_create(&t[i], NULL, spin_worker, (void *)i);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	CHECK_EQ(counter, NTHREADS * 100000UL);
	CHECK(!bad);
	CHECK(!spin_is_locked(&lock));
	return 0;
}

static int trylock(void)
{
	CHECK(spin_trylock(&lock));
	CHECK(!spin_trylock(&lock));
	spin_unlock(&lock);
	CHECK(spin_trylock(&lock));
	spin_unlock(&lock);
	unsigned long f = spin_lock_irqsave(&lock);
	CHECK(spin_held_by_me(&lock));
	spin_unlock_irqrestore(&lock, f);
	return 0;
}

static volatile unsigned long shared_val;

static void *rw_worker(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;
	sim_set_hart(id, NTHREADS);
	for (int i = 0; i < 20000; i++) {
		if (id == 0 && i % 10 == 0) {
			write_lock(&rw);
			if (!write_held_by_me(&rw))
				bad = 1;
			shared_val++; // odd while writing
			shared_val++;
			write_unlock(&rw);
		} else {
			read_lock(&rw);
			if (shared_val & 1)
				bad = 1;
			read_unlock(&rw);
		}
	}
	return NULL;
}

static int rw_exclusion(void)
{
	pthread_t t[NTHREADS];
	for (uintptr_t i = 0; i < NTHREADS; i++)
		pthread_create(&t[i], NULL, rw_worker, (void *)i);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	CHECK(!bad);
	CHECK_EQ(shared_val, 2 * 2000);
	CHECK(!rw_is_held(&rw));
	return 0;
}

static volatile int order[2], norder;

static void *pref_writer(void *arg __unused)
{
	sim_set_hart(1, 3);
	write_lock(&rw);
	order[norder++] = 1;
	write_unlock(&rw);
	return NULL;
}

static void *pref_reader(void *arg __unused)
{
	sim_set_hart(2, 3);
	read_lock(&rw);
	order[norder++] = 2;
	read_unlock(&rw);
	return NULL;
}

static int writer_preference(void)
{
	read_lock(&rw);
	pthread_t w, r;
	pthread_create(&w, NULL, pref_writer, NULL);
	while (!__atomic_load_n(&rw.writers_waiting, __ATOMIC_RELAXED))
		;
	pthread_create(&r, NULL, pref_reader, NULL);
	usleep(50000);
	CHECK_EQ(norder, 0); // the new reader waits behind the writer
	read_unlock(&rw);
	pthread_join(w, NULL);
	pthread_join(r, NULL);
	CHECK_EQ(norder, 2);
	CHECK_EQ(order[0], 1);
	CHECK_EQ(order[1], 2);
	return 0;
}

static int lockdep_order(void)
{
	spinlock_t zone = SPINLOCK_INIT("zone", LOCK_CLASS_ZONE);
	// Right order: fine.
	spin_lock(&kpt_lock);
	spin_lock(&zone);
	spin_unlock(&zone);
	spin_unlock(&kpt_lock);
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		spin_lock(&zone);
		spin_lock(&kpt_lock); // wrong order: panics
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
	pid = fork();
	if (pid == 0) {
		spin_unlock(&zone); // not held: panics
		_exit(0);
	}
	waitpid(pid, &st, 0);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
	return 0;
}

// LOCKDEP as a case table: every pair of lock classes the kernel nests, taken in order (fine)
// and inverted (panics naming both). The child exits 42 from its abort handler only if the
// panic is lockdep's, so another abort does not count.
struct order_case {
	const char *name;
	int outer, inner; // lock index below
	bool panics;
};

static spinlock_t l_kpt_ = SPINLOCK_INIT("kpt", LOCK_CLASS_KPT);
static spinlock_t l_migrate = SPINLOCK_INIT("migrate", LOCK_CLASS_MIGRATE);
static spinlock_t l_movable = SPINLOCK_INIT("movable", LOCK_CLASS_MOVABLE);
static spinlock_t l_zone = SPINLOCK_INIT("zone", LOCK_CLASS_ZONE);
static spinlock_t l_zone2 = SPINLOCK_INIT("zone2", LOCK_CLASS_ZONE);
static spinlock_t l_io = SPINLOCK_INIT("ioremap", LOCK_CLASS_IOREMAP);
static spinlock_t l_smp_call = SPINLOCK_INIT("smp_call", LOCK_CLASS_SMP_CALL);
static spinlock_t l_vq = SPINLOCK_INIT("virtqueue", LOCK_CLASS_VIRTQUEUE);
static spinlock_t l_imsic = SPINLOCK_INIT("imsic", LOCK_CLASS_IMSIC);
static rwlock_t l_hotplug = RWLOCK_INIT("hotplug", LOCK_CLASS_HOTPLUG);
static spinlock_t l_virtio_mem = SPINLOCK_INIT("virtio-mem", LOCK_CLASS_VIRTIO_MEM);

static void take_lock(int i)
{
	spinlock_t *s[] = { NULL,  &l_kpt_, &l_migrate,  &l_movable, &l_zone,       &l_zone2,
			    &l_io, NULL,    &l_smp_call, &l_vq,      &l_virtio_mem, &l_imsic };
	if (i == 0)
		read_lock(&l_hotplug);
	else if (i == 7)
		write_lock(&l_hotplug);
	else
		spin_lock(s[i]);
}

static void on_abort(int sig __unused)
{
	_exit(log_has("lockdep: taking") ? 42 : 1);
}

static int lockdep_table(void)
{
	enum { HP_R = 0, KPT = 1, MIG = 2, MOV = 3, ZONE = 4, ZONE2 = 5, IO = 6, HP_W = 7, SMP = 8,
	       VQ = 9, VMEM = 10, IMSIC = 11 };
	static const struct order_case cases[] = {
		{ "virtio-mem > hotplug(write)", VMEM, HP_W, false },
		{ "hotplug(write) > virtio-mem", HP_W, VMEM, true },
		{ "hotplug(read) > kpt", HP_R, KPT, false },
		{ "hotplug(write) > zone", HP_W, ZONE, false },
		{ "ioremap > kpt", IO, KPT, false },
		{ "kpt > migrate", KPT, MIG, false },
		{ "migrate > movable", MIG, MOV, false },
		{ "movable > zone", MOV, ZONE, false },
		{ "hotplug(write) > smp_call", HP_W, SMP, false },
		{ "zone > smp_call", ZONE, SMP, false },
		{ "hotplug(write) > virtqueue", HP_W, VQ, false },
		{ "smp_call > virtqueue", SMP, VQ, false },
		{ "kpt > hotplug(read)", KPT, HP_R, true },
		{ "zone > hotplug(write)", ZONE, HP_W, true },
		{ "zone > kpt", ZONE, KPT, true },
		{ "movable > migrate", MOV, MIG, true },
		{ "zone > movable", ZONE, MOV, true },
		{ "kpt > ioremap", KPT, IO, true },
		{ "zone > zone (two zone locks)", ZONE, ZONE2, true },
		{ "hotplug(read) twice", HP_R, HP_R, true },
		{ "smp_call > zone", SMP, ZONE, true },
		{ "virtqueue > kpt", VQ, KPT, true },
		{ "virtqueue twice", VQ, VQ, true },
		{ "virtqueue > imsic", VQ, IMSIC, false },
		{ "imsic > zone", IMSIC, ZONE, true },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		fflush(NULL);
		pid_t pid = fork();
		if (pid == 0) {
			signal(SIGABRT, on_abort);
			log_clear();
			take_lock(cases[i].outer);
			take_lock(cases[i].inner);
			_exit(0);
		}
		int st;
		waitpid(pid, &st, 0);
		int want = cases[i].panics ? 42 : 0;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != want) {
			test_fail(__FILE__, __LINE__, "%s: child status %#x, want exit %d", cases[i].name,
				  st, want);
			return 1;
		}
	}
	return 0;
}

static void *alloc_worker(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;
	sim_set_hart(id, NTHREADS);
	uint64_t seed = 77 + id;
	struct page *held[256];
	unsigned orders[256];
	int n = 0;
	for (int i = 0; i < 20000; i++) {
		uint64_t r = test_rand(&seed);
		if (n && (n == 256 || r % 2)) {
			int k = (int)(test_rand(&seed) % (uint64_t)n);
			if (*(uint64_t *)page_address(held[k]) != page_to_pfn(held[k]))
				bad = 1;
			free_pages(held[k], orders[k]);
			held[k] = held[--n];
			orders[k] = orders[n];
		} else {
			unsigned order = r % 8 < 6 ? 0 : (r >> 8) % 4;
			struct page *p = alloc_pages(order, (r >> 12) & 1 ? GFP_MOVABLE : GFP_KERNEL);
			if (!p)
				continue;
			*(uint64_t *)page_address(p) = page_to_pfn(p);
			held[n] = p;
			orders[n++] = order;
		}
		if (id == 0 && i % 500 == 0)
			deferred_init_step();
	}
	while (n--)
		free_pages(held[n], orders[n]);
	page_alloc_drain_local();
	return NULL;
}

static int allocator_threads(void)
{
	struct sim_config cfg = { .ram_size = GiB(1) };
	CHECK_RC(sim_boot(&cfg));
	uint64_t free0 = total_free_pages();
	pthread_t t[NTHREADS];
	for (uintptr_t i = 0; i < NTHREADS; i++)
		pthread_create(&t[i], NULL, alloc_worker, (void *)i);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	CHECK(!bad);
	CHECK(!log_has("<err>"));
	CHECK_EQ(total_free_pages(), free0);
	return sim_check_buddy(NULL, 0, 0);
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
		CASE(spin_exclusion),
		CASE(trylock),
		CASE(rw_exclusion),
		CASE(writer_preference),
		CASE(lockdep_order),
		CASE(lockdep_table),
		CASE(allocator_threads),
	};
	return test_main("lock", cases, ARRAY_SIZE(cases), argc, argv);
}
