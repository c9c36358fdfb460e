// SPDX-License-Identifier: MIT
//
// Early boot memory allocator: RAM ranges, reserved ranges (with a tag saying why), RAM hidden by
// mem=, and top-down allocation inside the window the arch has direct-mapped. The page allocator
// takes over free memory at memblock_release(); the tables stay for deferred init to read.
//
// Interface: see include/rvmm/memblock.h (memblock_add, memblock_reserve, memblock_alloc, ...).
//
// Ranges are kept sorted and non-overlapping in small fixed arrays (no allocation needed to track
// allocations). Memory ranges of one NUMA node merge when they touch (each keeps its node); reserved ranges merge only with a neighbour
// of the same tag, so the tag of every reserved byte is known.

#include <rvmm/errno.h>
#include <rvmm/memblock.h>
#include <rvmm/mm.h>
#include <rvmm/numa.h>
#include <rvmm/printk.h>

struct mb_region {
	phys_addr_t base;
	uint64_t size;
	enum memblock_tag tag;
	int nid; /* RAM: its NUMA node; reserved: 0 */
};

struct mb_type {
	struct mb_region r[MEMBLOCK_MAX_REGIONS];
	int cnt;
};

static struct mb_type mb_memory, mb_reserved, mb_hidden;
static phys_addr_t win_lo, win_hi = ~(phys_addr_t)0;
static phys_addr_t limit_pa = ~(phys_addr_t)0;
static bool released;

static inline phys_addr_t rend(const struct mb_region *r) { return r->base + r->size; }

// Insert [base, base + size) at index i (caller keeps the order), then merge with neighbours that
// touch it and carry the same tag and node.
static int insert_at(struct mb_type *t, int i, phys_addr_t base, uint64_t size,
		     enum memblock_tag tag, int nid, int max)
{
	if (t->cnt >= max)
		return -ENOSPC;
	for (int j = t->cnt; j > i; j--)
		t->r[j] = t->r[j - 1];
	t->r[i] = (struct mb_region){ base, size, tag, nid };
	t->cnt++;
	if (i + 1 < t->cnt && rend(&t->r[i]) == t->r[i + 1].base && t->r[i + 1].tag == tag &&
	    t->r[i + 1].nid == nid) {
		t->r[i].size += t->r[i + 1].size;
		for (int j = i + 1; j < t->cnt - 1; j++)
			t->r[j] = t->r[j + 1];
		t->cnt--;
	}
	if (i > 0 && rend(&t->r[i - 1]) == base && t->r[i - 1].tag == tag && t->r[i - 1].nid == nid) {
		t->r[i - 1].size += t->r[i].size;
		for (int j = i; j < t->cnt - 1; j++)
			t->r[j] = t->r[j + 1];
		t->cnt--;
	}
	return 0;
}

// Remove [base, end) from every region of t, splitting where needed.
static int remove_range(struct mb_type *t, phys_addr_t base, phys_addr_t end, int max)
{
	for (int i = 0; i < t->cnt; i++) {
		struct mb_region *r = &t->r[i];
		phys_addr_t rb = r->base, re = rend(r);
		if (re <= base || rb >= end)
			continue;
		if (rb < base && re > end) { // split in two
			if (t->cnt >= max)
				return -ENOSPC;
			for (int j = t->cnt; j > i + 1; j--)
				t->r[j] = t->r[j - 1];
			t->cnt++;
			t->r[i + 1] = (struct mb_region){ end, re - end, r->tag, r->nid };
			r->size = base - rb;
			return 0;
		}
		if (rb < base) {
			r->size = base - rb;
		} else if (re > end) {
			r->size = re - end;
			r->base = end;
		} else {
			for (int j = i; j < t->cnt - 1; j++)
				t->r[j] = t->r[j + 1];
			t->cnt--;
			i--;
		}
	}
	return 0;
}

int memblock_add(phys_addr_t base, uint64_t size)
{
	return memblock_add_node(base, size, 0);
}

