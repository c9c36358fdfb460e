/* SPDX-License-Identifier: MIT */
/*
 * The platform description: what rvmm must know of the machine before memory management is up
 * (RAM, reserved ranges, harts, the command line), read once at boot by kernel/platform*.c.
 * Devices are not described here: each driver reads its own node when the tree is walked
 * (rvmm/device.h).
 */
#ifndef RVMM_PLATFORM_H
#define RVMM_PLATFORM_H

#include <rvmm/types.h>

#define PLAT_MAX_MEM 64
#define PLAT_MAX_RESERVED 64
#define PLAT_MAX_HARTS MAX_HARTS
#define PLAT_NAME_LEN 48
#define PLAT_BOOTARGS_LEN 512
#define PLAT_MAX_NODES 16 /* NUMA nodes: numa-node-id 0..15 */
#define NUMA_NO_NODE (-1)
#define NUMA_LOCAL_DISTANCE 10  /* a node to itself, as the numa-distance-map-v1 binding says */
#define NUMA_REMOTE_DISTANCE 20 /* between two nodes when the tree gives no distance */
#define PLAT_ISA_LEN 512  /* QEMU 10 spells ~330 characters; sstc/svadu come last */
/* RAM above this is clipped off by platform_parse(): rvmm's direct map and sections end here. */
#define PLAT_PHYS_LIMIT (1UL << 44)  /* 16 TiB */

struct plat_range {
	phys_addr_t base;
	uint64_t size;
	char name[PLAT_NAME_LEN]; /* node path the range came from, for messages */
	bool nomap;               /* reserved-memory child with no-map: never map it */
	int node;                 /* RAM: its NUMA node (0 without NUMA); reserved: unused */
};

struct plat_hart {
	uint32_t hartid;
	bool enabled;       /* status is "okay" and the mmu-type is one rvmm can use */
	char isa[PLAT_ISA_LEN];  /* riscv,isa (cut at an extension boundary if longer) */
	char mmu[16];       /* "riscv,sv48" ... */
	int node;           /* NUMA node (0 without NUMA) */
};

struct platform {
	/* RAM as the device tree describes it, sorted by base, non-overlapping, non-empty. */
	struct plat_range mem[PLAT_MAX_MEM];
	int nr_mem;
	/* reserved-memory children and /memreserve/ entries (OpenSBI's region among them). */
	struct plat_range reserved[PLAT_MAX_RESERVED];
	int nr_reserved;

	struct plat_hart harts[PLAT_MAX_HARTS];
	int nr_harts;
	uint64_t timebase_hz;

	/*
	 * NUMA (platform_numa.c): node_mask has bit n set for each node some memory or cpu node
	 * names (bit 0 alone without numa-node-id); nr_nodes is the highest such id + 1. distance
	 * is the checked distance-map (10 on the diagonal, 20 elsewhere where it is silent).
	 */
	bool numa;              /* the tree has numa-node-id properties */
	int nr_nodes;
	uint32_t node_mask;
	uint8_t distance[PLAT_MAX_NODES][PLAT_MAX_NODES];

	char bootargs[PLAT_BOOTARGS_LEN];
	const void *fdt;        /* the blob parsed; devices are probed from it (rvmm/device.h) */
	phys_addr_t dtb_pa;     /* set by the caller: platform_parse() sees only a pointer */
	uint32_t dtb_size;      /* the header's totalsize */

	/* Problems found in the DT that rvmm went on despite (each already printed). */
	int nr_warnings;
};

/*
 * Fill *plat from the flattened device tree at fdt (size bytes readable). Checks the header and
 * every value before trusting it; each problem is printed as one "device tree: <node>: <what>"
 * line. A problem confined to a node drops that node and counts a warning. Returns 0, or -EINVAL
 * when nothing usable is left (bad header, no usable memory): the caller then cannot go on.
 */
int platform_parse(struct platform *plat, const void *fdt, size_t size);

/*
 * Check the kernel image [kstart, kend) against the parsed tree: it must lie inside one memory
 * range and overlap no reserved range. Prints one "device tree: <range>: ..." line per problem.
 * Returns 0, or -EINVAL if any was found (the caller cannot safely go on).
 */
int platform_check_reserved(const struct platform *plat, phys_addr_t kstart, phys_addr_t kend);

/* Print the description with kprintf (the `dt` command): memory, reserved ranges, harts. */
void platform_print(const struct platform *plat);

/* Whether hart h's riscv,isa lists the multi-letter extension ext ("sstc", "svvptc"). */
bool plat_hart_has_ext(const struct plat_hart *h, const char *ext);

/* Whether node n is one the tree describes (memory or harts, or both). */
static inline bool plat_node_valid(const struct platform *plat, int n)
{
	return n >= 0 && n < PLAT_MAX_NODES && (plat->node_mask >> n & 1);
}

/* The description of the machine we run on, filled at boot. */
extern struct platform platform;

#endif
