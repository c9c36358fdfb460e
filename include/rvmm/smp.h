/* SPDX-License-Identifier: MIT */
/*
 * Idle harts and the jobs given to them (kernel/idle.c). Every hart but the boot hart ends in
 * cpu_idle_loop(); the boot hart idles in console_idle() while it waits for input. An idle hart
 * runs, in this order: a job from smp_start_others(), deferred init, background work, and else
 * sleeps in arch_cpu_idle() until an interrupt.
 *
 * On the host the simulator (tests/host/sim/sim_arch.c) gives smp_start_others() and
 * smp_wait_others() one thread per simulated hart.
 */
#ifndef RVMM_SMP_H
#define RVMM_SMP_H

#include <rvmm/types.h>

/* A secondary hart's life once it is set up: never returns. */
__noreturn void cpu_idle_loop(void);

/*
 * Start fn(arg) on every other idle hart, in its idle loop (interrupts enabled, may take locks
 * and run long), and return how many harts took it. smp_wait_others() waits until all of them
 * have returned from fn. One such job at a time (the `stress` command).
 */
unsigned smp_start_others(void (*fn)(void *), void *arg);
void smp_wait_others(void);

#endif