int memblock_add_node(phys_addr_t base, uint64_t size, int nid)
{
	phys_addr_t end = base + size;
	if (size == 0 || end < base || nid < 0)
		return -EINVAL;
	if (released)
		return -EPERM;
	// Another node's RAM may touch this range but not overlap it.
	for (int j = 0; j < mb_memory.cnt; j++)
		if (mb_memory.r[j].nid != nid && mb_memory.r[j].base < end && rend(&mb_memory.r[j]) > base)
			return -EEXIST;
	// Absorb every region of the node that overlaps or touches, then insert the union.
	int i = 0;
	while (i < mb_memory.cnt && (rend(&mb_memory.r[i]) < base ||
				     (rend(&mb_memory.r[i]) == base && mb_memory.r[i].nid != nid)))
		i++;
	while (i < mb_memory.cnt && mb_memory.r[i].base <= end && mb_memory.r[i].nid == nid) {
		base = MIN(base, mb_memory.r[i].base);
		end = MAX(end, rend(&mb_memory.r[i]));
		for (int j = i; j < mb_memory.cnt - 1; j++)
			mb_memory.r[j] = mb_memory.r[j + 1];
		mb_memory.cnt--;
	}
	return insert_at(&mb_memory, i, base, end - base, MEMBLOCK_MEMORY, nid, MEMBLOCK_MAX_REGIONS);
}

int memblock_reserve(phys_addr_t base, uint64_t size, enum memblock_tag tag)
{
	phys_addr_t end = base + size;
	if (size == 0 || end < base || tag == MEMBLOCK_MEMORY || tag >= NR_MEMBLOCK_TAGS)
		return -EINVAL;
	if (released)
		return -EPERM;
	base = ALIGN_DOWN(base, PAGE_SIZE);
	end = ALIGN_UP(end, PAGE_SIZE);
	// Insert only the gaps between existing reservations: first tag wins.
	phys_addr_t cur = base;
	int i = 0;
	while (cur < end) {
		while (i < mb_reserved.cnt && rend(&mb_reserved.r[i]) <= cur)
			i++;
		phys_addr_t gap_end = end;
		if (i < mb_reserved.cnt && mb_reserved.r[i].base <= cur) {
			cur = rend(&mb_reserved.r[i]);
			continue;
		}
		if (i < mb_reserved.cnt)
			gap_end = MIN(end, mb_reserved.r[i].base);
		int rc = insert_at(&mb_reserved, i, cur, gap_end - cur, tag, 0, MEMBLOCK_MAX_REGIONS);
		if (rc)
			return rc;
		cur = gap_end;
		i = 0; // merging may have shifted indices; rescan from the start (few regions)
	}
	return 0;
}

int memblock_free(phys_addr_t base, uint64_t size)
{
	phys_addr_t end = base + size;
	if (size == 0 || end < base)
		return -EINVAL;
	return remove_range(&mb_reserved, ALIGN_DOWN(base, PAGE_SIZE), ALIGN_UP(end, PAGE_SIZE),
			    MEMBLOCK_MAX_REGIONS);
}

void memblock_mem_limit(uint64_t bytes)
{
	if (bytes == 0)
		return;
	bytes = ALIGN_DOWN(bytes, PAGE_SIZE);
	uint64_t seen = 0;
	phys_addr_t cut = ~(phys_addr_t)0;
	for (int i = 0; i < mb_memory.cnt; i++) {
		if (seen + mb_memory.r[i].size > bytes) {
			// At a 2 MiB boundary: the sub-section above the cut is then wholly hidden
			// and can be onlined on its own (a section cut in two stays usable).
			cut = ALIGN_DOWN(mb_memory.r[i].base + (bytes - seen), SZ_2M);
			break;
		}
		seen += mb_memory.r[i].size;
	}
	if (cut == ~(phys_addr_t)0)
		return;
	// Move everything at or above cut to the hidden list.
	for (int i = 0; i < mb_memory.cnt; i++) {
		struct mb_region *r = &mb_memory.r[i];
		phys_addr_t b = MAX(r->base, cut);
		if (rend(r) <= b)
			continue;
		if (mb_hidden.cnt < MEMBLOCK_MAX_HIDDEN)
			insert_at(&mb_hidden, mb_hidden.cnt, b, rend(r) - b, MEMBLOCK_MEMORY,
				  r->nid, MEMBLOCK_MAX_HIDDEN);
		else
			pr_warn("memblock: too many hidden ranges, [0x%llx-0x%llx) forgotten",
				(unsigned long long)b, (unsigned long long)rend(r));
	}
	remove_range(&mb_memory, cut, ~(phys_addr_t)0, MEMBLOCK_MAX_REGIONS);
	limit_pa = cut;
}

