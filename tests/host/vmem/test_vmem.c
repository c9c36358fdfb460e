// SPDX-License-Identifier: MIT
//
// Host tests of the virtio-mem driver (drivers/virtio/virtio_mem*.c) against the simulated
// device of vmem_dev.c on virtio-mmio and the fake hot-plug core of fake_hotplug.c: resizes with
// blocks of 2 MiB, 4 MiB, 128 MiB and 256 MiB; NACK, BUSY, ERROR and silence; nonsense
// configurations; a region someone else owns (boot RAM, another device); a request changing
// mid-way; memory plugged at probe (UNPLUG_ALL); unmovable data; hot-plug failures; the `vmem`
// command and MemPlugged. After every step the driver, the device and the fake core must agree
// block by block, and no contract of the core was broken (the core's owner checks are the real
// range registry's: every hot-add, the driver's and the selftest's, must be as the region's owner).
// The fault walks fail each request of a resize in turn (ERROR, NACK, BUSY, no answer) and each
// call into the hot-plug core, and check what is left after each.

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rvmm/console.h>
#include <rvmm/errno.h>
#include <rvmm/hotplug.h>
#include <rvmm/mem_ranges.h>
#include <rvmm/numa.h>
#include <rvmm/virtio.h>

#include "fake_hotplug.h"
#include "host.h"
#include "virtio_mem.h"
#include "vmem_dev.h"

#define MMIO_PA 0x10001000UL
#define IRQ 8
#define REGION 0x100000000ULL /* 4 GiB: where QEMU puts the device-memory window for MEM=3G */
#define M (1ULL << 20)
#define G (1ULL << 30)

extern const struct virtio_driver virtio_mem_driver;
const struct virtio_driver *const virtio_drivers[] = { &virtio_mem_driver };
const size_t virtio_nr_drivers = 1;

static struct vmem_dev *dev;
static struct virtio_mem *vm;

static bool dev_is_plugged(phys_addr_t pa, uint64_t size)
{
	return vmem_dev_is_plugged(dev, pa, size);
}

/* A device (not yet probed) with a region of region_size at addr. */
static void make_device(uint64_t bs, uint64_t addr, uint64_t region_size, uint64_t requested,
			uint64_t plugged)
{
	fake_hp_reset();
	dev = vmem_dev_create(MMIO_PA, IRQ, bs, addr, region_size, requested, plugged);
	fake_hp.is_plugged = dev_is_plugged;
}

static int probe(void)
{
	struct virtio_device *vdev = NULL;
	int rc = virtio_mmio_probe(&dev->s->slot, &vdev);

	vm = rc == 0 && vdev ? vdev->priv : NULL;
	return rc;
}

/* Idle harts running the background work until nothing is due (bounded: simulated seconds). */
static void settle(void) { fake_background(300000); }

/* Driver, device and fake core agree, block by block; no contract broken. */
static int check_agree(void)
{
	if (fake_hp.violations)
		test_fail(__FILE__, __LINE__, "hot-plug contract: %s", fake_hp.first_violation);
	CHECK_EQ(fake_hp.violations, 0);
	CHECK_EQ(dev->protocol_errors, 0);
	CHECK_EQ(vm->plugged_size, dev->plugged_size);
	if (vm->unplug_all_pending) {
		/* Memory plugged before probe: not the driver's until UNPLUG_ALL went through. */
		CHECK_EQ(vmem_plugged_blocks(vm), 0);
		CHECK_EQ(fake_online_bytes(vm->addr, vm->region_size), 0);
		CHECK_EQ(meminfo_plugged_kb(NUMA_NO_NODE), 0);
		return 0;
	}
	CHECK_EQ((uint64_t)vmem_plugged_blocks(vm), vmem_dev_plugged_blocks(dev));
	uint64_t online = 0;
	for (uint32_t id = 0; id < vm->nr_blocks; id++) {
		phys_addr_t pa = vmem_block_addr(vm, id);
		enum vmem_block_state st = vmem_block_state(vm, id);
		bool on = st == VMEM_BLOCK_ONLINE || st == VMEM_BLOCK_UNMOVABLE;
		CHECK_EQ(st != VMEM_BLOCK_UNPLUGGED, vmem_dev_is_plugged(dev, pa, vm->block_size));
		CHECK_EQ(fake_online_bytes(pa, vm->block_size), on ? vm->block_size : 0);
		online += on ? vm->block_size : 0;
	}
	for (unsigned long s = 0; s < vm->nr_sections; s++)
		CHECK_EQ(vm->sections[s].added != 0, fake_section_present(vm->first_section + s));
	CHECK_EQ(fake_online_bytes(vm->addr, vm->region_size), online);
	CHECK(meminfo_plugged_kb);
	CHECK_EQ(meminfo_plugged_kb(NUMA_NO_NODE), online >> 10);
	return 0;
}

/* The host asks for size; the driver follows from the idle loop; all of it ends online. */
static int resize_to(uint64_t size)
{
	vmem_dev_request(dev, size);
	settle();
	if (vm->last_rc)
		test_fail(__FILE__, __LINE__, "resize to %llu MiB: %s (%s)",
			  (unsigned long long)(size >> 20), vm->why ? vm->why : "?",
			  errname(vm->last_rc));
	CHECK_EQ(vm->last_rc, 0);
	CHECK_EQ(dev->plugged_size, size);
	CHECK_EQ(vm->nr_in_state[VMEM_BLOCK_ONLINE], size / vm->block_size);
	CHECK_EQ(fake_online_bytes(REGION, dev->region_size), size);
	for (unsigned long s = 0; s < vm->nr_sections; s++)
		CHECK_EQ(vm->sections[s].added != 0, vm->sections[s].plugged != 0);
	return check_agree();
}

