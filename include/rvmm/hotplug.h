/* SPDX-License-Identifier: MIT */
/*
 * Memory hotplug locking. The operations themselves (add, online, offline, remove) come with
 * kernel/mm/hotplug.c.
 *
 * Interface: hotplug_lock, mem_hotplug_begin/done (write), get_online_mems/put_online_mems (read).
 */
#ifndef RVMM_HOTPLUG_H
#define RVMM_HOTPLUG_H

#include <rvmm/spinlock.h>

/*
 * hotplug_lock (kernel/mm/hotplug_lock.c): held for write while memory is added, onlined,
 * offlined or removed, so section states, the direct map and the vmemmap of hot(un)pluggable
 * ranges cannot change under a holder. Held for read by everything that walks them: ptdump,
 * meminfo, sections, memtest, mmcheck. Outermost mm lock: taken before kpt_lock and zone->lock.
 */
extern rwlock_t hotplug_lock;

static inline void mem_hotplug_begin(void) { write_lock(&hotplug_lock); }
static inline void mem_hotplug_done(void) { write_unlock(&hotplug_lock); }
static inline void get_online_mems(void) { read_lock(&hotplug_lock); }
static inline void put_online_mems(void) { read_unlock(&hotplug_lock); }

#endif
