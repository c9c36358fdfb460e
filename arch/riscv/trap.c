// SPDX-License-Identifier: MIT
/*
 * S-mode trap dispatch. Interrupts go to their handlers (timer; external, through the interrupt
 * domains; IPI). An exception is a kernel bug: print cause, sepc, stval, the registers and a
 * frame-pointer backtrace, then halt this hart (the others go on, so the console may still
 * answer).
 *
 * Interface: trap_handler (from trap.S), trap_init_hart, backtrace_print, arch_halt_hart.
 */
#include <asm/csr.h>
#include <asm/trap.h>
#include <rvmm/irq.h>
#include <rvmm/printk.h>
#include <stdio.h>

extern char _text[], _etext[];
extern char trap_entry[];

static const char *const exception_names[] = {
	"instruction address misaligned", "instruction access fault", "illegal instruction",
	"breakpoint", "load address misaligned", "load access fault",
	"store address misaligned", "store access fault", "ecall from U-mode",
	"ecall from S-mode", "reserved", "ecall from M-mode",
	"instruction page fault", "load page fault", "reserved", "store page fault",
};

static const char *const reg_names[31] = {
	"ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4", "a5", "a6",
	"a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6",
};

static bool in_text(unsigned long pc) { return pc >= (uintptr_t)_text && pc < (uintptr_t)_etext; }

/* Walk saved {fp, ra} records: on RISC-V, ra is at fp-8 and the caller's fp at fp-16. */
void backtrace_print(unsigned long pc, unsigned long fp)
{
	pr_err("backtrace:");
	pr_err("  [<%016lx>]", pc);
	for (int depth = 0; depth < 32 && fp && (fp & 7) == 0; depth++) {
		if (fp < 0xffff800000000000UL)
			break;
		unsigned long ra = ((unsigned long *)fp)[-1];
		unsigned long next = ((unsigned long *)fp)[-2];
		if (!in_text(ra))
			break;
		pr_err("  [<%016lx>]", ra);
		if (next <= fp && next != 0)
			break; /* stacks grow down: a caller's frame is above */
		fp = next;
	}
}

__noreturn void arch_halt_hart(void)
{
	csr_clear(sstatus, SSTATUS_SIE);
	for (;;)
		wfi();
}

static __noreturn void die(struct trap_frame *tf)
{
	unsigned long cause = tf->scause;
	const char *name = cause < 16 ? exception_names[cause] : "unknown";

	pr_err("unhandled exception %lu (%s) in kernel", cause, name);
	pr_err("sepc %016lx stval %016lx sstatus %016lx", tf->sepc, tf->stval, tf->sstatus);
	for (int i = 0; i < 31; i += 4) {
		char line[128];
		int n = 0;
		for (int j = i; j < i + 4 && j < 31; j++)
			n += snprintf(line + n, sizeof(line) - n, "%-3s %016lx  ", reg_names[j], tf->regs[j]);
		pr_err("%s", line);
	}
	backtrace_print(tf->sepc, tf->regs[7]);
	panic("exception %lu at %016lx", cause, tf->sepc);
}

void trap_handler(struct trap_frame *tf)
{
	unsigned long cause = tf->scause;

	if (!(cause & SCAUSE_IRQ))
		die(tf);
	switch (cause & ~SCAUSE_IRQ) {
	case IRQ_S_TIMER:
		timer_interrupt();
		break;
	case IRQ_S_EXT:
		irq_handle_external();
		break;
	case IRQ_S_SOFT:
		csr_clear(sip, SIE_SSIE);
		ipi_interrupt();
		break;
	default:
		pr_warn("spurious interrupt %lu", cause & ~SCAUSE_IRQ);
	}
}

void trap_init_hart(void)
{
	csr_write(stvec, (uintptr_t)trap_entry);
	csr_set(sie, SIE_STIE | SIE_SEIE | SIE_SSIE);
}
