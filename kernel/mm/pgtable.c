// SPDX-License-Identifier: MIT
//
// The kernel page tables: map and unmap ranges of the one kernel tree, with the largest leaves that
// fit, splitting leaves that stick out of an unmapped range and freeing tables that became empty.
//
// Interface: kpt_map_range, __kpt_map_range, kpt_unmap_range, kpt_gather_*, kpt_unmap_gather, kpt_lookup, kpt_prealloc_top, kpt_pgtable_pages
// (include/rvmm/kpt.h).
//
// Levels (arch_mm.h): a table has 512 entries; level 0 holds 4 KiB leaves, level 1 2 MiB, level 2
// 1 GiB, level 3 is Sv48's root (512 GiB per entry, never a leaf here). Sv39's root is level 2.
// Whether a table is empty is found by scanning its 512 entries when something was cleared in it
// (only on unmap), so no per-table counter has to be kept in a descriptor that might not be
// initialised yet (deferred init).
//
// Table pages come from memblock (tag pgtable) until the page allocator runs, then from
// ZONE_NORMAL; both kinds carry PG_pgtable and are counted in kpt_pgtable_pages(). Tables the arch
// built before mm_init (in the kernel image) are walked and filled but never freed.

#include <rvmm/errno.h>
#include <rvmm/kpt.h>
#include <rvmm/memblock.h>
#include <rvmm/mm.h>
#include <rvmm/page_alloc.h>
#include <rvmm/printk.h>

/*
 * kpt_lock protects the structure of the kernel page tables: creating, filling, splitting and
 * freeing tables below the root. Taken by kpt_map_range, kpt_unmap_range and kpt_prealloc_top.
 * Order: after hotplug_lock, before zone->lock (table pages are allocated and freed under it).
 */
spinlock_t kpt_lock = SPINLOCK_INIT("kpt_lock", LOCK_CLASS_KPT);

static uint64_t nr_pgtable_pages;

uint64_t kpt_pgtable_pages(void) { return READ_ONCE(nr_pgtable_pages); }

static inline unsigned top_level(void) { return arch_pgtable_levels() - 1; }
static inline unsigned pidx(uintptr_t va, unsigned level) { return (va >> LEVEL_SHIFT(level)) & 511; }
static inline pte_t *table_va(pte_t e) { return __va(arch_pte_pa(e)); }

// A zeroed table page, or 0.
static phys_addr_t table_alloc(void)
{
	phys_addr_t pa;
	if (!page_alloc_ready()) {
		pa = memblock_alloc(PAGE_SIZE, PAGE_SIZE, MEMBLOCK_PGTABLE);
		if (!pa)
			return 0;
	} else {
		struct page *p = alloc_pages(0, GFP_KERNEL | GFP_ZERO);
		if (!p)
			return 0;
		page_flags_set(p, PG_pgtable);
		pa = page_to_phys(p);
	}
	nr_pgtable_pages++;
	return pa;
}

// Free a table page that is no longer linked and no longer in any TLB.
static void table_free(phys_addr_t pa)
{
	if (!page_alloc_ready()) {
		memblock_free(pa, PAGE_SIZE);
		nr_pgtable_pages--;
		return;
	}
	pfn_t pfn = PFN_DOWN(pa);
	deferred_init_pfn(pfn);
	struct page *p = pfn_to_page(pfn);
	uint32_t f = page_flags(p);
	if (!(f & PG_pgtable))
		return; // the arch's own early table (kernel image): not ours to free
	nr_pgtable_pages--;
	if (f & PG_reserved) {
		free_reserved_pages(pfn, 1);
	} else {
		page_flags_clear(p, PG_pgtable);
		free_pages(p, 0);
	}
}

struct created {
	pte_t *e;
	uintptr_t va;
	unsigned level;
	phys_addr_t pa;
};

