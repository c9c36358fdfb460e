/* SPDX-License-Identifier: MIT */
/*
 * The arch interface for reaching the other harts: how many there are, running a function on all
 * of them at once from their interrupt handler, and waking one from arch_cpu_idle(). arch/riscv/
 * smp.c implements it with SBI IPIs; tests/host/sim/sim_arch.c with host threads.
 */
#ifndef RVMM_ARCH_SMP_H
#define RVMM_ARCH_SMP_H

#include <rvmm/types.h>

/* The number of harts started (indexes 0 .. arch_nr_harts() - 1). */
unsigned arch_nr_harts(void);

/*
 * Run fn(arg) on every other started hart from its IPI handler (interrupts masked there: fn must
 * not take a lock or wait) and return when all have run it. The caller must hold no spinlock:
 * a hart spinning on it with interrupts masked would never answer.
 */
void arch_smp_call_others(void (*fn)(void *), void *arg);

/* End arch_cpu_idle() on hart index (an IPI with nothing to call). */
void arch_smp_wake(unsigned index);

#endif
