/* SPDX-License-Identifier: MIT */
/*
 * Host stand-in for arch/riscv/include/asm/hart.h in the irqchip tests: the harts are plain
 * descriptors the test fills, and this_hart is whichever the test says is running.
 *
 * Interface: enum hart_state, struct hart, harts, nr_harts_online, this_hart (MAX_HARTS is
 * rvmm/types.h's).
 */
#ifndef ASM_HART_H
#define ASM_HART_H

#include <rvmm/types.h>

enum hart_state { HART_OFF, HART_STARTING, HART_IDLE, HART_BUSY, HART_HALTED };

struct hart {
	unsigned index;
	unsigned long hartid;
	enum hart_state state;
};

extern struct hart harts[MAX_HARTS];
extern unsigned nr_harts_online;
extern struct hart *this_hart;

#endif
