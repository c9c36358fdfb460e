// SPDX-License-Identifier: MIT
//
// Boot the simulated machine: what arch/riscv does before mm_init() (memory, layout, root table
// with the kernel image and the early direct-map window mapped), then mm_init() itself.
//
// Interface: sim_machine, sim_boot, platform.

#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <rvmm/arch_mm.h>
#include <rvmm/arch_cpu.h>
#include <rvmm/mm.h>
#include <rvmm/platform.h>

#include "sim.h"

struct platform platform;

static phys_addr_t bump, bump_end;

static phys_addr_t early_table(void)
{
	if (bump + PAGE_SIZE > bump_end) {
		fprintf(stderr, "sim: out of early tables\n");
		abort();
	}
	phys_addr_t pa = bump;
	bump += PAGE_SIZE;
	memset(__va(pa), 0, PAGE_SIZE);
	return pa;
}

static void early_map(uintptr_t va, phys_addr_t pa, unsigned level, unsigned prot)
{
	pte_t *t = __va(sim.root_pa);
	for (unsigned l = sim.levels - 1; l > level; l--) {
		pte_t *e = &t[(va >> LEVEL_SHIFT(l)) & 511];
		if (!arch_pte_present(*e))
			arch_pte_set(e, arch_pte_mktable(early_table()), va, l);
		t = __va(arch_pte_pa(*e));
	}
	arch_pte_set(&t[(va >> LEVEL_SHIFT(level)) & 511], arch_pte_mkleaf(pa, prot), va, level);
}