phys_addr_t memblock_mem_limit_pa(void) { return limit_pa; }

bool memblock_hidden_get(int i, phys_addr_t *base, uint64_t *size)
{
	if (i < 0 || i >= mb_hidden.cnt)
		return false;
	*base = mb_hidden.r[i].base;
	*size = mb_hidden.r[i].size;
	return true;
}

int memblock_nid(phys_addr_t pa)
{
	const struct mb_type *t[] = { &mb_memory, &mb_hidden };

	for (int k = 0; k < 2; k++)
		for (int i = 0; i < t[k]->cnt; i++)
			if (t[k]->r[i].base <= pa && pa < rend(&t[k]->r[i]))
				return t[k]->r[i].nid;
	return NUMA_NO_NODE;
}

int memblock_hidden_count(void) { return mb_hidden.cnt; }

int memblock_hidden_remove(phys_addr_t base, uint64_t size)
{
	bool found = false;
	for (int i = 0; i < mb_hidden.cnt; i++)
		if (mb_hidden.r[i].base < base + size && rend(&mb_hidden.r[i]) > base)
			found = true;
	if (!found)
		return -ENOENT;
	return remove_range(&mb_hidden, base, base + size, MEMBLOCK_MAX_HIDDEN);
}

void memblock_set_window(phys_addr_t lo, phys_addr_t hi)
{
	win_lo = lo;
	win_hi = hi;
}

// Highest aligned [pa, pa + size) inside RAM, inside the window, in no reserved range.
static phys_addr_t find_top_down(uint64_t size, uint64_t align)
{
	for (int i = mb_memory.cnt - 1; i >= 0; i--) {
		phys_addr_t rs = MAX(mb_memory.r[i].base, win_lo);
		phys_addr_t re = MIN(rend(&mb_memory.r[i]), win_hi);
		if (rs >= re)
			continue;
		// Gaps between reserved ranges, from the top: gap j lies below reserved[j].
		for (int j = mb_reserved.cnt; j >= 0; j--) {
			phys_addr_t gs = j > 0 ? rend(&mb_reserved.r[j - 1]) : 0;
			phys_addr_t ge = j < mb_reserved.cnt ? mb_reserved.r[j].base : ~(phys_addr_t)0;
			gs = MAX(gs, rs);
			ge = MIN(ge, re);
			if (gs >= ge || ge - gs < size)
				continue;
			phys_addr_t pa = ALIGN_DOWN(ge - size, align);
			if (pa >= gs && pa != 0)
				return pa;
		}
	}
	return 0;
}

phys_addr_t memblock_alloc_raw(uint64_t size, uint64_t align, enum memblock_tag tag)
{
	if (released) {
		pr_err("memblock: allocation of %llu bytes after release",
		       (unsigned long long)size);
		return 0;
	}
	if (size == 0 || align < PAGE_SIZE || (align & (align - 1)))
		return 0;
	size = ALIGN_UP(size, PAGE_SIZE);
	phys_addr_t pa = find_top_down(size, align);
	if (!pa || memblock_reserve(pa, size, tag))
		return 0;
	return pa;
}

phys_addr_t memblock_alloc(uint64_t size, uint64_t align, enum memblock_tag tag)
{
	phys_addr_t pa = memblock_alloc_raw(size, align, tag);
	if (pa)
		__builtin_memset(__va(pa), 0, ALIGN_UP(size, PAGE_SIZE));
	return pa;
}

