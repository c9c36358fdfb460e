/* SPDX-License-Identifier: MIT */
/*
 * The kernel page tables ("kpt"): one tree rooted at arch_kpt_root(), shared by every hart. Generic
 * code builds and tears down mappings here; PTE bits stay behind arch_mm.h.
 *
 * Interface: kpt_map_range, kpt_unmap_range, kpt_lookup, kpt_prealloc_top, kpt_pgtable_pages;
 * directmap_init, directmap_map, directmap_unmap; ptdump.
 *
 * kpt_lock (kernel/mm/pgtable.c) protects populating and freeing intermediate tables and writing
 * entries; kpt_map_range/kpt_unmap_range take it. Order: after hotplug_lock, before zone->lock
 * (table pages are allocated and freed while it is held).
 */
#ifndef RVMM_KPT_H
#define RVMM_KPT_H

#include <rvmm/arch_mm.h>
#include <rvmm/list.h>
#include <rvmm/spinlock.h>
#include <rvmm/types.h>

extern spinlock_t kpt_lock;

/*
 * Map [va, va + size) to [pa, pa + size) with prot. va, pa, size must be page aligned. Each piece
 * gets the largest leaf (1 GiB, 2 MiB, 4 KiB) that va, pa and what is left of the range allow;
 * where a table already exists below a would-be large leaf the piece is mapped with smaller leaves
 * inside it. Takes kpt_lock. Returns 0; -EINVAL for bad arguments; -EEXIST if part of the range is
 * already mapped; -ENOMEM if a table page cannot be allocated. On failure nothing this call mapped
 * is left mapped and every table it created is freed. On success the mapping is usable on every
 * hart (arch_flush_tlb_after_map).
 *
 * __kpt_map_range: the same without that fence, for a caller mapping many pieces (the vmemmap of
 * a hot-added range) that calls arch_flush_tlb_after_map once over all of them before anything
 * uses them.
 */
int kpt_map_range(uintptr_t va, phys_addr_t pa, uint64_t size, unsigned prot);
int __kpt_map_range(uintptr_t va, phys_addr_t pa, uint64_t size, unsigned prot);

/*
 * Unmap [va, va + size) (page aligned). Unmapped holes inside it are fine. A leaf that sticks out
 * of the range is first split into smaller leaves (so a 1 GiB direct-map leaf can lose one 128 MiB
 * section). Then every entry inside is cleared, the TLB is flushed for the range, and every table
 * that became empty is freed, except the root's children in 4-level mode (preallocated, see
 * kpt_prealloc_top). Takes kpt_lock. Returns 0, -EINVAL, or -ENOMEM when a split needs a table
 * page and none is available: the tables for every split are taken before anything changes, so
 * then nothing at all changed.
 */
int kpt_unmap_range(uintptr_t va, uint64_t size);

/*
 * An unmap batch (Linux's mmu_gather). kpt_unmap_gather clears entries as kpt_unmap_range does
 * but does not fence; kpt_gather_finish fences the whole span once on every hart, then frees the
 * page tables that became empty and calls release(pa, size) for every page range handed to
 * kpt_gather_defer (memory that was mapped there: it must not be reused before the fence). A
 * batch also fences early when 64 freed tables pile up. The vmemmap of a removed range thus costs
 * one fence, not one per section. A deferred range is listed through its first page's descriptor
 * (the memory itself is not touched). kpt_gather_init with release NULL: no deferred pages.
 */
struct kpt_gather {
	uintptr_t start, end;  /* span cleared since the last fence */
	phys_addr_t tables[64];
	int nr_tables;
	struct list_head deferred; /* first pages of the deferred ranges (page->lru) */
	void (*release)(phys_addr_t pa, uint64_t size);
};
void kpt_gather_init(struct kpt_gather *g, void (*release)(phys_addr_t pa, uint64_t size));
int kpt_unmap_gather(struct kpt_gather *g, uintptr_t va, uint64_t size);
void kpt_gather_defer(struct kpt_gather *g, phys_addr_t pa, uint64_t size);
void kpt_gather_finish(struct kpt_gather *g);

/*
 * Find the leaf mapping va. Returns 0 and fills *pte and *level (0 = 4 KiB ... ), or -ENOENT.
 * Caller holds kpt_lock or knows the range cannot change (hotplug_lock).
 */
int kpt_lookup(uintptr_t va, pte_t *pte, unsigned *level);

/*
 * Allocate, once, every next-level table under the root for [start, end), so that later mapping in
 * that range (hot-add) never writes the root table. Only in 4-level (Sv48) mode; in Sv39 the root's
 * entries are 1 GiB leaves and it does nothing. Returns 0 or -ENOMEM (tables made so far stay).
 */
int kpt_prealloc_top(uintptr_t start, uintptr_t end);

/* Pages currently used by kernel page tables created by kernel/mm (boot and later). */
uint64_t kpt_pgtable_pages(void);

/*
 * Map all usable RAM (memblock memory, and hidden RAM in a section that boot RAM shares) into the
 * direct map with the largest leaves, except no-map firmware ranges. The early window [win_lo,
 * win_hi) the arch mapped already keeps its leaves where they map such RAM and loses them
 * everywhere else (hidden RAM, firmware, holes), so that hot-add finds hidden RAM unmapped. Boot
 * only, after the sections are present. Returns 0 or a negative errno (-ENOMEM, -EEXIST), after
 * printing what failed.
 */
int directmap_init(phys_addr_t win_lo, phys_addr_t win_hi);

/*
 * Direct-map or unmap [pa, pa + size) (page aligned) for hot-add and hot-remove. Caller holds
 * hotplug_lock for write. Same errors and rollback as kpt_map_range / kpt_unmap_range.
 */
int directmap_map(phys_addr_t pa, uint64_t size);
int directmap_unmap(phys_addr_t pa, uint64_t size);

/*
 * Print the kernel page tables, Linux kernel_page_tables style, limited to [start, end) (0, 0 =
 * everything). Takes hotplug_lock for reading and kpt_lock (tables cannot be freed under the
 * walk). Returns the number of lines printed.
 */
int ptdump(uintptr_t start, uintptr_t end);

#endif
