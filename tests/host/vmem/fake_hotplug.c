// SPDX-License-Identifier: MIT
//
// The fake hot-plug core of the virtio-mem host tests (see fake_hotplug.h): sections present or
// not, 2 MiB chunks online or not, a list of data pages, and the contract checks.

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <rvmm/errno.h>
#include <rvmm/hotplug.h>
#include <rvmm/kernel.h>
#include <rvmm/mem_ranges.h>
#include <rvmm/memblock.h>
#include <rvmm/numa.h>
#include <rvmm/printk.h>
#include <rvmm/section_map.h>

#include "fake_hotplug.h"

#define CHUNK SZ_2M
#define NR_SECTIONS (FAKE_MAX_PHYS >> SECTION_SHIFT)
#define NR_CHUNKS (FAKE_MAX_PHYS / CHUNK)

struct fake_hp fake_hp;
static uint8_t present[NR_SECTIONS];
static uint8_t online[NR_CHUNKS];

/* Data pages. pfn 0: migrated out to boot memory (the fake's "elsewhere"). */
static struct data_page {
	pfn_t pfn;
	bool unmovable;
	uint64_t value;
} data[FAKE_MAX_DATA];
static unsigned nr_data;

__printf(1, 2) static void violation(const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!fake_hp.violations++)
		snprintf(fake_hp.first_violation, sizeof(fake_hp.first_violation), "%s", msg);
	pr_err("fake hotplug: CONTRACT: %s", msg);
}

void fake_hp_reset(void)
{
	memset(&fake_hp, 0, sizeof(fake_hp));
	memset(present, 0, sizeof(present));
	memset(online, 0, sizeof(online));
	nr_data = 0;
	mm_layout.max_phys = FAKE_MAX_PHYS;
	if (mem_ranges_boot()) /* the registry anew: the kernel's RAM only */
		violation("the range registry refused the boot RAM");
}

/* The real lock (kernel/lock.c, with LOCKDEP) over it: hotplug_lock.c's definition. */
rwlock_t hotplug_lock = RWLOCK_INIT("hotplug_lock", LOCK_CLASS_HOTPLUG);

/* ---- the rest of the kernel the driver calls ---- */

static bool (*background_fn)(void);

int background_work_register(bool (*fn)(void))
{
	if (background_fn)
		return -ENOSPC;
	background_fn = fn;
	return 0;
}

void fake_background(unsigned rounds)
{
	for (unsigned i = 0; i < rounds && background_fn; i++)
		background_fn();
}

uint64_t (*meminfo_plugged_kb)(int nid);

/*
 * memblock as the range registry (the real kernel/mm/mem_ranges.c) reads it at boot: the
 * kernel's RAM is FAKE_BOOT_RAM, nothing is hidden. Adds are checked against that registry as
 * the real core checks them, so a driver region can only be registered where nobody else owns
 * memory, and only its owner can add memory there.
 */
void memblock_for_each_memory(phys_addr_t lo, phys_addr_t hi,
			      void (*fn)(phys_addr_t start, phys_addr_t end, void *arg), void *arg)
{
	phys_addr_t s = MAX(lo, FAKE_BOOT_RAM_BASE), e = MIN(hi, FAKE_BOOT_RAM_END);

	if (s < e)
		fn(s, e, arg);
}

int memblock_nid(phys_addr_t pa)
{
	return pa >= FAKE_BOOT_RAM_BASE && pa < FAKE_BOOT_RAM_END ? 0 : NUMA_NO_NODE;
}

bool memblock_hidden_get(int i, phys_addr_t *base, uint64_t *size)
{
	(void)i;
	(void)base;
	(void)size;
	return false;
}

/* ---- checks ---- */

static bool locked(const char *fn)
{
	if (!write_held_by_me(&hotplug_lock)) {
		violation("%s without hotplug_lock held for write", fn);
		return false;
	}
	return true;
}

static bool range_ok(const char *fn, phys_addr_t pa, uint64_t size, uint64_t align)
{
	if (!size || pa % align || size % align || pa + size > FAKE_MAX_PHYS || pa + size < pa) {
		violation("%s(0x%llx, 0x%llx): not %llu KiB-aligned or out of range", fn,
			  (unsigned long long)pa, (unsigned long long)size,
			  (unsigned long long)(align >> 10));
		return false;
	}
	return true;
}

static bool data_movable_out(pfn_t lo, pfn_t hi, pfn_t *bad)
{
	for (unsigned i = 0; i < nr_data; i++)
		if (data[i].pfn >= lo && data[i].pfn < hi && data[i].unmovable) {
			*bad = data[i].pfn;
			return false;
		}
	return true;
}

static bool pfn_has_data(pfn_t pfn)
{
	for (unsigned i = 0; i < nr_data; i++)
		if (data[i].pfn == pfn)
			return true;
	return false;
}