/* ---- resizes with each block size ---- */

static int resize_sequence(uint64_t bs)
{
	static const uint64_t sizes[] = { 0, 1 * G, 4 * G, 512 * M, 0, 768 * M, 3 * G };

	make_device(bs, REGION, 8 * G, 0, 0);
	CHECK_RC(probe());
	CHECK(vm);
	CHECK_EQ(vm->nr_blocks, 8 * G / bs);
	settle();
	CHECK_RC(check_agree());
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++)
		if (resize_to(sizes[i]))
			return 1;
	CHECK_EQ(dev->nr_errors, 0);
	return 0;
}

static int test_resize_2m(void) { return resize_sequence(2 * M); }
static int test_resize_4m(void) { return resize_sequence(4 * M); }
static int test_resize_128m(void) { return resize_sequence(128 * M); }
static int test_resize_256m(void)
{
	if (resize_sequence(256 * M))
		return 1;
	CHECK_EQ(vm->sections_per_block, 2);
	return 0;
}

/* 4G -> 512M with 2 MiB blocks: batched requests, offlines and removals (one fence each). */
static int test_unplug_batched(void)
{
	make_device(2 * M, REGION, 8 * G, 0, 0);
	CHECK_RC(probe());
	CHECK_RC(resize_to(4 * G));
	unsigned unplugs = dev->nr_unplug, offlines = fake_hp.offline_calls;
	unsigned fences = fake_hp.fences;
	CHECK_RC(resize_to(512 * M));
	CHECK(dev->nr_unplug - unplugs <= 4);           /* 1792 blocks, 512 per request */
	CHECK(fake_hp.offline_calls - offlines <= 4);
	CHECK(fake_hp.fences - fences <= 4);             /* 28 sections removed */
	CHECK_EQ(dev->max_nb_blocks, 512);
	/* The highest blocks went: what is left is the bottom 512 MiB. */
	CHECK(vmem_dev_is_plugged(dev, REGION, 512 * M));
	return 0;
}

/* Sub-blocks: a section is added with its first block and removed with its last. */
static int test_subblock_sections(void)
{
	make_device(2 * M, REGION, 1 * G, 0, 0);
	CHECK_RC(probe());
	unsigned long s0 = REGION >> SECTION_SHIFT;
	CHECK_RC(resize_to(2 * M));
	CHECK(fake_section_present(s0) && !fake_section_present(s0 + 1));
	CHECK_EQ(fake_online_bytes(REGION, SECTION_SIZE), 2 * M);
	CHECK_EQ(vmem_section_state(vm, 0), VMEM_SECTION_PARTIAL);
	CHECK_RC(resize_to(130 * M));
	CHECK(fake_section_present(s0) && fake_section_present(s0 + 1));
	CHECK_EQ(vmem_section_state(vm, 0), VMEM_SECTION_ONLINE);
	CHECK_EQ(vmem_section_state(vm, 1), VMEM_SECTION_PARTIAL);
	CHECK_RC(resize_to(4 * M));
	CHECK(fake_section_present(s0) && !fake_section_present(s0 + 1));
	CHECK_EQ(vmem_section_state(vm, 1), VMEM_SECTION_ABSENT);
	CHECK_RC(resize_to(0));
	CHECK(!fake_section_present(s0));
	return 0;
}

/* A region that does not start or end on a section: only its whole sections are used. */
static int test_region_unaligned_sections(void)
{
	make_device(2 * M, REGION + 64 * M, 1 * G, 0, 0);
	CHECK_RC(probe());
	CHECK(log_has("not section-aligned"));
	CHECK_EQ(vm->base, REGION + SECTION_SIZE);
	CHECK_EQ(vm->nr_sections, 7);
	vmem_dev_request(dev, 256 * M);
	settle();
	CHECK_EQ(vm->last_rc, 0);
	CHECK_EQ(dev->plugged_size, 256 * M);
	return check_agree();
}

/* The device's node_id: a node of the machine is where its memory goes; any other id, node 0. */
static int probe_node_id(uint16_t node_id)
{
	struct platform plat = { .nr_nodes = 2, .node_mask = 3,
				 .distance = { { 10, 20 }, { 20, 10 } } };

	numa_init(&plat);
	make_device(2 * M, REGION, 1 * G, 0, 0);
	dev->node_id = node_id;
	vmem_dev_sync(dev);
	log_clear();
	return probe();
}

static int test_node_id(void)
{
	CHECK_RC(probe_node_id(1));
	CHECK_EQ(vm->node, 1);
	CHECK_EQ(mem_range_nid(vm->base), 1); /* the registry: hot-add puts it in node 1 */
	CHECK(log_has("requested 0 MiB, node 1"));
	return 0;
}

static int test_node_id_unknown(void)
{
	CHECK_RC(probe_node_id(7));
	CHECK_EQ(vm->node, 0);
	CHECK_EQ(vm->node_id, 7);
	CHECK(log_has("node_id 7 is not a node of this machine (2 described): its memory goes to "
		      "node 0"));
	CHECK_EQ(mem_range_nid(vm->base), 0);
	return 0;
}

/* ---- the device refuses ---- */

static int test_nack_plug(void)
{
	make_device(2 * M, REGION, 4 * G, 0, 0);
	CHECK_RC(probe());
	settle();
	dev->nack_plugs = 3;
	CHECK_RC(resize_to(1 * G));
	CHECK(log_has("NACK"));
	CHECK_EQ(dev->nr_plug, 4); /* three refused, then one batch */
	return 0;
}

