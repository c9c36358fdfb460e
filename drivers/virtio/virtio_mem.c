// SPDX-License-Identifier: MIT
/*
 * virtio-mem device driver (virtio 1.2, 5.15), part 1 of 3 (see virtio_mem.h): probe and the
 * configuration it checks, the requests and the one switch that maps the device's replies, the
 * block state machine, and the worker that follows requested_size from idle harts.
 *
 * The worker. config_changed (interrupt context) only sets a flag. Idle harts (the boot hart's
 * console wait, the others' idle loop) call virtio_mem_poll() through background_work(); the
 * first to take a device's lock (trylock) runs virtio_mem_run(), which may spin for long (device
 * replies, migration). For a device without interrupt the poll reads its interrupt status every
 * VMEM_POLL_MS first, which is how a resize request reaches config_changed then. A run that does not reach the target schedules a retry with a bounded backoff
 * (VMEM_BACKOFF_MIN_MS doubling to VMEM_BACKOFF_MAX_MS, at most VMEM_MAX_RETRIES runs, then it
 * waits for the next config change or `vmem` command).
 *
 * Interface: virtio_mem_driver (virtio_drivers.c), virtio_mem_poll (background work),
 * virtio_mem_run, vmem_request, vmem_request_raw, vmem_config_update, vmem_block_set and the
 * geometry helpers (virtio_mem.h).
 */
#include <rvmm/arch_cpu.h>
#include <rvmm/errno.h>
#include <rvmm/kernel.h>
#include <rvmm/mm.h>
#include <rvmm/page_alloc.h>
#include <rvmm/printk.h>
#include <rvmm/virtio.h>

#include "virtio_mem.h"

/* Bound devices; published with a release store once set up. Slots are the state. */
static struct virtio_mem vmem_slots[VMEM_MAX_DEVICES];
struct virtio_mem *virtio_mem_devices[VMEM_MAX_DEVICES];

/* ---- Geometry and states --------------------------------------------------------------------- */

static const char *const block_state_names[VMEM_BLOCK_NR_STATES] = {
	[VMEM_BLOCK_UNPLUGGED] = "unplugged",
	[VMEM_BLOCK_PLUGGED] = "plugged",
	[VMEM_BLOCK_ONLINE] = "online",
	[VMEM_BLOCK_UNMOVABLE] = "unmovable",
};

static const char *const section_state_names[VMEM_SECTION_NR_STATES] = {
	[VMEM_SECTION_ABSENT] = "absent",   [VMEM_SECTION_OFFLINE] = "offline",
	[VMEM_SECTION_PARTIAL] = "partial", [VMEM_SECTION_ONLINE] = "online",
	[VMEM_SECTION_EMPTY] = "empty",     [VMEM_SECTION_UNADDED] = "unadded",
};

const char *vmem_block_state_name(enum vmem_block_state s)
{
	return s < VMEM_BLOCK_NR_STATES ? block_state_names[s] : "?";
}

const char *vmem_section_state_name(enum vmem_section_state s)
{
	return s < VMEM_SECTION_NR_STATES ? section_state_names[s] : "?";
}

void vmem_block_sections(const struct virtio_mem *vm, uint32_t id, uint32_t n, unsigned long *s0,
			 unsigned long *s1)
{
	uint64_t start = (uint64_t)id * vm->block_size, end = (uint64_t)(id + n) * vm->block_size;

	*s0 = start >> SECTION_SHIFT;
	*s1 = (end + SECTION_SIZE - 1) >> SECTION_SHIFT;
}

unsigned vmem_section_pieces_in(const struct virtio_mem *vm, unsigned long s, uint32_t id,
				uint32_t n)
{
	uint64_t lo = MAX((uint64_t)s << SECTION_SHIFT, (uint64_t)id * vm->block_size);
	uint64_t hi = MIN((uint64_t)(s + 1) << SECTION_SHIFT, (uint64_t)(id + n) * vm->block_size);

	return hi > lo ? (unsigned)((hi - lo) / MIN(vm->block_size, (uint64_t)SECTION_SIZE)) : 0;
}

enum vmem_section_state vmem_section_state(const struct virtio_mem *vm, unsigned long s)
{
	const struct vmem_section *sec = &vm->sections[s];

