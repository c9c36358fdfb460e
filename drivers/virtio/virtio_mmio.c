// SPDX-License-Identifier: MIT
/*
 * The virtio-mmio transport, version 2 only (virtio 1.2, 4.2): devices in the device tree's
 * "virtio,mmio" slots (QEMU virt has eight; -device virtio-*-device fills them), each handed
 * over by the DT driver in virtio_mmio_dt.c. A slot reading device id 0 is empty; a version 1
 * (legacy) register file is refused with a message.
 *
 * Interface: virtio_mmio_probe (one slot; host tests use it).
 */
#include <rvmm/arch_cpu.h>
#include <rvmm/errno.h>
#include <rvmm/io.h>
#include <rvmm/irq.h>
#include <rvmm/printk.h>
#include <rvmm/virtio.h>
#include <stdio.h>

#include "virtio_mmio.h"

#define RESET_TIMEOUT_NS 100000000ULL /* 100 ms for the device to read status 0 again */
#define VIRTIO_MMIO_MAX 32

struct virtio_mmio {
	struct virtio_device vdev;
	uint8_t *base;
};

/* One per DT slot, filled at boot on the boot hart only. */
static struct virtio_mmio mmio_devs[VIRTIO_MMIO_MAX];
static unsigned nr_mmio_devs;

static struct virtio_mmio *to_mmio(struct virtio_device *vdev)
{
	return vdev->transport;
}

static uint32_t mmio_read(struct virtio_device *vdev, unsigned reg)
{
	return readl(to_mmio(vdev)->base + reg);
}

static void mmio_write(struct virtio_device *vdev, unsigned reg, uint32_t val)
{
	writel(val, to_mmio(vdev)->base + reg);
}

static uint8_t mmio_get_status(struct virtio_device *vdev)
{
	return mmio_read(vdev, VIRTIO_MMIO_STATUS) & 0xff;
}

static void mmio_set_status(struct virtio_device *vdev, uint8_t status)
{
	mmio_write(vdev, VIRTIO_MMIO_STATUS, status);
}

static int mmio_reset(struct virtio_device *vdev)
{
	uint64_t deadline = arch_time_ns() + RESET_TIMEOUT_NS;

	mmio_write(vdev, VIRTIO_MMIO_STATUS, 0);
	while (mmio_get_status(vdev) != 0) {
		if (arch_time_ns() > deadline)
			return -ETIMEDOUT;
		arch_cpu_relax();
	}
	return 0;
}

