/* SPDX-License-Identifier: MIT */
/*
 * Supervisor CSRs and their bits, with one accessor pair each (xv6 style).
 */
#ifndef ASM_CSR_H
#define ASM_CSR_H

#include <rvmm/types.h>

#define SSTATUS_SIE (1UL << 1)
#define SSTATUS_SPIE (1UL << 5)
#define SSTATUS_SPP (1UL << 8)
#define SSTATUS_SUM (1UL << 18)

#define SIE_SSIE (1UL << 1)
#define SIE_STIE (1UL << 5)
#define SIE_SEIE (1UL << 9)

#define SCAUSE_IRQ (1UL << 63)
#define IRQ_S_SOFT 1
#define IRQ_S_TIMER 5
#define IRQ_S_EXT 9

#define SATP_MODE_SV39 8UL
#define SATP_MODE_SV48 9UL
#define SATP_MODE_SHIFT 60

#define csr_read(csr)                                                   \
	({                                                              \
		unsigned long __v;                                      \
		__asm__ volatile("csrr %0, " #csr : "=r"(__v)::"memory"); \
		__v;                                                    \
	})
#define csr_write(csr, val) __asm__ volatile("csrw " #csr ", %0" ::"rK"(val) : "memory")
#define csr_set(csr, val) __asm__ volatile("csrs " #csr ", %0" ::"rK"(val) : "memory")
#define csr_clear(csr, val) __asm__ volatile("csrc " #csr ", %0" ::"rK"(val) : "memory")
#define csr_read_clear(csr, val)                                                        \
	({                                                                              \
		unsigned long __v;                                                      \
		__asm__ volatile("csrrc %0, " #csr ", %1" : "=r"(__v) : "rK"(val) : "memory"); \
		__v;                                                                    \
	})

static inline uint64_t rdtime(void)
{
	uint64_t t;
	__asm__ volatile("rdtime %0" : "=r"(t));
	return t;
}

static inline void local_flush_tlb_all(void) { __asm__ volatile("sfence.vma" ::: "memory"); }
static inline void local_flush_tlb_page(uintptr_t va)
{
	__asm__ volatile("sfence.vma %0" ::"r"(va) : "memory");
}
static inline void wfi(void) { __asm__ volatile("wfi"); }

#endif
