/* SPDX-License-Identifier: MIT */
/*
 * ZONE_DEVICE (kernel/mm/memremap.c): device memory (a virtio-pmem region) given page descriptors
 * in the vmemmap, zone Device, without ever entering an allocator; its direct-map leaves carry the
 * devmap PTE bit (PROT_DEVMAP). Linux's memremap_pages/memunmap_pages.
 *
 * The region is used as compound pages: 1 GiB where the physical address is 1 GiB aligned and a
 * whole one fits, 2 MiB elsewhere. A head descriptor has PG_head and the compound order; a tail
 * descriptor holds nothing that depends on where it is (zone Device, PG_reserved, the pgmap), so
 * every tail descriptor of the region is byte for byte the same. With share_tails (the DAX
 * vmemmap optimisation) each compound page's vmemmap keeps only its first 4 KiB page (the head
 * and 127 tails) unique; all its other vmemmap pages map one read-only page of tails shared by the
 * whole region: 4 KiB of descriptors per compound page instead of 16 KiB (2 MiB) or 8 MiB (1 GiB).
 * docs/zone-device.md has the picture and the figures.
 *
 * Device-page references (Linux's ZONE_DEVICE refcount): a page's reference is taken and
 * dropped on its compound head (tails are read-only when shared). Refcount 0 = idle, never
 * "free": there is no allocator to give it to; the last put calls pgmap->page_free. memunmap_pages
 * refuses (-EBUSY) while any reference is held.
 *
 * Interface: struct dev_pagemap, memremap_pages, memunmap_pages, is_zone_device_page,
 * dev_page_head, get_dev_page, put_dev_page, kmem_online, kmem_offline, memremap_memmap_bytes,
 * memremap_vmemmap_mapped.
 *
 * Locking: memremap_pages/memunmap_pages take hotplug_lock for write (section states, vmemmap and
 * direct map change as in hot-add). get_dev_page/put_dev_page are atomic on the head's refcount
 * and pgmap->refs; the caller keeps the pgmap mapped meanwhile (its driver's lock: the driver is
 * the only one that unmaps it).
 */
#ifndef RVMM_MEMREMAP_H
#define RVMM_MEMREMAP_H

#include <rvmm/mm.h>
#include <rvmm/types.h>

struct mem_region;

#define DEV_ORDER_2M 9
#define DEV_ORDER_1G 18

struct dev_pagemap {
	/* Set by the driver. [start, end) is section-aligned and inside owner's registered region. */
	const struct mem_region *owner;
	phys_addr_t start, end;
	bool share_tails;                      /* DAX vmemmap optimisation */
	void (*page_free)(struct page *head);  /* last reference dropped; may be NULL */

	/* memremap's, valid while mapped (hotplug_lock). */
	bool mapped;
	phys_addr_t shared_pa;     /* the read-only page of tails (share_tails) */
	uint64_t memmap_bytes;     /* memory behind the region's descriptors */
	uint64_t vmemmap_mapped;   /* vmemmap bytes its leaves map (share_tails) */
	unsigned long nr_2m, nr_1g; /* compound pages */
	unsigned long refs;        /* references held on its pages (atomic) */
};

/*
 * Give [pgmap->start, pgmap->end) descriptors and a direct map: sections ABSENT -> PRESENT with
 * SECTION_DEVICE, vmemmap (shared tails or a full one), every descriptor written, direct map with
 * the largest leaves and the devmap bit. Refused with a message and nothing changed: empty or not
 * section-aligned (-EINVAL), beyond max_phys (-ERANGE), not owned by pgmap->owner in the range
 * registry (-EINVAL), a section already added (-EEXIST), no memory (-ENOMEM). Takes hotplug_lock.
 */
int memremap_pages(struct dev_pagemap *pgmap);

/*
 * Undo memremap_pages: -EBUSY (and a message) while a reference is held on one of its pages;
 * otherwise the direct map and vmemmap go (one TLB fence each), sections become ABSENT, 0.
 * Takes hotplug_lock.
 */
int memunmap_pages(struct dev_pagemap *pgmap);

static inline bool is_zone_device_page(const struct page *p) { return p->zone == ZONE_DEVICE; }

/* The head descriptor of the compound page holding device pfn, or NULL if pfn is not one. */
struct page *dev_page_head(pfn_t pfn);

/* Take a reference on the compound page holding pfn: its head, or NULL if pfn is not device. */
struct page *get_dev_page(pfn_t pfn);
void put_dev_page(struct page *head);

/*
 * dax/kmem (kernel/mm/kmem.c): hand a mapped pgmap's region to the page allocator as System RAM
 * through the hot-plug core (its ZONE_DEVICE mapping goes, then hot-add and online in zone) and
 * back. Whatever the region held is lost: the allocator hands its pages out (Linux treats it so).
 *
 * kmem_online: -EBUSY (and a message) while references are held on its pages; -EINVAL if it is
 * not mapped or zone is no allocator zone; a failed hot-add or online is undone and the region is
 * ZONE_DEVICE again. kmem_offline: offline (migrating what is in use) and hot-remove, then
 * memremap again; -EBUSY if pages cannot be migrated (the region stays System RAM). If the
 * descriptors cannot be made again (no memory) the region is left unmapped, said so, and
 * pgmap->mapped is false: memremap_pages retries. Both take hotplug_lock.
 */
int kmem_online(struct dev_pagemap *pgmap, enum zone_type zone);
int kmem_offline(struct dev_pagemap *pgmap);

/* All mapped pgmaps: memory behind their descriptors; vmemmap bytes their shared layouts map. */
uint64_t memremap_memmap_bytes(void);
uint64_t memremap_vmemmap_mapped(void);

#endif
