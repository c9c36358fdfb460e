// SPDX-License-Identifier: MIT
//
// Memory figures for the `meminfo` and `sections` commands: managed and free pages per zone,
// page tables, memmap, deferred init, and the section table folded into runs.
//
// Interface: mm_meminfo, mm_print_meminfo, mm_print_sections (include/rvmm/mm.h).

#include <rvmm/arch_mm.h>
#include <rvmm/hotplug.h>
#include <rvmm/kpt.h>
#include <rvmm/memblock.h>
#include <rvmm/mm.h>
#include <rvmm/page_alloc.h>
#include <rvmm/printk.h>
#include <rvmm/section.h>

void mm_meminfo(struct meminfo *mi)
{
	get_online_mems();
	mi->total_kb = total_managed_pages() << (PAGE_SHIFT - 10);
	mi->free_kb = total_free_pages() << (PAGE_SHIFT - 10);
	for (int z = 0; z < NR_ZONES; z++)
		mi->free_zone_kb[z] = zone_free_pages(z) << (PAGE_SHIFT - 10);
	mi->pagetables_kb = kpt_pgtable_pages() << (PAGE_SHIFT - 10);
	mi->memmap_kb = vmemmap_bytes() >> 10;
	mi->desc_size = sizeof(struct page);
	mi->paging_mode = arch_paging_mode();
	mi->deferred_pending = deferred_init_pending();
	put_online_mems();
}

static void line_kb(const char *name, uint64_t kb)
{
	kprintf("%-16s%8llu kB\n", name, (unsigned long long)kb);
}

void mm_print_meminfo(void)
{
	struct meminfo mi;
	mm_meminfo(&mi);
	line_kb("MemTotal:", mi.total_kb);
	line_kb("MemFree:", mi.free_kb);
	line_kb("MemFreeNormal:", mi.free_zone_kb[ZONE_NORMAL]);
	line_kb("MemFreeMovable:", mi.free_zone_kb[ZONE_MOVABLE]);
	line_kb("PageTables:", mi.pagetables_kb);
	line_kb("Memmap:", mi.memmap_kb);
	kprintf("Page descriptor: %u bytes\n", mi.desc_size);
	kprintf("Paging mode: %s\n", mi.paging_mode);
	kprintf("Deferred init: %lu sections pending\n", mi.deferred_pending);
}

static void print_run(unsigned long first, unsigned long last)
{
	const struct mem_section *ms = section_get(first);
	kprintf("0x%012llx-0x%012llx  %6lu-%-6lu  %-7s  %-7s %s%s%s\n",
		(unsigned long long)PFN_PHYS(section_nr_to_pfn(first)),
		(unsigned long long)PFN_PHYS(section_nr_to_pfn(last + 1)), first, last,
		section_state_name(ms->state),
		ms->state == SECTION_ONLINE ? zone_name(ms->zone) : "-",
		ms->flags & SECTION_BOOT ? "boot" : "hotplug",
		ms->flags & SECTION_MEMMAP_ON_MEMORY ? " memmap_on_memory" : "",
		ms->flags & SECTION_DEFERRED ? " deferred" : "");
}

void mm_print_sections(void)
{
	get_online_mems();
	kprintf("sections of %lu MiB: %lu online, %lu present, %lu absent\n", SECTION_SIZE >> 20,
		section_count(SECTION_ONLINE), section_count(SECTION_PRESENT),
		section_count(SECTION_ABSENT));
	unsigned long run = nr_mem_sections;
	for (unsigned long nr = 0; nr <= nr_mem_sections; nr++) {
		const struct mem_section *ms = nr < nr_mem_sections ? section_get(nr) : NULL;
		if (run < nr_mem_sections) {
			const struct mem_section *r = section_get(run);
			if (ms && ms->state == r->state && ms->zone == r->zone && ms->flags == r->flags)
				continue;
			print_run(run, nr - 1);
			run = nr_mem_sections;
		}
		if (ms && ms->state != SECTION_ABSENT)
			run = nr;
	}
	phys_addr_t base;
	uint64_t size;
	for (int i = 0; memblock_hidden_get(i, &base, &size); i++)
		kprintf("0x%012llx-0x%012llx  hidden by mem= (hot-add can add it)\n",
			(unsigned long long)base, (unsigned long long)(base + size));
	put_online_mems();
}