	if (!sec->added)
		return sec->plugged ? VMEM_SECTION_UNADDED : VMEM_SECTION_ABSENT;
	if (!sec->plugged)
		return VMEM_SECTION_EMPTY;
	if (!sec->online)
		return VMEM_SECTION_OFFLINE;
	return sec->online == vm->pieces_per_section ? VMEM_SECTION_ONLINE : VMEM_SECTION_PARTIAL;
}

static bool state_plugged(enum vmem_block_state s) { return s != VMEM_BLOCK_UNPLUGGED; }
static bool state_online(enum vmem_block_state s)
{
	return s == VMEM_BLOCK_ONLINE || s == VMEM_BLOCK_UNMOVABLE;
}

int vmem_block_set(struct virtio_mem *vm, uint32_t id, uint32_t n, enum vmem_block_state from,
		   enum vmem_block_state to)
{
	int dplug = (int)state_plugged(to) - (int)state_plugged(from);
	int donline = (int)state_online(to) - (int)state_online(from);

	for (uint32_t i = id; i < id + n; i++) {
		unsigned long s0, s1;

		if (vm->block_state[i] != from) {
			pr_err("%s: block %u (pa 0x%llx) is %s, not %s: not made %s", vm->vdev->name, i,
			       (unsigned long long)vmem_block_addr(vm, i),
			       vmem_block_state_name(vm->block_state[i]), vmem_block_state_name(from),
			       vmem_block_state_name(to));
			return -EINVAL;
		}
		vm->block_state[i] = (uint8_t)to;
		vm->nr_in_state[from]--;
		vm->nr_in_state[to]++;
		vmem_block_sections(vm, i, 1, &s0, &s1);
		for (unsigned long s = s0; s < s1; s++) {
			vm->sections[s].plugged = (uint8_t)(vm->sections[s].plugged + dplug);
			vm->sections[s].online = (uint8_t)(vm->sections[s].online + donline);
		}
	}
	return 0;
}

/* ---- Requests -------------------------------------------------------------------------------- */

static const char *const req_names[] = { "PLUG", "UNPLUG", "UNPLUG_ALL", "STATE" };

void vmem_mark_broken(struct virtio_mem *vm, const char *why)
{
	vm->broken = true;
	vm->why = why;
	virtio_device_broken(vm->vdev, why);
}

int vmem_request_raw(struct virtio_mem *vm, uint16_t type, phys_addr_t pa, uint16_t nb,
		     uint16_t *resp_type, uint16_t *state)
{
	struct virtio_sg sg[2] = { { vm->req, sizeof(*vm->req) }, { vm->resp, sizeof(*vm->resp) } };
	void *token;
	uint32_t len;
	int rc;

	if (vm->broken)
		return -EIO;
	*vm->req = (struct virtio_mem_req){ .type = type, .addr = pa, .nb_blocks = nb };
	*vm->resp = (struct virtio_mem_resp){ .type = 0xffff };
	rc = virtqueue_add(vm->vq, sg, 1, 1, vm->req);
	if (rc) {
		pr_err("%s: cannot queue a %s request (%s)", vm->vdev->name, req_names[type],
		       errname(rc));
		vmem_mark_broken(vm, "request queue unusable");
		return -EIO;
	}
	virtqueue_kick(vm->vq);
	vm->nr_requests++;
	rc = virtqueue_wait_used(vm->vq, VMEM_REQ_TIMEOUT_MS, &token, &len);
	if (rc == -ETIMEDOUT) {
		pr_err("%s: no answer to %s of %u blocks at 0x%llx within %d ms", vm->vdev->name,
		       req_names[type], nb, (unsigned long long)pa, VMEM_REQ_TIMEOUT_MS);
		vmem_mark_broken(vm, "device does not answer");
		return rc;
	}
	if (rc || token != vm->req || len < sizeof(vm->resp->type)) {
		pr_err("%s: malformed answer to %s (%s, %u bytes)", vm->vdev->name, req_names[type],
		       errname(rc), len);
		vmem_mark_broken(vm, "malformed answer");
		return -EIO;
	}
	*resp_type = vm->resp->type;
	*state = vm->resp->state;
	return 0;
}