void memblock_for_each_memory(phys_addr_t lo, phys_addr_t hi,
			      void (*fn)(phys_addr_t, phys_addr_t, void *), void *arg)
{
	for (int i = 0; i < mb_memory.cnt; i++) {
		phys_addr_t s = MAX(mb_memory.r[i].base, lo), e = MIN(rend(&mb_memory.r[i]), hi);
		if (s < e)
			fn(s, e, arg);
	}
}

void memblock_for_each_free(phys_addr_t lo, phys_addr_t hi,
			    void (*fn)(phys_addr_t, phys_addr_t, void *), void *arg)
{
	int j = 0;
	for (int i = 0; i < mb_memory.cnt; i++) {
		phys_addr_t s = MAX(ALIGN_UP(mb_memory.r[i].base, PAGE_SIZE), lo);
		phys_addr_t e = MIN(ALIGN_DOWN(rend(&mb_memory.r[i]), PAGE_SIZE), hi);
		while (j > 0 && rend(&mb_reserved.r[j - 1]) > s)
			j--; // regions are sorted; step back in case the last one reaches in
		while (s < e) {
			while (j < mb_reserved.cnt && rend(&mb_reserved.r[j]) <= s)
				j++;
			phys_addr_t stop = e;
			if (j < mb_reserved.cnt && mb_reserved.r[j].base <= s) {
				s = rend(&mb_reserved.r[j]);
				continue;
			}
			if (j < mb_reserved.cnt)
				stop = MIN(e, mb_reserved.r[j].base);
			fn(s, stop, arg);
			s = stop;
		}
	}
}

void memblock_for_each_reserved(phys_addr_t lo, phys_addr_t hi,
				void (*fn)(phys_addr_t, phys_addr_t, enum memblock_tag, void *),
				void *arg)
{
	for (int i = 0; i < mb_reserved.cnt; i++) {
		phys_addr_t s = MAX(mb_reserved.r[i].base, lo), e = MIN(rend(&mb_reserved.r[i]), hi);
		if (s < e)
			fn(s, e, mb_reserved.r[i].tag, arg);
	}
}

bool memblock_is_memory(phys_addr_t base, uint64_t size)
{
	for (int i = 0; i < mb_memory.cnt; i++)
		if (mb_memory.r[i].base <= base && base + size <= rend(&mb_memory.r[i]))
			return true;
	return false;
}

uint64_t memblock_memory_total(void)
{
	uint64_t t = 0;
	for (int i = 0; i < mb_memory.cnt; i++)
		t += mb_memory.r[i].size;
	return t;
}

struct count_arg {
	int tag;
	uint64_t total;
};

static void count_reserved(phys_addr_t s, phys_addr_t e, enum memblock_tag tag, void *arg)
{
	struct count_arg *c = arg;
	if (c->tag < 0 || (int)tag == c->tag)
		c->total += e - s;
}

static void count_reserved_in_memory(phys_addr_t s, phys_addr_t e, void *arg)
{
	memblock_for_each_reserved(s, e, count_reserved, arg);
}

uint64_t memblock_reserved_total(int tag)
{
	struct count_arg c = { tag, 0 };
	memblock_for_each_memory(0, ~(phys_addr_t)0, count_reserved_in_memory, &c);
	return c.total;
}

static void count_free(phys_addr_t s, phys_addr_t e, void *arg)
{
	*(uint64_t *)arg += (e - s) >> PAGE_SHIFT;
}

uint64_t memblock_free_pages(void)
{
	uint64_t n = 0;
	memblock_for_each_free(0, ~(phys_addr_t)0, count_free, &n);
	return n;
}

phys_addr_t memblock_start(void) { return mb_memory.cnt ? mb_memory.r[0].base : 0; }
phys_addr_t memblock_end(void) { return mb_memory.cnt ? rend(&mb_memory.r[mb_memory.cnt - 1]) : 0; }

void memblock_release(void) { released = true; }