// Map one piece at va: the largest leaf that fits. *mapped gets its size.
static int map_one(uintptr_t va, phys_addr_t pa, uint64_t left, unsigned prot, uint64_t *mapped)
{
	struct created made[4];
	int n = 0, rc;
	pte_t *t = __va(arch_kpt_root());
	unsigned l = top_level();
	for (;;) {
		pte_t *e = &t[pidx(va, l)];
		uint64_t sz = LEVEL_SIZE(l);
		pte_t cur = *e;
		if (!arch_pte_present(cur) && l <= 2 && IS_ALIGNED(va, sz) && IS_ALIGNED(pa, sz) &&
		    left >= sz) {
			arch_pte_set(e, arch_pte_mkleaf(pa, prot), va, l);
			*mapped = sz;
			return 0;
		}
		if (arch_pte_present(cur)) {
			if (arch_pte_is_leaf(cur) || l == 0) {
				rc = -EEXIST;
				goto err_tables;
			}
			t = table_va(cur);
			l--;
			continue;
		}
		phys_addr_t tpa = table_alloc();
		if (!tpa) {
			rc = -ENOMEM;
			goto err_tables;
		}
		arch_pte_set(e, arch_pte_mktable(tpa), va, l);
		made[n++] = (struct created){ e, ALIGN_DOWN(va, sz), l, tpa };
		t = __va(tpa);
		l--;
	}
err_tables:
	// Tables made for this piece hold nothing: unlink them, fence, free.
	while (n-- > 0) {
		arch_pte_set(made[n].e, 0, made[n].va, made[n].level);
		arch_flush_tlb_kernel_range(made[n].va, made[n].va + LEVEL_SIZE(made[n].level));
		table_free(made[n].pa);
	}
	return rc;
}

void kpt_gather_init(struct kpt_gather *g, void (*release)(phys_addr_t pa, uint64_t size))
{
	*g = (struct kpt_gather){ .start = ~(uintptr_t)0, .release = release };
	list_init(&g->deferred);
}

// Linked through the descriptor of the range's first page (its lru, private = pages): the memory
// itself is never touched, so memory nobody ever wrote (a lazy memmap) stays untouched.
void kpt_gather_defer(struct kpt_gather *g, phys_addr_t pa, uint64_t size)
{
	if (!page_alloc_ready()) { // boot: one hart, nothing allocates before the fence
		g->release(pa, size);
		return;
	}
	deferred_init_pfn(PFN_DOWN(pa)); // the descriptor must be written before we use it
	struct page *p = pfn_to_page(PFN_DOWN(pa));
	p->private = (uint32_t)(size >> PAGE_SHIFT);
	list_add(&p->lru, &g->deferred);
}

// One fence over everything cleared so far on every hart, then the tables and pages behind it go.
static void gather_flush(struct kpt_gather *g)
{
	if (g->start < g->end)
		arch_flush_tlb_kernel_range(g->start, g->end);
	g->start = ~(uintptr_t)0;
	g->end = 0;
	for (int i = 0; i < g->nr_tables; i++)
		table_free(g->tables[i]);
	g->nr_tables = 0;
	while (g->deferred.next && !list_empty(&g->deferred)) {
		struct page *p = list_first_entry(&g->deferred, struct page, lru);
		list_del(&p->lru);
		uint64_t size = (uint64_t)p->private << PAGE_SHIFT;
		p->private = 0;
		g->release(page_to_phys(p), size);
	}
}

void kpt_gather_finish(struct kpt_gather *g) { gather_flush(g); }

static bool table_empty(const pte_t *t)
{
	for (int i = 0; i < PTRS_PER_TABLE; i++)
		if (arch_pte_present(t[i]))
			return false;
	return true;
}

