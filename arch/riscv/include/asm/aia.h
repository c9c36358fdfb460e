/* SPDX-License-Identifier: MIT */
/*
 * The S-mode CSRs of the Advanced Interrupt Architecture (AIA 1.0, chapter 2 and 3): the IMSIC's
 * interrupt file of this hart is reached indirectly, by writing a register number to siselect and
 * then reading or writing sireg; stopei names (and, when written, claims) the highest-priority
 * pending and enabled interrupt identity.
 *
 * The CSRs are spelled by number so that an assembler without Smaia/Ssaia names accepts them.
 *
 * Interface: aia_ireg_read/write/set/clear, aia_claim_topei; the IMSIC register numbers.
 */
#ifndef ASM_AIA_H
#define ASM_AIA_H

#include <rvmm/types.h>

#define CSR_SISELECT 0x150
#define CSR_SIREG 0x151
#define CSR_STOPEI 0x15c

/* siselect values for an IMSIC interrupt file (AIA 3.8). On RV64 only the even eip/eie exist. */
#define IMSIC_EIDELIVERY 0x70   /* 1: deliver interrupts from this file to the hart */
#define IMSIC_EITHRESHOLD 0x72  /* 0: every enabled identity may interrupt */
#define IMSIC_EIP0 0x80
#define IMSIC_EIE0 0xc0

/* stopei (and *topei) read as identity << 16 | priority; 0 when nothing is pending. */
#define TOPEI_ID_SHIFT 16

#define __aia_stringify(x) #x
#define __aia_csr(n) __aia_stringify(n)

static inline void aia_select(unsigned long reg)
{
	__asm__ volatile("csrw " __aia_csr(CSR_SISELECT) ", %0" ::"r"(reg) : "memory");
}

static inline unsigned long aia_ireg_read(unsigned long reg)
{
	unsigned long v;

	aia_select(reg);
	__asm__ volatile("csrr %0, " __aia_csr(CSR_SIREG) : "=r"(v)::"memory");
	return v;
}

static inline void aia_ireg_write(unsigned long reg, unsigned long val)
{
	aia_select(reg);
	__asm__ volatile("csrw " __aia_csr(CSR_SIREG) ", %0" ::"r"(val) : "memory");
}

static inline void aia_ireg_set(unsigned long reg, unsigned long bits)
{
	aia_select(reg);
	__asm__ volatile("csrs " __aia_csr(CSR_SIREG) ", %0" ::"r"(bits) : "memory");
}

static inline void aia_ireg_clear(unsigned long reg, unsigned long bits)
{
	aia_select(reg);
	__asm__ volatile("csrc " __aia_csr(CSR_SIREG) ", %0" ::"r"(bits) : "memory");
}

/*
 * Claim the top pending interrupt of this hart's file: returns its identity (its pending bit is
 * now clear), or 0 if none is pending. A write to stopei is what claims; reading and writing in
 * one csrrw cannot lose an identity that arrives in between.
 */
static inline uint32_t aia_claim_topei(void)
{
	unsigned long v;

	__asm__ volatile("csrrw %0, " __aia_csr(CSR_STOPEI) ", zero" : "=r"(v)::"memory");
	return (uint32_t)(v >> TOPEI_ID_SHIFT);
}

#endif