static int test_busy_unplug(void)
{
	make_device(4 * M, REGION, 4 * G, 0, 0);
	CHECK_RC(probe());
	CHECK_RC(resize_to(1 * G));
	dev->busy_unplugs = 2;
	CHECK_RC(resize_to(128 * M));
	CHECK(log_has("BUSY"));
	return 0;
}

static int test_busy_plug(void)
{
	make_device(128 * M, REGION, 4 * G, 0, 0);
	CHECK_RC(probe());
	dev->busy_plugs = 4;
	return resize_to(1 * G);
}

/* ERROR: the device is broken; nothing more is asked of it; what is plugged stays usable. */
static int test_error_broken(void)
{
	make_device(2 * M, REGION, 4 * G, 0, 0);
	CHECK_RC(probe());
	CHECK_RC(resize_to(256 * M));
	dev->error_all = true;
	vmem_dev_request(dev, 512 * M);
	settle();
	CHECK(vm->broken);
	CHECK(vm->vdev->broken);
	CHECK(log_has("answered ERROR"));
	unsigned plugs = dev->nr_plug;
	vmem_dev_request(dev, 1 * G);
	settle();
	CHECK_EQ(dev->nr_plug, plugs);
	CHECK_EQ(vm->nr_in_state[VMEM_BLOCK_ONLINE], 128);
	return check_agree();
}

static int test_no_answer(void)
{
	make_device(2 * M, REGION, 4 * G, 0, 0);
	CHECK_RC(probe());
	dev->silent = true;
	vmem_dev_request(dev, 256 * M);
	settle();
	CHECK(vm->broken);
	CHECK(log_has("no answer"));
	CHECK_EQ(vmem_plugged_blocks(vm), 0);
	CHECK_EQ(fake_online_bytes(REGION, 4 * G), 0);
	return 0;
}

/* ---- nonsense configurations: refused at probe with a clear line, nothing left behind ---- */

static int bad_config(uint64_t bs, uint64_t addr, uint64_t region, uint64_t usable,
		      uint64_t plugged, const char *msg)
{
	make_device(bs, addr, region, 0, plugged);
	if (usable) {
		dev->usable_region_size = usable;
		vmem_dev_sync(dev);
	}
	long pages = host_pages_in_use();
	CHECK(probe() != 0);
	CHECK(!vm);
	if (!log_has(msg))
		test_fail(__FILE__, __LINE__, "no \"%s\" in the log", msg);
	CHECK(log_has(msg));
	CHECK_EQ(host_pages_in_use(), pages);
	CHECK_EQ(fake_hp.add_calls, 0);
	CHECK_EQ(dev->nr_plug + dev->nr_unplug + dev->nr_unplug_all, 0);
	return 0;
}

static int test_bad_block_3000(void)
{
	return bad_config(3000, REGION, 3000 * 65536ULL, 0, 0, "block size 3000 is not a power of two");
}
static int test_bad_block_1m(void)
{
	return bad_config(1 * M, REGION, 1 * G, 0, 0, "below the 2 MiB online granularity");
}
static int test_bad_region_unaligned(void)
{
	return bad_config(4 * M, REGION + 2 * M, 1 * G, 0, 0, "not aligned to its block size");
}
static int test_bad_region_beyond_max_phys(void)
{
	return bad_config(2 * M, FAKE_MAX_PHYS - 128 * M, 1 * G, 0, 0, "beyond max_phys");
}
static int test_bad_usable_gt_region(void)
{
	return bad_config(2 * M, REGION, 1 * G, 2 * G, 0, "usable region size exceeds the region");
}
static int test_bad_plugged_not_multiple(void)
{
	return bad_config(2 * M, REGION, 1 * G, 0, 3 * M,
			  "plugged size is not a multiple of the block size");
}
static int test_bad_no_whole_section(void)
{
	return bad_config(2 * M, REGION + 2 * M, 64 * M, 0, 0, "holds no whole");
}

/*
 * The region is not the driver's to take (the range registry, kernel/mm/mem_ranges.c, says
 * whose memory is where): the probe fails before any request, naming the owner, and no device
 * is published, so no plug can ever be refused as someone else's range.
 */
static bool none_published(void)
{
	for (unsigned i = 0; i < VMEM_MAX_DEVICES; i++)
		if (virtio_mem_devices[i])
			return false;
	return true;
}

static int test_bad_region_over_boot_ram(void)
{
	CHECK_RC(bad_config(2 * M, FAKE_BOOT_RAM_END - 512 * M, 1 * G, 0, 0,
			    "cannot be the driver's (EEXIST): device not used"));
	CHECK(log_has("of boot RAM"));
	CHECK(none_published());
	return 0;
}

/* A second device over the first one's region is refused; the first keeps its region. */
static int test_region_taken_by_another_device(void)
{
	make_device(2 * M, REGION, 1 * G, 0, 0);
	CHECK_RC(probe());
	struct virtio_mem *first = vm;
	CHECK_RC(resize_to(256 * M));
	struct vmem_dev *other =
	    vmem_dev_create(MMIO_PA + 0x1000, IRQ + 1, 2 * M, REGION + 512 * M, 1 * G, 256 * M, 0);
	struct virtio_device *vdev = NULL;
	long pages = host_pages_in_use();
	log_clear();
	CHECK(virtio_mmio_probe(&other->s->slot, &vdev) == -EEXIST);
	CHECK(vdev && !vdev->priv);
	CHECK(log_has("overlaps [0x100000000-0x140000000) of virtio-mmio@10001000"));
	CHECK(log_has("virtio-mmio@10002000: region 0x120000000-0x160000000 cannot be the "
		      "driver's (EEXIST)"));
	CHECK_EQ(host_pages_in_use(), pages);
	CHECK_EQ(other->nr_plug + other->nr_unplug + other->nr_unplug_all + other->nr_state, 0);
	CHECK(virtio_mem_devices[0] == first && !virtio_mem_devices[1]);
	vm = first;
	return resize_to(1 * G);
}

