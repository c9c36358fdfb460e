// SPDX-License-Identifier: MIT
//
// Memory hot(un)plug: the four steps, as Linux names them.
//
//   add_memory     sections ABSENT -> PRESENT: direct map, vmemmap (no descriptor written)
//   online_pages   2 MiB pieces PRESENT/partly online -> online: pages to a zone (counted free;
//                  descriptors written on first use, deferred.c, unless the section has them)
//   offline_pages  isolate, migrate what is movable, take the free pages out; or -EBUSY, undone
//   remove_memory  sections PRESENT -> ABSENT: vmemmap and direct map gone, tables freed, TLBs fenced
//
// Interface: add_memory, online_pages, offline_pages, remove_memory and their __ variants,
// online_pages_in_range (include/rvmm/hotplug.h); mhp_stats.
//
// Every step either completes or leaves everything as it was, and says why in one line. Each
// allocation a step makes can fail (fault injection: failalloc=N, fault_inject_set), and so can the
// points where Linux's memory notifier may veto (going online, going offline, the drain); the
// goto labels are named for what is left to undo. Add, online and offline print a progress log
// line about once a second when they run longer than that (`hotadd: 8192/32768 MiB (1.0 s)`,
// mhp_progress).

#include <rvmm/arch_cpu.h>
#include <rvmm/errno.h>
#include <rvmm/fault_inject.h>
#include <rvmm/hotplug.h>
#include <rvmm/kpt.h>
#include <rvmm/mem_ranges.h>
#include <rvmm/migrate.h>
#include <rvmm/page_alloc.h>
#include <rvmm/printk.h>
#include <rvmm/progress.h>
#include <rvmm/section.h>

#include "internal.h"

#define OFFLINE_PASSES 64 /* migrate + take-free attempts before offline gives up on pinned pages */

struct mhp_stats mhp_stats;

// Progress of the step in hand: armed by add, online and offline around their walk of the
// range (remove is quick), reported by the loops that walk it section by section; silent when
// disarmed (next = ~0: never due). Under hotplug_lock (write).
static struct progress mhp_prog = { .next = ~0ULL };

static void progress_arm(void) { progress_start(&mhp_prog); }
static void progress_disarm(void) { mhp_prog.next = ~0ULL; }

void mhp_progress(const char *step, uint64_t done, uint64_t total)
{
	progress_report(&mhp_prog, step, done, total);
}

// Fault injection (fault_inject.h): every step is an operation under test; its failure points are
// its allocations and, where Linux's memory notifier may veto (MEM_GOING_ONLINE/OFFLINE), the
// should_fail() points below, counted in order with them.

static uint64_t sections_bytes(unsigned long count) { return (uint64_t)count << SECTION_SHIFT; }

#define RANGE_FMT "[0x%llx-0x%llx)"
#define RANGE_ARGS(s, e) (unsigned long long)(s), (unsigned long long)(e)

// Inside [0, max_phys), checked first so that no message prints an end that wrapped past 2^64.
static int check_below_max_phys(const char *op, phys_addr_t start, uint64_t size)
{
	if (start >= mm_layout.max_phys || size > mm_layout.max_phys - start) {
		pr_err("%s 0x%llx + 0x%llx: beyond the highest address rvmm maps (0x%llx)", op,
		       (unsigned long long)start, (unsigned long long)size,
		       (unsigned long long)mm_layout.max_phys);
		return -ERANGE;
	}
	return 0;
}

// Section-aligned, non-empty, inside [0, max_phys). Prints why not.
static int check_section_range(const char *op, phys_addr_t start, uint64_t size)
{
	int rc = check_below_max_phys(op, start, size);
	if (rc)
		return rc;
	if (!size || !IS_ALIGNED(start, SECTION_SIZE) || !IS_ALIGNED(size, SECTION_SIZE)) {
		pr_err("%s " RANGE_FMT ": not aligned to sections (128 MiB)", op,
		       RANGE_ARGS(start, start + size));
		return -EINVAL;
	}
	return 0;
}

