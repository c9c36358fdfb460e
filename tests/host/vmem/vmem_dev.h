/* SPDX-License-Identifier: MIT */
/*
 * A simulated virtio-mem device for the host tests, on the virtio-mmio simulation of
 * tests/host/virtio/vsim.c: the configuration space, a per-block plugged map, PLUG / UNPLUG /
 * UNPLUG_ALL / STATE answered as QEMU 10 does (ERROR for a range outside the usable region or not
 * wholly in the opposite state, NACK for a plug beyond requested_size, the usable region growing
 * to requested + 256 MiB), and knobs to make it refuse, stall or lie (also the Nth request only:
 * the fault walks) or break one rule of the specification (`vmem selftest`'s tests). Its memory
 * (vmem_dev_add_ram) keeps what is written to plugged blocks and counts touches of unplugged ones.
 *
 * Interface: struct vmem_dev, enum vmem_dev_break, vmem_dev_create, vmem_dev_add_ram,
 * vmem_dev_sync, vmem_dev_request, vmem_dev_is_plugged, vmem_dev_plugged_blocks.
 */
#ifndef RVMM_TESTS_HOST_VMEM_VMEM_DEV_H
#define RVMM_TESTS_HOST_VMEM_VMEM_DEV_H

#include <rvmm/types.h>

#include "vsim.h"

#define VMEM_DEV_EXTENT (256ULL << 20) /* QEMU's usable extent on riscv (2 x 128 MiB) */
#define VMEM_DEV_NO_ANSWER (-1)        /* fail_answer: leave the request unanswered */

/* The one device requirement the device breaks (none by default). */
enum vmem_dev_break {
	VMEM_BREAK_NONE,
	VMEM_BREAK_PLUG_PLUGGED,     /* ACK (and ignore) a PLUG of a plugged block */
	VMEM_BREAK_UNPLUG_UNPLUGGED, /* ACK (and ignore) an UNPLUG of an unplugged block */
	VMEM_BREAK_OUTSIDE,          /* ACK (and ignore) requests beyond the usable region */
	VMEM_BREAK_MISALIGNED,       /* ACK (and ignore) requests not aligned to the block size */
	VMEM_BREAK_ZERO,             /* ACK (and ignore) requests of zero blocks */
	VMEM_BREAK_STATE_MIXED,      /* STATE says PLUGGED for a mixed range */
	VMEM_BREAK_STATE_PLUGGED,    /* STATE says MIXED for a wholly plugged range */
	VMEM_BREAK_UNPLUG_ALL,       /* UNPLUG_ALL answers ACK and unplugs nothing */
	VMEM_BREAK_MEMORY,           /* plugged memory returns a bit flipped */
	VMEM_BREAK_SIZE,             /* plugged_size does not follow PLUG and UNPLUG */
	VMEM_BREAK_ANNOUNCE,         /* requested_size changes without a config interrupt */
	VMEM_BREAK_USABLE,           /* config shows usable_region_size below what is plugged */
	VMEM_BREAK_NR,
};

struct vmem_dev {
	struct vsim *s;
	/* Configuration (vmem_dev_sync copies it into the config space). */
	uint64_t block_size, addr, region_size, usable_region_size, plugged_size, requested_size;
	uint16_t node_id;
	uint8_t *plugged;             /* per block of the region */
	uint64_t nr_blocks;
	/* Knobs: answer the next N requests of a kind so. */
	unsigned nack_plugs, busy_plugs, busy_unplugs, busy_unplug_alls;
	bool error_all;               /* ERROR to everything */
	bool silent;                  /* never answer */
	/*
	 * Fault walk: the fail_nth-th request from now (1 = the next) gets fail_answer instead of
	 * being served (VMEM_DEV_NO_ANSWER: never answered); fail_hits counts those.
	 */
	unsigned fail_nth;
	int fail_answer;
	unsigned fail_hits;
	enum vmem_dev_break broken_rule;
	/* Memory (vmem_dev_add_ram): words written to plugged blocks, touches of unplugged ones. */
	struct vmem_word { uint64_t pa, val; } *ram;
	unsigned ram_len, inaccessible_touches;
	/* Called after each answered request (may change requested_size: a change mid-way). */
	void (*after_request)(struct vmem_dev *d, uint16_t type);
	/* Figures. */
	unsigned nr_plug, nr_unplug, nr_unplug_all, nr_state, nr_errors;
	unsigned max_nb_blocks;       /* largest nb_blocks seen */
	unsigned protocol_errors;     /* malformed chains: a driver bug */
};

/*
 * A device at the virtio-mmio slot (mmio_pa, irq) with the given region and sizes; plugged bytes
 * from the start of the region are plugged already (memory from an earlier boot). Does not
 * validate anything: tests give it nonsense on purpose.
 */
struct vmem_dev *vmem_dev_create(phys_addr_t mmio_pa, uint32_t irq, uint64_t block_size,
				 uint64_t addr, uint64_t region_size, uint64_t requested,
				 uint64_t plugged);

/* Back the region with memory seen through the direct map (for `vmem selftest`). */
void vmem_dev_add_ram(struct vmem_dev *d);

/* Copy the fields into the config space (after a test changed them directly). */
void vmem_dev_sync(struct vmem_dev *d);

/* The host changes requested_size (QMP qom-set): usable region grows, config interrupt. */
void vmem_dev_request(struct vmem_dev *d, uint64_t requested);

/* [pa, pa + size) wholly plugged. */
bool vmem_dev_is_plugged(const struct vmem_dev *d, phys_addr_t pa, uint64_t size);
uint64_t vmem_dev_plugged_blocks(const struct vmem_dev *d);

#endif
