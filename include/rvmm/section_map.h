/* SPDX-License-Identifier: MIT */
/*
 * The section map (`sections --map`, kernel/mm/section_map.c): one character per 128 MiB section
 * of the physical space memory may occupy, 64 to a line, and the device regions memory may be
 * plugged into (virtio-mem), which the map spans and whose drivers say which sections they gave
 * up on.
 *
 * Interface: struct mem_region, mem_region_register, mem_region_unregister, section_map_span,
 * section_map_char, mm_print_section_map.
 */
#ifndef RVMM_SECTION_MAP_H
#define RVMM_SECTION_MAP_H

#include <rvmm/types.h>

/*
 * A range of physical addresses a device may plug memory into. [start, end) is section-aligned.
 * section_failed (may be NULL) answers, without locks, whether the driver gave up on section nr:
 * memory it could not unplug or could not add; the map shows '!' there.
 */
struct mem_region {
	const char *name;
	phys_addr_t start, end;
	bool (*section_failed)(const struct mem_region *r, unsigned long nr);
	void *priv;
};

#define MAX_MEM_REGIONS 4

/* Make r known to the map (r must stay valid until unregistered). 0, or -ENOSPC. */
int mem_region_register(const struct mem_region *r);
void mem_region_unregister(const struct mem_region *r);

/*
 * The sections the map covers, [*lo, *hi): from the lowest to the highest section that is
 * present, hidden RAM (above mem=) or inside a registered region. False if there is none.
 * Caller holds hotplug_lock for reading.
 */
bool section_map_span(unsigned long *lo, unsigned long *hi);

/*
 * Section nr's character: '!' given up on by a driver, '-' absent and nothing can be added there
 * (no hidden RAM, no device region), '.' absent, 'v' descriptors on its own memory
 * (memmap_on_memory; any state), 'o' present (offline), 'N'/'M' online in Normal/Movable,
 * 'n'/'m' partly online (some of its 2 MiB pieces). Caller holds hotplug_lock for reading.
 */
char section_map_char(unsigned long nr);

/* Print the map, its legend with a count per character, and the online total against MemTotal. */
void mm_print_section_map(void);

#endif
