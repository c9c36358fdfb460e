// SPDX-License-Identifier: MIT
//
// The direct map: all usable RAM at page_offset + pa, read/write, with the largest leaves (1 GiB
// wherever RAM is 1 GiB aligned); no-map firmware ranges, holes and RAM hidden by mem= stay out
// (the arch's early 1 GiB window is cut back to RAM). Built once at boot; hot-add and hot-remove
// map and unmap ranges.
//
// Interface: directmap_init, directmap_map, directmap_unmap (include/rvmm/kpt.h).

#include <rvmm/errno.h>
#include <rvmm/kpt.h>
#include <rvmm/memblock.h>
#include <rvmm/mm.h>
#include <rvmm/printk.h>
#include <rvmm/section.h>

// The walk over what boot maps: the RAM pieces in ascending order, each mapped where the early
// window does not already cover it; the window's own leaf (1 GiB, set up by the arch) is cut back
// to those pieces, so it never reaches hidden RAM, firmware or holes (hot-add must find hidden RAM
// unmapped). win_done: the window is exact below it.
struct dm_walk {
	phys_addr_t win_lo, win_hi, win_done;
	int rc;
};

static void fail(struct dm_walk *w, const char *what, phys_addr_t s, phys_addr_t e, int rc)
{
	pr_err("mm: direct map: %s [0x%llx-0x%llx) failed (%d)", what, (unsigned long long)s,
	       (unsigned long long)e, rc);
	w->rc = rc;
}

// Not RAM: unmap [s, e) from the window.
static void window_gap(struct dm_walk *w, phys_addr_t s, phys_addr_t e)
{
	s = MAX(s, w->win_lo);
	e = MIN(e, w->win_hi);
	if (s >= e || w->rc)
		return;
	int rc = kpt_unmap_range((uintptr_t)__va(s), e - s);
	if (rc)
		fail(w, "trimming the early window to RAM", s, e, rc);
}

// A RAM piece [s, e): map what the window does not cover; the window gap below it goes.
static void map_piece(struct dm_walk *w, phys_addr_t s, phys_addr_t e)
{
	if (s >= e || w->rc)
		return;
	window_gap(w, w->win_done, s);
	w->win_done = MAX(w->win_done, e);
	phys_addr_t parts[2][2] = { { s, MIN(e, w->win_lo) }, { MAX(s, w->win_hi), e } };
	for (int i = 0; i < 2 && !w->rc; i++) {
		if (parts[i][0] >= parts[i][1])
			continue;
		int rc = kpt_map_range((uintptr_t)__va(parts[i][0]), parts[i][0],
				       parts[i][1] - parts[i][0], PROT_KERNEL_RW);
		if (rc)
			fail(w, "mapping", parts[i][0], parts[i][1], rc);
	}
}

struct nomap_walk {
	struct dm_walk *w;
	phys_addr_t cur; // mapped up to here
};

static void skip_nomap(phys_addr_t s, phys_addr_t e, enum memblock_tag tag, void *arg)
{
	struct nomap_walk *n = arg;
	if (tag != MEMBLOCK_NOMAP)
		return;
	map_piece(n->w, n->cur, s);
	n->cur = MAX(n->cur, e);
}

// A RAM range: everything but no-map firmware ranges.
static void map_memory(phys_addr_t s, phys_addr_t e, void *arg)
{
	struct nomap_walk n = { arg, ALIGN_UP(s, PAGE_SIZE) };
	e = ALIGN_DOWN(e, PAGE_SIZE);
	memblock_for_each_reserved(n.cur, e, skip_nomap, &n);
	map_piece(n.w, n.cur, e);
}

int directmap_init(phys_addr_t win_lo, phys_addr_t win_hi)
{
	struct dm_walk w = { win_lo, win_hi, win_lo, 0 };
	if (win_lo >= win_hi)
		w.win_lo = w.win_hi = w.win_done = 0;
	memblock_for_each_memory(0, mm_layout.max_phys, map_memory, &w);
	// Hidden RAM sharing a section with boot RAM (mem= cut it in two): mapped now, since that
	// section is never hot-added; `online` gives it to a zone.
	phys_addr_t b;
	uint64_t n;
	for (int i = 0; memblock_hidden_get(i, &b, &n); i++) {
		phys_addr_t end = MIN(b + n, ALIGN_UP(b, SECTION_SIZE));
		if (b < end && section_state(b >> SECTION_SHIFT) != SECTION_ABSENT)
			map_memory(b, end, &w);
	}
	window_gap(&w, w.win_done, w.win_hi);
	return w.rc;
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
