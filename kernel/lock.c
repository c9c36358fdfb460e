// SPDX-License-Identifier: MIT
//
// Spinlocks: a fair ticket lock and a writer-preferring reader-writer lock, on compiler atomics
// (the same code runs on the target and in host tests). See include/rvmm/spinlock.h.
//
// Interface: spin_lock, spin_unlock, spin_trylock, spin_is_locked, spin_held_by_me,
// spin_lock_irqsave, spin_unlock_irqrestore, read_lock, read_unlock, write_lock, write_unlock,
// write_held_by_me, rw_is_held.
//
// With LOCKDEP=1 every acquisition checks the lock order of spinlock.h: a hart may only take a
// lock whose class comes after every class it already holds (same class twice is a deadlock
// waiting to happen, so it is refused too). Violations panic naming both locks.

#include <rvmm/arch_cpu.h>
#include <rvmm/printk.h>
#include <rvmm/spinlock.h>

#ifdef LOCKDEP
#define LOCKDEP_HARTS 64
static uint32_t held_classes[LOCKDEP_HARTS]; // bit c set: this hart holds a lock of class c

static void lockdep_acquire(uint8_t class, const char *name)
{
	unsigned h = arch_hart_index() % LOCKDEP_HARTS;
	if (class == LOCK_CLASS_NONE)
		return;
	if (held_classes[h] >> class)
		panic("lockdep: taking %s (class %u) while holding class mask 0x%x", name, class,
		      held_classes[h]);
	held_classes[h] |= 1u << class;
}

static void lockdep_release(uint8_t class)
{
	if (class != LOCK_CLASS_NONE)
		held_classes[arch_hart_index() % LOCKDEP_HARTS] &= ~(1u << class);
}
#else
static inline void lockdep_acquire(uint8_t class __unused, const char *name __unused) {}
static inline void lockdep_release(uint8_t class __unused) {}
#endif

void spin_lock(spinlock_t *l)
{
	lockdep_acquire(l->class, l->name);
	uint32_t ticket = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);
	while (__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) != ticket)
		arch_cpu_relax();
	l->holder = (int16_t)arch_hart_index();
}

bool spin_trylock(spinlock_t *l)
{
	uint32_t owner = __atomic_load_n(&l->owner, __ATOMIC_RELAXED);
	uint32_t expect = owner;
	if (!__atomic_compare_exchange_n(&l->next, &expect, owner + 1, false, __ATOMIC_ACQUIRE,
					 __ATOMIC_RELAXED))
		return false;
	lockdep_acquire(l->class, l->name);
	l->holder = (int16_t)arch_hart_index();
	return true;
}

void spin_unlock(spinlock_t *l)
{
	if (l->holder != (int16_t)arch_hart_index())
		panic("spin_unlock: %s not held by hart %u (holder %d)", l->name ? l->name : "?",
		      arch_hart_index(), l->holder);
	l->holder = -1;
	lockdep_release(l->class);
	__atomic_store_n(&l->owner, l->owner + 1, __ATOMIC_RELEASE);
}

bool spin_is_locked(const spinlock_t *l)
{
	return __atomic_load_n(&l->owner, __ATOMIC_RELAXED) !=
	       __atomic_load_n(&l->next, __ATOMIC_RELAXED);
}

bool spin_held_by_me(const spinlock_t *l)
{
	return spin_is_locked(l) && READ_ONCE(l->holder) == (int16_t)arch_hart_index();
}

unsigned long spin_lock_irqsave(spinlock_t *l)
{
	unsigned long flags = arch_irq_save();
	spin_lock(l);
	return flags;
}

void spin_unlock_irqrestore(spinlock_t *l, unsigned long flags)
{
	spin_unlock(l);
	arch_irq_restore(flags);
}

void read_lock(rwlock_t *l)
{
	lockdep_acquire(l->class, l->name);
	for (;;) {
		// Writer preference: do not join while a writer waits or holds it.
		if (__atomic_load_n(&l->writers_waiting, __ATOMIC_RELAXED) == 0) {
			int32_t r = __atomic_load_n(&l->readers, __ATOMIC_RELAXED);
			if (r >= 0 && __atomic_compare_exchange_n(&l->readers, &r, r + 1, false,
								  __ATOMIC_ACQUIRE,
								  __ATOMIC_RELAXED))
				return;
		}
		arch_cpu_relax();
	}
}

void read_unlock(rwlock_t *l)
{
	int32_t r = __atomic_fetch_sub(&l->readers, 1, __ATOMIC_RELEASE);
	if (r <= 0)
		panic("read_unlock: %s not held for read", l->name ? l->name : "?");
	lockdep_release(l->class);
}

void write_lock(rwlock_t *l)
{
	lockdep_acquire(l->class, l->name);
	__atomic_fetch_add(&l->writers_waiting, 1, __ATOMIC_RELAXED);
	for (;;) {
		int32_t zero = 0;
		if (__atomic_compare_exchange_n(&l->readers, &zero, -1, false, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			break;
		arch_cpu_relax();
	}
	__atomic_fetch_sub(&l->writers_waiting, 1, __ATOMIC_RELAXED);
	l->writer = (int16_t)arch_hart_index();
}

void write_unlock(rwlock_t *l)
{
	if (l->readers != -1 || l->writer != (int16_t)arch_hart_index())
		panic("write_unlock: %s not held for write by hart %u", l->name ? l->name : "?",
		      arch_hart_index());
	l->writer = -1;
	lockdep_release(l->class);
	__atomic_store_n(&l->readers, 0, __ATOMIC_RELEASE);
}

bool write_held_by_me(const rwlock_t *l)
{
	return __atomic_load_n(&l->readers, __ATOMIC_RELAXED) == -1 &&
	       READ_ONCE(l->writer) == (int16_t)arch_hart_index();
}

bool rw_is_held(const rwlock_t *l)
{
	return __atomic_load_n(&l->readers, __ATOMIC_RELAXED) != 0;
}
