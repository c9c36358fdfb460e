// SPDX-License-Identifier: MIT
/*
 * The first page tables, built with the MMU off (called from head.S at the physical load
 * address). Everything here must be position independent: only PC-relative references to globals,
 * no pointers stored in initialised data, no calls outside this file.
 *
 * What it maps (all in swapper_pg_dir, the kernel's root table for good):
 *   - the kernel image at KIMAGE_VA, 4 KiB pages with W^X: text RX, rodata R, data/bss RW;
 *   - an early window of the direct map: the 1 GiB around the image, so the boot allocator can
 *     reach memory through __va() before the real direct map exists (kernel/mm/ replaces it);
 *   - the identity map of the same gigabyte, only to survive the satp write; start_kernel removes
 *     it as soon as we run in the upper half.
 *
 * Interface: early_setup_vm() (from head.S), early_vm_satp_mode, early_identity_remove().
 */
#include <asm/csr.h>
#include <asm/memlayout.h>
#include <asm/pte.h>
#include <rvmm/types.h>

#define __early __attribute__((section(".text.early")))

typedef uint64_t pte_t;
typedef pte_t table_t[512] __attribute__((aligned(4096)));

table_t swapper_pg_dir;
static table_t early_pud_kimage, early_pmd_kimage, early_pte_kimage[KIMAGE_MAX_SIZE / SZ_2M];
static table_t early_pud_dm, early_pud_id;

/* What early_setup_vm decided, for start_kernel. */
unsigned long early_vm_satp_mode;
phys_addr_t early_vm_kimage_pa;
phys_addr_t early_vm_window_pa; /* 1 GiB aligned, mapped at page_offset + window_pa */
uintptr_t early_vm_page_offset;

extern char _kimage_start[], _etext[], _erodata[], _kimage_end[];

/*
 * The DTB, copied into the image before the MMU is on: QEMU may place it anywhere in RAM (just
 * below 4 GiB on large guests), outside what the early tables map.
 */
#define EARLY_DTB_MAX (512 * 1024)
uint8_t early_dtb[EARLY_DTB_MAX] __attribute__((aligned(8)));
uint32_t early_dtb_size;
phys_addr_t early_dtb_pa;

static __early uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static __early void copy_dtb(const uint8_t *dtb)
{
	uint32_t size;

	early_dtb_pa = (uintptr_t)dtb;
	if (!dtb || (uintptr_t)dtb & 7)
		return; /* platform_parse reports the missing/bad DTB with the console up */
	size = be32(dtb + 4); /* totalsize; the header is checked properly by libfdt later */
	if (be32(dtb) != 0xd00dfeed || size > EARLY_DTB_MAX)
		size = MIN(size, (uint32_t)EARLY_DTB_MAX);
	for (uint32_t i = 0; i < size; i++)
		early_dtb[i] = dtb[i];
	early_dtb_size = size;
}

static __early void early_putc(char c)
{
	register unsigned long a0 __asm__("a0") = (unsigned char)c;
	register unsigned long a7 __asm__("a7") = 1; /* legacy console_putchar */
	__asm__ volatile("ecall" : "+r"(a0) : "r"(a7) : "a1", "memory");
}

static __early __noreturn void early_fail(const char *msg)
{
	while (*msg)
		early_putc(*msg++);
	for (;;)
		__asm__ volatile("wfi");
}

static __early unsigned idx(uintptr_t va, unsigned level) { return (va >> (12 + 9 * level)) & 511; }
static __early pte_t table_pte(void *table) { return pa_to_pte((uintptr_t)table) | PTE_V; }

static __early void map_kimage(pte_t *pmd, uintptr_t kimage_pa)
{
	uintptr_t text_end = (uintptr_t)_etext, ro_end = (uintptr_t)_erodata;
	uintptr_t end = (uintptr_t)_kimage_end;

	for (uintptr_t pa = kimage_pa; pa < end; pa += PAGE_SIZE) {
		uintptr_t va = KIMAGE_VA + (pa - kimage_pa);
		pte_t *pte = early_pte_kimage[(pa - kimage_pa) >> 21];
		unsigned long perm = pa < text_end ? PTE_R | PTE_X : pa < ro_end ? PTE_R : PTE_R | PTE_W;

		pmd[idx(va, 1)] = table_pte(pte);
		pte[idx(va, 0)] = pa_to_pte(pa) | perm | PTE_KERNEL;
	}
}