/* ---- a request that changes while the driver works ---- */

static void shrink_after_two_plugs(struct vmem_dev *d, uint16_t type)
{
	if (type == VIRTIO_MEM_REQ_PLUG && d->nr_plug == 2) {
		d->after_request = NULL;
		vmem_dev_request(d, 512 * M);
	}
}

static int test_request_changes_midway(void)
{
	make_device(2 * M, REGION, 8 * G, 0, 0);
	CHECK_RC(probe());
	settle();
	dev->after_request = shrink_after_two_plugs;
	vmem_dev_request(dev, 4 * G);
	settle();
	CHECK_EQ(vm->last_rc, 0);
	CHECK_EQ(dev->nr_plug, 2); /* stopped plugging as soon as it saw the change */
	CHECK_EQ(dev->plugged_size, 512 * M);
	return check_agree();
}

/* ---- memory plugged from an earlier boot ---- */

static int test_plugged_at_probe(void)
{
	make_device(2 * M, REGION, 4 * G, 256 * M, 1 * G);
	dev->busy_unplug_alls = 1;
	CHECK_RC(probe());
	CHECK(vm->unplug_all_pending);
	CHECK(log_has("unplugging all first"));
	settle();
	CHECK_EQ(dev->nr_unplug_all, 2); /* BUSY once, then done */
	CHECK(!vm->unplug_all_pending);
	CHECK_EQ(dev->plugged_size, 256 * M);
	CHECK_EQ(vm->last_rc, 0);
	return check_agree();
}

/* ---- data that cannot move ---- */

static int put_data(uint64_t size, unsigned every_blocks)
{
	unsigned n = 0;

	for (uint64_t off = 0; off < size; off += every_blocks * vm->block_size)
		CHECK_RC(fake_put_data(REGION + off + 8192, false, 1000 + n++));
	return 0;
}

/* Unplug to 0 with two blocks pinned: they stay plugged and online, the rest goes, nothing lost. */
static int test_unmovable(void)
{
	make_device(2 * M, REGION, 4 * G, 0, 0);
	CHECK_RC(probe());
	CHECK_RC(resize_to(1 * G));
	CHECK_RC(put_data(1 * G, 4));
	CHECK_RC(fake_put_data(REGION + 500 * 2 * M + 4096, true, 7));
	CHECK_RC(fake_put_data(REGION + 300 * 2 * M, true, 11));
	unsigned count = fake_data_count();
	uint64_t sum = fake_data_sum();

	vmem_dev_request(dev, 0);
	settle();
	CHECK_EQ(vm->last_rc, -EBUSY);
	CHECK(log_has("cannot unplug"));
	CHECK(log_has("unmovable"));
	CHECK_EQ(dev->plugged_size, 4 * M);
	CHECK(vmem_dev_is_plugged(dev, REGION + 500 * 2 * M, 2 * M));
	CHECK(vmem_dev_is_plugged(dev, REGION + 300 * 2 * M, 2 * M));
	CHECK_EQ(fake_online_bytes(REGION, 4 * G), 4 * M);
	CHECK_EQ(fake_data_count(), count);
	CHECK_EQ(fake_data_sum(), sum);
	CHECK(vm->retries > VMEM_MAX_RETRIES); /* retried a bounded number of times, then waits */
	CHECK_RC(check_agree());

	/* The owner lets go: the next request completes. */
	fake_data_release_unmovable();
	CHECK_RC(resize_to(0));
	CHECK_EQ(fake_data_count(), count);
	CHECK_EQ(fake_data_sum(), sum);
	CHECK_EQ(fake_data_in(REGION, 4 * G), 0);
	return 0;
}

/* Taking one block back when the highest is pinned: the next one goes instead. */
static int test_prefer_offlinable(void)
{
	make_device(2 * M, REGION, 4 * G, 0, 0);
	CHECK_RC(probe());
	CHECK_RC(resize_to(256 * M));
	CHECK_RC(fake_put_data(REGION + 127 * 2 * M, true, 1));
	CHECK_RC(resize_to(254 * M));
	CHECK(vmem_dev_is_plugged(dev, REGION + 127 * 2 * M, 2 * M));
	CHECK(!vmem_dev_is_plugged(dev, REGION + 126 * 2 * M, 2 * M));
	CHECK_EQ(vmem_block_state(vm, 127), VMEM_BLOCK_ONLINE); /* unmovable only for that round */
	return 0;
}

/* Big blocks: a pinned 256 MiB block stays, both its sections stay present. */
static int test_unmovable_big_block(void)
{
	make_device(256 * M, REGION, 4 * G, 0, 0);
	CHECK_RC(probe());
	CHECK_RC(resize_to(1 * G));
	CHECK_RC(fake_put_data(REGION + 3 * 256 * M + 200 * M, true, 1));
	vmem_dev_request(dev, 256 * M);
	settle();
	CHECK_EQ(vm->last_rc, 0);
	CHECK_EQ(dev->plugged_size, 256 * M); /* block 3 pinned: blocks 0..2 went instead */
	CHECK(vmem_dev_is_plugged(dev, REGION + 3 * 256 * M, 256 * M));
	CHECK(fake_section_present((REGION >> SECTION_SHIFT) + 6));
	CHECK(fake_section_present((REGION >> SECTION_SHIFT) + 7));
	return check_agree();
}

