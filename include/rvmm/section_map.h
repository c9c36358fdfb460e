/* SPDX-License-Identifier: MIT */
/*
 * The section map (`sections --map`, kernel/mm/diag/section_map.c): one character per 128 MiB section
 * of the physical space memory may occupy, 64 to a line, drawn from the range registry
 * (include/rvmm/mem_ranges.h: RAM, RAM hidden by mem=, device regions whose drivers say which
 * sections they gave up on).
 *
 * Interface: section_map_span, section_map_char, mm_print_section_map.
 */
#ifndef RVMM_SECTION_MAP_H
#define RVMM_SECTION_MAP_H

#include <rvmm/mem_ranges.h>
#include <rvmm/types.h>

/*
 * The sections the map covers, [*lo, *hi): from the lowest to the highest section that is
 * present or inside a registered range (RAM, hidden RAM, a device region). False if there is none.
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