int vmem_request(struct virtio_mem *vm, uint16_t type, uint32_t id, uint32_t nb)
{
	phys_addr_t pa = type == VIRTIO_MEM_REQ_UNPLUG_ALL ? 0 : vmem_block_addr(vm, id);
	uint16_t resp, state;
	int rc = vmem_request_raw(vm, type, pa, (uint16_t)nb, &resp, &state);

	if (rc)
		return rc;
	/* The device's answer, in rvmm's error space. */
	switch (resp) {
	case VIRTIO_MEM_RESP_ACK:
		if (type == VIRTIO_MEM_REQ_PLUG)
			vm->plugged_size += (uint64_t)nb * vm->block_size;
		else if (type == VIRTIO_MEM_REQ_UNPLUG)
			vm->plugged_size -= (uint64_t)nb * vm->block_size;
		else if (type == VIRTIO_MEM_REQ_UNPLUG_ALL)
			vm->plugged_size = 0;
		return 0;
	case VIRTIO_MEM_RESP_NACK:
		return -EAGAIN;
	case VIRTIO_MEM_RESP_BUSY:
		return -EBUSY;
	case VIRTIO_MEM_RESP_ERROR:
		pr_err("%s: device answered ERROR to %s of %u blocks at 0x%llx", vm->vdev->name,
		       req_names[type], nb, (unsigned long long)pa);
		vmem_mark_broken(vm, "device answered ERROR");
		return -EINVAL;
	default:
		pr_err("%s: unknown answer %u to %s", vm->vdev->name, resp, req_names[type]);
		vmem_mark_broken(vm, "unknown answer");
		return -EIO;
	}
}

/* ---- Configuration --------------------------------------------------------------------------- */

struct vmem_config {
	uint64_t block_size, addr, region_size, usable_region_size, plugged_size, requested_size;
	uint16_t node_id;
};

static int vmem_config_read(struct virtio_device *vdev, void *arg)
{
	struct vmem_config *c = arg;

	c->block_size = __virtio_cread64(vdev, VMEM_CFG_BLOCK_SIZE);
	c->node_id = virtio_cread16(vdev, VMEM_CFG_NODE_ID);
	c->addr = __virtio_cread64(vdev, VMEM_CFG_ADDR);
	c->region_size = __virtio_cread64(vdev, VMEM_CFG_REGION_SIZE);
	c->usable_region_size = __virtio_cread64(vdev, VMEM_CFG_USABLE_REGION_SIZE);
	c->plugged_size = __virtio_cread64(vdev, VMEM_CFG_PLUGGED_SIZE);
	c->requested_size = __virtio_cread64(vdev, VMEM_CFG_REQUESTED_SIZE);
	return 0;
}

#define MB(x) ((unsigned long long)((x) >> 20))

/*
 * The fields that may change: sizes within the region and multiples of the block size. Returns
 * 0, or -EINVAL after one line naming the field.
 */
static int vmem_config_check_sizes(const char *name, const struct vmem_config *c)
{
	const char *bad = NULL;

	if (c->usable_region_size > c->region_size)
		bad = "usable region size exceeds the region";
	else if (c->usable_region_size % c->block_size)
		bad = "usable region size is not a multiple of the block size";
	else if (c->plugged_size > c->region_size)
		bad = "plugged size exceeds the region";
	else if (c->plugged_size % c->block_size)
		bad = "plugged size is not a multiple of the block size";
	else if (c->requested_size % c->block_size)
		bad = "requested size is not a multiple of the block size";
	if (!bad)
		return 0;
	pr_err("%s: bad device: %s (block %llu KiB, region %llu MiB, usable %llu MiB, plugged "
	       "%llu KiB, requested %llu KiB)", name, bad,
	       (unsigned long long)(c->block_size >> 10), MB(c->region_size),
	       MB(c->usable_region_size), (unsigned long long)(c->plugged_size >> 10),
	       (unsigned long long)(c->requested_size >> 10));
	return -EINVAL;
}

/* The fixed fields, at probe: block size, region placement. 0 or -EINVAL after a message. */
static int vmem_config_check(const char *name, const struct vmem_config *c)
{
	uint64_t bs = c->block_size, end = c->addr + c->region_size;

	if (bs < SZ_4K || (bs & (bs - 1))) {
		pr_err("%s: bad device: block size %llu is not a power of two of at least 4 KiB",
		       name, (unsigned long long)bs);
		return -EINVAL;
	}
	if (bs < VMEM_MIN_BLOCK_SIZE) {
		pr_err("%s: block size %llu KiB is below the 2 MiB online granularity: not supported",
		       name, (unsigned long long)(bs >> 10));
		return -EINVAL;
	}
	if (!c->region_size || c->addr % bs || c->region_size % bs || end < c->addr) {
		pr_err("%s: bad device: region 0x%llx size 0x%llx is empty or not aligned to its "
		       "block size %llu KiB", name, (unsigned long long)c->addr,
		       (unsigned long long)c->region_size, (unsigned long long)(bs >> 10));
		return -EINVAL;
	}
	if (end > mm_layout.max_phys) {
		pr_err("%s: region 0x%llx-0x%llx ends beyond max_phys 0x%llx (what the direct map and "
		       "vmemmap cover): not usable", name, (unsigned long long)c->addr,
		       (unsigned long long)end, (unsigned long long)mm_layout.max_phys);
		return -EINVAL;
	}
	return vmem_config_check_sizes(name, c);
}