/* A block the driver onlined was offlined by hand: the unplug leaves it and takes others. */
static int test_foreign_offline(void)
{
	make_device(2 * M, REGION, 4 * G, 0, 0);
	CHECK_RC(probe());
	CHECK_RC(resize_to(512 * M));
	CHECK_RC(offline_pages(PFN_DOWN(REGION + 255 * 2 * M), PFN_DOWN(2 * M)));
	vmem_dev_request(dev, 256 * M);
	settle();
	CHECK_EQ(vm->last_rc, 0);
	CHECK(log_has("changed outside the driver"));
	CHECK_EQ(dev->plugged_size, 256 * M);
	CHECK(vmem_dev_is_plugged(dev, REGION + 255 * 2 * M, 2 * M)); /* left as it was */
	CHECK(!vmem_dev_is_plugged(dev, REGION + 127 * 2 * M, 2 * M)); /* taken instead */
	CHECK_EQ(fake_hp.violations, 0); /* never asked the core to offline it again */
	return 0;
}

/* ---- devices without interrupt, the device lock ---- */

/* No interrupt: the background work reads the device's status and follows every request. */
static int test_poll_without_irq(void)
{
	make_device(2 * M, REGION, 8 * G, 0, 0);
	dev->s->slot.irq.nr_cells = 0; /* no interrupt */
	CHECK_RC(probe());
	CHECK(!vm->vdev->has_irq);
	CHECK(log_has("drivers must poll"));
	static const uint64_t sizes[] = { 1 * G, 2 * G, 256 * M, 0, 512 * M };
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++)
		CHECK_RC(resize_to(sizes[i]));
	CHECK_EQ(vm->nr_req_changes, ARRAY_SIZE(sizes));
	CHECK_EQ(vm->nr_req_announced, ARRAY_SIZE(sizes));
	return 0;
}

/* The background work never waits for the device lock: a holder keeps it from running. */
static int test_lock_trylock(void)
{
	make_device(2 * M, REGION, 8 * G, 0, 0);
	CHECK_RC(probe());
	settle();
	spin_lock(&vm->lock); /* `vmem selftest` or a `vmem plug` on another hart */
	vmem_dev_request(dev, 256 * M);
	fake_background(100);
	CHECK_EQ(dev->plugged_size, 0);
	CHECK(!virtio_mem_run(vm, true, false));
	spin_unlock(&vm->lock);
	settle();
	CHECK_EQ(dev->plugged_size, 256 * M);
	return check_agree();
}

/* ---- the hot-plug core fails ---- */

static int test_add_fails(void)
{
	make_device(2 * M, REGION, 4 * G, 0, 0);
	CHECK_RC(probe());
	fake_hp.fail_add = -ENOMEM;
	CHECK_RC(resize_to(256 * M));
	CHECK(log_has("could not bring it online"));
	CHECK(dev->nr_unplug >= 1); /* the first plug was given back */
	return 0;
}

static int test_online_fails_giveback_busy(void)
{
	make_device(2 * M, REGION, 4 * G, 0, 0);
	CHECK_RC(probe());
	fake_hp.fail_online = -ENOMEM;
	dev->busy_unplugs = 1;
	vmem_dev_request(dev, 256 * M);
	fake_background(1); /* one run: plugged, online failed, give-back refused */
	CHECK(log_has("it stays plugged, offline"));
	CHECK(vm->nr_in_state[VMEM_BLOCK_PLUGGED] > 0);
	CHECK_RC(check_agree());
	settle(); /* the retry onlines what is plugged, then plugs the rest */
	CHECK_EQ(vm->last_rc, 0);
	CHECK_EQ(vm->nr_in_state[VMEM_BLOCK_ONLINE], 128);
	return check_agree();
}

static int test_remove_fails(void)
{
	make_device(2 * M, REGION, 4 * G, 0, 0);
	CHECK_RC(probe());
	CHECK_RC(resize_to(512 * M));
	fake_hp.fail_remove = -EBUSY;
	CHECK_RC(resize_to(0)); /* retried: the section left behind is removed too */
	CHECK(log_has("hot-remove"));
	return 0;
}

/* ---- fault walks: every request and every core call of a resize fails in turn ---- */

enum fault { FAULT_ERROR, FAULT_NACK, FAULT_BUSY, FAULT_TIMEOUT, FAULT_CORE, NR_FAULTS };
static const char *const fault_names[NR_FAULTS] = { "ERROR", "NACK", "BUSY", "no answer",
						   "core -ENOMEM" };

struct walk_op {
	const char *name;
	uint64_t bs, at_probe, from, to; /* at_probe: plugged from before (UNPLUG_ALL first) */
	uint64_t pinned;                 /* offset of an unmovable page, if not 0 */
};

static const struct walk_op walk_ops[] = {
	{ "plug 0 -> 256M, 2M blocks", 2 * M, 0, 0, 256 * M, 0 },
	{ "plug 256M -> 1G, 2M blocks", 2 * M, 0, 256 * M, 1 * G, 0 },
	{ "plug 512M -> 2560M, 2M blocks (2 batches)", 2 * M, 0, 512 * M, 2560 * M, 0 },
	{ "unplug 2560M -> 128M, 4M blocks (3 batches)", 4 * M, 0, 2560 * M, 128 * M, 0 },
	{ "unplug 1G -> 200M, 2M blocks", 2 * M, 0, 1 * G, 200 * M, 0 },
	{ "unplug 1G -> 512M, 2M blocks, one pinned at 900M", 2 * M, 0, 1 * G, 512 * M, 900 * M },
	{ "unplug 512M -> 0, 2M blocks", 2 * M, 0, 512 * M, 0, 0 },
	{ "plug 0 -> 1G, 256M blocks", 256 * M, 0, 0, 1 * G, 0 },
	{ "unplug 1G -> 256M, 256M blocks", 256 * M, 0, 1 * G, 256 * M, 0 },
	{ "probe with 512M plugged, want 256M", 2 * M, 512 * M, 0, 256 * M, 0 },
};

