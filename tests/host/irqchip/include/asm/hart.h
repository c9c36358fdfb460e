/* SPDX-License-Identifier: MIT */
/*
 * Host stand-in for arch/riscv/include/asm/hart.h in the irqchip tests: the harts are plain
 * descriptors the test fills, and this_hart is whichever the test says is running.
 *
 * Interface: MAX_HARTS, struct hart, harts, this_hart.
 */
#ifndef ASM_HART_H
#define ASM_HART_H

#define MAX_HARTS 64

struct hart {
	unsigned index;
	unsigned long hartid;
};

extern struct hart harts[MAX_HARTS];
extern struct hart *this_hart;

#endif
