// SPDX-License-Identifier: MIT
/*
 * Harts: per-hart data, starting the other harts through SBI HSM, and cross-hart calls through
 * SBI IPIs.
 *
 * Interface: harts[], nr_harts_online, this_hart, hart_tls_size, hart_tls_init, smp_init_boot_hart,
 * smp_boot_secondaries, smp_call_others, ipi_interrupt; arch_nr_harts, arch_smp_call_others,
 * arch_smp_wake (include/rvmm/arch_smp.h). Once started, a hart runs kernel/idle.c's idle loop.
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
#include <rvmm/arch_cpu.h>
#include <rvmm/arch_smp.h>
#include <rvmm/arch_smp.h>
#include <rvmm/irq.h>
#include <rvmm/kernel.h>
#include <rvmm/mm.h>
#include <rvmm/page_alloc.h>
#include <rvmm/printk.h>
#include <rvmm/smp.h>
#include <rvmm/spinlock.h>
#include <string.h>

#define HART_STACK_ORDER 2 /* 16 KiB */

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

/* smp_call_lock: one cross-hart call at a time (callers: page allocator drains on offline). */
static spinlock_t smp_call_lock = SPINLOCK_INIT("smp_call", LOCK_CLASS_ZONE);

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
	trap_init_hart();
	irq_init_hart();
	timer_init_hart();
	__atomic_store_n(&harts[index].state, HART_IDLE, __ATOMIC_RELEASE);
	csr_set(sstatus, SSTATUS_SIE);
	cpu_idle_loop();
}

/* Start every enabled hart of the DT but ourselves, each with its stack and per-hart block. */
void smp_boot_secondaries(const struct platform *plat, bool nosmp)
{
	unsigned long satp_tramp = (unsigned long)arch_pgtable_levels() == 4 ? SATP_MODE_SV48 : SATP_MODE_SV39;
	satp_tramp = satp_tramp << SATP_MODE_SHIFT | early_trampoline_root() >> PAGE_SHIFT;

	for (int i = 0; i < plat->nr_harts && !nosmp; i++) {
		const struct plat_hart *ph = &plat->harts[i];
		unsigned idx = nr_harts_online;

		if (ph->hartid == harts[0].hartid || !ph->enabled)
			continue;
		if (idx >= MAX_HARTS) {
			pr_warn("smp: only %d harts supported; hart %u stays off", MAX_HARTS, ph->hartid);
			break;
		}
		void *stack = get_free_pages(HART_STACK_ORDER, GFP_KERNEL);
		void *tls = get_free_pages(0, GFP_KERNEL);
		if (!stack || !tls) {
			pr_err("smp: no memory for hart %u's stack; it stays off", ph->hartid);
			if (stack)
				free_pages_va(stack, HART_STACK_ORDER);
			break;
		}
		hart_tls_init(tls);
		numa_set_hart_node(idx, ph->node);
		harts[idx] = (struct hart){ .index = idx, .hartid = ph->hartid, .state = HART_STARTING,
					    .doing = "starting",
					    .stack_top = (uintptr_t)stack + (PAGE_SIZE << HART_STACK_ORDER) };
		hart_boot[idx] = (struct hart_boot){ satp_tramp, harts[idx].stack_top, (uintptr_t)tls,
						     (uintptr_t)secondary_start,
						     KIMAGE_VA - mm_layout.kimage_pa, idx };
		nr_harts_online++;
		int rc = sbi_hart_start(ph->hartid, image_pa(secondary_entry),
					image_pa(&hart_boot[idx]));
		uint64_t deadline = arch_time_ns() + 1000000000ULL;
		while (rc == 0 && __atomic_load_n(&harts[idx].state, __ATOMIC_ACQUIRE) == HART_STARTING &&
		       arch_time_ns() < deadline)
			arch_cpu_relax();
		if (rc || harts[idx].state == HART_STARTING) {
			pr_err("smp: hart %u did not start (%d)", ph->hartid, rc);
			harts[idx].state = HART_OFF;
			continue;
		}
	}
	pr_info("smp: %u hart%s online", nr_harts_online, nr_harts_online > 1 ? "s" : "");
}

void ipi_interrupt(void)
{
	unsigned me = this_hart->index;
	if (hart_call[me].pending) {
		hart_call[me].fn(hart_call[me].arg);
		__atomic_store_n(&hart_call[me].pending, false, __ATOMIC_RELEASE);
	}
}

void smp_call_others(void (*fn)(void *), void *arg)
{
	unsigned long mask = 0;

	spin_lock(&smp_call_lock);
	for (unsigned i = 0; i < nr_harts_online; i++) {
		if (i == this_hart->index || harts[i].state == HART_OFF || harts[i].state == HART_HALTED)
			continue;
		hart_call[i].fn = fn;
		hart_call[i].arg = arg;
		__atomic_store_n(&hart_call[i].pending, true, __ATOMIC_RELEASE);
		mask |= 1UL << harts[i].hartid;
	}
	if (mask && sbi_send_ipi(mask, 0) < 0)
		panic("smp: cannot send IPIs (no SBI IPI extension)");
	for (unsigned i = 0; i < nr_harts_online; i++)
		while (mask & (1UL << harts[i].hartid) && __atomic_load_n(&hart_call[i].pending, __ATOMIC_ACQUIRE))
			arch_cpu_relax();
	spin_unlock(&smp_call_lock);
}

void arch_smp_call_others(void (*fn)(void *), void *arg) { smp_call_others(fn, arg); }

unsigned arch_nr_harts(void) { return nr_harts_online ? nr_harts_online : 1; }

void arch_smp_wake(unsigned index)
{
	/* An IPI with no call pending: ipi_interrupt finds nothing to run, wfi has ended. */
	sbi_send_ipi(1UL << harts[index].hartid, 0);
}
