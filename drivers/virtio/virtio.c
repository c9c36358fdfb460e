// SPDX-License-Identifier: MIT
/*
 * The virtio core: binds devices that transports found to drivers from the table in
 * virtio_drivers.c, doing the status handshake and feature negotiation of virtio 1.2 (3.1.1)
 * in one place; reads device configuration consistently (config_generation); creates queues;
 * dispatches interrupts. The `virtio` command lists the devices.
 *
 * Interface: virtio_register_device, virtio_unregister_device, virtio_interrupt, virtio_poll,
 * virtio_device_ready, virtio_device_broken, virtio_find_vq, virtio_cread8/16/32/64,
 * __virtio_cread64, virtio_cread_consistent.
 */
#include <rvmm/arch_cpu.h>
#include <rvmm/console.h>
#include <rvmm/errno.h>
#include <rvmm/printk.h>
#include <rvmm/virtio.h>

#define VIRTIO_MAX_DEVICES 64
#define CONFIG_TRIES 8 /* config_generation changes tolerated in one read */

/*
 * Every device a transport registered, bound or not, for the `virtio` command. Written only at
 * boot (single hart, before the shell), read-only afterwards: no lock.
 */
static struct virtio_device *devices[VIRTIO_MAX_DEVICES];
static unsigned nr_devices;

static const char *virtio_id_name(uint32_t id)
{
	switch (id) {
	case VIRTIO_ID_NET: return "network";
	case VIRTIO_ID_BLOCK: return "block";
	case VIRTIO_ID_CONSOLE: return "console";
	case VIRTIO_ID_RNG: return "entropy";
	case VIRTIO_ID_BALLOON: return "balloon";
	case VIRTIO_ID_MEM: return "memory";
	case VIRTIO_ID_PMEM: return "pmem";
	default: return "unknown";
	}
}

static void virtio_add_status(struct virtio_device *vdev, uint8_t bits)
{
	vdev->ops->set_status(vdev, vdev->ops->get_status(vdev) | bits);
}

static const struct virtio_driver *virtio_find_driver(uint32_t device_id)
{
	for (size_t i = 0; i < virtio_nr_drivers; i++)
		if (virtio_drivers[i]->device_id == device_id)
			return virtio_drivers[i];
	return NULL;
}

/* Free every queue; the device must be reset (not using them). */
static void virtio_del_vqs(struct virtio_device *vdev)
{
	for (unsigned i = 0; i < VIRTIO_MAX_VQS; i++) {
		if (vdev->vqs[i]) {
			vq_destroy(vdev->vqs[i]);
			vdev->vqs[i] = NULL;
		}
	}
}

/*
 * Offer the driver's features plus the transport-level ones rvmm supports, then check the device
 * kept FEATURES_OK. Foreign outcomes become errno here: no VERSION_1 -> -ENOTSUP, refusal -> -EIO.
 */
static int virtio_negotiate(struct virtio_device *vdev, const struct virtio_driver *drv)
{
	uint64_t offered = vdev->ops->get_features(vdev);
	uint64_t wanted = drv->features | (1ULL << VIRTIO_F_VERSION_1) |
			  (1ULL << VIRTIO_F_ACCESS_PLATFORM);

	vdev->device_features = offered;
	if (!(offered & (1ULL << VIRTIO_F_VERSION_1))) {
		pr_err("%s: device does not offer VIRTIO_F_VERSION_1 (legacy only): not supported",
		       vdev->name);
		return -ENOTSUP;
	}
	vdev->features = offered & wanted;
	vdev->ops->set_features(vdev, vdev->features);
	virtio_add_status(vdev, VIRTIO_STATUS_FEATURES_OK);
	if (!(vdev->ops->get_status(vdev) & VIRTIO_STATUS_FEATURES_OK)) {
		pr_err("%s: device refused features 0x%lx (FEATURES_OK not kept)", vdev->name,
		       (unsigned long)vdev->features);
		return -EIO;
	}
	return 0;
}

