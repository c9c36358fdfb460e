// SPDX-License-Identifier: MIT
/*
 * Harts: per-hart data, starting the other harts through SBI HSM, and cross-hart calls through
 * SBI IPIs.
 *
 * Interface: harts[], nr_harts_online, this_hart, hart_tls_size, hart_tls_init, smp_init_boot_hart,
 * smp_boot_secondaries, smp_call_others, smp_sbi_for_harts, smp_hart_is_other, ipi_interrupt;
 * arch_nr_harts, arch_smp_call_others, arch_smp_wake (include/rvmm/arch_smp.h). Once started, a
 * hart runs kernel/idle.c's idle loop. docs/harts.md: how harts start, how SBI calls name them.
 */
#include <asm/csr.h>
#include <asm/hart.h>
#include <asm/memlayout.h>
#include <asm/sbi.h>
#include <asm/trap.h>
#include <asm/pte.h>
#include <asm/setup.h>
#include <rvmm/arch_cpu.h>
#include <rvmm/arch_mm.h>
#include <rvmm/arch_smp.h>
#include <rvmm/errno.h>
#include <rvmm/irq.h>
#include <rvmm/kernel.h>
#include <rvmm/mm.h>
#include <rvmm/page_alloc.h>
#include <rvmm/printk.h>
#include <rvmm/smp.h>
#include <rvmm/spinlock.h>
#include <limits.h>
#include <string.h>

#define HART_STACK_ORDER 2 /* 16 KiB */
/*
 * How long the boot hart waits for the harts it started. Under TCG each hart is a host thread, and
 * with 100 of them on 2 busy host CPUs a hart can take seconds to get through OpenSBI's warm boot;
 * but a hart that OpenSBI stopped in its own boot never comes (seen with OpenSBI 1.5.1 and 48 or
 * more harts: a few hang in the firmware, their HSM state stays start-pending; docs/harts.md). So
 * wait while harts keep arriving: give up after START_STALL_NS without a new one, or at the
 * overall bound, which grows with the number of harts.
 */
#define START_STALL_NS 10000000000ULL        /* 10 s without a new hart */
#define START_WAIT_NS 2000000000ULL          /* overall: 2 s, */
#define START_WAIT_PER_HART_NS 500000000ULL  /* plus 0.5 s a hart, */
#define START_WAIT_MAX_NS 120000000000ULL    /* at most 2 minutes */

struct hart harts[MAX_HARTS];
unsigned nr_harts_online;
__thread struct hart *this_hart;

extern char __tdata_start[], __tdata_end[], __tbss_start[], __tbss_end[];

size_t hart_tls_size(void)
{
	return (__tdata_end - __tdata_start) + (__tbss_end - __tbss_start);
}

void hart_tls_init(void *tls)
{
	size_t data = __tdata_end - __tdata_start;
	memcpy(tls, __tdata_start, data);
	memset((char *)tls + data, 0, __tbss_end - __tbss_start);
}

/* The boot hart becomes harts[0]; head.S already pointed tp at boot_tls. */
void smp_init_boot_hart(unsigned long hartid, void *tls)
{
	if (hart_tls_size() > 512)
		panic("per-hart TLS block is %zu bytes, boot_tls holds 512", hart_tls_size());
	hart_tls_init(tls);
	harts[0].index = 0;
	harts[0].hartid = hartid;
	harts[0].state = HART_BUSY;
	harts[0].doing = "boot";
	this_hart = &harts[0];
	nr_harts_online = 1;
}

/* What secondary_entry (head.S) reads, at a physical address, before translation is on. */
struct hart_boot {
	unsigned long satp, stack_top, tp, entry, va_pa_offset, index;
};
static struct hart_boot hart_boot[MAX_HARTS];

/* A cross-hart call: each target runs fn(arg) from its IPI handler and clears pending. */
static struct {
	void (*fn)(void *);
	void *arg;
	volatile bool pending;
} hart_call[MAX_HARTS];

