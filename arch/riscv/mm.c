// SPDX-License-Identifier: MIT
/*
 * RISC-V side of the arch interface generic mm code uses (include/rvmm/arch_mm.h): the Sv39/Sv48
 * PTE format, the root table, TLB fences on every hart (and whether Svvptc spares them), and the
 * layout of the kernel address space for the paging mode early_vm.c chose.
 */
#include <asm/csr.h>
#include <asm/hart.h>
#include <asm/memlayout.h>
#include <asm/pte.h>
#include <asm/sbi.h>
#include <rvmm/arch_mm.h>
#include <rvmm/errno.h>
#include <rvmm/mm.h>
#include <rvmm/platform.h>
#include <rvmm/printk.h>
#include <stdio.h>

extern pte_t swapper_pg_dir[];
extern unsigned long early_vm_satp_mode;
extern phys_addr_t early_vm_kimage_pa;

struct mm_layout mm_layout;

/* Fill mm_layout for the paging mode in use (start_kernel, before anything maps). */
void arch_mm_layout_init(void)
{
	bool sv48 = early_vm_satp_mode == SATP_MODE_SV48;

	mm_layout.page_offset = sv48 ? SV48_PAGE_OFFSET : SV39_PAGE_OFFSET;
	mm_layout.max_phys = sv48 ? SV48_MAX_PHYS : SV39_MAX_PHYS;
	mm_layout.directmap_size = mm_layout.max_phys;
	mm_layout.vmemmap_base = sv48 ? SV48_VMEMMAP : SV39_VMEMMAP;
	mm_layout.vmemmap_size = (mm_layout.max_phys >> PAGE_SHIFT) * sizeof(struct page);
	mm_layout.io_base = sv48 ? SV48_IO_BASE : SV39_IO_BASE;
	mm_layout.io_size = sv48 ? SV48_IO_SIZE : SV39_IO_SIZE;
	mm_layout.kimage_base = KIMAGE_VA;
	mm_layout.kimage_pa = early_vm_kimage_pa;
}

unsigned arch_pgtable_levels(void) { return early_vm_satp_mode == SATP_MODE_SV48 ? 4 : 3; }
const char *arch_paging_mode(void) { return early_vm_satp_mode == SATP_MODE_SV48 ? "sv48" : "sv39"; }

phys_addr_t arch_kpt_root(void)
{
	/* swapper_pg_dir lives in the image: its physical address follows from the image's. */
	return (uintptr_t)swapper_pg_dir - KIMAGE_VA + early_vm_kimage_pa;
}

pte_t arch_pte_mkleaf(phys_addr_t pa, unsigned prot)
{
	pte_t pte = pa_to_pte(pa) | PTE_KERNEL;
	if (prot & PROT_READ)
		pte |= PTE_R;
	if (prot & PROT_WRITE)
		pte |= PTE_W | PTE_R; /* W without R is reserved */
	if (prot & PROT_EXEC)
		pte |= PTE_X;
	if (prot & PROT_DEVMAP)
		pte |= PTE_DEVMAP;
	return pte;
}

pte_t arch_pte_mktable(phys_addr_t table_pa) { return pa_to_pte(table_pa) | PTE_V; }
bool arch_pte_present(pte_t pte) { return pte & PTE_V; }
bool arch_pte_is_leaf(pte_t pte) { return (pte & PTE_V) && (pte & PTE_LEAF_BITS); }
phys_addr_t arch_pte_pa(pte_t pte) { return pte_to_pa(pte); }

unsigned arch_pte_prot(pte_t pte)
{
	return (pte & PTE_R ? PROT_READ : 0) | (pte & PTE_W ? PROT_WRITE : 0) |
	       (pte & PTE_X ? PROT_EXEC : 0) | ((pte & PTE_PBMT_IO) == PTE_PBMT_IO ? PROT_IO : 0) |
	       (pte & PTE_DEVMAP ? PROT_DEVMAP : 0);
}

void arch_pte_describe(pte_t pte, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s %s%s%s%s", pte & PTE_R ? "R" : "-", pte & PTE_W ? "W" : "-",
		 pte & PTE_X ? "X" : "-", pte & PTE_G ? "G" : "", pte & PTE_A ? "A" : "",
		 pte & PTE_D ? "D" : "", pte & PTE_DEVMAP ? " devmap" : "");
}

void arch_pte_set(pte_t *ptep, pte_t pte, uintptr_t va, unsigned level)
{
	(void)va;
	(void)level;
	__atomic_store_n(ptep, pte, __ATOMIC_RELEASE);
}

/*
 * Svvptc on every hart that runs (riscv_tlb_init): a hart never caches an invalid entry, so a
 * mapping that becomes valid needs no fence on the other harts.
 */
static bool tlb_svvptc;

void riscv_tlb_init(const struct platform *plat)
{
	int enabled = 0, with = 0;
	for (int i = 0; i < plat->nr_harts; i++) {
		if (!plat->harts[i].enabled)
			continue;
		enabled++;
		with += plat_hart_has_ext(&plat->harts[i], "svvptc");
	}
	tlb_svvptc = enabled && with == enabled;
	if (tlb_svvptc)
		pr_info("mm: every hart has svvptc: new kernel mappings fence this hart only");
}

static int sbi_fence(unsigned long mask, unsigned long base, void *range)
{
	const uintptr_t *r = range; /* start, end */
	int rc = sbi_remote_sfence_vma(mask, base, r[0], r[1] - r[0]);
	if (rc)
		pr_err("tlb: SBI remote_sfence_vma(hart_mask 0x%lx, hart_mask_base %lu) failed: %s%s",
		       mask, base, errname(rc), rc == -ENOTSUP ? " (no SBI RFENCE extension)" : "");
	return rc;
}

/* Fence [start, end) on every other started hart. */
static void remote_fence(uintptr_t start, uintptr_t end)
{
	uintptr_t range[2] = { start, end };
	int rc = smp_sbi_for_harts(smp_hart_is_other, sbi_fence, range);
	if (rc)
		panic("remote TLB shootdown failed (SBI RFENCE: %s): stale kernel mappings would stay "
		      "usable on other harts", errname(rc));
}

/*
 * The TLB rule (docs/locking.md): without Svvptc another hart may hold an invalid entry for the
 * new range, cached before it was mapped, and would fault on it; one fence on every started hart
 * after the mapping is written (Linux's riscv arch_add_memory ends with flush_tlb_all) removes it.
 */
void arch_flush_tlb_after_map(uintptr_t start, uintptr_t end)
{
	local_flush_tlb_all();
	if (!tlb_svvptc)
		remote_fence(start, end);
}

void arch_flush_tlb_kernel_range(uintptr_t start, uintptr_t end)
{
	/* Large ranges: one full flush is cheaper than a page at a time. */
	if (end - start > 64 * PAGE_SIZE)
		local_flush_tlb_all();
	else
		for (uintptr_t va = start; va < end; va += PAGE_SIZE)
			local_flush_tlb_page(va);
	remote_fence(start, end);
}
