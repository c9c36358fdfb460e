/* SPDX-License-Identifier: MIT */
/*
 * Locks: a fair ticket spinlock and a reader-writer spinlock, built on compiler atomics so the same
 * code runs on the target and in host tests.
 *
 * Lock order (outermost first); a debug build (LOCKDEP=1) checks it at run time:
 *   virtio-mem device lock > hotplug_lock (rw) > ioremap_lock > kpt_lock > migrate_lock
 *   > movable->lock > zone->lock > smp_call_lock > virtqueue lock > imsic_lock
 *   > pcp (interrupts off) > printk log lock
 * Each lock's comment where it is defined says what it protects and who takes it;
 * docs/locking.md has the whole table.
 */
#ifndef RVMM_SPINLOCK_H
#define RVMM_SPINLOCK_H

#include <rvmm/types.h>

/*
 * Lock classes, in the order they must be taken; used by the LOCKDEP order check. A hart holds at
 * most one lock of a class (two zone locks, or two virtqueue locks, at once are refused).
 */
enum lock_class {
	LOCK_CLASS_NONE = 0, /* not checked: the lock tests' own locks; every kernel lock has a class */
	LOCK_CLASS_VIRTIO_MEM,
	LOCK_CLASS_HOTPLUG,
	LOCK_CLASS_IOREMAP,
	LOCK_CLASS_KPT,
	LOCK_CLASS_MIGRATE,
	LOCK_CLASS_MOVABLE,
	LOCK_CLASS_ZONE,
	LOCK_CLASS_SMP_CALL,
	LOCK_CLASS_VIRTQUEUE,
	LOCK_CLASS_IMSIC,
	LOCK_CLASS_LOG,
};

typedef struct {
	uint32_t next;    /* ticket handed to the next arrival */
	uint32_t owner;   /* ticket now being served */
	int16_t holder;   /* hart holding it, -1 if free (debug and GDB) */
	uint8_t class;    /* enum lock_class */
	const char *name;
} spinlock_t;

#define SPINLOCK_INIT(n, c) { 0, 0, -1, (c), (n) }

void spin_lock(spinlock_t *l);
void spin_unlock(spinlock_t *l);
bool spin_trylock(spinlock_t *l);
bool spin_is_locked(const spinlock_t *l);
bool spin_held_by_me(const spinlock_t *l);

/* Same, with this hart's interrupts masked while held (for locks an interrupt handler takes). */
unsigned long spin_lock_irqsave(spinlock_t *l);
void spin_unlock_irqrestore(spinlock_t *l, unsigned long flags);

/*
 * Reader-writer lock, writer preferring: a waiting writer stops new readers, so a stream of
 * readers cannot starve hot-add or hot-remove.
 */
typedef struct {
	int32_t readers;   /* active readers; -1 while a writer holds it */
	uint32_t writers_waiting;
	int16_t writer;    /* hart holding it for write, -1 if none */
	uint8_t class;
	const char *name;
} rwlock_t;

#define RWLOCK_INIT(n, c) { 0, 0, -1, (c), (n) }

void read_lock(rwlock_t *l);
void read_unlock(rwlock_t *l);
void write_lock(rwlock_t *l);
void write_unlock(rwlock_t *l);
bool write_held_by_me(const rwlock_t *l);
bool rw_is_held(const rwlock_t *l); /* held for read or write by anyone */

#endif
