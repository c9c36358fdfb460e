/* SPDX-License-Identifier: MIT */
/*
 * The arch interface for what one hart does to itself: read the clock, relax in a spin loop, mask
 * its interrupts, sleep until one comes, and say which hart it is. arch/riscv/ implements it for
 * the machine (timer.c, smp.c, trap.c); tests/host/sim/sim_arch.c for host threads.
 */
#ifndef RVMM_ARCH_CPU_H
#define RVMM_ARCH_CPU_H

#include <rvmm/types.h>

/* A monotonic clock in nanoseconds (rdtime on the target). */
uint64_t arch_time_ns(void);

/* Relax while spinning (pause hint on the target). */
void arch_cpu_relax(void);

/* Mask and restore this hart's interrupts. */
unsigned long arch_irq_save(void);
void arch_irq_restore(unsigned long flags);

/*
 * Sleep until an interrupt is pending. Called with interrupts masked (arch_irq_save), so that a
 * check for work followed by this call cannot miss the interrupt announcing it: one that arrives
 * in between still ends the sleep, and is taken when the caller restores interrupts.
 */
void arch_cpu_idle(void);

/* This hart's dense index (0 = the boot hart), for per-hart data. */
unsigned arch_hart_index(void);

#endif
