/* SPDX-License-Identifier: MIT */
/*
 * Host stand-in for arch/riscv/include/asm/aia.h: each hart's S-level IMSIC interrupt file is a
 * simulated one (tests/host/irqchip/test_aia.c), reached through this_hart as the real CSRs are.
 *
 * Interface: the IMSIC register numbers, aia_ireg_read/write/set/clear, aia_claim_topei.
 */
#ifndef ASM_AIA_H
#define ASM_AIA_H

#include <rvmm/types.h>

#define IMSIC_EIDELIVERY 0x70
#define IMSIC_EITHRESHOLD 0x72
#define IMSIC_EIP0 0x80
#define IMSIC_EIE0 0xc0

unsigned long aia_ireg_read(unsigned long reg);
void aia_ireg_write(unsigned long reg, unsigned long val);
void aia_ireg_set(unsigned long reg, unsigned long bits);
void aia_ireg_clear(unsigned long reg, unsigned long bits);
uint32_t aia_claim_topei(void);

#endif