// Clear every entry of t (level l) inside [va, end); true if t is empty afterwards.
static bool unmap_level(pte_t *t, unsigned l, uintptr_t va, uintptr_t end, struct kpt_gather *b)
{
	uint64_t sz = LEVEL_SIZE(l);
	bool keep_children = l == top_level() && arch_pgtable_levels() >= 4;
	for (uintptr_t cur = va; cur < end && cur >= va;) {
		uintptr_t es = ALIGN_DOWN(cur, sz), ee = es + sz;
		pte_t *e = &t[pidx(cur, l)];
		pte_t ent = *e;
		if (arch_pte_is_leaf(ent)) {
			if (es < va || (ee > end && ee != 0))
				panic("kpt: leaf 0x%lx level %u crosses unmap range", (unsigned long)es, l);
			arch_pte_set(e, 0, es, l);
		} else if (arch_pte_present(ent)) {
			bool empty = unmap_level(table_va(ent), l - 1, cur, ee && ee < end ? ee : end, b);
			if (empty && !keep_children) {
				arch_pte_set(e, 0, es, l);
				if (b->nr_tables == ARRAY_SIZE(b->tables))
					gather_flush(b);
				b->tables[b->nr_tables++] = arch_pte_pa(ent);
			}
		}
		if (ee == 0)
			break;
		cur = ee;
	}
	return table_empty(t);
}

// The leaf mapping addr: its entry and level, or NULL.
static pte_t *leaf_of(uintptr_t addr, unsigned *level)
{
	pte_t *t = __va(arch_kpt_root());
	for (unsigned l = top_level();; l--) {
		pte_t *e = &t[pidx(addr, l)];
		if (!arch_pte_present(*e))
			return NULL;
		if (arch_pte_is_leaf(*e)) {
			*level = l;
			return e;
		}
		if (l == 0)
			return NULL;
		t = table_va(*e);
	}
}

// Tables split_at(va) and split_at(end) will need: one per level whose leaf around the address
// is not aligned to it, counted once where both addresses sit in the same leaf.
static int split_need(uintptr_t va, uintptr_t end)
{
	unsigned lv = 0, le = 0;
	pte_t *a = leaf_of(va, &lv), *b = end ? leaf_of(end, &le) : NULL;
	int n = 0;
	for (unsigned k = lv; a && k >= 1 && !IS_ALIGNED(va, LEVEL_SIZE(k)); k--)
		n++;
	for (unsigned k = le; b && k >= 1 && !IS_ALIGNED(end, LEVEL_SIZE(k)); k--)
		if (!(a == b && !IS_ALIGNED(va, LEVEL_SIZE(k)) &&
		      ALIGN_DOWN(va, LEVEL_SIZE(k)) == ALIGN_DOWN(end, LEVEL_SIZE(k))))
			n++;
	return n;
}

// Table pages taken before anything changes, so a split never fails half way.
struct table_pool {
	phys_addr_t pa[8];
	int n;
};

// Make sure no leaf straddles addr: split the leaf containing it until addr is a leaf boundary,
// with tables from the pool (filled for split_need(addr)).
static void split_at(uintptr_t addr, struct table_pool *pool)
{
	pte_t *t = __va(arch_kpt_root());
	for (unsigned l = top_level();; l--) {
		pte_t *e = &t[pidx(addr, l)];
		pte_t ent = *e;
		if (!arch_pte_present(ent))
			return;
		if (arch_pte_is_leaf(ent)) {
			uint64_t sz = LEVEL_SIZE(l);
			if (IS_ALIGNED(addr, sz) || l == 0)
				return;
			if (!pool->n)
				panic("kpt: split at 0x%lx: table pool empty", (unsigned long)addr);
			phys_addr_t tpa = pool->pa[--pool->n];
			pte_t *nt = __va(tpa);
			uintptr_t base = ALIGN_DOWN(addr, sz);
			unsigned prot = arch_pte_prot(ent);
			for (unsigned i = 0; i < PTRS_PER_TABLE; i++)
				arch_pte_set(&nt[i],
					     arch_pte_mkleaf(arch_pte_pa(ent) + i * LEVEL_SIZE(l - 1), prot),
					     base + i * LEVEL_SIZE(l - 1), l - 1);
			arch_pte_set(e, arch_pte_mktable(tpa), base, l);
			arch_flush_tlb_kernel_range(base, base + sz);
			ent = *e;
		}
		if (l == 0)
			return;
		t = table_va(ent);
	}
}

static void pool_release(struct table_pool *pool)
{
	while (pool->n)
		table_free(pool->pa[--pool->n]);
}

static bool range_ok(uintptr_t va, uint64_t size)
{
	return size && IS_ALIGNED(va, PAGE_SIZE) && IS_ALIGNED(size, PAGE_SIZE) &&
	       (va + size > va || va + size == 0);
}

