// SPDX-License-Identifier: MIT
//
// Buddy allocator over the vmemmap descriptors: per-zone free lists of blocks of 2^0..2^10 pages,
// per-hart caches of single pages, and the range operations hot(un)plug needs. Each NUMA node has
// its own zones (Normal, Movable); an allocation tries the nodes nearest first (numa.h).
//
// Interface: alloc_pages, alloc_pages_node, free_pages, get_free_pages, free_pages_va, free_reserved_pages,
// page_alloc_drain_local, page_alloc_drain_all, zone counters
// (include/rvmm/page_alloc.h); del_free, add_free, __free_one, pfn_online (internal.h).
//
// A page is in exactly one of these states: reserved (PG_reserved), free on a list (head has
// PG_buddy and is linked), isolated free (head has PG_buddy|PG_isolated, not linked), in a per-hart
// cache (PG_pcp), allocated (refcount 1 on the head), offline (PG_offline).
//
// Per-hart caches: only their own hart touches them, with interrupts masked; no lock. Pages move
// between a cache and the zone through a private list so that the zone lock is never taken with
// interrupts masked for a cache. Another hart's cache is drained when it next uses it after
// drain_gen changed (isolation bumps it), or at once by page_alloc_drain_all(): an IPI makes each
// hart move its caches to a hand-off list (no lock taken in the handler: the interrupted code may
// hold a zone lock), and the caller gives those lists back to the zones.
//
// The range operations of hot(un)plug (online, isolate, take out) are in page_isolation.c.

#include <rvmm/arch_cpu.h>
#include <rvmm/arch_smp.h>
#include <rvmm/errno.h>
#include <rvmm/fault_inject.h>
#include <rvmm/printk.h>

#include "internal.h"

#define PCP_HIGH 64
#define PCP_BATCH 16

struct zone node_zones[MAX_NUMNODES][NR_ZONES] = {
	[0 ... MAX_NUMNODES - 1] = {
		[ZONE_NORMAL] = { .lock = SPINLOCK_INIT("zone_normal", LOCK_CLASS_ZONE),
				  .name = "Normal" },
		[ZONE_MOVABLE] = { .lock = SPINLOCK_INIT("zone_movable", LOCK_CLASS_ZONE),
				   .name = "Movable" },
	},
};

// A hart's caches hold pages of its own node's zones only (numa_node_id()): a page of another
// node is allocated from and freed to its zone directly.
struct pcp {
	struct list_head list;
	unsigned count;
	unsigned gen;
};
static struct pcp pcps[MAX_HARTS][NR_ZONES];
unsigned drain_gen;
// Filled by each hart's drain IPI, emptied by page_alloc_drain_all's caller afterwards.
static struct list_head drain_handoff[MAX_HARTS][NR_ZONES];

bool page_alloc_is_ready;

bool page_alloc_ready(void) { return page_alloc_is_ready; }
const char *zone_name(enum zone_type z)
{
	return (unsigned)z < NR_ZONES ? node_zones[0][z].name : z == ZONE_DEVICE ? "Device" : "?";
}

// This hart's cache of z, a zone of its own node.
static struct pcp *this_pcp(struct zone *z)
{
	struct pcp *c = &pcps[arch_hart_index() % MAX_HARTS][zone_idx(z)];
	if (!c->list.next) {
		list_init(&c->list);
		c->gen = READ_ONCE(drain_gen);
	}
	return c;
}

void del_free(struct zone *z, struct page *p, unsigned order)
{
	list_del(&p->lru);
	z->free_area[order].nr--;
	page_flags_clear(p, PG_buddy);
}

void add_free(struct zone *z, struct page *p, unsigned order)
{
	p->order = (uint8_t)order;
	page_flags_set(p, PG_buddy);
	list_add(&p->lru, &z->free_area[order].list);
	z->free_area[order].nr++;
}

unsigned long __free_one(struct zone *z, pfn_t pfn, unsigned order)
{
	assert_zone_locked(z);
	struct page *p = pfn_to_page(pfn);
	// Isolation works in 2 MiB pieces: a 4 MiB block may be half isolated. Free it as two halves.
	if (order > PAGEBLOCK_ORDER) {
		unsigned long half = 1UL << (order - 1);
		bool a = page_flags(p) & PG_isolated, b = page_flags(p + half) & PG_isolated;
		if (a != b)
			return __free_one(z, pfn, order - 1) + __free_one(z, pfn + half, order - 1);
	}
	if (page_flags(p) & PG_isolated) {
		p->order = (uint8_t)order;
		p->lru.next = p->lru.prev = NULL;
		page_flags_set(p, PG_buddy);
		z->nr_isolated_free += 1UL << order;
		return 1UL << order;
	}
	while (order < MAX_ORDER) {
		// Blocks never cross a section, so the buddy's descriptor is initialised too. An
		// offline neighbour (PG_offline, no PG_buddy) never merges.
		struct page *b = pfn_to_page(pfn ^ (1UL << order));
		uint32_t bf = page_flags(b);
		if (!(bf & PG_buddy) || (bf & PG_isolated) || b->order != order)
			break;
		del_free(z, b, order);
		pfn &= ~(1UL << order);
		order++;
	}
	add_free(z, pfn_to_page(pfn), order);
	return 0;
}