static void arm(enum fault f, unsigned n)
{
	static const int answers[] = { VIRTIO_MEM_RESP_ERROR, VIRTIO_MEM_RESP_NACK,
				       VIRTIO_MEM_RESP_BUSY, VMEM_DEV_NO_ANSWER };
	if (f == FAULT_CORE) {
		fake_hp.fail_nth = n;
		fake_hp.fail_rc = -ENOMEM;
	} else {
		dev->fail_nth = n;
		dev->fail_answer = answers[f];
	}
}

static unsigned hits(enum fault f) { return f == FAULT_CORE ? fake_hp.fail_hits : dev->fail_hits; }

/*
 * One walk step, in a child: reach op->from, fail the nth request (or core call) of the resize
 * to op->to, and check. Exit status 0: the failure fired and everything checked out; 2: the
 * resize had fewer than n points and completed; 1: a check failed (reason sent by test_fail).
 */
static int walk_one(const struct walk_op *op, enum fault f, unsigned n)
{
	make_device(op->bs, REGION, 4 * G, op->at_probe ? op->to : 0, op->at_probe);
	CHECK_RC(probe());
	if (!op->at_probe) {
		settle();
		CHECK_RC(resize_to(op->from));
		if (op->pinned)
			CHECK_RC(fake_put_data(REGION + op->pinned, true, 1));
	}
	long pages = host_pages_in_use();
	arm(f, n);
	if (!op->at_probe)
		vmem_dev_request(dev, op->to);
	/* Run the worker until the failure fires (or nothing is left to do). */
	for (unsigned i = 0; i < 300000 && !hits(f); i++)
		fake_background(1);
	if (!hits(f)) {
		settle();
		CHECK_EQ(vm->last_rc, 0);
		CHECK_EQ(dev->plugged_size, op->to);
		CHECK_RC(check_agree());
		CHECK_EQ(host_pages_in_use(), pages);
		return 2;
	}
	/* Right after the failed run: driver, device and core agree; nothing leaked. */
	CHECK_RC(check_agree());
	CHECK_EQ(host_pages_in_use(), pages);
	if (f == FAULT_ERROR || f == FAULT_TIMEOUT) { /* the device is broken: no more requests */
		CHECK(vm->broken);
		unsigned reqs = dev->nr_plug + dev->nr_unplug + dev->nr_unplug_all;
		vmem_dev_request(dev, op->from);
		settle();
		CHECK_EQ(dev->nr_plug + dev->nr_unplug + dev->nr_unplug_all, reqs);
		CHECK_RC(check_agree());
	} else { /* refused or failed for now: the retries get there */
		CHECK(!vm->broken);
		settle();
		if (vm->last_rc)
			test_fail(__FILE__, __LINE__, "after %s at point %u: %s (%s)", fault_names[f],
				  n, vm->why ? vm->why : "?", errname(vm->last_rc));
		CHECK_EQ(vm->last_rc, 0);
		CHECK_EQ(dev->plugged_size, op->to);
		CHECK_RC(check_agree());
	}
	CHECK_EQ(host_pages_in_use(), pages);
	return 0;
}

/* Walk one fault kind over one operation: n = 1, 2, ... until the resize runs out of points. */
static int walk(const struct walk_op *op, enum fault f, unsigned *points)
{
	for (unsigned n = 1; n < 200; n++) {
		fflush(stdout);
		fflush(stderr);
		pid_t pid = fork();
		if (pid == 0)
			_exit(walk_one(op, f, n));
		int st;
		CHECK(pid > 0 && waitpid(pid, &st, 0) == pid);
		if (!WIFEXITED(st) || WEXITSTATUS(st) == 1) {
			test_fail(__FILE__, __LINE__, "%s: %s at point %u failed (status 0x%x)", op->name,
				  fault_names[f], n, st);
			return 1;
		}
		if (WEXITSTATUS(st) == 2) {
			*points = n - 1;
			return 0;
		}
	}
	test_fail(__FILE__, __LINE__, "%s: more than 200 failure points?", op->name);
	return 1;
}

static int test_fault_walk(void)
{
	unsigned total = 0;
	for (size_t i = 0; i < ARRAY_SIZE(walk_ops); i++) {
		unsigned pts[NR_FAULTS];
		for (int f = 0; f < NR_FAULTS; f++)
			if (walk(&walk_ops[i], (enum fault)f, &pts[f]))
				return 1;
		/* Every request fails in each of the four ways; the same requests each time. */
		CHECK_EQ(pts[FAULT_NACK], pts[FAULT_ERROR]);
		CHECK_EQ(pts[FAULT_BUSY], pts[FAULT_ERROR]);
		CHECK_EQ(pts[FAULT_TIMEOUT], pts[FAULT_ERROR]);
		CHECK(pts[FAULT_ERROR] > 0);
		CHECK(pts[FAULT_CORE] > 0 || walk_ops[i].at_probe);
		fprintf(stderr, "vmem/fault_walk: %s: %u requests x 4 answers, %u core calls\n",
			walk_ops[i].name, pts[FAULT_ERROR], pts[FAULT_CORE]);
		total += 4 * pts[FAULT_ERROR] + pts[FAULT_CORE];
	}
	fprintf(stderr, "vmem/fault_walk: %u failure points visited\n", total);
	return 0;
}

/* ---- the vmem command ---- */

extern const struct console_command __start_rvmm_cmds[], __stop_rvmm_cmds[];

