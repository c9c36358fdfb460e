// SPDX-License-Identifier: MIT
//
// The virtio-pmem driver (drivers/virtio/virtio_pmem.c) on the host: probe against bad
// configurations (each refused with a message, nothing registered or mapped), an unaligned region
// (its section-aligned part), a memremap failure (the region unregistered again), FLUSH answered
// ok, failed (-EIO, counted), with no status (-EPROTO) or not at all (-ETIMEDOUT, then the late answer is
// taken before the next request), and remove. The mm side is a fake recording calls (below).
//
// Interface: main() runs the "pmem" case table.

#include <string.h>

#include <rvmm/errno.h>
#include <rvmm/mem_ranges.h>
#include <rvmm/memremap.h>
#include <rvmm/mm.h>
#include <rvmm/printk.h>
#include <rvmm/section.h>
#include <rvmm/virtio.h>

#include "log.h"
#include "test.h"
#include "virtio_pmem.h"
#include "vsim.h"

#define MMIO_PA 0x10001000UL
#define IRQ 8
#define RAM_START 0x80000000ULL
#define RAM_END 0x100000000ULL
#define G (1ULL << 30)
#define M (1ULL << 20)

extern const struct virtio_driver virtio_pmem_driver;
const struct virtio_driver *const virtio_drivers[] = { &virtio_pmem_driver };
const size_t virtio_nr_drivers = 1;

/* ---- the fake mm: a range registry with boot RAM, memremap and kmem recording calls ---------- */

static struct {
	const struct mem_region *region;
	unsigned memremaps, memunmaps;
	int memremap_rc;
	bool share;
} fk;

int mem_region_register(const struct mem_region *r)
{
	if (r->start >= r->end || !IS_ALIGNED(r->start | r->end, SECTION_SIZE))
		return -EINVAL;
	if (r->start < RAM_END && r->end > RAM_START) {
		pr_err("mem ranges: [0x%llx-0x%llx) for %s overlaps boot RAM", (unsigned long long)r->start,
		       (unsigned long long)r->end, r->name);
		return -EEXIST;
	}
	if (fk.region)
		return -EEXIST;
	fk.region = r;
	return 0;
}

void mem_region_unregister(const struct mem_region *r)
{
	if (fk.region == r)
		fk.region = NULL;
}

int memremap_pages(struct dev_pagemap *pgmap)
{
	fk.memremaps++;
	if (fk.memremap_rc)
		return fk.memremap_rc;
	fk.share = pgmap->share_tails;
	pgmap->mapped = true;
	pgmap->memmap_bytes = PAGE_SIZE;
	return 0;
}

int memunmap_pages(struct dev_pagemap *pgmap)
{
	fk.memunmaps++;
	pgmap->mapped = false;
	return 0;
}

void put_dev_page(struct page *head __unused) {}
int kmem_online(struct dev_pagemap *pgmap __unused, enum zone_type zone __unused) { return -ENOSYS; }
int kmem_offline(struct dev_pagemap *pgmap __unused) { return -ENOSYS; }

/* ---- the device ------------------------------------------------------------------------------ */

enum answer { ANSWER_OK, ANSWER_FAIL, ANSWER_EMPTY, ANSWER_NONE };

static struct vsim *s;
static enum answer answer;
static unsigned requests, bad_requests;
static struct vsim_chain held; // a request left unanswered (ANSWER_NONE)
static bool holding;

static void reply(struct vsim_chain *c, uint32_t ret, uint32_t len)
{
	if (len)
		memcpy(c->seg[1].addr, &ret, sizeof(ret));
	vsim_push(s, 0, c->head, len);
}

static void pmem_notify(struct vsim *dev, unsigned q)
{
	struct vsim_chain c;
	while (q == 0 && vsim_pop(dev, q, &c)) {
		requests++;
		uint32_t type;
		if (c.nr != 2 || c.seg[0].write || !c.seg[1].write || c.seg[0].len != 4 || c.seg[1].len != 4) {
			bad_requests++; // QEMU would mark the device broken
			continue;
		}
		memcpy(&type, c.seg[0].addr, 4);
		if (type != 0)
			bad_requests++;
		if (answer == ANSWER_NONE) {
			held = c;
			holding = true;
			continue;
		}
		reply(&c, answer == ANSWER_FAIL, answer == ANSWER_EMPTY ? 0 : 4);
	}
}

static void make_device(uint64_t start, uint64_t size)
{
	memset(&fk, 0, sizeof(fk));
	mm_layout.max_phys = 1ULL << 40;
	static unsigned nr; // a new device each time: cases probe several
	s = vsim_create(MMIO_PA + 0x1000 * nr++, IRQ, VIRTIO_ID_PMEM);
	s->q[0].num_max = 128;
	s->features = 1ULL << VIRTIO_F_VERSION_1;
	memcpy(s->config, &start, 8);
	memcpy(s->config + 8, &size, 8);
	s->on_notify = pmem_notify;
	answer = ANSWER_OK;
	requests = bad_requests = 0;
	holding = false;
}

static struct virtio_pmem *probe(int *rc)
{
	struct virtio_device *vdev = NULL;
	log_clear();
	*rc = virtio_mmio_probe(&s->slot, &vdev);
	return *rc == 0 && vdev ? vdev->priv : NULL;
}

/* ---- cases ----------------------------------------------------------------------------------- */