void __free_range(struct zone *z, pfn_t start, pfn_t end)
{
	while (start < end) {
		unsigned order = MAX_ORDER;
		while (order && (!IS_ALIGNED(start, 1UL << order) || start + (1UL << order) > end))
			order--;
		__free_one(z, start, order);
		start += 1UL << order;
	}
}

static struct page *rmqueue(struct zone *z, unsigned order)
{
	for (unsigned o = order; o <= MAX_ORDER; o++) {
		struct list_head *l = &z->free_area[o].list;
		if (!l->next || list_empty(l))
			continue;
		struct page *p = list_first_entry(l, struct page, lru);
		del_free(z, p, o);
		while (o > order) {
			o--;
			add_free(z, p + (1UL << o), o);
		}
		return p;
	}
	return NULL;
}

// rmqueue, initialising deferred sections until it succeeds or none are left.
static struct page *rmqueue_deferred(struct zone *z, unsigned order)
{
	for (;;) {
		struct page *p = rmqueue(z, order);
		if (p || !z->nr_deferred || !__deferred_init_next(z, false))
			return p;
	}
}

// Give pages of a private list back to the zone (they were counted free, e.g. in a cache).
static void free_list_to_zone(struct zone *z, struct list_head *local)
{
	struct list_head *pos, *n;
	if (list_empty(local))
		return;
	spin_lock(&z->lock);
	list_for_each_safe(pos, n, local) {
		struct page *p = list_entry(pos, struct page, lru);
		list_del(pos);
		page_flags_clear(p, PG_pcp);
		zone_add_free(z, -(int64_t)__free_one(z, page_to_pfn(p), 0));
	}
	spin_unlock(&z->lock);
}

// Move the whole cache (or its oldest `max` pages) to a private list. Interrupts masked.
static void pcp_take(struct pcp *c, struct list_head *local, unsigned max)
{
	while (c->count && max--) {
		struct list_head *e = c->list.prev;
		list_del(e);
		list_add(e, local);
		c->count--;
	}
}

static struct page *pcp_alloc(struct zone *z)
{
	for (;;) {
		struct list_head local;
		list_init(&local);
		unsigned long f = arch_irq_save();
		struct pcp *c = this_pcp(z);
		if (c->gen != READ_ONCE(drain_gen)) {
			c->gen = READ_ONCE(drain_gen);
			pcp_take(c, &local, ~0u);
			arch_irq_restore(f);
			free_list_to_zone(z, &local);
			continue;
		}
		if (c->count) {
			struct page *p = list_first_entry(&c->list, struct page, lru);
			list_del(&p->lru);
			c->count--;
			arch_irq_restore(f);
			page_flags_clear(p, PG_pcp);
			if (page_flags(p) & PG_isolated) {
				list_add(&p->lru, &local); // being offlined: hold it back
				page_flags_set(p, PG_pcp);
				free_list_to_zone(z, &local);
				continue;
			}
			zone_add_free(z, -1);
			return p;
		}
		arch_irq_restore(f);

		unsigned n = 0;
		spin_lock(&z->lock);
		while (n < PCP_BATCH) {
			struct page *p = rmqueue_deferred(z, 0);
			if (!p)
				break;
			page_flags_set(p, PG_pcp);
			list_add_tail(&p->lru, &local);
			n++;
		}
		spin_unlock(&z->lock);
		if (!n)
			return NULL;
		f = arch_irq_save();
		c = this_pcp(z);
		while (!list_empty(&local)) {
			struct list_head *e = local.next;
			list_del(e);
			list_add_tail(e, &c->list);
			c->count++;
		}
		arch_irq_restore(f);
	}
}

static void pcp_free(struct zone *z, struct page *p)
{
	struct list_head local;
	list_init(&local);
	zone_add_free(z, 1);
	unsigned long f = arch_irq_save();
	struct pcp *c = this_pcp(z);
	page_flags_set(p, PG_pcp);
	list_add(&p->lru, &c->list);
	c->count++;
	if (c->gen != READ_ONCE(drain_gen)) {
		c->gen = READ_ONCE(drain_gen);
		pcp_take(c, &local, ~0u);
	} else if (c->count > PCP_HIGH) {
		pcp_take(c, &local, PCP_BATCH);
	}
	arch_irq_restore(f);
	free_list_to_zone(z, &local);
}

