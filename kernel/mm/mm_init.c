// SPDX-License-Identifier: MIT
//
// Memory management boot sequence: from the platform's RAM description to a running page
// allocator. Each step is one call; a failure prints "mm: ..." and returns its error.
//
// Interface: mm_init (include/rvmm/mm.h).

#include <rvmm/arch_mm.h>
#include <rvmm/arch_cpu.h>
#include <rvmm/errno.h>
#include <rvmm/kpt.h>
#include <rvmm/mem_ranges.h>
#include <rvmm/memblock.h>
#include <rvmm/mm.h>
#include <rvmm/numa.h>
#include <rvmm/page_alloc.h>
#include <rvmm/platform.h>
#include <rvmm/printk.h>
#include <rvmm/section.h>

#include "internal.h"

// RAM and the reservations from the platform, the kernel image and the dtb.
static int memblock_setup(const struct mm_boot *b)
{
	const struct platform *plat = b->plat;
	int rc;

	for (int i = 0; i < plat->nr_mem; i++) {
		phys_addr_t base = plat->mem[i].base, end = base + plat->mem[i].size;
		if (end > mm_layout.max_phys) {
			pr_warn("mm: %s: RAM above 0x%llx ignored (beyond the direct map)",
				plat->mem[i].name, (unsigned long long)mm_layout.max_phys);
			end = mm_layout.max_phys;
		}
		if (base >= end)
			continue;
		rc = memblock_add_node(base, end - base, plat->mem[i].node);
		if (rc) {
			pr_err("mm: %s: cannot add RAM [0x%llx-0x%llx) (%d)", plat->mem[i].name,
			       (unsigned long long)base, (unsigned long long)end, rc);
			return rc;
		}
	}
	if (!memblock_memory_total()) {
		pr_err("mm: no usable RAM");
		return -EINVAL;
	}
	for (int i = 0; i < plat->nr_reserved; i++) {
		rc = memblock_reserve(plat->reserved[i].base, plat->reserved[i].size,
				      plat->reserved[i].nomap ? MEMBLOCK_NOMAP : MEMBLOCK_FIRMWARE);
		if (rc) {
			pr_err("mm: %s: cannot reserve (%d)", plat->reserved[i].name, rc);
			return rc;
		}
	}
	rc = memblock_reserve(b->kernel_start, b->kernel_end - b->kernel_start, MEMBLOCK_KERNEL);
	if (!rc && b->dtb_end > b->dtb_start)
		rc = memblock_reserve(b->dtb_start, b->dtb_end - b->dtb_start, MEMBLOCK_DTB);
	if (rc) {
		pr_err("mm: cannot reserve the kernel image or dtb (%d)", rc);
		return rc;
	}
	memblock_mem_limit(b->mem_limit);
	if (memblock_hidden_count())
		pr_info("mm: mem=%lluM: RAM from 0x%llx on left for hot-add",
			(unsigned long long)(b->mem_limit >> 20),
			(unsigned long long)memblock_mem_limit_pa());
	return 0;
}

// A section takes the node of the first RAM in it; a node boundary inside a section is reported.
static void mark_present(phys_addr_t s, phys_addr_t e, void *arg)
{
	int *rc = arg, nid = MAX(memblock_nid(s), 0);
	for (unsigned long nr = s >> SECTION_SHIFT; nr <= (e - 1) >> SECTION_SHIFT && !*rc; nr++) {
		if (section_state(nr) == SECTION_ABSENT) {
			*rc = section_set_state(nr, SECTION_ABSENT, SECTION_PRESENT);
			if (!*rc) {
				section_get(nr)->flags |= SECTION_BOOT;
				section_get(nr)->node = (uint8_t)nid;
			}
		} else if (section_get(nr)->node != nid) {
			pr_warn("mm: section %lu holds RAM of nodes %u and %d: all of it counts in "
				"node %u", nr, section_get(nr)->node, nid, section_get(nr)->node);
		}
	}
}