static int good_region(void)
{
	int rc;
	make_device(RAM_END, G);
	struct virtio_pmem *pm = probe(&rc);
	CHECK(pm);
	CHECK_EQ(pm->mode, PMEM_DEVDAX);
	CHECK(fk.region == &pm->region);
	CHECK_EQ(pm->region.start, RAM_END);
	CHECK_EQ(pm->region.end, RAM_END + G);
	CHECK_EQ(fk.memremaps, 1);
	CHECK(fk.share); // the DAX vmemmap optimisation by default
	CHECK(pmem_devices[0] == pm);
	CHECK(log_has("pmem0: virtio-mmio@10001000 region [0x100000000-0x140000000) 1024 MiB: devdax"));
	virtio_unregister_device(pm->vdev);
	CHECK_EQ(fk.memunmaps, 1);
	CHECK(fk.region == NULL);
	CHECK(pmem_devices[0] == NULL);
	return 0;
}

// Refused at probe with a message: nothing registered or mapped, the device FAILED.
static int bad_regions(void)
{
	static const struct {
		uint64_t start, size;
		const char *msg;
	} bad[] = {
		{ RAM_END, 0, "region size 0: nothing to map" },
		{ (1ULL << 40) - 128 * M, G, "beyond the direct map's reach" },
		{ ~0ULL - 64 * M, 128 * M, "beyond the direct map's reach" },
		{ RAM_START + 512 * M, G, "cannot be this device's" },
		{ RAM_END + 2 * M, 100 * M, "holds no whole 128 MiB section" },
		{ RAM_END + 64 * M, 128 * M, "holds no whole 128 MiB section" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		int rc;
		make_device(bad[i].start, bad[i].size);
		CHECK(probe(&rc) == NULL);
		CHECK_MSG(rc < 0, "case %zu: rc %d", i, rc);
		CHECK_MSG(log_has(bad[i].msg), "case %zu: no \"%s\"", i, bad[i].msg);
		CHECK_EQ(fk.memremaps, 0);
		CHECK(fk.region == NULL);
		CHECK(s->status & VIRTIO_STATUS_FAILED);
		CHECK(pmem_devices[0] == NULL);
	}
	return 0;
}

static int unaligned_uses_aligned_part(void)
{
	int rc;
	make_device(RAM_END + 64 * M, G);
	struct virtio_pmem *pm = probe(&rc);
	CHECK(pm);
	CHECK(log_has("is not section-aligned: using [0x108000000-0x140000000) (896 of 1024 MiB)"));
	CHECK_EQ(pm->region.start, RAM_END + 128 * M);
	CHECK_EQ(pm->region.end, RAM_END + G);
	CHECK_EQ(pm->start, RAM_END + 64 * M);
	virtio_unregister_device(pm->vdev);
	return 0;
}

static int memremap_failure(void)
{
	int rc;
	make_device(RAM_END, G);
	fk.memremap_rc = -ENOMEM;
	CHECK(probe(&rc) == NULL);
	CHECK_EQ(rc, -ENOMEM);
	CHECK(fk.region == NULL); // registered, then unregistered again
	CHECK(s->status & VIRTIO_STATUS_FAILED);
	return 0;
}

static int flush_answers(void)
{
	int rc;
	make_device(RAM_END, G);
	struct virtio_pmem *pm = probe(&rc);
	CHECK(pm);
	CHECK_EQ(pmem_flush(pm), 0);
	answer = ANSWER_FAIL;
	CHECK_EQ(pmem_flush(pm), -EIO);
	CHECK(pm->last_flush_device);
	CHECK_EQ(pmem_flush(pm), -EIO);
	answer = ANSWER_EMPTY;
	CHECK_EQ(pmem_flush(pm), -EPROTO);
	CHECK(!pm->last_flush_device);
	answer = ANSWER_OK;
	CHECK_EQ(pmem_flush(pm), 0);
	CHECK_EQ(pm->flushes, 5);
	CHECK_EQ(pm->flush_failures, 3);
	CHECK_EQ(requests, 5);
	CHECK_EQ(bad_requests, 0);
	virtio_unregister_device(pm->vdev);
	return 0;
}

// No answer in time: -ETIMEDOUT, the buffers stay the device's; the next flush takes the late
// answer first, then sends its own.
static int flush_timeout(void)
{
	int rc;
	make_device(RAM_END, G);
	struct virtio_pmem *pm = probe(&rc);
	CHECK(pm);
	answer = ANSWER_NONE;
	CHECK_EQ(pmem_flush(pm), -ETIMEDOUT);
	CHECK(pm->flush_pending);
	CHECK(holding);
	CHECK_EQ(pmem_flush(pm), -ETIMEDOUT); // still nothing: no second request sent
	CHECK_EQ(requests, 1);
	answer = ANSWER_OK;
	reply(&held, 0, 4);
	CHECK_EQ(pmem_flush(pm), 0);
	CHECK(!pm->flush_pending);
	CHECK_EQ(requests, 2);
	virtio_unregister_device(pm->vdev);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
		CASE(good_region),
		CASE(bad_regions),
		CASE(unaligned_uses_aligned_part),
		CASE(memremap_failure),
		CASE(flush_answers),
		CASE(flush_timeout),
	};
	return test_main("pmem", cases, ARRAY_SIZE(cases), argc, argv);
}