// memmap_on_memory: each section carries its own 1 MiB of descriptors at its start, so every
// section stays independent (removable alone).
static int populate_on_memory(unsigned long nr, unsigned long count)
{
	for (unsigned long i = nr; i < nr + count; i++) {
		struct vmem_altmap am = { .base_pfn = section_nr_to_pfn(i),
					  .free = PAGES_PER_SECTION * sizeof(struct page) / PAGE_SIZE };
		int rc = vmemmap_populate(i, 1, &am);
		if (rc) {
			WARN_ON(vmemmap_depopulate(nr, i - nr, NULL));
			while (i-- > nr)
				section_get(i)->nr_vmemmap_pages = 0;
			return rc;
		}
		section_get(i)->nr_vmemmap_pages = (uint32_t)am.alloc;
	}
	return 0;
}

// Cannot fail: the range is inside the section table and vmemmap_depopulate never allocates.
static void depopulate(unsigned long nr, unsigned long count)
{
	WARN_ON(vmemmap_depopulate(nr, count, NULL));
	for (unsigned long i = nr; i < nr + count; i++)
		section_get(i)->nr_vmemmap_pages = 0;
}

static int add_owned(const struct mem_region *owner, phys_addr_t start, uint64_t size,
		     unsigned flags)
{
	assert_hotplug_writer();
	unsigned long nr = start >> SECTION_SHIFT, count = size >> SECTION_SHIFT;
	const char *reason;
	int rc = check_section_range("hot-add", start, size);
	if (!rc)
		rc = mem_range_check("hot-add", start, size, owner);
	if (rc)
		return rc;
	for (unsigned long i = nr; i < nr + count; i++)
		if (section_state(i) != SECTION_ABSENT) {
			pr_err("hot-add " RANGE_FMT ": section %lu at 0x%llx is already added (%s)",
			       RANGE_ARGS(start, start + size), i,
			       (unsigned long long)sections_bytes(i), section_state_name(section_state(i)));
			return -EEXIST;
		}
	progress_arm();
	fault_inject_begin();
	rc = directmap_map(start, size);
	if (rc) {
		reason = "direct map";
		goto out;
	}
	// No descriptor written until used. The node is the registry's (the device tree's for RAM,
	// the driver's for a region); hidden RAM of two nodes added at once: each section its own.
	rc = sections_add(nr, count, SECTION_DEFERRED, MAX(mem_range_nid(start), 0));
	if (rc) {
		reason = "section table";
		goto err_directmap;
	}
	for (unsigned long i = nr; i < nr + count; i++)
		section_get(i)->node = (uint8_t)MAX(mem_range_nid(sections_bytes(i)), 0);
	rc = flags & MHP_MEMMAP_ON_MEMORY ? populate_on_memory(nr, count)
					  : vmemmap_populate(nr, count, NULL);
	if (rc) {
		reason = "vmemmap";
		goto err_sections;
	}
	progress_disarm();
	fault_inject_end();
	return 0;

err_sections:
	// Neither can fail: the sections are PRESENT (this step made them so), and the direct map of
	// the range is leaves this step made inside it (no split, no allocation).
	sections_remove(nr, count);
err_directmap:
	WARN_ON(directmap_unmap(start, size));
out:
	progress_disarm();
	fault_inject_end();
	pr_err("hot-add " RANGE_FMT ": failed: %s (%d)", RANGE_ARGS(start, start + size), reason, rc);
	return rc;
}

int __add_memory(phys_addr_t start, uint64_t size, unsigned flags)
{
	return add_owned(NULL, start, size, flags);
}

int __add_memory_driver(const struct mem_region *owner, phys_addr_t start, uint64_t size,
			unsigned flags)
{
	return owner ? add_owned(owner, start, size, flags) : -EINVAL;
}

// 2 MiB aligned pfn range inside [0, max_phys). Prints why not.
static int check_pfn_range(const char *op, pfn_t start_pfn, unsigned long nr_pages)
{
	if (start_pfn >= PFN_DOWN(mm_layout.max_phys) ||
	    nr_pages > PFN_DOWN(mm_layout.max_phys) - start_pfn) {
		pr_err("%s pfn 0x%llx + %lu pages: beyond the highest address rvmm maps (0x%llx)", op,
		       (unsigned long long)start_pfn, nr_pages, (unsigned long long)mm_layout.max_phys);
		return -ERANGE;
	}
	phys_addr_t s = PFN_PHYS(start_pfn), e = PFN_PHYS(start_pfn + nr_pages);
	if (!nr_pages || !IS_ALIGNED(start_pfn, MHP_MIN_ONLINE_PAGES) ||
	    !IS_ALIGNED(nr_pages, MHP_MIN_ONLINE_PAGES)) {
		pr_err("%s " RANGE_FMT ": not aligned to 2 MiB", op, RANGE_ARGS(s, e));
		return -EINVAL;
	}
	return 0;
}