void page_alloc_drain_local(void)
{
	for (int i = 0; i < NR_ZONES; i++) {
		struct zone *z = node_zone(numa_node_id(), i);
		struct list_head local;
		list_init(&local);
		unsigned long f = arch_irq_save();
		pcp_take(this_pcp(z), &local, ~0u);
		arch_irq_restore(f);
		free_list_to_zone(z, &local);
	}
}

// page_alloc_drain_all's IPI: runs on each other hart with interrupts masked, takes no lock.
static void drain_ipi(void *arg __unused)
{
	unsigned h = arch_hart_index() % MAX_HARTS;
	for (int i = 0; i < NR_ZONES; i++) {
		if (!drain_handoff[h][i].next)
			list_init(&drain_handoff[h][i]);
		pcp_take(this_pcp(node_zone(numa_node_id(), i)), &drain_handoff[h][i], ~0u);
	}
}

void page_alloc_drain_all(void)
{
	assert_hotplug_writer();
	__atomic_add_fetch(&drain_gen, 1, __ATOMIC_RELEASE);
	page_alloc_drain_local();
	if (arch_nr_harts() > 1)
		arch_smp_call_others(drain_ipi, NULL);
	for (unsigned h = 0; h < MAX_HARTS; h++)
		for (int i = 0; i < NR_ZONES; i++)
			if (drain_handoff[h][i].next)
				free_list_to_zone(node_zone(numa_hart_node(h), i),
						  &drain_handoff[h][i]);
}

static void prep_page(struct page *p, unsigned order, unsigned gfp)
{
	page_flags_clear(p, PG_buddy | PG_pcp | PG_head | PG_movable | PG_handle);
	if (order)
		page_flags_set(p, PG_head);
	if (gfp & GFP_MOVABLE)
		page_flags_set(p, PG_movable);
	p->order = (uint8_t)order;
	p->owner = NULL;
	p->owner_data = 0;
	__atomic_store_n(&p->refcount, 1, __ATOMIC_RELEASE);
}

// 2^order pages from zone z: a single page of this hart's own node through its cache, anything
// else from the free lists under the zone lock.
static struct page *zone_alloc(struct zone *z, unsigned order, bool local)
{
	if (!READ_ONCE(z->nr_free))
		return NULL;
	if (order == 0 && local)
		return pcp_alloc(z);
	spin_lock(&z->lock);
	struct page *p = rmqueue_deferred(z, order);
	spin_unlock(&z->lock);
	if (p)
		zone_add_free(z, -(int64_t)(1UL << order));
	return p;
}

// Nodes nearest first (nid's fallback order), in each the zones gfp allows: Movable, then Normal.
struct page *alloc_pages_node(int nid, unsigned order, unsigned gfp)
{
	static const enum zone_type kernel_zones[] = { ZONE_NORMAL };
	static const enum zone_type movable_zones[] = { ZONE_MOVABLE, ZONE_NORMAL };
	const enum zone_type *zl = gfp & GFP_MOVABLE ? movable_zones : kernel_zones;
	int nz = gfp & GFP_MOVABLE ? 2 : 1, local = nr_node_ids() == 1 ? 0 : numa_node_id();
	struct page *p = NULL;

	if (order > MAX_ORDER || !page_alloc_is_ready)
		return NULL;
	if (should_fail("alloc_pages"))
		return NULL;
	if (!node_online(nid))
		nid = local;
	for (int k = 0; k < nr_online_nodes() && !p; k++) {
		int n = node_fallback(nid, k);
		for (int i = 0; i < nz && !p; i++)
			p = zone_alloc(node_zone(n, zl[i]), order, n == local);
	}
	if (!p)
		return NULL;
	prep_page(p, order, gfp);
	if (gfp & GFP_ZERO)
		__builtin_memset(page_address(p), 0, PAGE_SIZE << order);
	return p;
}

struct page *alloc_pages(unsigned order, unsigned gfp)
{
	return alloc_pages_node(NUMA_NO_NODE, order, gfp);
}

bool pfn_online(pfn_t pfn)
{
	if (pfn >= (mm_layout.max_phys >> PAGE_SHIFT))
		return false;
	const struct mem_section *ms = section_get(pfn_to_section_nr(pfn));
	unsigned sub = (pfn % PAGES_PER_SECTION) / PAGES_PER_SUBSECTION;
	return ms && ms->state == SECTION_ONLINE && (READ_ONCE(ms->online_map) >> sub & 1);
}