/* A free online pfn outside [lo, hi), or 0 (boot memory). */
static pfn_t migration_target(pfn_t lo, pfn_t hi)
{
	for (unsigned long c = 0; c < NR_CHUNKS; c++) {
		const uint8_t *next = memchr(&online[c], 1, NR_CHUNKS - c);
		if (!next)
			return 0;
		c = (unsigned long)(next - online);
		pfn_t p0 = PFN_DOWN(c * CHUNK);
		for (pfn_t p = p0; p < p0 + (CHUNK >> PAGE_SHIFT); p++)
			if ((p < lo || p >= hi) && !pfn_has_data(p))
				return p;
	}
	return 0;
}

/* The fault walk's one-shot failure: true (and counted, logged) if this call is the one. */
static bool nth_fails(const char *fn)
{
	if (!fake_hp.fail_nth || --fake_hp.fail_nth)
		return false;
	fake_hp.fail_hits++;
	pr_err("%s failed: injected (%s)", fn, errname(fake_hp.fail_rc));
	return true;
}

/* ---- the four steps ---- */

/* The hot-add of owner (NULL: the kernel's RAM), refused as the real core refuses it. */
static int fake_add(const struct mem_region *owner, phys_addr_t start, uint64_t size,
		    unsigned flags)
{
	fake_hp.add_calls++;
	if (!locked("__add_memory") || !range_ok("add_memory", start, size, SECTION_SIZE))
		return -EINVAL;
	if (mem_range_check("hot-add", start, size, owner)) {
		violation("add_memory(0x%llx, 0x%llx) as %s: not the caller's range",
			  (unsigned long long)start, (unsigned long long)size,
			  owner ? owner->name : "the kernel");
		return -EINVAL;
	}
	if (flags)
		violation("add_memory: unexpected flags 0x%x", flags);
	for (phys_addr_t a = start; a < start + size; a += SECTION_SIZE)
		if (present[a >> SECTION_SHIFT]) {
			violation("add_memory: section %llu already present",
				  (unsigned long long)(a >> SECTION_SHIFT));
			return -EEXIST;
		}
	if (nth_fails("hot-add"))
		return fake_hp.fail_rc;
	if (fake_hp.fail_add) {
		int rc = fake_hp.fail_add;
		fake_hp.fail_add = 0;
		pr_err("hot-add 0x%llx-0x%llx failed: injected (%s)", (unsigned long long)start,
		       (unsigned long long)(start + size), errname(rc));
		return rc;
	}
	for (phys_addr_t a = start; a < start + size; a += SECTION_SIZE)
		present[a >> SECTION_SHIFT] = 1;
	return 0;
}

int __add_memory_driver(const struct mem_region *owner, phys_addr_t start, uint64_t size,
			unsigned flags)
{
	return owner ? fake_add(owner, start, size, flags) : -EINVAL;
}

int __add_memory(phys_addr_t start, uint64_t size, unsigned flags)
{
	return fake_add(NULL, start, size, flags);
}

int __online_pages(pfn_t start_pfn, unsigned long nr_pages, enum zone_type zone)
{
	phys_addr_t pa = PFN_PHYS(start_pfn);
	uint64_t size = PFN_PHYS(nr_pages);

	fake_hp.online_calls++;
	if (!locked("__online_pages") || !range_ok("online_pages", pa, size, CHUNK))
		return -EINVAL;
	if (zone != ZONE_MOVABLE)
		violation("online_pages: zone %d, not ZONE_MOVABLE", zone);
	for (phys_addr_t a = pa; a < pa + size; a += CHUNK) {
		if (!present[a >> SECTION_SHIFT]) {
			violation("online_pages: 0x%llx not present", (unsigned long long)a);
			return -EINVAL;
		}
		if (online[a / CHUNK]) {
			violation("online_pages: 0x%llx already online", (unsigned long long)a);
			return -EINVAL;
		}
	}
	if (fake_hp.is_plugged && !fake_hp.is_plugged(pa, size))
		violation("online_pages: 0x%llx-0x%llx is not plugged at the device",
			  (unsigned long long)pa, (unsigned long long)(pa + size));
	if (nth_fails("online"))
		return fake_hp.fail_rc;
	if (fake_hp.fail_online) {
		int rc = fake_hp.fail_online;
		fake_hp.fail_online = 0;
		pr_err("online 0x%llx-0x%llx failed: injected (%s)", (unsigned long long)pa,
		       (unsigned long long)(pa + size), errname(rc));
		return rc;
	}
	memset(&online[pa / CHUNK], 1, size / CHUNK);
	return 0;
}

