/* SPDX-License-Identifier: MIT */
/*
 * Host simulation of the machine under kernel/mm/: physical memory is a memfd, the direct map is
 * one mapping of it, and the vmemmap is a PROT_NONE reservation into which every vmemmap leaf the
 * kernel writes is mirrored (so a stray touch of an unpopulated descriptor faults, as on the
 * target). printk output is captured for tests to inspect (tests/host/common/log.h).
 *
 * Interface: sim_boot (set up the "arch" state and run mm_init), sim_resident (is a physical
 * page backed yet), sim counters, sim_set_hart.
 */
#ifndef RVMM_SIM_H
#define RVMM_SIM_H

#include <rvmm/mm.h>
#include <rvmm/platform.h>
#include <rvmm/types.h>

#include "log.h"

#define SIM_MAX_RANGES 8
#define SIM_RAM_BASE 0x80000000UL

struct sim_range {
	phys_addr_t base;
	uint64_t size;
};

struct sim_config {
	unsigned levels;        /* 4 (Sv48, default) or 3 (Sv39) */
	phys_addr_t max_phys;   /* default 2 TiB (Sv39: 128 GiB) */
	uint64_t ram_size;      /* shorthand for one RAM range at SIM_RAM_BASE */
	struct sim_range ram[SIM_MAX_RANGES];
	int nr_ram;
	struct sim_range resv[SIM_MAX_RANGES]; /* besides OpenSBI's 512 KiB at RAM base */
	int nr_resv;
	uint64_t mem_limit;     /* mem= */
	/* NUMA: the node of each ram[i] (all 0: one node), distances (0: 10 / 20 defaults). */
	int node[SIM_MAX_RANGES];
	uint8_t distance[PLAT_MAX_NODES][PLAT_MAX_NODES];
	int boot_node;          /* node of hart 0 */
};

/* Physical layout the sim uses. */
#define SIM_FW_SIZE 0x80000UL          /* OpenSBI reserved-memory at RAM base */
#define SIM_KERNEL_PA 0x80200000UL
#define SIM_KERNEL_SIZE 0x200000UL     /* image; its last 64 KiB hold the arch's early tables */

struct sim_state {
	int memfd;
	phys_addr_t phys_end;        /* memfd covers [SIM_RAM_BASE, phys_end) */
	uintptr_t reservation;       /* host VA reservation (direct map, vmemmap, io, image) */
	uint64_t reservation_size;
	unsigned levels;
	phys_addr_t root_pa;
	phys_addr_t dtb_pa, dtb_size;
	phys_addr_t early_lo, early_hi;
	uint64_t mirrors, unmirrors; /* vmemmap leaves mirrored / removed */
	uint64_t flushes;            /* arch_flush_tlb_kernel_range calls */
	uint64_t map_fences;         /* arch_flush_tlb_after_map calls that fenced every hart */
	bool svvptc;                 /* harts have Svvptc: never cache an invalid translation */
	uint64_t mm_init_ns;         /* how long sim_boot's mm_init() took */
};
extern struct sim_state sim;

/* Set up the simulated machine for cfg and call mm_init(). Returns mm_init's result. */
int sim_boot(const struct sim_config *cfg);
/* Only the machine (memfd, layout, early tables); for tests that drive mm_init pieces. */
void sim_machine(const struct sim_config *cfg);

/* True if the physical page holding pa has ever been written (memfd page allocated). */
bool sim_resident(phys_addr_t pa);

void sim_set_hart(unsigned hart, unsigned nr_harts);

/*
 * An access to kernel address va by this hart through its simulated TLB, which (as the privileged
 * spec allows, unless sim.svvptc) caches invalid translations too until a fence drops them.
 * True if it translates; false is the page fault the hart would take.
 */
bool sim_tlb_access(uintptr_t va);
/* Take a pending cross-hart call now, if interrupts are enabled (what an IPI does). */
void sim_poll_ipi(void);

/*
 * Check the allocator's invariants (lists, flags, counts, coalescing). With alloc_map (one byte per
 * pfn in [map_base, map_end), non-zero = allocated by the test) every initialised online page must
 * be exactly one of free, cached, reserved, allocated. Returns 0, or 1 after test_fail().
 */
int sim_check_buddy(const uint8_t *alloc_map, pfn_t map_base, pfn_t map_end);

/*
 * The kernel's mmcheck (mm_check) with its report going to the captured log. Returns 0, or 1
 * after test_fail() quoting the violations. sim_check_buddy ends with it.
 */
int sim_mmcheck(void);

/* Hot-add [pa, pa + size) (sections) by hand into zone, optionally with memmap_on_memory. */
int sim_hotadd(phys_addr_t pa, uint64_t size, int zone, bool memmap_on_memory);

/* Run a console command line (as the shell would). */
int sim_run(const char *line);

#endif
