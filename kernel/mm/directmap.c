// SPDX-License-Identifier: MIT
//
// The direct map: all usable RAM at page_offset + pa, read/write, with the largest leaves (1 GiB
// wherever RAM is 1 GiB aligned); no-map firmware ranges stay out. Built once at boot; hot-add and
// hot-remove map and unmap ranges.
//
// Interface: directmap_init, directmap_map, directmap_unmap (include/rvmm/kpt.h).

#include <rvmm/errno.h>
#include <rvmm/kpt.h>
#include <rvmm/memblock.h>
#include <rvmm/mm.h>
#include <rvmm/printk.h>

struct dm_arg {
	phys_addr_t win_lo, win_hi;
	int rc;
};

static void map_piece(phys_addr_t s, phys_addr_t e, struct dm_arg *a)
{
	if (s >= e || a->rc)
		return;
	int rc = kpt_map_range((uintptr_t)__va(s), s, e - s, PROT_KERNEL_RW);
	if (rc) {
		pr_err("mm: direct map of [0x%llx-0x%llx) failed (%d)", (unsigned long long)s,
		       (unsigned long long)e, rc);
		a->rc = rc;
	}
}

// [s, e) minus the early window.
static void map_outside_window(phys_addr_t s, phys_addr_t e, struct dm_arg *a)
{
	map_piece(s, MIN(e, a->win_lo), a);
	map_piece(MAX(s, a->win_hi), e, a);
}

struct nomap_walk {
	struct dm_arg *a;
	phys_addr_t cur; // mapped up to here
};

static void skip_nomap(phys_addr_t s, phys_addr_t e, enum memblock_tag tag, void *arg)
{
	struct nomap_walk *w = arg;
	if (tag != MEMBLOCK_NOMAP)
		return;
	map_outside_window(w->cur, s, w->a);
	w->cur = e;
}

// A RAM range: everything but no-map firmware ranges and the early window.
static void map_memory(phys_addr_t s, phys_addr_t e, void *arg)
{
	struct nomap_walk w = { arg, ALIGN_UP(s, PAGE_SIZE) };
	e = ALIGN_DOWN(e, PAGE_SIZE);
	memblock_for_each_reserved(w.cur, e, skip_nomap, &w);
	map_outside_window(w.cur, e, w.a);
}

int directmap_init(phys_addr_t win_lo, phys_addr_t win_hi)
{
	struct dm_arg a = { win_lo, win_hi, 0 };
	if (win_lo >= win_hi)
		a.win_lo = a.win_hi = 0;
	memblock_for_each_memory(0, mm_layout.max_phys, map_memory, &a);
	return a.rc;
}

int directmap_map(phys_addr_t pa, uint64_t size)
{
	if (pa + size > mm_layout.max_phys || pa + size < pa)
		return -EINVAL;
	return kpt_map_range((uintptr_t)__va(pa), pa, size, PROT_KERNEL_RW);
}

int directmap_unmap(phys_addr_t pa, uint64_t size)
{
	if (pa + size > mm_layout.max_phys || pa + size < pa)
		return -EINVAL;
	return kpt_unmap_range((uintptr_t)__va(pa), size);
}