/* Does the driver have a block plugged that ends beyond end? */
static bool vmem_plugged_beyond(const struct virtio_mem *vm, phys_addr_t end)
{
	for (uint32_t id = vm->nr_blocks; id-- > 0 && vmem_block_addr(vm, id) + vm->block_size > end;)
		if (vmem_block_state(vm, id) != VMEM_BLOCK_UNPLUGGED)
			return true;
	return false;
}

/*
 * For the selftest: was this requested size change announced? A notification may arrive a
 * little after the change is read (a retry read first): then the next read confirms it.
 */
static void vmem_note_request_change(struct virtio_mem *vm, uint64_t requested)
{
	uint32_t notes = __atomic_load_n(&vm->config_notes, __ATOMIC_ACQUIRE);
	bool noted = notes != vm->notes_at_read;

	if (vm->change_unconfirmed && noted) {
		vm->nr_req_announced++;
		vm->change_unconfirmed = false;
		noted = false; /* that notification was for the earlier change */
	}
	if (requested != vm->requested_size) {
		vm->nr_req_changes++;
		if (noted)
			vm->nr_req_announced++;
		vm->change_unconfirmed = !noted;
	}
	vm->notes_at_read = notes;
}

int vmem_config_update(struct virtio_mem *vm)
{
	struct vmem_config c;
	int rc = virtio_cread_consistent(vm->vdev, vmem_config_read, &c);

	if (rc) {
		vmem_mark_broken(vm, "configuration unreadable");
		return rc;
	}
	if (c.block_size != vm->block_size || c.addr != vm->addr || c.region_size != vm->region_size) {
		pr_err("%s: bad device: fixed configuration changed (block %llu KiB, region 0x%llx "
		       "size 0x%llx)", vm->vdev->name, (unsigned long long)(c.block_size >> 10),
		       (unsigned long long)c.addr, (unsigned long long)c.region_size);
		vmem_mark_broken(vm, "fixed configuration changed");
		return -EINVAL;
	}
	if (vmem_config_check_sizes(vm->vdev->name, &c)) {
		vmem_mark_broken(vm, "bad configuration");
		return -EINVAL;
	}
	if (c.plugged_size !=
		    (uint64_t)(vmem_plugged_blocks(vm) + vm->selftest_plugged) * vm->block_size &&
	    !vm->unplug_all_pending)
		pr_warn("%s: device says %llu MiB plugged, the driver counts %llu MiB",
			vm->vdev->name, MB(c.plugged_size),
			MB((uint64_t)vmem_plugged_blocks(vm) * vm->block_size));
	if (c.usable_region_size < c.plugged_size ||
	    (c.usable_region_size < vm->usable_region_size &&
	     vmem_plugged_beyond(vm, c.addr + c.usable_region_size))) {
		vm->nr_usable_shrunk++;
		pr_warn("%s: bad device: usable region %llu MiB does not cover what is plugged",
			vm->vdev->name, MB(c.usable_region_size));
	}
	vmem_note_request_change(vm, c.requested_size);
	vm->usable_region_size = c.usable_region_size;
	vm->plugged_size = c.plugged_size;
	vm->requested_size = c.requested_size;
	return 0;
}

/* ---- Probe ----------------------------------------------------------------------------------- */

static unsigned order_for(uint64_t bytes)
{
	unsigned order = 0;

	while ((PAGE_SIZE << order) < bytes)
		order++;
	return order;
}

static bool vmem_poll_registered;
static bool virtio_mem_poll(void);