int virtio_register_device(struct virtio_device *vdev)
{
	const struct virtio_driver *drv;
	int rc;

	if (nr_devices == VIRTIO_MAX_DEVICES) {
		pr_err("%s: more than %d virtio devices, ignored", vdev->name, VIRTIO_MAX_DEVICES);
		return -ENOSPC;
	}
	devices[nr_devices++] = vdev;
	vdev->driver = NULL;
	vdev->ready = vdev->broken = false;

	rc = vdev->ops->reset(vdev);
	if (rc) {
		pr_err("%s: reset did not complete (%s): device ignored", vdev->name, errname(rc));
		vdev->broken = true;
		return rc;
	}
	virtio_add_status(vdev, VIRTIO_STATUS_ACKNOWLEDGE);
	drv = virtio_find_driver(vdev->device_id);
	if (!drv) {
		pr_info("%s: %s device (id %u), no driver", vdev->name,
			virtio_id_name(vdev->device_id), vdev->device_id);
		return -ENODEV;
	}
	virtio_add_status(vdev, VIRTIO_STATUS_DRIVER);
	rc = virtio_negotiate(vdev, drv);
	if (rc)
		goto err_failed;

	if (vdev->config_len < drv->config_len) {
		pr_err("%s: bad device: %u bytes of configuration, %s reads %u", vdev->name,
		       vdev->config_len, drv->name, drv->config_len);
		rc = -EINVAL;
		goto err_failed;
	}
	vdev->driver = drv;
	rc = drv->probe(vdev);
	if (rc)
		goto err_probe;
	if (!vdev->ready)
		virtio_device_ready(vdev);
	pr_info("%s: %s device bound to %s, features 0x%lx", vdev->name,
		virtio_id_name(vdev->device_id), drv->name, (unsigned long)vdev->features);
	return 0;

err_probe:
	vdev->driver = NULL;
	vdev->ready = false;
	vdev->ops->reset(vdev);
	virtio_del_vqs(vdev);
	if (rc == -ENODEV) {
		pr_info("%s: %s declined the device", vdev->name, drv->name);
		return rc;
	}
err_failed:
	pr_err("%s: %s probe failed (%s): device marked FAILED", vdev->name, drv->name,
	       errname(rc));
	virtio_add_status(vdev, VIRTIO_STATUS_FAILED);
	return rc;
}

void virtio_unregister_device(struct virtio_device *vdev)
{
	const struct virtio_driver *drv = vdev->driver;

	vdev->ops->reset(vdev);
	vdev->ready = false;
	if (drv && drv->remove)
		drv->remove(vdev);
	vdev->driver = NULL;
	virtio_del_vqs(vdev);
	for (unsigned i = 0; i < nr_devices; i++) {
		if (devices[i] == vdev) {
			devices[i] = devices[--nr_devices];
			break;
		}
	}
}

void virtio_config_interrupt(struct virtio_device *vdev)
{
	__atomic_fetch_add(&vdev->nr_config_irqs, 1, __ATOMIC_RELAXED);
	if (vdev->ops->get_status(vdev) & VIRTIO_STATUS_NEEDS_RESET)
		virtio_device_broken(vdev, "device needs a reset");
	else if (vdev->driver && vdev->driver->config_changed)
		vdev->driver->config_changed(vdev);
}

void virtio_vq_interrupt(struct virtio_device *vdev, unsigned index)
{
	struct virtqueue *vq = index < VIRTIO_MAX_VQS ? vdev->vqs[index] : NULL;

	if (!vq)
		return;
	__atomic_fetch_add(&vdev->nr_vq_irqs, 1, __ATOMIC_RELAXED);
	if (vq->callback)
		vq->callback(vq);
}

void virtio_interrupt(struct virtio_device *vdev)
{
	uint8_t isr = vdev->ops->irq_ack(vdev);

	if (isr & VIRTIO_ISR_CONFIG)
		virtio_config_interrupt(vdev);
	if (isr & VIRTIO_ISR_VQ)
		for (unsigned i = 0; i < VIRTIO_MAX_VQS; i++)
			virtio_vq_interrupt(vdev, i);
}

void virtio_poll(struct virtio_device *vdev)
{
	unsigned long flags = arch_irq_save();

	virtio_interrupt(vdev);
	arch_irq_restore(flags);
}

void virtio_device_ready(struct virtio_device *vdev)
{
	virtio_add_status(vdev, VIRTIO_STATUS_DRIVER_OK);
	vdev->ready = true;
}

void virtio_device_broken(struct virtio_device *vdev, const char *reason)
{
	if (!vdev->broken)
		pr_err("%s: %s: device no longer used", vdev->name, reason);
	WRITE_ONCE(vdev->broken, true);
}

int virtio_find_vq(struct virtio_device *vdev, unsigned index, const char *name,
		   void (*callback)(struct virtqueue *vq), struct virtqueue **out)
{
	struct virtqueue *vq;
	uint16_t max, num;
	int rc;

	if (index >= VIRTIO_MAX_VQS || vdev->vqs[index])
		return -EINVAL;
	max = vdev->ops->queue_max_size(vdev, index);
	if (max == 0) {
		pr_err("%s: queue %u (%s) does not exist", vdev->name, index, name);
		return -ENOENT;
	}
	/* Split rings are a power of two long: the largest one within both limits. */
	for (num = VIRTQUEUE_MAX_SIZE; num > max; num >>= 1)
		;
	rc = vq_create(vdev, index, num, name, callback, &vq);
	if (rc) {
		pr_err("%s: queue %u (%s): no memory for %u entries", vdev->name, index, name, num);
		return rc;
	}
	rc = vdev->ops->queue_activate(vdev, vq);
	if (rc) {
		pr_err("%s: queue %u (%s): transport refused it (%s)", vdev->name, index, name,
		       errname(rc));
		vq_destroy(vq);
		return rc;
	}
	vdev->vqs[index] = vq;
	*out = vq;
	return 0;
}