static void __kpt_unmap(struct kpt_gather *g, uintptr_t va, uintptr_t end)
{
	g->start = MIN(g->start, va);
	g->end = end == 0 ? ~(uintptr_t)0 : MAX(g->end, end); // end 0: the top of the space
	unmap_level(__va(arch_kpt_root()), top_level(), va, end, g);
}

int __kpt_map_range(uintptr_t va, phys_addr_t pa, uint64_t size, unsigned prot)
{
	if (!range_ok(va, size) || !IS_ALIGNED(pa, PAGE_SIZE) || !(prot & PROT_READ))
		return -EINVAL;
	int rc = 0;
	uintptr_t cur = va, end = va + size;
	spin_lock(&kpt_lock);
	while (cur != end) {
		uint64_t mapped;
		rc = map_one(cur, pa + (cur - va), end - cur, prot, &mapped);
		if (rc)
			break;
		cur += mapped;
	}
	struct kpt_gather g;
	kpt_gather_init(&g, NULL);
	if (rc && cur != va)
		__kpt_unmap(&g, va, cur); // exactly what this call mapped
	kpt_gather_finish(&g);
	spin_unlock(&kpt_lock);
	return rc;
}

int kpt_map_range(uintptr_t va, phys_addr_t pa, uint64_t size, unsigned prot)
{
	int rc = __kpt_map_range(va, pa, size, prot);
	if (!rc)
		arch_flush_tlb_after_map(va, va + size);
	return rc;
}

int kpt_unmap_gather(struct kpt_gather *g, uintptr_t va, uint64_t size)
{
	if (!range_ok(va, size))
		return -EINVAL;
	uintptr_t end = va + size;
	struct table_pool pool = { .n = 0 };
	int rc = 0;
	spin_lock(&kpt_lock);
	int need = split_need(va, end);
	while (pool.n < need) {
		phys_addr_t pa = table_alloc();
		if (!pa) {
			rc = -ENOMEM;
			break;
		}
		pool.pa[pool.n++] = pa;
	}
	if (!rc) {
		split_at(va, &pool);
		if (end)
			split_at(end, &pool);
		__kpt_unmap(g, va, end);
	}
	pool_release(&pool);
	spin_unlock(&kpt_lock);
	return rc;
}

int kpt_unmap_range(uintptr_t va, uint64_t size)
{
	struct kpt_gather g;
	kpt_gather_init(&g, NULL);
	int rc = kpt_unmap_gather(&g, va, size);
	kpt_gather_finish(&g);
	return rc;
}

int kpt_lookup(uintptr_t va, pte_t *pte, unsigned *level)
{
	pte_t *t = __va(arch_kpt_root());
	for (unsigned l = top_level();; l--) {
		pte_t ent = READ_ONCE(t[pidx(va, l)]);
		if (!arch_pte_present(ent))
			return -ENOENT;
		if (arch_pte_is_leaf(ent)) {
			*pte = ent;
			*level = l;
			return 0;
		}
		if (l == 0)
			return -ENOENT;
		t = table_va(ent);
	}
}

int kpt_prealloc_top(uintptr_t start, uintptr_t end)
{
	if (arch_pgtable_levels() < 4 || start >= end)
		return 0;
	unsigned top = top_level();
	pte_t *root = __va(arch_kpt_root());
	int rc = 0;
	spin_lock(&kpt_lock);
	for (uintptr_t va = ALIGN_DOWN(start, LEVEL_SIZE(top)); va < end && va >= ALIGN_DOWN(start, LEVEL_SIZE(top));
	     va += LEVEL_SIZE(top)) {
		pte_t *e = &root[pidx(va, top)];
		if (arch_pte_present(*e))
			continue;
		phys_addr_t tpa = table_alloc();
		if (!tpa) {
			rc = -ENOMEM;
			break;
		}
		arch_pte_set(e, arch_pte_mktable(tpa), va, top);
		if (va + LEVEL_SIZE(top) == 0)
			break;
	}
	spin_unlock(&kpt_lock);
	return rc;
}
