// SPDX-License-Identifier: MIT
//
// dax/kmem: a ZONE_DEVICE region becomes System RAM through the hot-plug core and back
// (include/rvmm/memremap.h). Only the four hot-plug steps and memremap are used, so every rule of
// hot-plug (owner check, rollback, migration on offline) holds for pmem too.
//
// Interface: kmem_online, kmem_offline.

#include <rvmm/errno.h>
#include <rvmm/hotplug.h>
#include <rvmm/memremap.h>
#include <rvmm/page_alloc.h>
#include <rvmm/printk.h>

// Make the region ZONE_DEVICE again after it stopped being System RAM (or never became it).
static void back_to_device(struct dev_pagemap *pgmap)
{
	if (memremap_pages(pgmap))
		pr_err("kmem [0x%llx-0x%llx): left unmapped: its descriptors could not be made again",
		       (unsigned long long)pgmap->start, (unsigned long long)pgmap->end);
}

int kmem_online(struct dev_pagemap *pgmap, enum zone_type zone)
{
	phys_addr_t s = pgmap->start;
	uint64_t size = pgmap->end - pgmap->start;
	if (!pgmap->mapped || (unsigned)zone >= NR_ZONES)
		return -EINVAL;
	int rc = memunmap_pages(pgmap); // -EBUSY while devdax users hold pages
	if (rc)
		return rc;
	mem_hotplug_begin();
	rc = __add_memory_driver(pgmap->owner, s, size, 0);
	if (!rc) {
		rc = __online_pages(PFN_DOWN(s), size >> PAGE_SHIFT, zone);
		// Present, offline sections this call added: removal only unmaps its own leaves.
		if (rc)
			WARN_ON(__remove_memory(s, size));
	}
	mem_hotplug_done();
	if (rc)
		back_to_device(pgmap);
	return rc;
}

int kmem_offline(struct dev_pagemap *pgmap)
{
	phys_addr_t s = pgmap->start;
	uint64_t size = pgmap->end - pgmap->start;
	pfn_t pfn = PFN_DOWN(s);
	unsigned long n = size >> PAGE_SHIFT;
	if (pgmap->mapped)
		return -EINVAL;
	mem_hotplug_begin();
	int zone = online_pages_in_range(pfn, n) == n ? range_online_zone(pfn, pfn + n) : -EINVAL;
	int rc = zone < 0 ? zone : __offline_pages(pfn, n);
	if (!rc) {
		rc = __remove_memory(s, size);
		if (rc && __online_pages(pfn, n, (enum zone_type)zone))
			pr_err("kmem [0x%llx-0x%llx): left offline: hot-remove and online again both failed",
			       (unsigned long long)s, (unsigned long long)(s + size));
	}
	mem_hotplug_done();
	if (rc)
		return rc;
	back_to_device(pgmap);
	return 0;
}