/* ---- Configuration space ------------------------------------------------------------------- */

static bool virtio_config_ok(struct virtio_device *vdev, uint32_t off, uint32_t size)
{
	if (off <= vdev->config_len && size <= vdev->config_len - off)
		return true;
	pr_warn("%s: config read of %u bytes at %u is outside its %u bytes", vdev->name, size, off,
		vdev->config_len);
	return false;
}

uint8_t virtio_cread8(struct virtio_device *vdev, uint32_t off)
{
	return virtio_config_ok(vdev, off, 1) ? vdev->ops->config_read8(vdev, off) : 0xff;
}

uint16_t virtio_cread16(struct virtio_device *vdev, uint32_t off)
{
	return virtio_config_ok(vdev, off, 2) ? vdev->ops->config_read16(vdev, off) : 0xffff;
}

uint32_t virtio_cread32(struct virtio_device *vdev, uint32_t off)
{
	return virtio_config_ok(vdev, off, 4) ? vdev->ops->config_read32(vdev, off) : ~0u;
}

uint64_t __virtio_cread64(struct virtio_device *vdev, uint32_t off)
{
	if (!virtio_config_ok(vdev, off, 8))
		return ~0ULL;
	uint64_t lo = vdev->ops->config_read32(vdev, off);
	return lo | (uint64_t)vdev->ops->config_read32(vdev, off + 4) << 32;
}

int virtio_cread_consistent(struct virtio_device *vdev,
			    int (*read)(struct virtio_device *vdev, void *arg), void *arg)
{
	for (int i = 0; i < CONFIG_TRIES; i++) {
		uint32_t gen = vdev->ops->config_generation(vdev);
		int rc = read(vdev, arg);
		if (rc)
			return rc;
		if (vdev->ops->config_generation(vdev) == gen)
			return 0;
	}
	pr_err("%s: configuration kept changing while being read (%d tries)", vdev->name,
	       CONFIG_TRIES);
	return -EIO;
}

struct cread64_arg {
	uint32_t off;
	uint64_t val;
};

static int cread64_one(struct virtio_device *vdev, void *arg)
{
	struct cread64_arg *a = arg;

	a->val = __virtio_cread64(vdev, a->off);
	return 0;
}

int virtio_cread64(struct virtio_device *vdev, uint32_t off, uint64_t *val)
{
	struct cread64_arg a = { .off = off };
	int rc = virtio_cread_consistent(vdev, cread64_one, &a);

	if (!rc)
		*val = a.val;
	return rc;
}

/* ---- `virtio` command ------------------------------------------------------------------------ */

static const char *virtio_state(const struct virtio_device *vdev)
{
	uint8_t s = vdev->ops->get_status((struct virtio_device *)vdev);

	if (vdev->broken)
		return "broken";
	if (s & VIRTIO_STATUS_FAILED)
		return "failed";
	if (s & VIRTIO_STATUS_DRIVER_OK)
		return "ready";
	return "idle";
}

static int cmd_virtio(int argc, char **argv __unused)
{
	if (argc != 1)
		return CMD_USAGE;
	if (!nr_devices)
		kprintf("no virtio devices\n");
	for (unsigned i = 0; i < nr_devices; i++) {
		struct virtio_device *vdev = devices[i];
		kprintf("%-24s id %2u %-8s %-6s driver %-10s features 0x%lx/0x%lx", vdev->name,
			vdev->device_id, virtio_id_name(vdev->device_id), virtio_state(vdev),
			vdev->driver ? vdev->driver->name : "-", (unsigned long)vdev->features,
			(unsigned long)vdev->device_features);
		for (unsigned q = 0; q < VIRTIO_MAX_VQS; q++)
			if (vdev->vqs[q])
				kprintf(" q%u:%s/%u%s", q, vdev->vqs[q]->name, vdev->vqs[q]->num,
					vdev->vqs[q]->broken ? "(broken)" : "");
		/* Seen through an interrupt, or by the driver's poll (virtio_poll) without one. */
		kprintf(" %s config %lu queues %lu\n", vdev->has_irq ? "irqs" : "polled",
			vdev->nr_config_irqs, vdev->nr_vq_irqs);
	}
	return 0;
}
CONSOLE_COMMAND(virtio, .name = "virtio", .usage = "virtio",
		.summary = "list virtio devices: transport, id, state, driver, features, queues, interrupts",
		.run = cmd_virtio);
