/* SPDX-License-Identifier: MIT */
/*
 * The narrow interface between generic mm code (kernel/mm/) and the hardware. arch/riscv/mm.c
 * implements it for the machine; tests/host/sim_arch.c implements it over simulated memory, which
 * is how the same kernel/mm/ sources run under ASan/UBSan and fuzzers on the host.
 *
 * Generic code never looks inside a pte_t: it asks these helpers. A page table has 512 entries of
 * 8 bytes at every level; level 0 holds 4 KiB leaves (pte), level 1 2 MiB (pmd), level 2 1 GiB
 * (pud), level 3 512 GiB (p4d/pgd in Sv48). arch_pgtable_levels() is 3 (Sv39) or 4 (Sv48).
 *
 * The rest of the arch interface is split by job: arch_cpu.h (this hart: time, relax, interrupt
 * masking, idle) and arch_smp.h (the other harts: count, cross-hart calls, wake-ups).
 */
#ifndef RVMM_ARCH_MM_H
#define RVMM_ARCH_MM_H

#include <rvmm/types.h>

typedef uint64_t pte_t;

#define PTRS_PER_TABLE 512
#define LEVEL_SHIFT(level) (PAGE_SHIFT + 9 * (level))
#define LEVEL_SIZE(level) (1UL << LEVEL_SHIFT(level))

/* Generic protection bits; the arch translates them to its PTE bits. */
#define PROT_READ 0x1
#define PROT_WRITE 0x2
#define PROT_EXEC 0x4
#define PROT_IO 0x8 /* device memory: strongly ordered, never cached (PBMT IO where present) */
#define PROT_DEVMAP 0x10 /* maps ZONE_DEVICE memory (a PTE software bit: ptdump shows it) */
#define PROT_KERNEL_RW (PROT_READ | PROT_WRITE)

unsigned arch_pgtable_levels(void);
/* Name of the paging mode in use ("sv48", "sv39"), for meminfo and ptdump. */
const char *arch_paging_mode(void);
/* Physical address of the kernel's root page table. */
phys_addr_t arch_kpt_root(void);

pte_t arch_pte_mkleaf(phys_addr_t pa, unsigned prot);
pte_t arch_pte_mktable(phys_addr_t table_pa);
bool arch_pte_present(pte_t pte);
bool arch_pte_is_leaf(pte_t pte); /* present and maps memory (not a pointer to a table) */
phys_addr_t arch_pte_pa(pte_t pte);
unsigned arch_pte_prot(pte_t pte);
/* "RW-", "R-X"... and the raw bits' names, for ptdump: writes at most 32 bytes into buf. */
void arch_pte_describe(pte_t pte, char *buf, size_t len);

/*
 * Store an entry into a live table. va and level say what it maps, so the host simulation can
 * mirror leaves into its address space; on the target it is one ordered store.
 */
void arch_pte_set(pte_t *ptep, pte_t pte, uintptr_t va, unsigned level);

/*
 * Make every hart stop using translations for [start, end) of the kernel address space: after a
 * mapping is removed or narrowed, before the memory or table behind it is reused.
 */
void arch_flush_tlb_kernel_range(uintptr_t start, uintptr_t end);

/*
 * Make the kernel mappings that just became valid in [start, end) usable on every hart. The
 * privileged spec lets a hart cache an *invalid* entry (one it looked up, even speculatively,
 * before the mapping existed), so on RISC-V this fences this hart and every other started hart
 * (SBI RFENCE), unless every hart has Svvptc (invalid-to-valid changes need no fence there): then
 * only this hart fences. kpt_map_range calls it once per call; a batch of __kpt_map_range calls
 * once for the batch. docs/locking.md, "TLB rule", says why this and not fault-and-retry.
 */
void arch_flush_tlb_after_map(uintptr_t start, uintptr_t end);

#endif