void free_pages(struct page *page, unsigned order)
{
	if (!page)
		return;
	pfn_t pfn = page_to_pfn(page);
	if (order > MAX_ORDER || !IS_ALIGNED(pfn, 1UL << order)) {
		pr_err("free_pages: pfn 0x%llx: bad order %u", (unsigned long long)pfn, order);
		return;
	}
	if (!pfn_online(pfn)) {
		pr_err("free_pages: pfn 0x%llx is not in online memory", (unsigned long long)pfn);
		return;
	}
	deferred_init_pfn(pfn);
	uint32_t f = page_flags(page);
	if (f & PG_reserved) {
		pr_err("free_pages: pfn 0x%llx is reserved, not freed", (unsigned long long)pfn);
		return;
	}
	if ((f & (PG_buddy | PG_pcp | PG_offline)) || READ_ONCE(page->refcount) <= 0) {
		pr_err("free_pages: double free of pfn 0x%llx (order %u)", (unsigned long long)pfn,
		       order);
		return;
	}
	unsigned alloc_order = (f & PG_head) ? page->order : 0;
	if (alloc_order != order) {
		pr_err("free_pages: pfn 0x%llx freed as order %u, allocated as order %u",
		       (unsigned long long)pfn, order, alloc_order);
		return;
	}
	int32_t one = 1;
	if (!__atomic_compare_exchange_n(&page->refcount, &one, 0, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_RELAXED)) {
		pr_err("free_pages: double free of pfn 0x%llx (order %u, refcount %d)",
		       (unsigned long long)pfn, order, one);
		return;
	}
	page_flags_clear(page, PG_head | PG_movable | PG_pgtable | PG_handle);
	page->owner = NULL;
	struct zone *z = page_zone(page);
	if (order == 0 && !(f & PG_isolated) && (nr_node_ids() == 1 || page_to_nid(page) == numa_node_id())) {
		pcp_free(z, page);
		return;
	}
	spin_lock(&z->lock);
	unsigned long held = __free_one(z, pfn, order);
	spin_unlock(&z->lock);
	zone_add_free(z, (int64_t)((1UL << order) - held));
}

void *get_free_pages(unsigned order, unsigned gfp)
{
	struct page *p = alloc_pages(order, gfp);
	return p ? page_address(p) : NULL;
}

void free_pages_va(void *va, unsigned order)
{
	if (va)
		free_pages(virt_to_page(va), order);
}

void free_reserved_pages(pfn_t pfn, unsigned long nr)
{
	for (pfn_t end = pfn + nr; pfn < end; pfn++) {
		if (!pfn_online(pfn)) {
			pr_err("free_reserved_pages: pfn 0x%llx is not online", (unsigned long long)pfn);
			continue;
		}
		deferred_init_pfn(pfn);
		struct page *p = pfn_to_page(pfn);
		if (!(page_flags(p) & PG_reserved)) {
			pr_err("free_reserved_pages: pfn 0x%llx is not reserved", (unsigned long long)pfn);
			continue;
		}
		struct zone *z = page_zone(p);
		spin_lock(&z->lock);
		page_flags_clear(p, PG_reserved | PG_pgtable | PG_vmemmap);
		p->refcount = 0;
		unsigned long held = __free_one(z, pfn, 0);
		z->managed++;
		spin_unlock(&z->lock);
		zone_add_free(z, 1 - (int64_t)held);
	}
}

uint64_t node_zone_free_pages(int nid, enum zone_type z)
{
	return __atomic_load_n(&node_zones[nid][z].nr_free, __ATOMIC_RELAXED);
}
uint64_t node_zone_managed_pages(int nid, enum zone_type z) { return READ_ONCE(node_zones[nid][z].managed); }

uint64_t zone_free_pages(enum zone_type z)
{
	uint64_t n = 0;
	for (int nid = 0; nid < nr_node_ids(); nid++)
		n += node_zone_free_pages(nid, z);
	return n;
}

uint64_t zone_managed_pages(enum zone_type z)
{
	uint64_t n = 0;
	for (int nid = 0; nid < nr_node_ids(); nid++)
		n += node_zone_managed_pages(nid, z);
	return n;
}

uint64_t total_free_pages(void)
{
	uint64_t n = 0;
	for (int i = 0; i < NR_ZONES; i++)
		n += zone_free_pages(i);
	return n;
}

uint64_t total_managed_pages(void)
{
	uint64_t n = 0;
	for (int i = 0; i < NR_ZONES; i++)
		n += zone_managed_pages(i);
	return n;
}
