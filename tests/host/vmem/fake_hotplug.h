/* SPDX-License-Identifier: MIT */
/*
 * A fake hot-plug core for the virtio-mem host tests: add_memory, online_pages, offline_pages,
 * remove_memory and their __ variants (include/rvmm/hotplug.h) over bookkeeping only. It checks
 * every call against the contract (alignment, states, hotplug_lock held for write, onlined memory
 * plugged at the device) and counts violations instead of crashing; it keeps "data" pages that
 * offline_pages migrates (movable) or refuses to move (unmovable: -EBUSY naming the pfn); and it
 * fails chosen calls on demand. Ownership is the real range registry's (kernel/mm/mem_ranges.c,
 * linked in): fake_hp_reset starts it with FAKE_BOOT_RAM as the kernel's RAM, the driver
 * registers its region, and a hot-add outside the caller's own range is refused (-EINVAL) and
 * counted as a violation. Also the host stand-ins the driver needs beyond
 * tests/host/virtio/host_stubs.c: the rwlock, background_work_register, meminfo_plugged_kb, and
 * the memblock the registry reads.
 *
 * Interface: struct fake_hp (fake_hp), fake_hp_reset, fake_put_data, fake_data_*,
 * fake_online_bytes, fake_section_present, fake_background.
 */
#ifndef RVMM_TESTS_HOST_VMEM_FAKE_HOTPLUG_H
#define RVMM_TESTS_HOST_VMEM_FAKE_HOTPLUG_H

#include <rvmm/types.h>

#define FAKE_MAX_PHYS (1ULL << 40)
/* The kernel's RAM in the range registry: below the tests' device regions (4 GiB and up). */
#define FAKE_BOOT_RAM_BASE 0x80000000ULL
#define FAKE_BOOT_RAM_END  0x100000000ULL
#define FAKE_MAX_DATA 4096

struct fake_hp {
	/* Counters. */
	unsigned add_calls, online_calls, offline_calls, remove_calls, fences;
	unsigned violations;          /* contract breaches seen (each also logged) */
	char first_violation[256];
	/* Failure injection: the next call of that kind fails with this error (0: none). */
	int fail_add, fail_online, fail_offline, fail_remove;
	/* Fault walk: the fail_nth-th call of any step from now (1 = the next) fails with fail_rc. */
	unsigned fail_nth;
	int fail_rc;
	unsigned fail_hits;
	/* Is [pa, pa + size) plugged at the device? (set by the test; NULL: not checked) */
	bool (*is_plugged)(phys_addr_t pa, uint64_t size);
};
extern struct fake_hp fake_hp;

void fake_hp_reset(void);

/* Put one page of data at pa (must be online); unmovable pages make offline_pages fail. */
int fake_put_data(phys_addr_t pa, bool unmovable, uint64_t value);
/* Make every unmovable data page movable (its owner let go of it). */
void fake_data_release_unmovable(void);
/* Data pages in total (anywhere), and the sum of their values: migration must keep both. */
unsigned fake_data_count(void);
uint64_t fake_data_sum(void);
/* Data pages inside [pa, pa + size). */
unsigned fake_data_in(phys_addr_t pa, uint64_t size);

/* Bytes online in [pa, pa + size); whether section nr is present. */
uint64_t fake_online_bytes(phys_addr_t pa, uint64_t size);
bool fake_section_present(unsigned long nr);

/* Run the registered background work as idle harts would, up to `rounds` times. */
void fake_background(unsigned rounds);

#endif
