// SPDX-License-Identifier: MIT
//
// The arch interface (arch_mm.h, arch_cpu.h, arch_smp.h) over simulated memory. PTEs use the RISC-V layout (PPN at bit 10, V R W
// X G A D at bits 0..7, PBMT in 62:61). Physical RAM is a memfd: [SIM_RAM_BASE, phys_end) is file
// offset 0 on. One host reservation holds, in order, the direct map (max_phys bytes, the memfd
// mapped at page_offset + SIM_RAM_BASE), the vmemmap (PROT_NONE; leaves are mirrored with
// MAP_FIXED|MAP_SHARED of the memfd, PROT_NONE again when cleared), the I/O region and the image
// region (never touched: their entries are only recorded).
//
// A vmemmap leaf takes effect at the next TLB fence, as on RISC-V, where a hart may keep using a
// cleared entry, or miss a new one, until sfence.vma: arch_pte_set queues the change and the
// fences (arch_flush_tlb_kernel_range, arch_flush_tlb_after_map) apply what is queued.
// Contiguous changes (the 256 leaves of a section's 4 KiB-mapped memmap) are applied as one
// mmap, which keeps a hot-add or hot-remove to a few system calls.
//
// Harts are threads. smp_start_others starts one thread per other hart; those are "live" and
// take a cross-hart call (arch_smp_call_others) when they re-enable interrupts or spin, as a real
// hart takes its IPI. A hart with no live thread runs the call inline, on the caller's thread with
// its hart index switched (nothing else can be using that hart's per-hart data then).
//
// Interface: include/rvmm/arch_mm.h, arch_cpu.h (but arch_cpu_idle), arch_smp.h (but
// arch_smp_wake), smp_start_others/smp_wait_others (include/rvmm/smp.h), mm_layout, sim_set_hart,
// sim_resident, sim_poll_ipi, sim_tlb_access.

#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <rvmm/arch_mm.h>
#include <rvmm/arch_cpu.h>
#include <rvmm/arch_smp.h>
#include <rvmm/smp.h>
#include <rvmm/kpt.h>
#include <rvmm/mm.h>

#include "sim.h"

struct sim_state sim = { .memfd = -1 };
struct mm_layout mm_layout;

#define PTE_V (1UL << 0)
#define PTE_R (1UL << 1)
#define PTE_W (1UL << 2)
#define PTE_X (1UL << 3)
#define PTE_G (1UL << 5)
#define PTE_A (1UL << 6)
#define PTE_D (1UL << 7)
#define PTE_DEVMAP (1UL << 9)
#define PTE_PBMT_IO (2UL << 61)
#define PTE_PPN_MASK (((1UL << 44) - 1) << 10)

static __thread unsigned hart_index;
static unsigned nr_harts = 1;
static __thread unsigned long irq_enabled = 1;

unsigned arch_pgtable_levels(void) { return sim.levels; }
const char *arch_paging_mode(void) { return sim.levels == 4 ? "sv48" : "sv39"; }
phys_addr_t arch_kpt_root(void) { return sim.root_pa; }

pte_t arch_pte_mkleaf(phys_addr_t pa, unsigned prot)
{
	pte_t pte = ((pa >> PAGE_SHIFT) << 10) | PTE_V | PTE_G | PTE_A;
	if (prot & PROT_READ)
		pte |= PTE_R;
	if (prot & PROT_WRITE)
		pte |= PTE_W | PTE_D;
	if (prot & PROT_EXEC)
		pte |= PTE_X;
	if (prot & PROT_IO)
		pte |= PTE_PBMT_IO;
	if (prot & PROT_DEVMAP)
		pte |= PTE_DEVMAP;
	return pte;
}

pte_t arch_pte_mktable(phys_addr_t table_pa) { return ((table_pa >> PAGE_SHIFT) << 10) | PTE_V; }
bool arch_pte_present(pte_t pte) { return pte & PTE_V; }
bool arch_pte_is_leaf(pte_t pte) { return (pte & PTE_V) && (pte & (PTE_R | PTE_W | PTE_X)); }
phys_addr_t arch_pte_pa(pte_t pte) { return ((pte & PTE_PPN_MASK) >> 10) << PAGE_SHIFT; }

unsigned arch_pte_prot(pte_t pte)
{
	unsigned prot = 0;
	if (pte & PTE_R)
		prot |= PROT_READ;
	if (pte & PTE_W)
		prot |= PROT_WRITE;
	if (pte & PTE_X)
		prot |= PROT_EXEC;
	if ((pte & (3UL << 61)) == PTE_PBMT_IO)
		prot |= PROT_IO;
	if (pte & PTE_DEVMAP)
		prot |= PROT_DEVMAP;
	return prot;
}

void arch_pte_describe(pte_t pte, char *buf, size_t len)
{
	snprintf(buf, len, "%c%c%c %s%s%s%s%s", pte & PTE_R ? 'R' : '-', pte & PTE_W ? 'W' : '-',
		 pte & PTE_X ? 'X' : '-', pte & PTE_G ? "G" : ".", pte & PTE_A ? "A" : ".",
		 pte & PTE_D ? "D" : ".", (pte & (3UL << 61)) == PTE_PBMT_IO ? " IO" : "",
		 pte & PTE_DEVMAP ? " devmap" : "");
}