static int virtio_mem_probe(struct virtio_device *vdev)
{
	struct virtio_mem *vm = NULL;
	struct vmem_config c;
	unsigned slot;
	int rc;

	for (slot = 0; slot < VMEM_MAX_DEVICES && !vm; slot++)
		if (!vmem_slots[slot].vdev)
			vm = &vmem_slots[slot];
	if (!vm) {
		pr_warn("%s: more than %d virtio-mem devices, ignored", vdev->name, VMEM_MAX_DEVICES);
		return -ENODEV;
	}
	slot--;
	rc = virtio_cread_consistent(vdev, vmem_config_read, &c);
	if (rc)
		return rc;
	rc = vmem_config_check(vdev->name, &c);
	if (rc)
		return rc;

	*vm = (struct virtio_mem){ .lock = SPINLOCK_INIT("virtio-mem", LOCK_CLASS_VIRTIO_MEM),
				   .vdev = vdev, .block_size = c.block_size, .node_id = c.node_id,
				   .addr = c.addr, .region_size = c.region_size,
				   .usable_region_size = c.usable_region_size,
				   .plugged_size = c.plugged_size,
				   .requested_size = c.requested_size };
	/* As Linux: memory of a node the device tree does not describe goes to node 0. */
	vm->node = c.node_id;
	if (!node_online(vm->node)) {
		pr_warn("%s: node_id %u is not a node of this machine (%d described): its memory "
			"goes to node 0", vdev->name, c.node_id, nr_online_nodes());
		vm->node = 0;
	}
	/* Only whole sections can be added: block 0 is the first one inside the region. */
	vm->base = ALIGN_UP(c.addr, (uint64_t)SECTION_SIZE);
	phys_addr_t end = ALIGN_DOWN(c.addr + c.region_size, (uint64_t)SECTION_SIZE);
	if (end <= vm->base) {
		pr_err("%s: region 0x%llx-0x%llx holds no whole %lu MiB section: nothing to plug",
		       vdev->name, (unsigned long long)c.addr,
		       (unsigned long long)(c.addr + c.region_size), SECTION_SIZE >> 20);
		rc = -EINVAL;
		goto err_slot;
	}
	if (vm->base != c.addr || end != c.addr + c.region_size)
		pr_warn("%s: region 0x%llx-0x%llx is not section-aligned: only 0x%llx-0x%llx is used",
			vdev->name, (unsigned long long)c.addr,
			(unsigned long long)(c.addr + c.region_size), (unsigned long long)vm->base,
			(unsigned long long)end);
	vm->first_section = vm->base >> SECTION_SHIFT;
	vm->nr_sections = (end - vm->base) >> SECTION_SHIFT;
	if ((end - vm->base) / c.block_size > VMEM_MAX_BLOCKS) {
		pr_err("%s: region of %llu blocks: at most %u supported", vdev->name,
		       (unsigned long long)((end - vm->base) / c.block_size), VMEM_MAX_BLOCKS);
		rc = -EINVAL;
		goto err_slot;
	}
	vm->nr_blocks = (uint32_t)((end - vm->base) / c.block_size);
	vm->pages_per_block = c.block_size >> PAGE_SHIFT;
	vm->pieces_per_section = c.block_size < SECTION_SIZE ? SECTION_SIZE / c.block_size : 1;
	vm->sections_per_block = c.block_size > SECTION_SIZE ? c.block_size / SECTION_SIZE : 1;
	vm->nr_in_state[VMEM_BLOCK_UNPLUGGED] = vm->nr_blocks;

	rc = -ENOMEM;
	vm->block_state_order = order_for(vm->nr_blocks);
	vm->block_state = get_free_pages(vm->block_state_order, GFP_KERNEL | GFP_ZERO);
	if (!vm->block_state)
		goto err_slot;
	vm->sections_order = order_for(vm->nr_sections * sizeof(struct vmem_section));
	vm->sections = get_free_pages(vm->sections_order, GFP_KERNEL | GFP_ZERO);
	if (!vm->sections)
		goto err_free_blocks;
	vm->req = get_free_pages(0, GFP_KERNEL | GFP_ZERO);
	if (!vm->req)
		goto err_free_sections;
	vm->resp = (struct virtio_mem_resp *)((char *)vm->req + 64);
	/* The region becomes the driver's before any request: only its owner may plug there. */
	rc = vmem_map_region_register(vm);
	if (rc)
		goto err_free_req;
	rc = virtio_find_vq(vdev, 0, "guestq", NULL, &vm->vq);
	if (rc)
		goto err_unregister;
	if (!virtio_has_feature(vdev, VIRTIO_MEM_F_UNPLUGGED_INACCESSIBLE))
		pr_info("%s: device lets unplugged memory be read (no UNPLUGGED_INACCESSIBLE)",
			vdev->name);
	virtio_device_ready(vdev);

	/* Memory plugged before we came (an earlier boot): the spec asks to start from nothing. */
	vm->unplug_all_pending = c.plugged_size != 0;
	vm->auto_follow = true;
	vm->target = c.requested_size;
	vm->backoff_ms = VMEM_BACKOFF_MIN_MS;
	vm->kick = true;
	vm->notes_at_read = vm->config_notes;
	vdev->priv = vm;
	pr_info("%s: region 0x%llx-0x%llx (%llu MiB), block %llu KiB, usable %llu MiB, plugged "
		"%llu MiB, requested %llu MiB, node %d", vdev->name, (unsigned long long)c.addr,
		(unsigned long long)(c.addr + c.region_size), MB(c.region_size),
		(unsigned long long)(c.block_size >> 10), MB(c.usable_region_size),
		MB(c.plugged_size), MB(c.requested_size), vm->node);
	if (vm->unplug_all_pending)
		pr_info("%s: %llu MiB plugged from before: unplugging all first", vdev->name,
			MB(c.plugged_size));
	if (!vmem_poll_registered && background_work_register(virtio_mem_poll) == 0)
		vmem_poll_registered = true;
	meminfo_plugged_kb = virtio_mem_plugged_kb;
	__atomic_store_n(&virtio_mem_devices[slot], vm, __ATOMIC_RELEASE);
	return 0;

err_unregister:
	vmem_map_region_unregister(vm);
err_free_req:
	free_pages_va(vm->req, 0);
err_free_sections:
	free_pages_va(vm->sections, vm->sections_order);
err_free_blocks:
	free_pages_va(vm->block_state, vm->block_state_order);
err_slot:
	*vm = (struct virtio_mem){ 0 };
	return rc;
}