int __online_pages(pfn_t start_pfn, unsigned long nr_pages, enum zone_type zone)
{
	assert_hotplug_writer();
	phys_addr_t s = PFN_PHYS(start_pfn), e = PFN_PHYS(start_pfn + nr_pages);
	int rc = check_pfn_range("online", start_pfn, nr_pages);
	if (rc)
		return rc;
	if ((unsigned)zone >= NR_ZONES) {
		pr_err("online " RANGE_FMT ": no zone %d", RANGE_ARGS(s, e), zone);
		return -EINVAL;
	}
	for (unsigned long nr = pfn_to_section_nr(start_pfn); nr <= pfn_to_section_nr(start_pfn + nr_pages - 1); nr++) {
		const struct mem_section *ms = section_get(nr);
		if (!ms || ms->state == SECTION_ABSENT) {
			pr_err("online " RANGE_FMT ": section %lu is not added (hot-add it first)",
			       RANGE_ARGS(s, e), nr);
			return -ENOENT;
		}
		if (ms->flags & SECTION_DEVICE) {
			pr_err("online " RANGE_FMT ": section %lu is device memory (ZONE_DEVICE)",
			       RANGE_ARGS(s, e), nr);
			return -EBUSY;
		}
		if (ms->state == SECTION_ONLINE && ms->zone != zone) {
			pr_err("online " RANGE_FMT ": section %lu is already online in zone %s",
			       RANGE_ARGS(s, e), nr, zone_name(ms->zone));
			return -EINVAL;
		}
	}
	if (online_pages_in_range(start_pfn, nr_pages)) {
		pr_err("online " RANGE_FMT ": part of it is online already", RANGE_ARGS(s, e));
		return -EBUSY;
	}
	progress_arm();
	fault_inject_begin();
	rc = should_fail("online: going online")
		     ? -EIO
		     : zone_online_range(zone, start_pfn, nr_pages, &mhp_stats.desc_bytes);
	fault_inject_end();
	progress_disarm();
	if (rc) {
		pr_err("online " RANGE_FMT ": failed (%d)", RANGE_ARGS(s, e), rc);
		return rc;
	}
	return 0;
}

int __offline_pages(pfn_t start_pfn, unsigned long nr_pages)
{
	assert_hotplug_writer();
	pfn_t end = start_pfn + nr_pages, bad = 0;
	phys_addr_t s = PFN_PHYS(start_pfn), e = PFN_PHYS(end);
	unsigned long busy = 0;
	const char *reason;
	int rc = check_pfn_range("offline", start_pfn, nr_pages);
	if (rc)
		return rc;
	if (online_pages_in_range(start_pfn, nr_pages) != nr_pages) {
		pr_err("offline " RANGE_FMT ": not all of it is online", RANGE_ARGS(s, e));
		return -EINVAL;
	}
	if (range_online_zone(start_pfn, end) < 0) {
		pr_err("offline " RANGE_FMT ": spans two zones; offline each part alone", RANGE_ARGS(s, e));
		return -EINVAL;
	}
	progress_arm();
	fault_inject_begin();
	rc = should_fail("offline: going offline") ? -EIO : 0;
	if (!rc && zone_offline_deferred(start_pfn, end)) { // never used: nothing to migrate or write
		progress_disarm();
		fault_inject_end();
		return 0;
	}
	if (!rc)
		rc = page_isolate_range(start_pfn, end);
	if (rc) {
		reason = "isolation";
		goto out;
	}
	if (should_fail("offline: draining the per-hart caches")) {
		reason = "drain";
		rc = -EIO;
		goto err_isolated;
	}
	for (int pass = 0;; pass++) {
		rc = migrate_range(start_pfn, end, &bad);
		if (rc == -EBUSY) {
			reason = "unmovable page";
			goto err_isolated;
		}
		if (!rc) {
			rc = page_isolated_take_free(start_pfn, end, &busy);
			if (!rc)
				break;
		}
		if (pass == OFFLINE_PASSES) {
			reason = "pages still in use (pinned, or no memory to migrate them to)";
			rc = -EBUSY;
			goto err_isolated;
		}
		page_alloc_drain_all(); // pages freed meanwhile may sit in a cache
		for (int i = 0; i < 100 * pass; i++)
			arch_cpu_relax();
	}
	progress_disarm();
	fault_inject_end();
	return 0;

err_isolated:
	page_unisolate_range(start_pfn, end);
out:
	progress_disarm();
	fault_inject_end();
	if (bad)
		pr_err("offline " RANGE_FMT ": failed: %s at pfn 0x%llx (%d); range left online",
		       RANGE_ARGS(s, e), reason, (unsigned long long)bad, rc);
	else
		pr_err("offline " RANGE_FMT ": failed: %s (%d); range left online", RANGE_ARGS(s, e),
		       reason, rc);
	return rc;
}

