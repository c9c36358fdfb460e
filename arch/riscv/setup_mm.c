// SPDX-License-Identifier: MIT
/*
 * Hand generic mm what the RISC-V boot has set up: where the image and the DTB sit, and which
 * gigabyte of RAM early_vm.c already reaches through the direct map, and the boot hart's NUMA node.
 */
#include <asm/hart.h>
#include <asm/memlayout.h>
#include <asm/setup.h>
#include <rvmm/kernel.h>
#include <rvmm/mm.h>
#include <rvmm/platform.h>

extern char _kimage_start[], _kimage_end[];
extern phys_addr_t early_vm_window_pa, early_dtb_pa;
extern uint32_t early_dtb_size;

int mm_boot_init(const struct platform *plat, uint64_t mem_limit)
{
	phys_addr_t kimage_pa = mm_layout.kimage_pa;
	struct mm_boot boot = {
		.plat = plat,
		.mem_limit = mem_limit,
		.kernel_start = kimage_pa,
		.kernel_end = kimage_pa + (_kimage_end - _kimage_start),
		.dtb_start = early_dtb_pa,
		.dtb_end = early_dtb_pa + early_dtb_size,
		.early_start = early_vm_window_pa,
		.early_end = early_vm_window_pa + SZ_1G,
	};
	for (int i = 0; i < plat->nr_harts; i++)
		if (plat->harts[i].hartid == harts[0].hartid)
			boot.boot_node = plat->harts[i].node;
	riscv_tlb_init(plat);
	return mm_init(&boot);
}
