/* SPDX-License-Identifier: MIT */
/*
 * Movable allocations: memory whose owner can be told it moved, so memory offline can migrate it
 * out of a range instead of failing. The owner keeps a struct movable (the handle) and reaches
 * its memory only through it, pinned:
 *
 *	struct movable m = MOVABLE_INIT;
 *	movable_alloc(&m, 0);
 *	uint64_t *p = movable_pin(&m);   // the memory cannot move while pinned
 *	p[0] = 42;
 *	movable_unpin(&m);               // p must not be used after this
 *	movable_free(&m);
 *
 * Migration (offline_pages -> migrate_range) takes the same pin while it copies, then points the
 * handle at the new page; the owner sees the same contents at a new address on its next pin.
 *
 * Interface: struct movable, MOVABLE_INIT, movable_alloc, movable_free, movable_pin,
 * movable_unpin, movable_pfn, migrate_range, migrate_stats.
 *
 * Locks: migrate_lock (kernel/mm/migrate.c) guards the link page->owner <-> handle->page: taken by
 * movable_alloc, movable_free and migration. movable->lock is the pin. Order: hotplug_lock >
 * migrate_lock > movable->lock > zone->lock. Pins are held briefly and never across a call that
 * takes hotplug_lock (migration would wait on them under it).
 */
#ifndef RVMM_MIGRATE_H
#define RVMM_MIGRATE_H

#include <rvmm/mm.h>
#include <rvmm/spinlock.h>

struct movable {
	/* The pin: held by the owner while it touches the memory, by migration while it copies. */
	spinlock_t lock;
	struct page *page; /* head of the block; NULL when nothing is allocated */
	unsigned order;
	uint32_t moves;    /* times migration moved it (owner's statistics) */
};

#define MOVABLE_INIT { .lock = SPINLOCK_INIT("movable", LOCK_CLASS_MOVABLE) }

/*
 * Allocate 2^order pages (GFP_MOVABLE: ZONE_MOVABLE first) for m, which must be empty and must
 * stay at the same address until movable_free (migration reaches it through page->owner).
 * Returns 0, -EBUSY (m already holds memory), -EINVAL (order) or -ENOMEM. Takes migrate_lock.
 */
int movable_alloc(struct movable *m, unsigned order);

/* Free m's memory (no-op if none); m may then be reused or discarded. Takes migrate_lock. */
void movable_free(struct movable *m);

/* Pin m and return its memory's address (direct map), or NULL if it holds none (still pinned). */
void *movable_pin(struct movable *m);
void movable_unpin(struct movable *m);

/* Where m's memory is now (for tests and statistics); racy unless pinned. 0 if none. */
pfn_t movable_pfn(const struct movable *m);

/*
 * Move every in-use page of the isolated range [start_pfn, end_pfn) out of it: for each block
 * owned by a movable handle, allocate a target outside (the allocator never hands out isolated
 * pages), pin the handle (trylock), copy, repoint the handle, free the old block (it joins the
 * range's isolated free pages). Free pages, per-hart cached pages (drained by the caller) and
 * the range's own memmap pages are left alone.
 *
 * Returns 0 when nothing in use is left to move (pages in transit may still need a pass);
 * -EAGAIN when some block could not be moved this time (pinned, or no target memory): call again;
 * -EBUSY when a page in use is not movable, with *bad_pfn set to it. Caller holds hotplug_lock
 * for write.
 */
int migrate_range(pfn_t start_pfn, pfn_t end_pfn, pfn_t *bad_pfn);

struct migrate_stats {
	uint64_t migrated;   /* blocks moved */
	uint64_t bytes;      /* bytes copied */
	uint64_t pinned;     /* attempts that found the handle pinned */
	uint64_t no_target;  /* attempts that found no memory to move to */
	uint64_t other_node; /* blocks moved to another node: their own had no room */
};
extern struct migrate_stats migrate_stats;

#endif