/*
 * smp_call_lock: one cross-hart call at a time; protects hart_call[]. Taken by smp_call_others,
 * whose only caller is page_alloc_drain_all (offline and isolation, under hotplug_lock for
 * write); held while the targets run fn from their IPI handler, so fn must take no lock a
 * caller of smp_call_others may hold. Its own class, after zone->lock: nothing is taken inside
 * it but printk's log lock.
 */
static spinlock_t smp_call_lock = SPINLOCK_INIT("smp_call", LOCK_CLASS_SMP_CALL);

extern char secondary_entry[];
extern pte_t swapper_pg_dir[];
phys_addr_t early_trampoline_root(void);

static unsigned long kernel_satp(void)
{
	return (unsigned long)(arch_pgtable_levels() == 4 ? SATP_MODE_SV48 : SATP_MODE_SV39)
		       << SATP_MODE_SHIFT |
	       arch_kpt_root() >> PAGE_SHIFT;
}

static phys_addr_t image_pa(const void *va) { return (uintptr_t)va - KIMAGE_VA + mm_layout.kimage_pa; }

__noreturn void secondary_start(unsigned long index)
{
	csr_write(satp, kernel_satp()); /* leave the trampoline table */
	local_flush_tlb_all();
	this_hart = &harts[index];
	/* Claim the slot. If the boot hart gave up waiting for us, it is HART_OFF: go back to the
	 * firmware rather than run as a hart nobody counts. */
	enum hart_state starting = HART_STARTING;
	if (!__atomic_compare_exchange_n(&harts[index].state, &starting, HART_BUSY, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		sbi_hart_stop();
	trap_init_hart();
	irq_init_hart();
	timer_init_hart();
	__atomic_store_n(&harts[index].state, HART_IDLE, __ATOMIC_RELEASE);
	csr_set(sstatus, SSTATUS_SIE);
	cpu_idle_loop();
}

/* Give harts[idx] a stack and per-hart block and ask the firmware to start it. 0 or -errno. */
static int start_hart(unsigned idx, unsigned long hartid, unsigned long satp_tramp)
{
	void *stack = get_free_pages(HART_STACK_ORDER, GFP_KERNEL);
	void *tls = get_free_pages(0, GFP_KERNEL);
	if (!stack || !tls) {
		if (stack)
			free_pages_va(stack, HART_STACK_ORDER);
		return -ENOMEM;
	}
	hart_tls_init(tls);
	harts[idx] = (struct hart){ .index = idx, .hartid = hartid, .state = HART_STARTING,
				    .doing = "starting",
				    .stack_top = (uintptr_t)stack + (PAGE_SIZE << HART_STACK_ORDER) };
	hart_boot[idx] = (struct hart_boot){ satp_tramp, harts[idx].stack_top, (uintptr_t)tls,
					     (uintptr_t)secondary_start,
					     KIMAGE_VA - mm_layout.kimage_pa, idx };
	int rc = sbi_hart_start(hartid, image_pa(secondary_entry), image_pa(&hart_boot[idx]));
	if (rc) {
		/* Never started: nothing will use the stack. */
		harts[idx].state = HART_OFF;
		free_pages_va(stack, HART_STACK_ORDER);
		free_pages_va(tls, 0);
	}
	return rc;
}

static unsigned count_starting(void)
{
	unsigned n = 0;
	for (unsigned i = 1; i < nr_harts_online; i++)
		n += __atomic_load_n(&harts[i].state, __ATOMIC_ACQUIRE) == HART_STARTING;
	return n;
}

static const char *hsm_status_name(long st)
{
	return st == SBI_HSM_START_PENDING ? "start pending, still in the firmware"
	       : st == SBI_HSM_STARTED	   ? "started"
	       : st == SBI_HSM_STOPPED	   ? "stopped"
	       : st < 0			   ? errname((int)st)
					   : "other";
}

/*
 * Wait, bounded (see START_STALL_NS), for the harts just started; sleep between looks (the tick
 * wakes us) so that the host CPU goes to the harts being started. Harts still not up at the end
 * are given up (HART_OFF, see secondary_start) and named, with what the firmware says of them.
 */
static void wait_for_harts(unsigned started)
{
	uint64_t t0 = arch_time_ns(), now = t0, last_arrival = t0, next_note = t0 + 5000000000ULL;
	uint64_t bound = MIN(START_WAIT_NS + started * START_WAIT_PER_HART_NS, START_WAIT_MAX_NS);
	unsigned left = started, was;

	while (left && now - t0 < bound && now - last_arrival < START_STALL_NS) {
		wfi();
		now = arch_time_ns();
		was = left;
		left = count_starting();
		if (left < was)
			last_arrival = now;
		if (now >= next_note) {
			pr_info("smp: %u of %u harts up after %llu s", started - left, started,
				(unsigned long long)((now - t0) / 1000000000));
			next_note += 5000000000ULL;
		}
	}
	for (unsigned i = 1; left && i < nr_harts_online; i++) {
		enum hart_state starting = HART_STARTING;
		if (!__atomic_compare_exchange_n(&harts[i].state, &starting, HART_OFF, false,
						 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			continue; /* up, or arrived just now */
		pr_err("smp: hart %lu did not start (waited %llu ms, the last %llu ms without a new "
		       "hart; SBI HSM status: %s); it stays off",
		       harts[i].hartid, (unsigned long long)((now - t0) / 1000000),
		       (unsigned long long)((now - last_arrival) / 1000000),
		       hsm_status_name(sbi_hart_status(harts[i].hartid)));
	}
}

/*
 * Start every enabled hart of the DT but ourselves: all at once (SBI HSM hart_start only asks the
 * firmware), then wait for them together. Every hart asked for keeps its harts[] entry (HART_OFF
 * if it did not start); the log line counts the harts that did.
 */
void smp_boot_secondaries(const struct platform *plat, bool nosmp)
{
	unsigned long satp_tramp = (unsigned long)arch_pgtable_levels() == 4 ? SATP_MODE_SV48
									      : SATP_MODE_SV39;
	satp_tramp = satp_tramp << SATP_MODE_SHIFT | early_trampoline_root() >> PAGE_SHIFT;
	unsigned started = 0, up = 1;

	for (int i = 0; i < plat->nr_harts && !nosmp; i++) {
		const struct plat_hart *ph = &plat->harts[i];
		if (ph->hartid == harts[0].hartid || !ph->enabled)
			continue;
		if (nr_harts_online == MAX_HARTS) {
			pr_warn("smp: only %d harts supported; hart %u and later ones stay off", MAX_HARTS,
				ph->hartid);
			break;
		}
		numa_set_hart_node(nr_harts_online, ph->node);
		int rc = start_hart(nr_harts_online, ph->hartid, satp_tramp);
		if (rc == -ENOMEM) {
			pr_err("smp: no memory for hart %u's stack; it and later ones stay off", ph->hartid);
			break;
		}
		__atomic_store_n(&nr_harts_online, nr_harts_online + 1, __ATOMIC_RELEASE);
		if (rc)
			pr_err("smp: hart %u cannot be started: SBI hart_start: %s%s", ph->hartid,
			       errname(rc), rc == -EINVAL ? " (the firmware does not manage this hart id)" : "");
		else
			started++;
	}
	if (started)
		wait_for_harts(started);
	for (unsigned i = 1; i < nr_harts_online; i++)
		up += __atomic_load_n(&harts[i].state, __ATOMIC_ACQUIRE) != HART_OFF;
	pr_info("smp: %u hart%s online", up, up > 1 ? "s" : "");
}

void ipi_interrupt(void)
{
	unsigned me = this_hart->index;
	if (hart_call[me].pending) {
		hart_call[me].fn(hart_call[me].arg);
		__atomic_store_n(&hart_call[me].pending, false, __ATOMIC_RELEASE);
	}
}

/*
 * SBI calls that name harts take hart_mask and hart_mask_base: bit i of the mask is hart id
 * base + i. Harts are grouped into windows of BITS_PER_LONG ids, each based at the lowest id it
 * holds, and the call is made once per window: hart ids of 64 and more work, and no base names a
 * hart id the firmware does not have (OpenSBI refuses such a base with SBI_ERR_INVALID_PARAM).
 * want(i) selects harts[i]; call(mask, base, arg) makes the SBI call. Returns 0, or the first
 * error (the remaining windows are still sent).
 */
int smp_sbi_for_harts(bool (*want)(unsigned i),
		      int (*call)(unsigned long mask, unsigned long base, void *arg), void *arg)
{
	const unsigned long bits = 8 * sizeof(unsigned long);
	unsigned n = __atomic_load_n(&nr_harts_online, __ATOMIC_ACQUIRE);
	unsigned long from = 0;
	int rc = 0;

	for (;;) {
		unsigned long base = ULONG_MAX, mask = 0;
		for (unsigned i = 0; i < n; i++)
			if (harts[i].hartid >= from && harts[i].hartid < base && want(i))
				base = harts[i].hartid;
		if (base == ULONG_MAX)
			return rc;
		for (unsigned i = 0; i < n; i++)
			if (harts[i].hartid >= base && harts[i].hartid - base < bits && want(i))
				mask |= 1UL << (harts[i].hartid - base);
		int r = call(mask, base, arg);
		if (r && !rc)
			rc = r;
		from = base + bits;
	}
}

static int send_ipi(unsigned long mask, unsigned long base, void *arg __unused)
{
	int rc = sbi_send_ipi(mask, base);
	if (rc)
		pr_err("smp: SBI send_ipi(hart_mask 0x%lx, hart_mask_base %lu) failed: %s%s", mask, base,
		       errname(rc), rc == -ENOTSUP ? " (no SBI IPI extension)" : "");
	return rc;
}

bool smp_hart_is_other(unsigned i)
{
	enum hart_state st = __atomic_load_n(&harts[i].state, __ATOMIC_ACQUIRE);
	return i != this_hart->index && st != HART_OFF && st != HART_HALTED;
}

static bool has_call_pending(unsigned i)
{
	return __atomic_load_n(&hart_call[i].pending, __ATOMIC_ACQUIRE);
}

void smp_call_others(void (*fn)(void *), void *arg)
{
	spin_lock(&smp_call_lock);
	for (unsigned i = 0; i < nr_harts_online; i++) {
		if (!smp_hart_is_other(i))
			continue;
		hart_call[i].fn = fn;
		hart_call[i].arg = arg;
		__atomic_store_n(&hart_call[i].pending, true, __ATOMIC_RELEASE);
	}
	int rc = smp_sbi_for_harts(has_call_pending, send_ipi, NULL);
	if (rc)
		panic("smp: a cross-hart call cannot reach the other harts (SBI IPI: %s)", errname(rc));
	for (unsigned i = 0; i < nr_harts_online; i++)
		while (has_call_pending(i))
			arch_cpu_relax();
	spin_unlock(&smp_call_lock);
}

void arch_smp_call_others(void (*fn)(void *), void *arg) { smp_call_others(fn, arg); }

unsigned arch_nr_harts(void) { return nr_harts_online ? nr_harts_online : 1; }

void arch_smp_wake(unsigned index)
{
	/* An IPI with no call pending: ipi_interrupt finds nothing to run, wfi has ended. The mask
	 * is based at the hart's own id (any id works). Should it fail (said), the hart still wakes
	 * at its next tick. */
	send_ipi(1, harts[index].hartid, NULL);
}
