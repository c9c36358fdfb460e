// SPDX-License-Identifier: MIT
/*
 * RISC-V side of include/rvmm/arch_cpu.h (except arch_time_ns, in timer.c): which hart this is,
 * interrupt masking through sstatus.SIE, the pause hint, and wfi.
 */
#include <asm/csr.h>
#include <asm/hart.h>
#include <rvmm/arch_cpu.h>

unsigned arch_hart_index(void) { return this_hart ? this_hart->index : 0; }

unsigned long arch_irq_save(void) { return csr_read_clear(sstatus, SSTATUS_SIE) & SSTATUS_SIE; }

void arch_irq_restore(unsigned long flags)
{
	if (flags & SSTATUS_SIE)
		csr_set(sstatus, SSTATUS_SIE);
}

/* pause (Zihintpause), encoded by hand: a fence with an empty set, a no-op where absent. */
void arch_cpu_relax(void) { __asm__ volatile(".insn i 0x0f, 0, x0, x0, 0x010" ::: "memory"); }

/* wfi ends on a pending interrupt that sie enables, whatever sstatus.SIE says. */
void arch_cpu_idle(void) { wfi(); }
