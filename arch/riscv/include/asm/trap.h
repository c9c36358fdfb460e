/* SPDX-License-Identifier: MIT */
/*
 * The registers trap.S saves: x0's slot holds sepc, then x1..x31, then sstatus, scause, stval,
 * and a frame record for backtraces.
 */
#ifndef ASM_TRAP_H
#define ASM_TRAP_H

#include <rvmm/types.h>

struct trap_frame {
	unsigned long sepc;
	unsigned long regs[31]; /* x1..x31: regs[0] = ra, regs[1] = sp, regs[7] = s0/fp */
	unsigned long sstatus, scause, stval;
	unsigned long pad;
	unsigned long frame_fp, frame_ra; /* frame record: interrupted s0, sepc */
};

void trap_init_hart(void);
/* Handlers for interrupt sources, called from trap_handler. */
void timer_interrupt(void);
void ipi_interrupt(void);

#endif