int __remove_memory(phys_addr_t start, uint64_t size)
{
	assert_hotplug_writer();
	unsigned long nr = start >> SECTION_SHIFT, count = size >> SECTION_SHIFT;
	int rc = check_section_range("hot-remove", start, size);
	if (rc)
		return rc;
	for (unsigned long i = nr; i < nr + count; i++) {
		enum section_state st = section_state(i);
		if (st == SECTION_ABSENT) {
			pr_err("hot-remove " RANGE_FMT ": section %lu is not added",
			       RANGE_ARGS(start, start + size), i);
			return -ENOENT;
		}
		if (st == SECTION_ONLINE) {
			pr_err("hot-remove " RANGE_FMT ": section %lu is online (offline it first)",
			       RANGE_ARGS(start, start + size), i);
			return -EBUSY;
		}
		if (section_get(i)->flags & SECTION_DEVICE) {
			pr_err("hot-remove " RANGE_FMT ": section %lu is device memory (its driver "
			       "unmaps it)", RANGE_ARGS(start, start + size), i);
			return -EBUSY;
		}
	}
	fault_inject_begin();
	// The only step that may allocate (splitting a 1 GiB leaf shared with memory that stays):
	// first, so that its failure leaves everything as it was.
	rc = directmap_unmap(start, size);
	fault_inject_end();
	if (rc) {
		pr_err("hot-remove " RANGE_FMT ": failed: direct map (%d)", RANGE_ARGS(start, start + size), rc);
		return rc;
	}
	depopulate(nr, count);
	sections_remove(nr, count); // checked PRESENT above
	return 0;
}

unsigned long online_pages_in_range(pfn_t start_pfn, unsigned long nr_pages)
{
	unsigned long n = 0;
	for (pfn_t pfn = start_pfn, end = start_pfn + nr_pages; pfn < end;) {
		pfn_t next = MIN(end, ALIGN_DOWN(pfn, PAGES_PER_SUBSECTION) + PAGES_PER_SUBSECTION);
		if (pfn_online(pfn))
			n += next - pfn;
		pfn = next;
	}
	return n;
}

int add_memory(phys_addr_t start, uint64_t size, unsigned flags)
{
	mem_hotplug_begin();
	int rc = __add_memory(start, size, flags);
	mem_hotplug_done();
	return rc;
}

int online_pages(pfn_t start_pfn, unsigned long nr_pages, enum zone_type zone)
{
	mem_hotplug_begin();
	int rc = __online_pages(start_pfn, nr_pages, zone);
	mem_hotplug_done();
	return rc;
}

int offline_pages(pfn_t start_pfn, unsigned long nr_pages)
{
	mem_hotplug_begin();
	int rc = __offline_pages(start_pfn, nr_pages);
	mem_hotplug_done();
	return rc;
}

int remove_memory(phys_addr_t start, uint64_t size)
{
	mem_hotplug_begin();
	int rc = __remove_memory(start, size);
	mem_hotplug_done();
	return rc;
}