/* Build the tables for a 3- or 4-level mode and try it; returns whether the hart took it. */
static __early bool try_mode(unsigned long mode, uintptr_t kimage_pa, uintptr_t page_offset)
{
	unsigned levels = mode == SATP_MODE_SV48 ? 4 : 3;
	uintptr_t win = ALIGN_DOWN(kimage_pa, SZ_1G);
	pte_t leaf = pa_to_pte(win) | PTE_R | PTE_W | PTE_X | PTE_KERNEL;
	pte_t *pgd = swapper_pg_dir;

	for (int i = 0; i < 512; i++)
		pgd[i] = early_pud_kimage[i] = early_pud_dm[i] = early_pud_id[i] = 0;

	if (levels == 4) {
		pgd[idx(KIMAGE_VA, 3)] = table_pte(early_pud_kimage);
		early_pud_kimage[idx(KIMAGE_VA, 2)] = table_pte(early_pmd_kimage);
		pgd[idx(page_offset + win, 3)] = table_pte(early_pud_dm);
		early_pud_dm[idx(page_offset + win, 2)] = leaf & ~PTE_X;
		pgd[idx(win, 3)] = table_pte(early_pud_id);
		early_pud_id[idx(win, 2)] = leaf;
	} else {
		pgd[idx(KIMAGE_VA, 2)] = table_pte(early_pmd_kimage);
		pgd[idx(page_offset + win, 2)] = leaf & ~PTE_X;
		pgd[idx(win, 2)] = leaf;
	}
	map_kimage(early_pmd_kimage, kimage_pa);

	unsigned long satp = (mode << SATP_MODE_SHIFT) | ((uintptr_t)pgd >> 12);
	__asm__ volatile("sfence.vma" ::: "memory");
	csr_write(satp, satp);
	/* A mode the hart does not implement leaves satp unchanged (privileged spec, "satp"). */
	if (csr_read(satp) != satp)
		return false;
	__asm__ volatile("sfence.vma" ::: "memory");
	return true;
}

/* Returns the offset from a physical to a virtual address of the kernel image. */
__early unsigned long early_setup_vm(unsigned long hartid, unsigned long dtb)
{
	uintptr_t kimage_pa = (uintptr_t)_kimage_start;
	(void)hartid;

	if ((uintptr_t)_kimage_end - kimage_pa > KIMAGE_MAX_SIZE)
		early_fail("rvmm: kernel image larger than the early page tables map; halting\n");
	if (kimage_pa & (SZ_2M - 1))
		early_fail("rvmm: kernel not loaded at a 2 MiB aligned address; halting\n");

	copy_dtb((const uint8_t *)dtb);
	if (try_mode(SATP_MODE_SV48, kimage_pa, SV48_PAGE_OFFSET)) {
		early_vm_satp_mode = SATP_MODE_SV48;
		early_vm_page_offset = SV48_PAGE_OFFSET;
	} else if (try_mode(SATP_MODE_SV39, kimage_pa, SV39_PAGE_OFFSET)) {
		early_vm_satp_mode = SATP_MODE_SV39;
		early_vm_page_offset = SV39_PAGE_OFFSET;
	} else {
		early_fail("rvmm: the hart supports neither Sv48 nor Sv39; halting\n");
	}
	early_vm_kimage_pa = kimage_pa;
	early_vm_window_pa = ALIGN_DOWN(kimage_pa, SZ_1G);
	return KIMAGE_VA - kimage_pa;
}

/*
 * A root table for harts started later (smp.c): the kernel's entries plus the identity map of the
 * image's gigabyte, which they need for the instant they switch translation on. The kernel's
 * top-level entries never change after boot (they are preallocated), so a copy stays valid.
 */
static table_t trampoline_pg_dir;

phys_addr_t early_trampoline_root(void)
{
	unsigned top = early_vm_satp_mode == SATP_MODE_SV48 ? 3 : 2;
	uintptr_t to_pa = early_vm_kimage_pa - KIMAGE_VA;
	pte_t id = top == 3 ? pa_to_pte((uintptr_t)early_pud_id + to_pa) | PTE_V
			    : pa_to_pte(early_vm_window_pa) | PTE_R | PTE_W | PTE_X | PTE_KERNEL;

	for (int i = 0; i < 512; i++)
		trampoline_pg_dir[i] = swapper_pg_dir[i];
	trampoline_pg_dir[idx(early_vm_window_pa, top)] = id;
	return (uintptr_t)trampoline_pg_dir + to_pa;
}

/* Drop the identity mapping once running in the upper half (called by start_kernel). */
void early_identity_remove(void)
{
	unsigned top = early_vm_satp_mode == SATP_MODE_SV48 ? 3 : 2;
	swapper_pg_dir[idx(early_vm_window_pa, top)] = 0;
	local_flush_tlb_all();
}
