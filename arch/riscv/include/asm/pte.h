/* SPDX-License-Identifier: MIT */
/*
 * RISC-V Sv39/Sv48 page-table entry format (privileged spec, "Sv39 Implementation").
 */
#ifndef ASM_PTE_H
#define ASM_PTE_H

#define PTE_V (1UL << 0)
#define PTE_R (1UL << 1)
#define PTE_W (1UL << 2)
#define PTE_X (1UL << 3)
#define PTE_U (1UL << 4)
#define PTE_G (1UL << 5)
#define PTE_A (1UL << 6)
#define PTE_D (1UL << 7)
#define PTE_DEVMAP (1UL << 9) /* RSW bit 1: a mapping of ZONE_DEVICE memory (as Linux's riscv) */
#define PTE_PBMT_IO (2UL << 61) /* Svpbmt: non-cacheable, strongly ordered */
#define PTE_PPN_SHIFT 10
#define PTE_PPN_MASK (((1UL << 44) - 1) << PTE_PPN_SHIFT)

#define PTE_LEAF_BITS (PTE_R | PTE_W | PTE_X)
#define PTE_KERNEL (PTE_V | PTE_G | PTE_A | PTE_D)

#define pa_to_pte(pa) ((((unsigned long)(pa)) >> 12) << PTE_PPN_SHIFT)
#define pte_to_pa(pte) ((((unsigned long)(pte)) & PTE_PPN_MASK) >> PTE_PPN_SHIFT << 12)

#endif
