/* SPDX-License-Identifier: MIT */
/*
 * Host stand-in for arch/riscv/include/asm/csr.h in the irqchip tests: the cause numbers only.
 *
 * Interface: IRQ_S_EXT.
 */
#ifndef ASM_CSR_H
#define ASM_CSR_H

#define IRQ_S_EXT 9

#endif
