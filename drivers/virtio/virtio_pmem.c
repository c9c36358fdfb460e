// SPDX-License-Identifier: MIT
/*
 * virtio-pmem device driver (virtio 1.2, 5.19; see virtio_pmem.h): probe checks the region the
 * configuration gives, registers its section-aligned part as this device's in the range registry
 * and maps it as devdax (ZONE_DEVICE, shared tails); FLUSH requests; the switches between devdax
 * and kmem. QEMU: -object memory-backend-file,id=pm0,share=on,mem-path=F,size=S
 * -device virtio-pmem-pci,memdev=pm0 (and -m RAM,maxmem=RAM+S).
 *
 * Interface: virtio_pmem_driver (virtio_drivers.c), pmem_devices[], pmem_flush, pmem_set_memmap,
 * pmem_kmem_online, pmem_kmem_offline, pmem_mode_name.
 */
#include <rvmm/arch_cpu.h>
#include <rvmm/arch_mm.h>
#include <rvmm/errno.h>
#include <rvmm/page_alloc.h>
#include <rvmm/printk.h>
#include <rvmm/section.h>
#include <stdio.h>

#include "virtio_pmem.h"

static struct virtio_pmem pmem_slots[PMEM_MAX_DEVICES];
struct virtio_pmem *pmem_devices[PMEM_MAX_DEVICES];

#define RANGE(s, e) (unsigned long long)(s), (unsigned long long)(e)

const char *pmem_mode_name(enum pmem_mode m)
{
	return m == PMEM_DEVDAX ? "devdax" : m == PMEM_KMEM ? "kmem (System RAM)" : "unmapped";
}

struct pmem_config {
	uint64_t start, size;
};

static int pmem_config_read(struct virtio_device *vdev, void *arg)
{
	struct pmem_config *c = arg;
	c->start = __virtio_cread64(vdev, 0);
	c->size = __virtio_cread64(vdev, 8);
	return 0;
}

// The usable part of the region: whole sections inside it, within reach of the direct map.
static int pmem_check_region(const char *name, const struct pmem_config *c, phys_addr_t *s,
			     phys_addr_t *e)
{
	phys_addr_t end = c->start + c->size;
	if (!c->size) {
		pr_err("%s: region size 0: nothing to map", name);
		return -EINVAL;
	}
	if (end < c->start || end > mm_layout.max_phys) {
		pr_err("%s: region [0x%llx-0x%llx) is beyond the direct map's reach (0x%llx)", name,
		       RANGE(c->start, end), (unsigned long long)mm_layout.max_phys);
		return -ERANGE;
	}
	*s = ALIGN_UP(c->start, (uint64_t)SECTION_SIZE);
	*e = ALIGN_DOWN(end, (uint64_t)SECTION_SIZE);
	if (*e <= *s) {
		pr_err("%s: region [0x%llx-0x%llx) holds no whole %lu MiB section: nothing to map",
		       name, RANGE(c->start, end), SECTION_SIZE >> 20);
		return -EINVAL;
	}
	if (*s != c->start || *e != end)
		pr_warn("%s: region [0x%llx-0x%llx) is not section-aligned: using [0x%llx-0x%llx) "
			"(%llu of %llu MiB), for devdax and kmem alike", name, RANGE(c->start, end),
			RANGE(*s, *e), (unsigned long long)((*e - *s) >> 20),
			(unsigned long long)(c->size >> 20));
	return 0;
}

static int virtio_pmem_probe(struct virtio_device *vdev)
{
	struct virtio_pmem *pm = NULL;
	struct pmem_config c;
	phys_addr_t s, e;
	int slot, rc;

	for (slot = 0; slot < PMEM_MAX_DEVICES && !pm; slot++)
		if (!pmem_slots[slot].vdev)
			pm = &pmem_slots[slot];
	if (!pm) {
		pr_warn("%s: more than %d pmem devices, ignored", vdev->name, PMEM_MAX_DEVICES);
		return -ENODEV;
	}
	slot--;
	rc = virtio_cread_consistent(vdev, pmem_config_read, &c);
	if (rc)
		return rc;
	char name[sizeof(pm->name)];
	snprintf(name, sizeof(name), "pmem%d", slot);
	rc = pmem_check_region(name, &c, &s, &e);
	if (rc)
		return rc;
	*pm = (struct virtio_pmem){ .vdev = vdev, .start = c.start, .size = c.size };
	snprintf(pm->name, sizeof(pm->name), "%s", name);
	pm->region = (struct mem_region){ .name = pm->name, .start = s, .end = e, .priv = pm };
	pm->pgmap = (struct dev_pagemap){ .owner = &pm->region, .start = s, .end = e,
					  .share_tails = true };
	rc = virtio_find_vq(vdev, 0, "request", NULL, &pm->vq);
	if (rc)
		goto err;
	pm->req = get_free_pages(0, GFP_KERNEL | GFP_ZERO);
	rc = -ENOMEM;
	if (!pm->req)
		goto err;
	rc = mem_region_register(&pm->region);
	if (rc) {
		pr_err("%s: region [0x%llx-0x%llx) cannot be this device's (%d)", pm->name,
		       RANGE(s, e), rc);
		goto err_req;
	}
	rc = memremap_pages(&pm->pgmap);
	if (rc)
		goto err_region;
	pm->mode = PMEM_DEVDAX;
	vdev->priv = pm;
	pr_info("%s: %s region [0x%llx-0x%llx) %llu MiB: devdax, memmap %llu KiB (shared tails)",
		pm->name, vdev->name, RANGE(s, e), (unsigned long long)((e - s) >> 20),
		(unsigned long long)(pm->pgmap.memmap_bytes >> 10));
	__atomic_store_n(&pmem_devices[slot], pm, __ATOMIC_RELEASE);
	return 0;

err_region:
	mem_region_unregister(&pm->region);
err_req:
	free_pages_va(pm->req, 0);
err:
	*pm = (struct virtio_pmem){ 0 }; // the core frees the queue
	return rc;
}