void sim_machine(const struct sim_config *cfg)
{
	struct sim_range ram[SIM_MAX_RANGES];
	int nr_ram = cfg->nr_ram;
	memcpy(ram, cfg->ram, sizeof(ram));
	if (!nr_ram) {
		ram[0] = (struct sim_range){ SIM_RAM_BASE, cfg->ram_size ? cfg->ram_size : GiB(1) };
		nr_ram = 1;
	}
	sim.levels = cfg->levels ? cfg->levels : 4;
	uint64_t max_phys = cfg->max_phys ? cfg->max_phys : (sim.levels == 4 ? 1UL << 41 : GiB(128));
	sim.phys_end = 0;
	for (int i = 0; i < nr_ram; i++)
		sim.phys_end = MAX(sim.phys_end, ram[i].base + ram[i].size);
	if (sim.phys_end > max_phys || ram[0].base != SIM_RAM_BASE) {
		fprintf(stderr, "sim: RAM must start at 0x80000000 and end below max_phys\n");
		abort();
	}

	sim.memfd = memfd_create("rvmm-ram", 0);
	if (sim.memfd < 0 || ftruncate(sim.memfd, (off_t)(sim.phys_end - SIM_RAM_BASE))) {
		perror("sim: memfd");
		abort();
	}
	uint64_t vm_size = max_phys / PAGE_SIZE * 32;
	uint64_t io_size = GiB(64), img_size = GiB(1);
	// Aligned like the kernel's regions to a root entry (512 GiB), so how many top-level tables
	// kpt_prealloc_top makes does not depend on where the host happened to put the reservation.
	sim.reservation_size = max_phys + ALIGN_UP(vm_size, GiB(1)) + io_size + img_size + GiB(512);
	void *res = mmap(NULL, sim.reservation_size, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (res == MAP_FAILED) {
		perror("sim: reserve");
		abort();
	}
	sim.reservation = (uintptr_t)res;
	uintptr_t base = ALIGN_UP(sim.reservation, GiB(512));

	mm_layout.page_offset = base;
	mm_layout.directmap_size = max_phys;
	mm_layout.max_phys = max_phys;
	mm_layout.vmemmap_base = base + max_phys;
	mm_layout.vmemmap_size = vm_size;
	mm_layout.io_base = mm_layout.vmemmap_base + ALIGN_UP(vm_size, GiB(1));
	mm_layout.io_size = io_size;
	mm_layout.kimage_base = mm_layout.io_base + io_size;
	mm_layout.kimage_pa = SIM_KERNEL_PA;
	if (mmap(__va(SIM_RAM_BASE), sim.phys_end - SIM_RAM_BASE, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, sim.memfd, 0) == MAP_FAILED) {
		perror("sim: map RAM");
		abort();
	}

	// The arch's early state: tables at the end of the image, image and early window mapped.
	bump = SIM_KERNEL_PA + SIM_KERNEL_SIZE - KiB(64);
	bump_end = SIM_KERNEL_PA + SIM_KERNEL_SIZE;
	sim.root_pa = early_table();
	early_map(mm_layout.kimage_base, SIM_KERNEL_PA, 1, PROT_READ | PROT_WRITE | PROT_EXEC);
	// As arch/riscv/early_vm.c: one 1 GiB leaf around the image, whatever RAM or mem= say.
	sim.early_lo = ALIGN_DOWN(SIM_KERNEL_PA, GiB(1));
	sim.early_hi = sim.early_lo + GiB(1);
	early_map(mm_layout.page_offset + sim.early_lo, sim.early_lo, 2, PROT_KERNEL_RW);
	sim.dtb_pa = MIN(sim.early_hi, ram[0].base + ram[0].size) - SZ_2M;
	sim.dtb_size = KiB(64);

	memset(&platform, 0, sizeof(platform));
	for (int i = 0; i < nr_ram; i++) {
		platform.mem[i].base = ram[i].base;
		platform.mem[i].size = ram[i].size;
		snprintf(platform.mem[i].name, PLAT_NAME_LEN, "/memory@%lx", (unsigned long)ram[i].base);
	}
	platform.nr_mem = nr_ram;
	// Nodes as platform_numa.c would leave them: node 0 always, 10 / 20 where cfg is silent.
	platform.node_mask = 1;
	for (int i = 0; i < nr_ram; i++) {
		platform.mem[i].node = cfg->node[i];
		platform.node_mask |= 1u << cfg->node[i];
	}
	platform.nr_nodes = 32 - __builtin_clz(platform.node_mask);
	platform.numa = platform.nr_nodes > 1;
	for (int a = 0; a < PLAT_MAX_NODES; a++)
		for (int b = 0; b < PLAT_MAX_NODES; b++)
			platform.distance[a][b] = cfg->distance[a][b] ? cfg->distance[a][b]
						  : a == b ? NUMA_LOCAL_DISTANCE : NUMA_REMOTE_DISTANCE;
	platform.reserved[0].base = SIM_RAM_BASE;
	platform.reserved[0].size = SIM_FW_SIZE;
	platform.reserved[0].nomap = true;
	snprintf(platform.reserved[0].name, PLAT_NAME_LEN, "/reserved-memory/mmode_resv0@80000000");
	platform.nr_reserved = 1;
	for (int i = 0; i < cfg->nr_resv; i++) {
		platform.reserved[platform.nr_reserved].base = cfg->resv[i].base;
		platform.reserved[platform.nr_reserved].size = cfg->resv[i].size;
		snprintf(platform.reserved[platform.nr_reserved].name, PLAT_NAME_LEN, "/resv%d", i);
		platform.nr_reserved++;
	}
	platform.dtb_pa = sim.dtb_pa;
	platform.dtb_size = (uint32_t)sim.dtb_size;
}

int sim_boot(const struct sim_config *cfg)
{
	sim_machine(cfg);
	struct mm_boot boot = {
		.plat = &platform,
		.boot_node = cfg->boot_node,
		.mem_limit = cfg->mem_limit,
		.kernel_start = SIM_KERNEL_PA,
		.kernel_end = SIM_KERNEL_PA + SIM_KERNEL_SIZE,
		.dtb_start = sim.dtb_pa,
		.dtb_end = sim.dtb_pa + sim.dtb_size,
		.early_start = sim.early_lo,
		.early_end = sim.early_hi,
	};
	uint64_t t0 = arch_time_ns();
	int rc = mm_init(&boot);
	sim.mm_init_ns = arch_time_ns() - t0;
	return rc;
}