static uint64_t mmio_get_features(struct virtio_device *vdev)
{
	mmio_write(vdev, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	uint64_t lo = mmio_read(vdev, VIRTIO_MMIO_DEVICE_FEATURES);
	mmio_write(vdev, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	return lo | (uint64_t)mmio_read(vdev, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
}

static void mmio_set_features(struct virtio_device *vdev, uint64_t features)
{
	mmio_write(vdev, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	mmio_write(vdev, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	mmio_write(vdev, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	mmio_write(vdev, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
}

static uint32_t mmio_config_generation(struct virtio_device *vdev)
{
	return mmio_read(vdev, VIRTIO_MMIO_CONFIG_GENERATION);
}

static uint8_t mmio_config_read8(struct virtio_device *vdev, uint32_t off)
{
	return readb(to_mmio(vdev)->base + VIRTIO_MMIO_CONFIG + off);
}

static uint16_t mmio_config_read16(struct virtio_device *vdev, uint32_t off)
{
	return readw(to_mmio(vdev)->base + VIRTIO_MMIO_CONFIG + off);
}

static uint32_t mmio_config_read32(struct virtio_device *vdev, uint32_t off)
{
	return readl(to_mmio(vdev)->base + VIRTIO_MMIO_CONFIG + off);
}

static uint16_t mmio_queue_max_size(struct virtio_device *vdev, unsigned index)
{
	mmio_write(vdev, VIRTIO_MMIO_QUEUE_SEL, index);
	if (mmio_read(vdev, VIRTIO_MMIO_QUEUE_READY))
		return 0;
	uint32_t max = mmio_read(vdev, VIRTIO_MMIO_QUEUE_NUM_MAX);
	return max > VRING_MAX_NUM ? VRING_MAX_NUM : max;
}

static int mmio_queue_activate(struct virtio_device *vdev, struct virtqueue *vq)
{
	mmio_write(vdev, VIRTIO_MMIO_QUEUE_SEL, vq->index);
	if (mmio_read(vdev, VIRTIO_MMIO_QUEUE_READY))
		return -EBUSY;
	mmio_write(vdev, VIRTIO_MMIO_QUEUE_NUM, vq->num);
	mmio_write(vdev, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)vq->desc_pa);
	mmio_write(vdev, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(vq->desc_pa >> 32));
	mmio_write(vdev, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)vq->avail_pa);
	mmio_write(vdev, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(vq->avail_pa >> 32));
	mmio_write(vdev, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)vq->used_pa);
	mmio_write(vdev, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(vq->used_pa >> 32));
	mmio_write(vdev, VIRTIO_MMIO_QUEUE_READY, 1);
	if (!mmio_read(vdev, VIRTIO_MMIO_QUEUE_READY))
		return -EIO;
	return 0;
}

static void mmio_notify(struct virtqueue *vq)
{
	mmio_write(vq->vdev, VIRTIO_MMIO_QUEUE_NOTIFY, vq->index);
}

static uint8_t mmio_irq_ack(struct virtio_device *vdev)
{
	uint32_t isr = mmio_read(vdev, VIRTIO_MMIO_INTERRUPT_STATUS);

	if (isr)
		mmio_write(vdev, VIRTIO_MMIO_INTERRUPT_ACK, isr);
	return isr & (VIRTIO_ISR_VQ | VIRTIO_ISR_CONFIG);
}

static const struct virtio_transport_ops virtio_mmio_ops = {
	.get_status = mmio_get_status,
	.set_status = mmio_set_status,
	.reset = mmio_reset,
	.get_features = mmio_get_features,
	.set_features = mmio_set_features,
	.config_generation = mmio_config_generation,
	.config_read8 = mmio_config_read8,
	.config_read16 = mmio_config_read16,
	.config_read32 = mmio_config_read32,
	.queue_max_size = mmio_queue_max_size,
	.queue_activate = mmio_queue_activate,
	.notify = mmio_notify,
	.irq_ack = mmio_irq_ack,
};

static void mmio_interrupt(void *arg)
{
	virtio_interrupt(arg);
}

int virtio_mmio_probe(const struct virtio_mmio_slot *pd, struct virtio_device **out)
{
	struct virtio_mmio *m;
	uint8_t *base;
	uint32_t magic, version, id;

	*out = NULL;
	if (nr_mmio_devs == VIRTIO_MMIO_MAX)
		return -ENOSPC;
	if (pd->size < VIRTIO_MMIO_CONFIG) {
		pr_err("virtio-mmio@%lx: %s: region of 0x%lx bytes is too small", (unsigned long)pd->base,
		       pd->name, (unsigned long)pd->size);
		return -ENODEV;
	}
	base = ioremap(pd->base, pd->size);
	if (!base)
		return -ENOMEM;
	magic = readl(base + VIRTIO_MMIO_MAGIC_VALUE);
	version = readl(base + VIRTIO_MMIO_VERSION);
	id = readl(base + VIRTIO_MMIO_DEVICE_ID);
	if (magic != VIRTIO_MMIO_MAGIC) {
		pr_err("virtio-mmio@%lx: bad magic 0x%x: not a virtio device", (unsigned long)pd->base,
		       magic);
		return -ENODEV;
	}
	if (id == 0)
		return -ENODEV;
	if (version != 2) {
		pr_err("virtio-mmio@%lx: device id %u: %s register layout (version %u) not supported%s",
		       (unsigned long)pd->base, id, version == 1 ? "legacy" : "unknown", version,
		       version == 1 ? " (QEMU: -global virtio-mmio.force-legacy=false)" : "");
		return -ENODEV;
	}

	m = &mmio_devs[nr_mmio_devs++];
	m->base = base;
	m->vdev = (struct virtio_device){
		.ops = &virtio_mmio_ops,
		.transport = m,
		.device_id = id,
		.vendor_id = readl(base + VIRTIO_MMIO_VENDOR_ID),
		.config_len = (uint32_t)MIN(pd->size - VIRTIO_MMIO_CONFIG, (uint64_t)0x1000),
	};
	snprintf(m->vdev.name, sizeof(m->vdev.name), "virtio-mmio@%lx", (unsigned long)pd->base);
	int rc = pd->irq.nr_cells ? irq_request(&pd->irq, mmio_interrupt, &m->vdev) : -ENOENT;
	m->vdev.has_irq = rc == 0;
	if (rc)
		pr_warn("%s: no interrupt (%s): drivers must poll", m->vdev.name, errname(rc));
	*out = &m->vdev;
	return virtio_register_device(&m->vdev);
}
