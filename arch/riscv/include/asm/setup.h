/* SPDX-License-Identifier: MIT */
/*
 * RISC-V boot steps start_kernel calls, in the order it calls them.
 */
#ifndef ASM_SETUP_H
#define ASM_SETUP_H

#include <rvmm/types.h>

void early_identity_remove(void);                       /* early_vm.c */
void smp_init_boot_hart(unsigned long hartid, void *tls); /* smp.c */
void arch_mm_layout_init(void);                         /* mm.c */
struct platform;
void riscv_tlb_init(const struct platform *plat);       /* mm.c: Svvptc on every hart? */
void timer_init(uint64_t dt_timebase_hz, bool sstc);    /* timer.c */
void timer_init_hart(void);
uint64_t ticks_to_ns(uint64_t ticks);
struct platform;
/*
 * setup_mm.c: hand mm_init() the parsed RAM (plat), the mem= limit (0: none) and what the RISC-V
 * boot has placed and mapped so far. Returns mm_init()'s result.
 */
int mm_boot_init(const struct platform *plat, uint64_t mem_limit);

#endif