// A boot section is online whole (holes are reserved pages), except in the section mem= cuts in
// two: the sub-sections above the cut stay offline, for `online` to give them to a zone later.
static uint64_t boot_online_map(unsigned long nr)
{
	phys_addr_t cut = memblock_mem_limit_pa(), lo = (phys_addr_t)nr << SECTION_SHIFT;
	if (cut <= lo || cut >= lo + SECTION_SIZE)
		return SUBSECTION_MAP_FULL;
	return (1ULL << ((cut - lo) >> SUBSECTION_SHIFT)) - 1;
}

// Populate the memmap of every run of present sections (pairs share 2 MiB leaves).
static int memmap_setup(void)
{
	unsigned long nr = section_next_in_state(0, SECTION_PRESENT);
	while (nr < nr_mem_sections) {
		unsigned long end = nr;
		while (end < nr_mem_sections && section_state(end) == SECTION_PRESENT)
			end++;
		int rc = vmemmap_populate(nr, end - nr, NULL);
		if (rc) {
			pr_err("mm: memmap for sections %lu-%lu failed (%d)", nr, end - 1, rc);
			return rc;
		}
		nr = section_next_in_state(end, SECTION_PRESENT);
	}
	return 0;
}

int mm_init(const struct mm_boot *b)
{
	uint64_t t0 = arch_time_ns();
	int rc;

	if (!b || !b->plat || !mm_layout.max_phys || b->kernel_end <= b->kernel_start)
		return -EINVAL;
	numa_init(b->plat);
	numa_set_hart_node(0, b->boot_node);
	rc = memblock_setup(b);
	if (!rc)
		rc = mem_ranges_boot();
	if (rc)
		return rc;
	// Until the direct map is complete only the arch's early window is reachable.
	memblock_set_window(b->early_start, b->early_end);

	rc = section_init();
	if (rc)
		return rc;
	memblock_for_each_memory(0, mm_layout.max_phys, mark_present, &rc);
	if (rc) {
		pr_err("mm: no memory for the section table (%d)", rc);
		return rc;
	}

	// Tables under the root for the hot-pluggable regions, once: hot-add never writes the root.
	rc = kpt_prealloc_top(mm_layout.page_offset, mm_layout.page_offset + mm_layout.directmap_size);
	if (!rc)
		rc = kpt_prealloc_top(mm_layout.vmemmap_base,
				      mm_layout.vmemmap_base + mm_layout.vmemmap_size);
	if (rc) {
		pr_err("mm: preallocating top-level tables failed (%d)", rc);
		return rc;
	}
	uint64_t dm_t0 = arch_time_ns();
	rc = directmap_init(b->early_start, b->early_end);
	if (rc)
		return rc;
	uint64_t dm_us = (arch_time_ns() - dm_t0) / 1000;
	memblock_set_window(0, mm_layout.max_phys);

	rc = memmap_setup();
	if (rc)
		return rc;
	unsigned long nr;
	for_each_section_in_state(nr, SECTION_PRESENT) {
		section_get(nr)->zone = ZONE_NORMAL;
		section_get(nr)->online_map = boot_online_map(nr);
		rc = section_set_state(nr, SECTION_PRESENT, SECTION_ONLINE);
		if (rc)
			return rc;
	}
	uint64_t ram = memblock_memory_total();
	uint64_t reserved = memblock_reserved_total(-1);
	rc = page_alloc_init();
	if (rc)
		return rc;

	uint64_t us = (arch_time_ns() - t0) / 1000;
	pr_info("mm: %s, RAM %llu MiB, reserved %llu KiB, free %llu MiB, memmap %llu KiB, page tables %llu KiB",
		arch_paging_mode(), (unsigned long long)(ram >> 20),
		(unsigned long long)(reserved >> 10), (unsigned long long)(total_free_pages() >> 8),
		(unsigned long long)(vmemmap_bytes() >> 10),
		(unsigned long long)(kpt_pgtable_pages() * 4));
	pr_info("mm: %lu sections online, descriptors deferred; direct map built in %llu us, "
		"mm_init took %llu us",
		section_count(SECTION_ONLINE), (unsigned long long)dm_us, (unsigned long long)us);
	return 0;
}
