// SPDX-License-Identifier: MIT
//
// The registry of physical ranges and their owners (include/rvmm/mem_ranges.h): a sorted array of
// non-overlapping ranges. Small (tens of entries), so lookups are linear.
//
// Interface: mem_region_register, mem_region_unregister, mem_ranges_boot, mem_range_check,
// mem_range_get, mem_range_owner_name.

#include <rvmm/errno.h>
#include <rvmm/hotplug.h>
#include <rvmm/mem_ranges.h>
#include <rvmm/memblock.h>
#include <rvmm/printk.h>
#include <rvmm/section.h>

#include "internal.h"

// Protected by hotplug_lock (written under it for write, or at boot).
static struct mem_range ranges[MAX_MEM_RANGES];
static int nr_ranges;

const char *mem_range_owner_name(const struct mem_range *r)
{
	switch (r->kind) {
	case MEM_RANGE_BOOT:
		return "boot RAM";
	case MEM_RANGE_HIDDEN:
		return "RAM hidden by mem=";
	default:
		return r->region->name;
	}
}

// The entry holding pa, or the index where one starting at pa would go (*found false).
static int lookup(phys_addr_t pa, bool *found)
{
	int i = 0;
	while (i < nr_ranges && ranges[i].end <= pa)
		i++;
	*found = i < nr_ranges && ranges[i].start <= pa;
	return i;
}

static int insert(const struct mem_range *r)
{
	bool found;
	int i = lookup(r->start, &found);
	const struct mem_range *clash = found ? &ranges[i] : i < nr_ranges && ranges[i].start < r->end ? &ranges[i] : NULL;
	if (clash) {
		pr_err("mem ranges: [0x%llx-0x%llx) for %s overlaps [0x%llx-0x%llx) of %s",
		       (unsigned long long)r->start, (unsigned long long)r->end, mem_range_owner_name(r),
		       (unsigned long long)clash->start, (unsigned long long)clash->end,
		       mem_range_owner_name(clash));
		return -EEXIST;
	}
	if (nr_ranges == MAX_MEM_RANGES) {
		pr_err("mem ranges: no room for [0x%llx-0x%llx) of %s (%d ranges)",
		       (unsigned long long)r->start, (unsigned long long)r->end, mem_range_owner_name(r),
		       MAX_MEM_RANGES);
		return -ENOSPC;
	}
	for (int j = nr_ranges; j > i; j--)
		ranges[j] = ranges[j - 1];
	ranges[i] = *r;
	nr_ranges++;
	return 0;
}

struct boot_arg {
	enum mem_range_kind kind;
	int rc;
};

static void add_boot(phys_addr_t s, phys_addr_t e, void *arg)
{
	struct boot_arg *a = arg;
	if (!a->rc)
		a->rc = insert(&(struct mem_range){ s, e, a->kind, NULL, memblock_nid(s) });
}

int mem_ranges_boot(void)
{
	struct boot_arg a = { MEM_RANGE_BOOT, 0 };
	nr_ranges = 0;
	memblock_for_each_memory(0, ~(phys_addr_t)0, add_boot, &a);
	phys_addr_t b;
	uint64_t n;
	a.kind = MEM_RANGE_HIDDEN;
	for (int i = 0; memblock_hidden_get(i, &b, &n); i++)
		add_boot(b, b + n, &a);
	return a.rc;
}

int mem_region_register(const struct mem_region *r)
{
	if (r->start >= r->end || !IS_ALIGNED(r->start | r->end, SECTION_SIZE)) {
		pr_err("mem ranges: %s [0x%llx-0x%llx): not whole sections", r->name,
		       (unsigned long long)r->start, (unsigned long long)r->end);
		return -EINVAL;
	}
	if (!node_online(r->node)) {
		pr_err("mem ranges: %s [0x%llx-0x%llx): node %d does not exist", r->name,
		       (unsigned long long)r->start, (unsigned long long)r->end, r->node);
		return -EINVAL;
	}
	mem_hotplug_begin();
	int rc = insert(&(struct mem_range){ r->start, r->end, MEM_RANGE_DEVICE, r, r->node });
	mem_hotplug_done();
	return rc;
}

void mem_region_unregister(const struct mem_region *r)
{
	mem_hotplug_begin();
	for (int i = 0; i < nr_ranges; i++) {
		if (ranges[i].region != r)
			continue;
		for (int j = i; j + 1 < nr_ranges; j++)
			ranges[j] = ranges[j + 1];
		nr_ranges--;
		break;
	}
	mem_hotplug_done();
}

int mem_range_check(const char *op, phys_addr_t start, uint64_t size, const struct mem_region *owner)
{
	phys_addr_t end = start + size;
	for (phys_addr_t pa = start; pa < end;) {
		bool found;
		const struct mem_range *r = &ranges[lookup(pa, &found)];
		if (!found) {
			pr_err("%s [0x%llx-0x%llx): 0x%llx is not RAM the device tree describes, nor in a "
			       "device region (`sections --map`)", op, (unsigned long long)start,
			       (unsigned long long)end, (unsigned long long)pa);
			return -EINVAL;
		}
		if (r->region != owner) {
			pr_err("%s [0x%llx-0x%llx): [0x%llx-0x%llx) belongs to %s%s", op,
			       (unsigned long long)start, (unsigned long long)end,
			       (unsigned long long)r->start, (unsigned long long)r->end,
			       mem_range_owner_name(r),
			       r->region ? " (its driver plugs and unplugs it)" : "");
			return -EINVAL;
		}
		pa = r->end;
	}
	return 0;
}

int mem_range_nid(phys_addr_t pa)
{
	bool found;
	int i = lookup(pa, &found);
	return found ? ranges[i].node : NUMA_NO_NODE;
}

bool mem_range_get(int i, struct mem_range *r)
{
	if (i < 0 || i >= nr_ranges)
		return false;
	*r = ranges[i];
	return true;
}