static void virtio_mem_remove(struct virtio_device *vdev)
{
	struct virtio_mem *vm = vdev->priv;

	for (unsigned i = 0; i < VMEM_MAX_DEVICES; i++)
		if (virtio_mem_devices[i] == vm)
			__atomic_store_n(&virtio_mem_devices[i], NULL, __ATOMIC_RELEASE);
	vmem_map_region_unregister(vm);
	spin_lock(&vm->lock);
	WRITE_ONCE(vm->broken, true); /* pollers that still see vm leave it alone */
	if (vmem_plugged_blocks(vm))
		pr_warn("%s: unbound with %llu MiB plugged: that memory stays in use", vdev->name,
			MB((uint64_t)vmem_plugged_blocks(vm) * vm->block_size));
	while (virtqueue_detach_unused(vm->vq))
		;
	free_pages_va(vm->req, 0);
	free_pages_va(vm->sections, vm->sections_order);
	free_pages_va(vm->block_state, vm->block_state_order);
	spin_unlock(&vm->lock);
	*vm = (struct virtio_mem){ 0 };
	vdev->priv = NULL;
}

/* Interrupt context: only note it; the worker reads the configuration. */
static void virtio_mem_config_changed(struct virtio_device *vdev)
{
	struct virtio_mem *vm = vdev->priv;

	if (vm) {
		__atomic_fetch_add(&vm->config_notes, 1, __ATOMIC_RELEASE);
		__atomic_store_n(&vm->config_changed, true, __ATOMIC_RELEASE);
	}
}

const struct virtio_driver virtio_mem_driver = {
	.name = "virtio-mem",
	.device_id = VIRTIO_ID_MEM,
	.features = 1ULL << VIRTIO_MEM_F_UNPLUGGED_INACCESSIBLE,
	.config_len = VMEM_CFG_LEN,
	.probe = virtio_mem_probe,
	.remove = virtio_mem_remove,
	.config_changed = virtio_mem_config_changed,
};

/* ---- Worker ---------------------------------------------------------------------------------- */

static bool vmem_due(struct virtio_mem *vm)
{
	uint64_t now = arch_time_ns();

	if (READ_ONCE(vm->broken))
		return false;
	/* No interrupt: look at the device's interrupt status ourselves (harts race harmlessly). */
	if (!vm->vdev->has_irq && now >= READ_ONCE(vm->next_poll_ns)) {
		WRITE_ONCE(vm->next_poll_ns, now + VMEM_POLL_MS * 1000000ULL);
		virtio_poll(vm->vdev);
	}
	if (__atomic_load_n(&vm->config_changed, __ATOMIC_ACQUIRE) || READ_ONCE(vm->kick))
		return true;
	return vm->retry_at_ns && now >= vm->retry_at_ns;
}

