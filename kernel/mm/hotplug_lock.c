// SPDX-License-Identifier: MIT
//
// The memory hotplug lock (the steps that take it for write are in hotplug.c).
// Interface: hotplug_lock and its begin/done, get/put helpers (include/rvmm/hotplug.h).

#include <rvmm/hotplug.h>

/*
 * hotplug_lock: write = add/online/offline/remove memory (section states, direct map and vmemmap
 * of the range, zone spans change); read = ptdump, meminfo, sections, memtest, mmcheck (they walk
 * those and must not see them half-built). Outermost mm lock: before kpt_lock and zone->lock.
 * Read holders must not take it again (a waiting writer blocks new readers).
 */
rwlock_t hotplug_lock = RWLOCK_INIT("hotplug_lock", LOCK_CLASS_HOTPLUG);