static int run_cmd(const char *line)
{
	char buf[128], *argv[8];
	int argc = 0;

	snprintf(buf, sizeof(buf), "%s", line);
	for (char *t = strtok(buf, " "); t && argc < 8; t = strtok(NULL, " "))
		argv[argc++] = t;
	for (const struct console_command *c = __start_rvmm_cmds; c < __stop_rvmm_cmds; c++)
		if (!strcmp(c->name, argv[0]))
			return c->run(argc, argv);
	return -ENOENT;
}

/* ---- vmem selftest ---- */

static const char *const selftest_rule_of[VMEM_BREAK_NR] = {
	[VMEM_BREAK_PLUG_PLUGGED] = "PLUG of a plugged block",
	[VMEM_BREAK_UNPLUG_UNPLUGGED] = "UNPLUG of an unplugged block",
	[VMEM_BREAK_OUTSIDE] = "requests beyond usable region",
	[VMEM_BREAK_MISALIGNED] = "misaligned requests",
	[VMEM_BREAK_ZERO] = "requests of zero blocks",
	[VMEM_BREAK_STATE_MIXED] = "STATE of a mixed range",
	[VMEM_BREAK_STATE_PLUGGED] = "STATE of plugged blocks",
	[VMEM_BREAK_UNPLUG_ALL] = "UNPLUG_ALL",
	[VMEM_BREAK_MEMORY] = "plugged memory holds data",
	[VMEM_BREAK_SIZE] = "plugged_size follows requests",
	[VMEM_BREAK_ANNOUNCE] = "resize announced",
	[VMEM_BREAK_USABLE] = "usable region covers plugged",
};

/* Lines of the log containing `word`; the first one in *line. */
static unsigned log_lines_with(const char *word, char *line, size_t size)
{
	unsigned n = 0;

	for (const char *p = log_text(); (p = strstr(p, word)); p++) {
		const char *b = p, *e = strchr(p, '\n');
		while (b > log_text() && b[-1] != '\n')
			b--;
		if (!n++)
			snprintf(line, size, "%.*s", (int)((e ? e : p + strlen(p)) - b), b);
	}
	return n;
}

/*
 * A device breaking rule b (or none), the driver using nothing (auto off at 0) while the host
 * asks for 96 MiB: `vmem selftest` fails exactly that rule's line and leaves everything as it was.
 */
static int selftest_breaking(enum vmem_dev_break b)
{
	char line[256] = "";

	make_device(2 * M, REGION, 1 * G, 0, 0);
	vmem_dev_add_ram(dev);
	CHECK_RC(probe());
	settle();
	CHECK_RC(run_cmd("vmem auto off"));
	vmem_dev_request(dev, 64 * M);
	settle();
	dev->broken_rule = b;
	vmem_dev_request(dev, 96 * M);
	settle();
	CHECK_EQ(dev->plugged_size, 0);
	log_clear();
	int rc = run_cmd("vmem selftest");
	unsigned fails = log_lines_with("FAIL", line, sizeof(line));
	if (b == VMEM_BREAK_NONE) {
		if (fails)
			test_fail(__FILE__, __LINE__, "correct device: %s", line);
		CHECK_RC(rc);
		CHECK(log_has("vmem selftest: 16 passed, 0 failed, 0 skipped"));
	} else {
		if (fails != 1 || !strstr(line, selftest_rule_of[b]))
			test_fail(__FILE__, __LINE__, "breaking \"%s\": %u FAIL lines, first: %s",
				  selftest_rule_of[b], fails, line);
		CHECK_EQ(fails, 1);
		CHECK_EQ(rc, -EIO);
		CHECK(log_has("vmem selftest: 15 passed, 1 failed, 0 skipped"));
	}
	CHECK_EQ(dev->inaccessible_touches, 0);
	CHECK_EQ(dev->plugged_size, 0);
	CHECK_EQ(vmem_dev_plugged_blocks(dev), 0);
	CHECK_EQ(vmem_plugged_blocks(vm), 0);
	CHECK_EQ(fake_hp.violations, 0);
	return 0;
}

static int test_selftest_conforming(void) { return selftest_breaking(VMEM_BREAK_NONE); }

/* Each rule broken in turn (each in its own child: the device is rebuilt every time). */
static int test_selftest_each_rule_broken(void)
{
	for (int b = VMEM_BREAK_NONE + 1; b < VMEM_BREAK_NR; b++) {
		fflush(NULL);
		pid_t pid = fork();
		if (pid == 0)
			_exit(selftest_breaking((enum vmem_dev_break)b) ? 1 : 0);
		int st;
		waitpid(pid, &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st)) {
			test_fail(__FILE__, __LINE__, "breaking \"%s\" was not caught as that rule alone",
				  selftest_rule_of[b]);
			return 1;
		}
	}
	return 0;
}

/*
 * Under data: the driver has 248 MiB online holding data (auto off below a 256 MiB request). The
 * selftest works beside it, skips UNPLUG_ALL (it would take that memory), and moves nothing.
 */
static int test_selftest_beside_data(void)
{
	make_device(2 * M, REGION, 1 * G, 0, 0);
	vmem_dev_add_ram(dev);
	CHECK_RC(probe());
	CHECK_RC(resize_to(256 * M));
	CHECK_RC(run_cmd("vmem unplug 0x800000"));
	CHECK_RC(put_data(248 * M, 2));
	unsigned count = fake_data_count();
	uint64_t sum = fake_data_sum(), online = fake_online_bytes(REGION, 1 * G);
	log_clear();
	CHECK_RC(run_cmd("vmem selftest"));
	CHECK(log_has("vmem selftest: 15 passed, 0 failed, 1 skipped"));
	CHECK(log_has("driver uses 248 MiB plugged"));
	CHECK_EQ(dev->inaccessible_touches, 0);
	CHECK_EQ(dev->plugged_size, 248 * M);
	CHECK_EQ(fake_data_count(), count);
	CHECK_EQ(fake_data_sum(), sum);
	CHECK_EQ(fake_online_bytes(REGION, 1 * G), online);
	CHECK_EQ(meminfo_plugged_kb(NUMA_NO_NODE), (248 * M) >> 10);
	return check_agree();
}