static bool in_vmemmap(uintptr_t va)
{
	return va >= mm_layout.vmemmap_base && va - mm_layout.vmemmap_base < mm_layout.vmemmap_size;
}

// The vmemmap changes written since the last fence: one run of contiguous leaves, all mapped
// (va -> pa) with one protection, or all cleared (PROT_NONE). Harts write page tables under
// kpt_lock but fence after dropping it.
static struct {
	pthread_mutex_t lock;
	uintptr_t va;
	phys_addr_t pa;
	uint64_t len; // 0: nothing queued
	int prot;
} queued = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void apply_queued_locked(void)
{
	void *va = (void *)queued.va;
	void *got = queued.prot != PROT_NONE
			    ? mmap(va, queued.len, queued.prot, MAP_SHARED | MAP_FIXED, sim.memfd,
				   (off_t)(queued.pa - SIM_RAM_BASE))
			    : mmap(va, queued.len, PROT_NONE,
				   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
	if (got == MAP_FAILED) {
		perror(queued.prot != PROT_NONE ? "sim: mirror vmemmap leaves"
						: "sim: unmirror vmemmap leaves");
		abort();
	}
	queued.len = 0;
}

static void queue_change(uintptr_t va, phys_addr_t pa, uint64_t size, int prot)
{
	pthread_mutex_lock(&queued.lock);
	if (queued.len && (queued.prot != prot || va != queued.va + queued.len ||
			   (prot != PROT_NONE && pa != queued.pa + queued.len)))
		apply_queued_locked();
	if (!queued.len) {
		queued.va = va;
		queued.pa = pa;
		queued.prot = prot;
	}
	queued.len += size;
	pthread_mutex_unlock(&queued.lock);
}

static void apply_queued(void)
{
	pthread_mutex_lock(&queued.lock);
	if (queued.len)
		apply_queued_locked();
	pthread_mutex_unlock(&queued.lock);
}

void arch_pte_set(pte_t *ptep, pte_t pte, uintptr_t va, unsigned level)
{
	pte_t old = *ptep;
	__atomic_store_n(ptep, pte, __ATOMIC_RELEASE);
	if (!in_vmemmap(va))
		return;
	uint64_t size = LEVEL_SIZE(level);
	if (arch_pte_is_leaf(pte)) {
		phys_addr_t pa = arch_pte_pa(pte);
		if (pa < SIM_RAM_BASE || pa + size > sim.phys_end) {
			fprintf(stderr, "sim: vmemmap leaf va %#lx -> pa %#lx outside RAM\n",
				(unsigned long)va, (unsigned long)pa);
			abort();
		}
		// The leaf's permission: a read-only leaf (a shared DAX tail page) faults on a write.
		queue_change(va, pa, size,
			     arch_pte_prot(pte) & PROT_WRITE ? PROT_READ | PROT_WRITE : PROT_READ);
		sim.mirrors++;
	} else if (arch_pte_is_leaf(old) && !arch_pte_present(pte)) {
		queue_change(va, 0, size, PROT_NONE);
		sim.unmirrors++;
	}
}

#define SIM_HARTS 64
// 0 none, 1 posted, 2 being run.
static struct {
	void (*fn)(void *);
	void *arg;
	int state;
} ipi[SIM_HARTS];
static int live[SIM_HARTS];

static void run_ipi(unsigned h)
{
	int one = 1;
	if (!__atomic_compare_exchange_n(&ipi[h].state, &one, 2, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return;
	unsigned long f = irq_enabled;
	irq_enabled = 0;
	ipi[h].fn(ipi[h].arg);
	irq_enabled = f;
	__atomic_store_n(&ipi[h].state, 0, __ATOMIC_RELEASE);
}

void sim_poll_ipi(void)
{
	if (irq_enabled && __atomic_load_n(&ipi[hart_index % SIM_HARTS].state, __ATOMIC_ACQUIRE) == 1)
		run_ipi(hart_index % SIM_HARTS);
}

void arch_smp_call_others(void (*fn)(void *), void *arg)
{
	unsigned me = hart_index;
	for (unsigned h = 0; h < nr_harts && h < SIM_HARTS; h++) {
		if (h == me)
			continue;
		ipi[h].fn = fn;
		ipi[h].arg = arg;
		__atomic_store_n(&ipi[h].state, 1, __ATOMIC_RELEASE);
		while (__atomic_load_n(&ipi[h].state, __ATOMIC_ACQUIRE)) {
			if (!__atomic_load_n(&live[h], __ATOMIC_ACQUIRE)) { // nobody there: run it as h
				hart_index = h;
				run_ipi(h);
				hart_index = me;
			}
			sched_yield();
		}
	}
}

struct job {
	void (*fn)(void *);
	void *arg;
	unsigned hart, nr;
	pthread_t t;
};
static struct job jobs[SIM_HARTS];
static unsigned nr_jobs;

static void *job_thread(void *a)
{
	struct job *j = a;
	hart_index = j->hart;
	nr_harts = j->nr;
	j->fn(j->arg);
	__atomic_store_n(&live[j->hart], 0, __ATOMIC_RELEASE);
	sim_poll_ipi(); // one posted before we left
	return NULL;
}

unsigned smp_start_others(void (*fn)(void *), void *arg)
{
	nr_jobs = 0;
	for (unsigned h = 0; h < nr_harts && h < SIM_HARTS; h++) {
		if (h == hart_index)
			continue;
		struct job *j = &jobs[nr_jobs++];
		*j = (struct job){ fn, arg, h, nr_harts, 0 };
		__atomic_store_n(&live[h], 1, __ATOMIC_RELEASE);
		pthread_create(&j->t, NULL, job_thread, j);
	}
	return nr_jobs;
}

void smp_wait_others(void)
{
	for (unsigned i = 0; i < nr_jobs; i++)
		pthread_join(jobs[i].t, NULL);
	nr_jobs = 0;
}

// Per-hart TLB model. The privileged spec lets a hart cache an *invalid* translation (QEMU's TCG
// never does, so no system test can show what that breaks): sim_tlb_access looks va up in this
// hart's TLB, walks the kernel tables on a miss and caches what it found, valid or not (not an
// invalid one when sim.svvptc). Fences drop entries: arch_flush_tlb_kernel_range on every hart,
// arch_flush_tlb_after_map on this hart and, without Svvptc, on every other, as arch/riscv does.
#define SIM_TLB_SIZE 64
static struct {
	uintptr_t vpn;
	bool used, valid;
} tlb[SIM_HARTS][SIM_TLB_SIZE];
static pthread_mutex_t tlb_mutex = PTHREAD_MUTEX_INITIALIZER;
// One past the highest hart that ever cached an entry: fences scan no further (under tlb_mutex).
static unsigned tlb_harts;

static void tlb_drop(unsigned h, uintptr_t start, uintptr_t end)
{
	for (int i = 0; i < SIM_TLB_SIZE; i++) {
		uintptr_t va = tlb[h][i].vpn << PAGE_SHIFT;
		if (tlb[h][i].used && va >= start && va < end)
			tlb[h][i].used = false;
	}
}

static void tlb_fence(bool all_harts, uintptr_t start, uintptr_t end)
{
	pthread_mutex_lock(&tlb_mutex);
	for (unsigned h = 0; h < tlb_harts; h++)
		if (all_harts || h == hart_index % SIM_HARTS)
			tlb_drop(h, start, end);
	pthread_mutex_unlock(&tlb_mutex);
}

bool sim_tlb_access(uintptr_t va)
{
	uintptr_t vpn = va >> PAGE_SHIFT;
	unsigned h = hart_index % SIM_HARTS, slot = vpn % SIM_TLB_SIZE;
	pthread_mutex_lock(&tlb_mutex);
	if (!tlb[h][slot].used || tlb[h][slot].vpn != vpn) {
		pte_t pte;
		unsigned level;
		bool valid = !kpt_lookup(va, &pte, &level);
		if (valid || !sim.svvptc) {
			tlb[h][slot].used = true, tlb[h][slot].vpn = vpn, tlb[h][slot].valid = valid;
			tlb_harts = MAX(tlb_harts, h + 1);
		}
		pthread_mutex_unlock(&tlb_mutex);
		return valid;
	}
	bool valid = tlb[h][slot].valid;
	pthread_mutex_unlock(&tlb_mutex);
	return valid;
}

void arch_flush_tlb_kernel_range(uintptr_t start, uintptr_t end)
{
	apply_queued();
	sim.flushes++;
	tlb_fence(true, start, end);
}

void arch_flush_tlb_after_map(uintptr_t start, uintptr_t end)
{
	apply_queued();
	if (!sim.svvptc)
		sim.map_fences++;
	tlb_fence(!sim.svvptc, start, end);
}

unsigned arch_hart_index(void) { return hart_index; }
unsigned arch_nr_harts(void) { return nr_harts; }

void sim_set_hart(unsigned hart, unsigned n)
{
	hart_index = hart;
	nr_harts = n;
}

unsigned long arch_irq_save(void)
{
	unsigned long f = irq_enabled;
	irq_enabled = 0;
	return f;
}

void arch_irq_restore(unsigned long flags)
{
	irq_enabled = flags;
	sim_poll_ipi();
}

uint64_t arch_time_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

// Harts are threads that the host may deschedule: yield, or a fair ticket lock convoys.
void arch_cpu_relax(void)
{
	sim_poll_ipi();
	sched_yield();
}

bool sim_resident(phys_addr_t pa)
{
	unsigned char vec;
	void *va = __va(ALIGN_DOWN(pa, PAGE_SIZE));
	if (mincore(va, PAGE_SIZE, &vec))
		return false;
	return vec & 1;
}
