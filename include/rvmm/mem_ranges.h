/* SPDX-License-Identifier: MIT */
/*
 * Who owns which physical range memory may be plugged into (kernel/mm/mem_ranges.c): the one
 * registry the hot-plug core checks and `sections --map` draws.
 *
 *   boot RAM         RAM the device tree describes, added at boot          owner: the kernel (NULL)
 *   hidden RAM       RAM the device tree describes above mem=              owner: the kernel (NULL)
 *   a device region  where a driver plugs memory (virtio-mem; later pmem)  owner: its struct mem_region
 *
 * The kernel's own RAM is driven by the console (hotadd, online, offline, hotremove, plug, unplug)
 * and `stress`; a device region only by its driver. Each entry is one NUMA node's piece: the
 * kernel's RAM keeps the node the device tree gave it (memblock), a device region has the node
 * its driver gives (virtio-mem's node_id); hot-add puts the sections in that node.
 *
 * Interface: struct mem_region, mem_region_register, mem_region_unregister; mem_ranges_boot,
 * mem_range_check, mem_range_get, mem_range_nid, mem_range_owner_name.
 *
 * The registry changes at boot (mm_init) and when a driver registers or unregisters its region,
 * under hotplug_lock held for write (mem_region_register takes it); readers hold hotplug_lock.
 */
#ifndef RVMM_MEM_RANGES_H
#define RVMM_MEM_RANGES_H

#include <rvmm/types.h>

/*
 * A device region: physical addresses a driver plugs memory into. [start, end) is
 * section-aligned. section_failed (may be NULL) answers, without locks, whether the driver gave
 * up on section nr (memory it could not unplug or could not add): the map shows '!' there. The
 * struct is the owner's token: it must stay valid until unregistered.
 */
struct mem_region {
	const char *name;
	phys_addr_t start, end;
	bool (*section_failed)(const struct mem_region *r, unsigned long nr);
	void *priv;
	int node; /* NUMA node its memory belongs to: an online node (numa.h) */
};

enum mem_range_kind { MEM_RANGE_BOOT, MEM_RANGE_HIDDEN, MEM_RANGE_DEVICE };

struct mem_range {
	phys_addr_t start, end;
	enum mem_range_kind kind;
	const struct mem_region *region; /* the owner: NULL for the kernel's RAM */
	int node;                        /* NUMA node */
};

#define MAX_MEM_RANGES 136 /* 64 device-tree RAM ranges, as many hidden, a few device regions */

/*
 * Register r. Takes hotplug_lock for write (the caller must not hold it). Returns 0; -EINVAL (not
 * section-aligned or empty); -EEXIST (it overlaps a range already owned, which the message
 * names); -ENOSPC.
 */
int mem_region_register(const struct mem_region *r);
void mem_region_unregister(const struct mem_region *r);

/* mm_init: register memblock's RAM and hidden RAM. 0 or -ENOSPC (after a message). */
int mem_ranges_boot(void);

/*
 * May owner (NULL: the kernel's RAM) act on [start, start + size)? 0 if every byte lies in a
 * range it owns; else prints "<op> [range): ..." naming the range and its owner (or saying that
 * nobody owns it: not RAM) and returns -EINVAL. Caller holds hotplug_lock.
 */
int mem_range_check(const char *op, phys_addr_t start, uint64_t size, const struct mem_region *owner);

/* Entry i in address order into *r; false past the end. Caller holds hotplug_lock. */
bool mem_range_get(int i, struct mem_range *r);

/* The node of the range holding pa, or NUMA_NO_NODE. Caller holds hotplug_lock. */
int mem_range_nid(phys_addr_t pa);

/* "boot RAM", "RAM hidden by mem=", or the region's name. */
const char *mem_range_owner_name(const struct mem_range *r);

#endif