static void virtio_pmem_remove(struct virtio_device *vdev)
{
	struct virtio_pmem *pm = vdev->priv;
	int slot = (int)(pm - pmem_slots);

	// Memory that holds data is never handed back: System RAM stays, and so does its slot.
	if (pm->mode == PMEM_KMEM && pmem_kmem_offline(pm)) {
		pr_err("%s: removed while System RAM that cannot be offlined: region kept", pm->name);
		return;
	}
	for (int i = 0; i < PMEM_MAX_HOLDS; i++)
		if (pm->holds[i])
			put_dev_page(pm->holds[i]);
	if (pm->mode == PMEM_DEVDAX)
		WARN_ON(memunmap_pages(&pm->pgmap));
	__atomic_store_n(&pmem_devices[slot], NULL, __ATOMIC_RELEASE);
	mem_region_unregister(&pm->region);
	while (virtqueue_detach_unused(pm->vq))
		;
	free_pages_va(pm->req, 0);
	*pm = (struct virtio_pmem){ 0 };
	vdev->priv = NULL;
}

const struct virtio_driver virtio_pmem_driver = {
	.name = "virtio-pmem",
	.device_id = VIRTIO_ID_PMEM,
	.features = 0, /* virtio-pmem has no feature bits rvmm uses (SHMEM_REGION is not offered) */
	.config_len = PMEM_CFG_LEN,
	.probe = virtio_pmem_probe,
	.remove = virtio_pmem_remove,
};

int pmem_flush(struct virtio_pmem *pm)
{
	void *token;
	uint32_t len;
	int rc;

	pm->last_flush_device = false;
	if (pm->flush_pending) { // the earlier request's buffers are still the device's
		rc = virtqueue_wait_used(pm->vq, PMEM_FLUSH_TIMEOUT_MS, &token, &len);
		if (rc)
			return pm->last_flush = rc;
		pm->flush_pending = false;
	}
	pm->req->type = VIRTIO_PMEM_REQ_FLUSH;
	pm->req->ret = ~0u;
	struct virtio_sg sg[2] = { { &pm->req->type, sizeof(uint32_t) },
				   { &pm->req->ret, sizeof(uint32_t) } };
	uint64_t t0 = arch_time_ns();
	// virtqueue_add's release ordering puts every earlier write to the region before the request.
	rc = virtqueue_add(pm->vq, sg, 1, 1, pm->req);
	if (rc)
		return pm->last_flush = rc;
	virtqueue_kick(pm->vq);
	rc = virtqueue_wait_used(pm->vq, PMEM_FLUSH_TIMEOUT_MS, &token, &len);
	pm->last_flush_ns = arch_time_ns() - t0;
	pm->flushes++;
	if (rc == -ETIMEDOUT) {
		pm->flush_pending = true;
	} else if (!rc && len < sizeof(uint32_t)) {
		rc = -EPROTO; // answered without saying how it went
	} else if (!rc && READ_ONCE(pm->req->ret)) {
		rc = -EIO;
		pm->last_flush_device = true;
	}
	if (rc)
		pm->flush_failures++;
	return pm->last_flush = rc;
}

int pmem_set_memmap(struct virtio_pmem *pm, bool share)
{
	if (pm->mode != PMEM_DEVDAX) {
		pr_err("%s: the memmap layout is devdax's; the region is %s", pm->name,
		       pmem_mode_name(pm->mode));
		return -EINVAL;
	}
	if (pm->pgmap.share_tails == share)
		return 0;
	int rc = memunmap_pages(&pm->pgmap);
	if (rc)
		return rc;
	pm->pgmap.share_tails = share;
	rc = memremap_pages(&pm->pgmap);
	if (rc) { // back to what it was
		pm->pgmap.share_tails = !share;
		if (memremap_pages(&pm->pgmap)) {
			pm->mode = PMEM_UNMAPPED;
			pr_err("%s: left unmapped: no memory for its descriptors", pm->name);
		}
	}
	return rc;
}

int pmem_kmem_online(struct virtio_pmem *pm, enum zone_type zone)
{
	if (pm->mode != PMEM_DEVDAX) {
		pr_err("%s: kmem online: the region is %s, not devdax", pm->name, pmem_mode_name(pm->mode));
		return -EINVAL;
	}
	uint64_t t0 = arch_time_ns();
	int rc = kmem_online(&pm->pgmap, zone);
	if (rc) {
		if (!pm->pgmap.mapped)
			pm->mode = PMEM_UNMAPPED;
		pr_err("%s: kmem online failed (%d); the region is %s", pm->name, rc,
		       pmem_mode_name(pm->mode));
		return rc;
	}
	pm->kmem_online_ns = arch_time_ns() - t0;
	pm->mode = PMEM_KMEM;
	pm->kmem_zone = zone;
	return 0;
}

int pmem_kmem_offline(struct virtio_pmem *pm)
{
	if (pm->mode != PMEM_KMEM) {
		pr_err("%s: kmem offline: the region is %s, not System RAM", pm->name,
		       pmem_mode_name(pm->mode));
		return -EINVAL;
	}
	uint64_t t0 = arch_time_ns();
	int rc = kmem_offline(&pm->pgmap);
	if (rc) {
		pr_err("%s: kmem offline failed (%d); the region stays System RAM", pm->name, rc);
		return rc;
	}
	pm->kmem_offline_ns = arch_time_ns() - t0;
	pm->mode = pm->pgmap.mapped ? PMEM_DEVDAX : PMEM_UNMAPPED;
	return 0;
}
