// SPDX-License-Identifier: MIT
//
// The vmemmap: the page descriptors of present sections, mapped at vmemmap_base + pfn * 32.
// A section's descriptors take 1 MiB, so an even section and the next share one 2 MiB block.
//
// Interface: vmemmap_populate, vmemmap_depopulate, vmemmap_bytes (include/rvmm/section.h).
//
// Leaf choice (documented in section.h): both sections of a block populated by one call -> one
// 2 MiB leaf, freed when neither needs it; otherwise the section gets a 1 MiB block mapped with
// 256 4 KiB leaves. Backing memory is never written here: descriptors are initialised when their
// section goes online (or by deferred init), so untouched memmap costs nothing.

#include <rvmm/errno.h>
#include <rvmm/kpt.h>
#include <rvmm/memblock.h>
#include <rvmm/page_alloc.h>
#include <rvmm/printk.h>
#include <rvmm/section.h>

#include "internal.h"

#define SECTION_MEMMAP_SIZE (PAGES_PER_SECTION * sizeof(struct page)) /* 1 MiB */

static uint64_t memmap_bytes;

uint64_t vmemmap_bytes(void) { return READ_ONCE(memmap_bytes); }

static uintptr_t section_memmap_va(unsigned long nr)
{
	return (uintptr_t)pfn_to_page(section_nr_to_pfn(nr));
}

static uintptr_t block_va(unsigned long nr) { return section_memmap_va(nr & ~1UL); }

static bool has_memmap(unsigned long nr)
{
	struct mem_section *ms = section_get(nr);
	return ms && (ms->flags & SECTION_MEMMAP);
}

static unsigned order_of(uint64_t size)
{
	return (unsigned)(__builtin_ctzll(size) - PAGE_SHIFT);
}

// size bytes aligned to size (2 MiB, or 1 MiB for 4 KiB leaves: alignment is not needed for those
// from altmap), not written. 0 if none.
static phys_addr_t memmap_alloc(uint64_t size, struct vmem_altmap *altmap)
{
	if (altmap) {
		unsigned long need = size >> PAGE_SHIFT;
		pfn_t pfn = altmap->base_pfn + altmap->alloc;
		if (size == SZ_2M && !IS_ALIGNED(pfn, need))
			return 0;
		if (altmap->alloc + need > altmap->free)
			return 0;
		altmap->alloc += need;
		return PFN_PHYS(pfn);
	}
	if (!page_alloc_ready())
		return memblock_alloc_raw(size, size, MEMBLOCK_MEMMAP);
	struct page *p = alloc_pages(order_of(size), GFP_KERNEL);
	return p ? page_to_phys(p) : 0;
}

static bool from_altmap(phys_addr_t pa, const struct vmem_altmap *altmap)
{
	pfn_t pfn = PFN_DOWN(pa);
	return altmap && pfn >= altmap->base_pfn && pfn < altmap->base_pfn + altmap->free;
}

// Give back descriptor memory that nothing maps any more (kpt_gather release, or never mapped).
static void memmap_release(phys_addr_t pa, uint64_t size)
{
	if (!page_alloc_ready()) {
		memblock_free(pa, size);
		return;
	}
	pfn_t pfn = PFN_DOWN(pa);
	deferred_init_pfn(pfn);
	struct page *p = pfn_to_page(pfn);
	if (page_flags(p) & PG_reserved)
		free_reserved_pages(pfn, size >> PAGE_SHIFT);
	else
		free_pages(p, order_of(size));
}

static void memmap_free(phys_addr_t pa, uint64_t size, struct vmem_altmap *altmap)
{
	if (from_altmap(pa, altmap)) {
		// Handed back only if it was the last piece given out (rollback of a failed populate).
		if (PFN_DOWN(pa) + (size >> PAGE_SHIFT) == altmap->base_pfn + altmap->alloc)
			altmap->alloc -= size >> PAGE_SHIFT;
		return;
	}
	memmap_release(pa, size);
}

