// SPDX-License-Identifier: MIT
//
// What a hart does when it has nothing to do: the secondary harts' idle loop, the boot hart's
// wait for console input, and the one job slot (smp_start_others) through which the `stress`
// command puts idle harts to work. Sleeping itself is the arch's (arch_cpu_idle).
//
// Interface: cpu_idle_loop, smp_start_others, smp_wait_others (include/rvmm/smp.h);
// console_idle (include/rvmm/kernel.h).

#include <asm/hart.h>
#include <rvmm/arch_cpu.h>
#include <rvmm/arch_smp.h>
#include <rvmm/kernel.h>
#include <rvmm/page_alloc.h>
#include <rvmm/smp.h>

/*
 * The job slot. The starter writes fn and arg, then sets each chosen hart's pending flag (release);
 * a hart runs the job once and clears its flag (release). One job at a time: the starter waits for
 * every flag before it may start another.
 */
static struct {
	void (*fn)(void *);
	void *arg;
} idle_job;
static bool idle_job_pending[MAX_HARTS];

static bool run_idle_job(unsigned me)
{
	if (!__atomic_load_n(&idle_job_pending[me], __ATOMIC_ACQUIRE))
		return false;
	this_hart->state = HART_BUSY;
	this_hart->doing = "job";
	idle_job.fn(idle_job.arg);
	__atomic_store_n(&idle_job_pending[me], false, __ATOMIC_RELEASE);
	return true;
}

unsigned smp_start_others(void (*fn)(void *), void *arg)
{
	unsigned n = 0;

	idle_job.fn = fn;
	idle_job.arg = arg;
	for (unsigned i = 1; i < nr_harts_online; i++) {
		if (i == this_hart->index ||
		    __atomic_load_n(&harts[i].state, __ATOMIC_ACQUIRE) != HART_IDLE)
			continue;
		__atomic_store_n(&idle_job_pending[i], true, __ATOMIC_RELEASE);
		arch_smp_wake(i);
		n++;
	}
	return n;
}

void smp_wait_others(void)
{
	for (unsigned i = 0; i < nr_harts_online; i++)
		while (__atomic_load_n(&idle_job_pending[i], __ATOMIC_ACQUIRE))
			arch_cpu_relax();
}

/* Work an idle hart does before it sleeps; true if it found some (look again before sleeping). */
static bool idle_work(unsigned me)
{
	return run_idle_job(me) || deferred_init_step() || background_work();
}

__noreturn void cpu_idle_loop(void)
{
	unsigned me = this_hart->index;

	for (;;) {
		this_hart->state = HART_IDLE;
		this_hart->doing = "idle";
		if (idle_work(me))
			continue;
		/* Check and sleep with interrupts masked: a wake-up in between ends the sleep. */
		unsigned long flags = arch_irq_save();
		if (!__atomic_load_n(&idle_job_pending[me], __ATOMIC_ACQUIRE))
			arch_cpu_idle();
		arch_irq_restore(flags);
	}
}

void console_idle(void)
{
	if (deferred_init_step() || background_work())
		return;
	/* Input raises an interrupt (or, polled, the timer tick does): either ends the sleep. */
	unsigned long flags = arch_irq_save();
	arch_cpu_idle();
	arch_irq_restore(flags);
}