int __offline_pages(pfn_t start_pfn, unsigned long nr_pages)
{
	phys_addr_t pa = PFN_PHYS(start_pfn);
	uint64_t size = PFN_PHYS(nr_pages);
	pfn_t bad;

	fake_hp.offline_calls++;
	if (!locked("__offline_pages") || !range_ok("offline_pages", pa, size, CHUNK))
		return -EINVAL;
	for (phys_addr_t a = pa; a < pa + size; a += CHUNK)
		if (!online[a / CHUNK]) {
			violation("offline_pages: 0x%llx not online", (unsigned long long)a);
			return -EINVAL;
		}
	if (nth_fails("offline"))
		return fake_hp.fail_rc;
	if (fake_hp.fail_offline) {
		int rc = fake_hp.fail_offline;
		fake_hp.fail_offline = 0;
		pr_err("offline 0x%llx-0x%llx failed: injected (%s)", (unsigned long long)pa,
		       (unsigned long long)(pa + size), errname(rc));
		return rc;
	}
	if (!data_movable_out(start_pfn, start_pfn + nr_pages, &bad)) {
		pr_err("offline 0x%llx-0x%llx failed: pfn 0x%llx is unmovable (-EBUSY)",
		       (unsigned long long)pa, (unsigned long long)(pa + size),
		       (unsigned long long)bad);
		return -EBUSY;
	}
	/* Migrate: take the range out first so no page lands inside it. */
	memset(&online[pa / CHUNK], 0, size / CHUNK);
	for (unsigned i = 0; i < nr_data; i++)
		if (data[i].pfn >= start_pfn && data[i].pfn < start_pfn + nr_pages)
			data[i].pfn = migration_target(start_pfn, start_pfn + nr_pages);
	return 0;
}

int __remove_memory(phys_addr_t start, uint64_t size)
{
	fake_hp.remove_calls++;
	if (!locked("__remove_memory") || !range_ok("remove_memory", start, size, SECTION_SIZE))
		return -EINVAL;
	for (phys_addr_t a = start; a < start + size; a += SECTION_SIZE)
		if (!present[a >> SECTION_SHIFT]) {
			violation("remove_memory: section %llu not present",
				  (unsigned long long)(a >> SECTION_SHIFT));
			return -EINVAL;
		}
	for (phys_addr_t a = start; a < start + size; a += CHUNK)
		if (online[a / CHUNK]) {
			pr_err("hot-remove 0x%llx-0x%llx refused: 0x%llx is online",
			       (unsigned long long)start, (unsigned long long)(start + size),
			       (unsigned long long)a);
			violation("remove_memory: 0x%llx online", (unsigned long long)a);
			return -EBUSY;
		}
	if (nth_fails("hot-remove"))
		return fake_hp.fail_rc;
	if (fake_hp.fail_remove) {
		int rc = fake_hp.fail_remove;
		fake_hp.fail_remove = 0;
		pr_err("hot-remove failed: injected (%s)", errname(rc));
		return rc;
	}
	for (phys_addr_t a = start; a < start + size; a += SECTION_SIZE)
		present[a >> SECTION_SHIFT] = 0;
	fake_hp.fences++; /* one TLB fence on every hart per removal */
	return 0;
}

int add_memory(phys_addr_t start, uint64_t size, unsigned flags)
{
	mem_hotplug_begin();
	int rc = __add_memory(start, size, flags);
	mem_hotplug_done();
	return rc;
}

int online_pages(pfn_t start_pfn, unsigned long nr_pages, enum zone_type zone)
{
	mem_hotplug_begin();
	int rc = __online_pages(start_pfn, nr_pages, zone);
	mem_hotplug_done();
	return rc;
}

int offline_pages(pfn_t start_pfn, unsigned long nr_pages)
{
	mem_hotplug_begin();
	int rc = __offline_pages(start_pfn, nr_pages);
	mem_hotplug_done();
	return rc;
}

int remove_memory(phys_addr_t start, uint64_t size)
{
	mem_hotplug_begin();
	int rc = __remove_memory(start, size);
	mem_hotplug_done();
	return rc;
}

unsigned long online_pages_in_range(pfn_t start_pfn, unsigned long nr_pages)
{
	unsigned long n = 0;

	for (pfn_t p = start_pfn; p < start_pfn + nr_pages; p++)
		n += online[PFN_PHYS(p) / CHUNK];
	return n;
}

/* ---- test helpers ---- */

int fake_put_data(phys_addr_t pa, bool unmovable, uint64_t value)
{
	if (nr_data == FAKE_MAX_DATA || !online[pa / CHUNK] || pfn_has_data(PFN_DOWN(pa)))
		return -EINVAL;
	data[nr_data++] = (struct data_page){ PFN_DOWN(pa), unmovable, value };
	return 0;
}

void fake_data_release_unmovable(void)
{
	for (unsigned i = 0; i < nr_data; i++)
		data[i].unmovable = false;
}

unsigned fake_data_count(void) { return nr_data; }

uint64_t fake_data_sum(void)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < nr_data; i++)
		sum += data[i].value;
	return sum;
}

unsigned fake_data_in(phys_addr_t pa, uint64_t size)
{
	unsigned n = 0;

	for (unsigned i = 0; i < nr_data; i++)
		n += data[i].pfn && PFN_PHYS(data[i].pfn) >= pa && PFN_PHYS(data[i].pfn) < pa + size;
	return n;
}

uint64_t fake_online_bytes(phys_addr_t pa, uint64_t size)
{
	uint64_t n = 0;

	for (phys_addr_t a = ALIGN_DOWN(pa, CHUNK); a < pa + size; a += CHUNK)
		n += online[a / CHUNK] ? CHUNK : 0;
	return n;
}

bool fake_section_present(unsigned long nr) { return nr < NR_SECTIONS && present[nr]; }