static int populate_one(unsigned long nr, bool pair_in_range, struct vmem_altmap *altmap)
{
	struct mem_section *ms = section_get(nr);
	pte_t pte;
	unsigned level;
	phys_addr_t pa;
	int rc;

	if (!kpt_lookup(block_va(nr), &pte, &level) && level == 1)
		goto done; // the neighbour's 2 MiB leaf covers us
	if (!(nr & 1) && pair_in_range && !has_memmap(nr + 1)) {
		pa = memmap_alloc(SZ_2M, altmap);
		if (pa) {
			rc = __kpt_map_range(block_va(nr), pa, SZ_2M, PROT_KERNEL_RW);
			if (rc) {
				memmap_free(pa, SZ_2M, altmap);
				return rc;
			}
			memmap_bytes += SZ_2M;
			goto done;
		}
		// no 2 MiB block: fall back to 4 KiB leaves
	}
	pa = memmap_alloc(SECTION_MEMMAP_SIZE, altmap);
	if (!pa)
		return -ENOMEM;
	rc = __kpt_map_range(section_memmap_va(nr), pa, SECTION_MEMMAP_SIZE, PROT_KERNEL_RW);
	if (rc) {
		memmap_free(pa, SECTION_MEMMAP_SIZE, altmap);
		return rc;
	}
	memmap_bytes += SECTION_MEMMAP_SIZE;
done:
	ms->flags |= SECTION_MEMMAP;
	if (altmap)
		ms->flags |= SECTION_MEMMAP_ON_MEMORY;
	return 0;
}

// Unmap section nr's descriptors into g. Their memory is freed after g's fence, unless it lies in
// the section itself (memmap_on_memory: going away with it) or is altmap's (given back to it now:
// nothing else can take it before the fence). A memmap_on_memory section whose descriptors sit in
// its neighbour's 2 MiB leaf frees that leaf like any other when it is the last user.
static void depopulate_one(struct kpt_gather *g, unsigned long nr, struct vmem_altmap *altmap)
{
	struct mem_section *ms = section_get(nr);
	pte_t pte;
	unsigned level;

	if (!ms || !(ms->flags & SECTION_MEMMAP))
		return;
	if (kpt_lookup(section_memmap_va(nr), &pte, &level)) {
		pr_err("vmemmap: section %lu marked populated but not mapped", nr);
		goto done;
	}
	if (level == 1 && has_memmap(nr ^ 1))
		goto done; // shared: the neighbour still needs the block
	uintptr_t va = level == 1 ? block_va(nr) : section_memmap_va(nr);
	uint64_t size = level == 1 ? SZ_2M : SECTION_MEMMAP_SIZE;
	phys_addr_t pa = arch_pte_pa(pte);
	// Whole leaves this file mapped: no split, no allocation, so this cannot fail.
	if (WARN_ON(kpt_unmap_gather(g, va, size)))
		return;
	if (from_altmap(pa, altmap))
		memmap_free(pa, size, altmap);
	else if (pfn_to_section_nr(PFN_DOWN(pa)) != nr) // not its own (memmap_on_memory) memory
		kpt_gather_defer(g, pa, size);
	memmap_bytes -= size;
done:
	ms->flags &= (uint8_t)~(SECTION_MEMMAP | SECTION_MEMMAP_ON_MEMORY);
}

int vmemmap_populate(unsigned long nr, unsigned long count, struct vmem_altmap *altmap)
{
	assert_hotplug_writer();
	if (!count || nr >= nr_mem_sections || count > nr_mem_sections - nr)
		return -EINVAL;
	for (unsigned long i = nr; i < nr + count; i++) {
		if (!section_get(i))
			return -EINVAL;
		if (has_memmap(i))
			return -EEXIST;
	}
	for (unsigned long i = nr; i < nr + count; i++) {
		bool pair = (i ^ 1) >= nr && (i ^ 1) < nr + count;
		int rc = populate_one(i, pair, altmap);
		if (rc) {
			pr_err("vmemmap: populating section %lu failed (%d)", i, rc);
			// Undo from the top so shared 2 MiB leaves go when their last user does.
			struct kpt_gather g;
			kpt_gather_init(&g, memmap_release);
			while (i-- > nr)
				depopulate_one(&g, i, altmap);
			kpt_gather_finish(&g);
			return rc;
		}
	}
	// One fence for the whole range (TLB rule, docs/locking.md): no hart uses these yet.
	arch_flush_tlb_after_map(block_va(nr), block_va(nr + count + 1));
	return 0;
}

int vmemmap_depopulate(unsigned long nr, unsigned long count, struct vmem_altmap *altmap)
{
	assert_hotplug_writer();
	if (!count || nr >= nr_mem_sections || count > nr_mem_sections - nr)
		return -EINVAL;
	struct kpt_gather g;
	kpt_gather_init(&g, memmap_release);
	for (unsigned long i = nr; i < nr + count; i++)
		depopulate_one(&g, i, altmap);
	kpt_gather_finish(&g); // one fence for the range
	return 0;
}