/* One run, by the gate holder: follow the target until done, failed, or the config settles. */
static void vmem_work(struct virtio_mem *vm)
{
	uint64_t t0 = arch_time_ns();
	uint32_t plugged0 = vmem_plugged_blocks(vm), online0 = vm->nr_in_state[VMEM_BLOCK_ONLINE];
	int rc = 0;

	for (int pass = 0; pass < 16; pass++) {
		if (__atomic_exchange_n(&vm->config_changed, false, __ATOMIC_ACQ_REL)) {
			vm->retries = 0; /* a new request: retry afresh */
			vm->backoff_ms = VMEM_BACKOFF_MIN_MS;
		}
		vm->kick = false;
		rc = vmem_config_update(vm);
		if (rc)
			break;
		if (vm->auto_follow)
			vm->target = vm->requested_size;
		if (vm->target > vm->usable_region_size) {
			pr_warn("%s: target %llu MiB beyond the usable region: aiming for %llu MiB",
				vm->vdev->name, MB(vm->target), MB(vm->usable_region_size));
			vm->target = vm->usable_region_size;
		}
		vm->why = NULL;
		rc = vmem_resize(vm);
		if (rc != -VMEM_ERESTART)
			break;
	}
	if (vmem_plugged_blocks(vm) != plugged0 || vm->nr_in_state[VMEM_BLOCK_ONLINE] != online0) {
		vm->last_run_ns = arch_time_ns() - t0;
		pr_info("%s: %llu MiB plugged and %llu MiB online (target %llu MiB) in %llu ms",
			vm->vdev->name, MB((uint64_t)vmem_plugged_blocks(vm) * vm->block_size),
			MB((uint64_t)(vm->nr_in_state[VMEM_BLOCK_ONLINE] +
				      vm->nr_in_state[VMEM_BLOCK_UNMOVABLE]) * vm->block_size),
			MB(vm->target), (unsigned long long)(vm->last_run_ns / 1000000));
	}
	if (rc == 0 || vm->broken) {
		vm->retry_at_ns = 0;
		vm->retries = 0;
		vm->backoff_ms = VMEM_BACKOFF_MIN_MS;
	} else if (rc == -VMEM_ERESTART) {
		vm->kick = true;
	} else if (++vm->retries > VMEM_MAX_RETRIES) {
		if (vm->retries == VMEM_MAX_RETRIES + 1)
			pr_warn("%s: target %llu MiB not reached after %d tries (%s): waiting for the "
				"next request", vm->vdev->name, MB(vm->target), VMEM_MAX_RETRIES,
				vm->why ? vm->why : errname(rc));
		vm->retry_at_ns = 0;
	} else {
		if (rc != vm->last_rc)
			pr_info("%s: target %llu MiB not reached (%s): retrying in %llu ms",
				vm->vdev->name, MB(vm->target), vm->why ? vm->why : errname(rc),
				(unsigned long long)vm->backoff_ms);
		vm->retry_at_ns = arch_time_ns() + vm->backoff_ms * 1000000ULL;
		vm->backoff_ms = MIN(vm->backoff_ms * 2, (uint64_t)VMEM_BACKOFF_MAX_MS);
	}
	vm->last_rc = rc;
}

bool virtio_mem_run(struct virtio_mem *vm, bool force, bool wait)
{
	if (wait)
		spin_lock(&vm->lock);
	else if (!spin_trylock(&vm->lock))
		return false; /* another hart runs it: the background work must not wait */
	bool ran = !vm->broken && (force || vmem_due(vm));
	if (ran)
		vmem_work(vm);
	spin_unlock(&vm->lock);
	return ran;
}

/* Background work (idle harts): run every device that has something to do. */
static bool virtio_mem_poll(void)
{
	bool did = false;

	for (unsigned i = 0; i < VMEM_MAX_DEVICES; i++) {
		struct virtio_mem *vm = __atomic_load_n(&virtio_mem_devices[i], __ATOMIC_ACQUIRE);
		if (vm && vmem_due(vm))
			did |= virtio_mem_run(vm, false, false);
	}
	return did;
}
