// SPDX-License-Identifier: MIT
//
// Movable allocations and page migration: memory reached through a handle (struct movable) that
// offline can move out of a range, preserving the contents and updating the handle.
//
// Interface: movable_alloc, movable_free, movable_pin, movable_unpin, movable_pfn, migrate_range,
// migrate_stats (include/rvmm/migrate.h).
//
// A handle-owned block has PG_movable|PG_handle on its head and page->owner = the handle; the
// link both ways changes only under migrate_lock, so migration can follow page->owner to a
// handle that is still alive. The copy itself happens under the handle's pin (its lock), taken
// with trylock: an owner that has it pinned makes this pass skip the block (-EAGAIN), and offline
// tries again a bounded number of times.

#include <rvmm/errno.h>
#include <rvmm/migrate.h>
#include <rvmm/page_alloc.h>
#include <rvmm/printk.h>

#include "internal.h"

/*
 * migrate_lock: protects the owner link (page->owner, PG_handle, handle->page) of every movable
 * block. Taken by movable_alloc/movable_free (the owner) and migrate_range (offline, under
 * hotplug_lock for write). Order: after hotplug_lock and kpt_lock, before any movable->lock and
 * zone->lock. Nothing that allocates is called with it held.
 */
static spinlock_t migrate_lock = SPINLOCK_INIT("migrate_lock", LOCK_CLASS_MIGRATE);

struct migrate_stats migrate_stats;

int movable_alloc(struct movable *m, unsigned order)
{
	if (order > MAX_ORDER)
		return -EINVAL;
	if (READ_ONCE(m->page))
		return -EBUSY;
	struct page *p = alloc_pages(order, GFP_MOVABLE);
	if (!p)
		return -ENOMEM;
	spin_lock(&migrate_lock);
	p->owner = m;
	page_flags_set(p, PG_handle);
	m->order = order;
	WRITE_ONCE(m->page, p);
	spin_unlock(&migrate_lock);
	return 0;
}

void movable_free(struct movable *m)
{
	spin_lock(&migrate_lock);
	spin_lock(&m->lock); // wait for a migration copying it
	struct page *p = m->page;
	WRITE_ONCE(m->page, NULL);
	if (p) {
		p->owner = NULL;
		page_flags_clear(p, PG_handle);
	}
	spin_unlock(&m->lock);
	spin_unlock(&migrate_lock);
	if (p)
		free_pages(p, m->order);
}

void *movable_pin(struct movable *m)
{
	spin_lock(&m->lock);
	return m->page ? page_address(m->page) : NULL;
}

void movable_unpin(struct movable *m) { spin_unlock(&m->lock); }

pfn_t movable_pfn(const struct movable *m)
{
	struct page *p = READ_ONCE(m->page);
	return p ? page_to_pfn(p) : 0;
}

// Move the block with head p (order o), to its own node if that has room (else the nearest that
// has). 0 moved (or it went away), -EAGAIN not this time.
static int migrate_block(struct page *p, unsigned o)
{
	struct page *t = alloc_pages_node(page_to_nid(p), o, GFP_MOVABLE);
	if (!t) {
		migrate_stats.no_target++;
		return -EAGAIN;
	}
	spin_lock(&migrate_lock);
	struct movable *m = p->owner;
	int rc = 0;
	if (!(page_flags(p) & PG_handle) || !m || m->page != p || m->order != o) {
		rc = -EAGAIN; // freed or changed meanwhile: the next pass sees what it is now
	} else if (!spin_trylock(&m->lock)) {
		migrate_stats.pinned++;
		rc = -EAGAIN;
	} else {
		__builtin_memcpy(page_address(t), page_address(p), PAGE_SIZE << o);
		t->owner = m;
		page_flags_set(t, PG_handle);
		WRITE_ONCE(m->page, t);
		m->moves++;
		p->owner = NULL;
		page_flags_clear(p, PG_handle);
		spin_unlock(&m->lock);
	}
	spin_unlock(&migrate_lock);
	if (rc) {
		free_pages(t, o);
		return rc;
	}
	free_pages(p, o); // isolated: joins the range's isolated free pages
	migrate_stats.migrated++;
	migrate_stats.other_node += page_to_nid(t) != page_to_nid(p);
	migrate_stats.bytes += PAGE_SIZE << o;
	return 0;
}

// The block starting at pfn if pfn is the head of an allocated block: its order, else -1.
static int allocated_head(pfn_t pfn)
{
	struct page *p = pfn_to_page(pfn);
	uint32_t f = page_flags(p);
	if (f & (PG_buddy | PG_pcp | PG_offline) || READ_ONCE(p->refcount) <= 0)
		return -1;
	unsigned o = (f & PG_head) ? p->order : 0;
	return o <= MAX_ORDER && IS_ALIGNED(pfn, 1UL << o) ? (int)o : -1;
}

// One allocated block: move it, or say why not.
static int handle_block(pfn_t pfn, unsigned o, pfn_t *bad_pfn, pfn_t *transient)
{
	struct page *p = pfn_to_page(pfn);
	uint32_t f = page_flags(p);
	if ((f & (PG_movable | PG_handle)) == (PG_movable | PG_handle))
		return migrate_block(p, o);
	if (f & PG_movable) { // being linked to its handle right now, or movable without an owner
		*transient = pfn;
		return -EAGAIN;
	}
	*bad_pfn = pfn;
	return -EBUSY;
}

int migrate_range(pfn_t start, pfn_t end, pfn_t *bad_pfn)
{
	assert_hotplug_writer();
	pfn_t transient = 0;
	int rc = 0;
	// A 4 MiB block may start 2 MiB before a sub-section range.
	pfn_t head = ALIGN_DOWN(start, MAX_ORDER_NR_PAGES);
	if (head < start && allocated_head(head) == MAX_ORDER) {
		int r = handle_block(head, MAX_ORDER, bad_pfn, &transient);
		if (r == -EBUSY)
			return r;
		rc = rc ? rc : r;
	}
	for (pfn_t pfn = start; pfn < end;) {
		struct page *p = pfn_to_page(pfn);
		uint32_t f = page_flags(p);
		if ((f & PG_buddy) && p->order <= MAX_ORDER) {
			pfn += 1UL << p->order;
			continue;
		}
		if ((f & PG_reserved) && !pfn_is_own_memmap(pfn)) {
			*bad_pfn = pfn;
			return -EBUSY;
		}
		int o = allocated_head(pfn);
		if (o < 0) { // free in transit, cached, a tail, or our own memmap
			pfn++;
			continue;
		}
		int r = handle_block(pfn, (unsigned)o, bad_pfn, &transient);
		if (r == -EBUSY)
			return r;
		rc = rc ? rc : r;
		pfn += 1UL << o;
	}
	if (rc && transient)
		*bad_pfn = transient;
	return rc;
}