/* Test blocks in a section the driver added (sub-blocks): checked through its mapping, no add. */
static int test_selftest_in_added_section(void)
{
	make_device(2 * M, REGION, 1 * G, 0, 0);
	vmem_dev_add_ram(dev);
	CHECK_RC(probe());
	CHECK_RC(resize_to(1016 * M)); /* usable: the whole region; the last section partly plugged */
	CHECK_RC(run_cmd("vmem unplug 0x800000"));
	unsigned adds = fake_hp.add_calls, removes = fake_hp.remove_calls;
	log_clear();
	CHECK_RC(run_cmd("vmem selftest"));
	CHECK(log_has("vmem selftest: 15 passed, 0 failed, 1 skipped"));
	CHECK(log_has("4096 KiB read back"));
	CHECK_EQ(fake_hp.add_calls, adds);
	CHECK_EQ(fake_hp.remove_calls, removes);
	CHECK_EQ(dev->inaccessible_touches, 0);
	CHECK_EQ(dev->plugged_size, 1008 * M);
	return check_agree();
}

/* No room to plug (requested == plugged): the rules that plug are skipped, saying why. */
static int test_selftest_no_headroom(void)
{
	make_device(2 * M, REGION, 1 * G, 0, 0);
	vmem_dev_add_ram(dev);
	CHECK_RC(probe());
	CHECK_RC(resize_to(128 * M));
	log_clear();
	CHECK_RC(run_cmd("vmem selftest"));
	CHECK(log_has("requested-plugged 0 MiB < 6"));
	CHECK(log_has("8 passed, 0 failed, 8 skipped"));
	CHECK_EQ(dev->plugged_size, 128 * M);
	return check_agree();
}

static int test_vmem_command(void)
{
	make_device(2 * M, REGION, 8 * G, 512 * M, 0);
	CHECK_RC(probe());
	settle();
	CHECK_EQ(dev->plugged_size, 512 * M);
	log_clear();
	CHECK_RC(run_cmd("vmem"));
	CHECK(log_has("block 2048 KiB"));
	CHECK(log_has("requested 512 MiB"));
	CHECK(log_has("MemPlugged 524288 kB"));
	CHECK(log_has("online"));

	CHECK_RC(run_cmd("vmem unplug 0x8000000"));
	CHECK(!vm->auto_follow);
	CHECK_EQ(dev->plugged_size, 384 * M);
	CHECK_RC(check_agree());
	vmem_dev_request(dev, 1 * G); /* auto off: the driver keeps its own target */
	settle();
	CHECK_EQ(dev->plugged_size, 384 * M);
	CHECK_EQ(run_cmd("vmem plug 0x300000"), -EINVAL);
	CHECK_EQ(run_cmd("vmem plug 0x1900000000"), -EINVAL);
	CHECK_EQ(run_cmd("vmem unplug 0x40000000"), -EINVAL);
	CHECK_EQ(run_cmd("vmem plug"), CMD_USAGE);
	CHECK_EQ(run_cmd("vmem auto maybe"), CMD_USAGE);
	CHECK_EQ(dev->plugged_size, 384 * M);

	CHECK_RC(run_cmd("vmem auto on"));
	CHECK_EQ(dev->plugged_size, 1 * G);
	CHECK_EQ(run_cmd("vmem plug 0x10000000"), -EAGAIN); /* within the usable region... */
	CHECK(log_has("NACK"));     /* ...but the device refuses beyond its request */
	CHECK_EQ(dev->plugged_size, 1 * G);
	CHECK_RC(run_cmd("vmem auto on"));
	CHECK_EQ(dev->plugged_size, 1 * G);
	return check_agree();
}

static const struct test_case cases[] = {
	CASE(test_resize_2m),
	CASE(test_resize_4m),
	CASE(test_resize_128m),
	CASE(test_resize_256m),
	CASE(test_unplug_batched),
	CASE(test_subblock_sections),
	CASE(test_region_unaligned_sections),
	CASE(test_nack_plug),
	CASE(test_busy_unplug),
	CASE(test_busy_plug),
	CASE(test_error_broken),
	CASE(test_no_answer),
	CASE(test_bad_block_3000),
	CASE(test_bad_block_1m),
	CASE(test_bad_region_unaligned),
	CASE(test_bad_region_beyond_max_phys),
	CASE(test_bad_usable_gt_region),
	CASE(test_bad_plugged_not_multiple),
	CASE(test_bad_no_whole_section),
	CASE(test_bad_region_over_boot_ram),
	CASE(test_region_taken_by_another_device),
	CASE(test_request_changes_midway),
	CASE(test_plugged_at_probe),
	CASE(test_unmovable),
	CASE(test_prefer_offlinable),
	CASE(test_unmovable_big_block),
	CASE(test_foreign_offline),
	CASE(test_poll_without_irq),
	CASE(test_lock_trylock),
	CASE(test_add_fails),
	CASE(test_online_fails_giveback_busy),
	CASE(test_remove_fails),
	CASE(test_vmem_command),
	CASE(test_selftest_conforming),
	CASE(test_selftest_each_rule_broken),
	CASE(test_selftest_beside_data),
	CASE(test_selftest_in_added_section),
	CASE(test_selftest_no_headroom),
	CASE(test_fault_walk),
	CASE(test_node_id),
	CASE(test_node_id_unknown),
};

int main(int argc, char **argv)
{
	return test_main("vmem", cases, ARRAY_SIZE(cases), argc, argv);
}
