// SPDX-License-Identifier: MIT
/*
 * The modern virtio-pci transport (virtio 1.2, 4.1): a PCI driver for 1af4:1040..107f. The
 * device's registers are found through vendor capabilities (0x09), each naming a BAR, an offset
 * and a length: common configuration, notifications (with notify_off_multiplier), ISR status and
 * device-specific configuration. Every capability is checked against its BAR before use.
 * Interrupts are INTx: reading the ISR register acknowledges them (and deasserts the line).
 *
 * Transitional devices (1af4:1000..103f, QEMU's default for virtio-*-pci on the root bus) are
 * refused with a message: rvmm drives modern devices only (QEMU: disable-legacy=on).
 *
 * Interface: virtio_pci_driver (pci_drivers.c).
 */
#include <rvmm/arch_mm.h>
#include <rvmm/errno.h>
#include <rvmm/io.h>
#include <rvmm/pci.h>
#include <rvmm/printk.h>
#include <rvmm/virtio.h>
#include <stdio.h>

#include "virtio_pci.h"

#define VP_MAX_DEVICES 16
#define RESET_TIMEOUT_NS 100000000ULL /* 100 ms */

struct virtio_pci {
	struct virtio_device vdev;
	struct pci_dev *pdev;
	uint8_t *common, *isr, *notify, *device;
	uint32_t notify_len, notify_mult;
};

/* Bound devices, filled at boot (pci_init) on the boot hart only. */
static struct virtio_pci vp_devs[VP_MAX_DEVICES];
static unsigned nr_vp_devs;

static struct virtio_pci *to_vp(struct virtio_device *vdev)
{
	return vdev->transport;
}

static uint8_t vp_get_status(struct virtio_device *vdev)
{
	return readb(to_vp(vdev)->common + VIRTIO_PCI_COMMON_STATUS);
}

static void vp_set_status(struct virtio_device *vdev, uint8_t status)
{
	writeb(status, to_vp(vdev)->common + VIRTIO_PCI_COMMON_STATUS);
}

static int vp_reset(struct virtio_device *vdev)
{
	uint64_t deadline = arch_time_ns() + RESET_TIMEOUT_NS;

	vp_set_status(vdev, 0);
	/* The reset is done when the device reads 0 again (4.1.4.3.2). */
	while (vp_get_status(vdev) != 0) {
		if (arch_time_ns() > deadline)
			return -ETIMEDOUT;
		arch_cpu_relax();
	}
	return 0;
}

static uint64_t vp_get_features(struct virtio_device *vdev)
{
	uint8_t *c = to_vp(vdev)->common;

	writel(0, c + VIRTIO_PCI_COMMON_DFSELECT);
	uint64_t lo = readl(c + VIRTIO_PCI_COMMON_DF);
	writel(1, c + VIRTIO_PCI_COMMON_DFSELECT);
	return lo | (uint64_t)readl(c + VIRTIO_PCI_COMMON_DF) << 32;
}

static void vp_set_features(struct virtio_device *vdev, uint64_t features)
{
	uint8_t *c = to_vp(vdev)->common;

	writel(0, c + VIRTIO_PCI_COMMON_GFSELECT);
	writel((uint32_t)features, c + VIRTIO_PCI_COMMON_GF);
	writel(1, c + VIRTIO_PCI_COMMON_GFSELECT);
	writel((uint32_t)(features >> 32), c + VIRTIO_PCI_COMMON_GF);
}

static uint32_t vp_config_generation(struct virtio_device *vdev)
{
	return readb(to_vp(vdev)->common + VIRTIO_PCI_COMMON_CFGGENERATION);
}

static uint8_t vp_config_read8(struct virtio_device *vdev, uint32_t off)
{
	return readb(to_vp(vdev)->device + off);
}

static uint16_t vp_config_read16(struct virtio_device *vdev, uint32_t off)
{
	return readw(to_vp(vdev)->device + off);
}

static uint32_t vp_config_read32(struct virtio_device *vdev, uint32_t off)
{
	return readl(to_vp(vdev)->device + off);
}

static uint16_t vp_queue_max_size(struct virtio_device *vdev, unsigned index)
{
	uint8_t *c = to_vp(vdev)->common;

	if (index >= readw(c + VIRTIO_PCI_COMMON_NUMQ))
		return 0;
	writew(index, c + VIRTIO_PCI_COMMON_Q_SELECT);
	if (readw(c + VIRTIO_PCI_COMMON_Q_ENABLE))
		return 0;
	return readw(c + VIRTIO_PCI_COMMON_Q_SIZE);
}

static void vp_write64(uint8_t *lo, uint64_t val)
{
	writel((uint32_t)val, lo);
	writel((uint32_t)(val >> 32), lo + 4);
}

static int vp_queue_activate(struct virtio_device *vdev, struct virtqueue *vq)
{
	struct virtio_pci *vp = to_vp(vdev);
	uint8_t *c = vp->common;
	uint64_t off;

	writew(vq->index, c + VIRTIO_PCI_COMMON_Q_SELECT);
	if (readw(c + VIRTIO_PCI_COMMON_Q_ENABLE))
		return -EBUSY;
	off = (uint64_t)readw(c + VIRTIO_PCI_COMMON_Q_NOFF) * vp->notify_mult;
	if (off + 2 > vp->notify_len) {
		pr_err("%s: queue %u notify offset 0x%lx is outside the notify area (0x%x bytes)",
		       vdev->name, vq->index, (unsigned long)off, vp->notify_len);
		return -EIO;
	}
	vq->notify_addr = vp->notify + off;
	writew(vq->num, c + VIRTIO_PCI_COMMON_Q_SIZE);
	writew(VIRTIO_MSI_NO_VECTOR, c + VIRTIO_PCI_COMMON_Q_MSIX);
	vp_write64(c + VIRTIO_PCI_COMMON_Q_DESCLO, vq->desc_pa);
	vp_write64(c + VIRTIO_PCI_COMMON_Q_AVAILLO, vq->avail_pa);
	vp_write64(c + VIRTIO_PCI_COMMON_Q_USEDLO, vq->used_pa);
	writew(1, c + VIRTIO_PCI_COMMON_Q_ENABLE);
	return 0;
}

static void vp_notify(struct virtqueue *vq)
{
	writew(vq->index, vq->notify_addr);
}

static uint8_t vp_irq_ack(struct virtio_device *vdev)
{
	/* Reading ISR status clears it. */
	return readb(to_vp(vdev)->isr) & (VIRTIO_ISR_VQ | VIRTIO_ISR_CONFIG);
}

static const struct virtio_transport_ops virtio_pci_ops = {
	.get_status = vp_get_status,
	.set_status = vp_set_status,
	.reset = vp_reset,
	.get_features = vp_get_features,
	.set_features = vp_set_features,
	.config_generation = vp_config_generation,
	.config_read8 = vp_config_read8,
	.config_read16 = vp_config_read16,
	.config_read32 = vp_config_read32,
	.queue_max_size = vp_queue_max_size,
	.queue_activate = vp_queue_activate,
	.notify = vp_notify,
	.irq_ack = vp_irq_ack,
};

static void vp_interrupt(void *arg)
{
	virtio_interrupt(arg);
}

/*
 * Map the structure a virtio capability at pos describes: its BAR must be an assigned memory BAR
 * holding [offset, offset + length), and length at least min_len. NULL (after a message) if not.
 */
static uint8_t *vp_map_cap(struct pci_dev *pdev, unsigned pos, uint32_t min_len, uint32_t *len)
{
	uint8_t type = pci_read_config8(pdev, pos + VIRTIO_PCI_CAP_CFG_TYPE);
	uint8_t bar = pci_read_config8(pdev, pos + VIRTIO_PCI_CAP_BAR);
	uint32_t off = pci_read_config32(pdev, pos + VIRTIO_PCI_CAP_OFFSET);
	uint8_t *base;

	*len = pci_read_config32(pdev, pos + VIRTIO_PCI_CAP_LENGTH);
	if (bar >= PCI_NUM_BARS || !pdev->bar[bar].size || pdev->bar[bar].io) {
		pr_err("pci %s: virtio capability type %u names BAR%u, which is not a memory BAR",
		       pdev->name, type, bar);
		return NULL;
	}
	if (*len < min_len || (uint64_t)off + *len > pdev->bar[bar].size) {
		pr_err("pci %s: virtio capability type %u: 0x%x bytes at 0x%x do not fit BAR%u "
		       "(0x%lx bytes, need at least 0x%x)", pdev->name, type, *len, off, bar,
		       (unsigned long)pdev->bar[bar].size, min_len);
		return NULL;
	}
	base = pci_iomap(pdev, bar);
	return base ? base + off : NULL;
}

/* Find the first capability of each type the transport needs and map it. */
static int vp_find_caps(struct virtio_pci *vp)
{
	struct pci_dev *pdev = vp->pdev;
	unsigned seen = 0;
	uint32_t len;

	for (unsigned pos = pci_find_capability(pdev, PCI_CAP_ID_VNDR); pos;
	     pos = pci_find_next_capability(pdev, pos, PCI_CAP_ID_VNDR)) {
		uint8_t type = pci_read_config8(pdev, pos + VIRTIO_PCI_CAP_CFG_TYPE);
		uint8_t cap_len = pci_read_config8(pdev, pos + VIRTIO_PCI_CAP_LEN);

		if (type < VIRTIO_PCI_CAP_COMMON_CFG || type > VIRTIO_PCI_CAP_DEVICE_CFG ||
		    seen & (1u << type))
			continue; /* not needed, or a later (alternative) one */
		if (cap_len < VIRTIO_PCI_CAP_SIZE ||
		    (type == VIRTIO_PCI_CAP_NOTIFY_CFG && cap_len < VIRTIO_PCI_NOTIFY_CAP_SIZE)) {
			pr_err("pci %s: virtio capability type %u is only %u bytes", pdev->name,
			       type, cap_len);
			return -EINVAL;
		}
		switch (type) {
		case VIRTIO_PCI_CAP_COMMON_CFG:
			vp->common = vp_map_cap(pdev, pos, VIRTIO_PCI_COMMON_SIZE, &len);
			break;
		case VIRTIO_PCI_CAP_NOTIFY_CFG:
			vp->notify = vp_map_cap(pdev, pos, 2, &vp->notify_len);
			vp->notify_mult = pci_read_config32(pdev, pos + VIRTIO_PCI_NOTIFY_CAP_MULT);
			break;
		case VIRTIO_PCI_CAP_ISR_CFG:
			vp->isr = vp_map_cap(pdev, pos, 1, &len);
			break;
		case VIRTIO_PCI_CAP_DEVICE_CFG:
			vp->device = vp_map_cap(pdev, pos, 0, &len);
			vp->vdev.config_len = MIN(len, 4096u);
			break;
		}
		seen |= 1u << type;
	}
	if (!vp->common || !vp->notify || !vp->isr) {
		pr_err("pci %s: virtio device without usable %s%s%s capability", pdev->name,
		       vp->common ? "" : "common ", vp->notify ? "" : "notify ", vp->isr ? "" : "ISR");
		return -EINVAL;
	}
	if (!vp->device)
		vp->vdev.config_len = 0; /* some devices (entropy) have no configuration */
	return 0;
}

static int virtio_pci_probe(struct pci_dev *pdev, const struct pci_device_id *id __unused)
{
	struct virtio_pci *vp;
	int rc;

	if (pdev->device <= VIRTIO_PCI_DEVICE_LEGACY_LAST) {
		pr_warn("pci %s: virtio %04x:%04x is a transitional (legacy) device: not supported, "
			"ignored (QEMU: add disable-legacy=on)", pdev->name, pdev->vendor, pdev->device);
		return -ENODEV;
	}
	if (nr_vp_devs == VP_MAX_DEVICES) {
		pr_warn("pci %s: more than %d virtio-pci devices, ignored", pdev->name,
			VP_MAX_DEVICES);
		return -ENODEV;
	}
	vp = &vp_devs[nr_vp_devs];
	*vp = (struct virtio_pci){ .pdev = pdev };
	vp->vdev = (struct virtio_device){
		.ops = &virtio_pci_ops,
		.transport = vp,
		.device_id = pdev->device - VIRTIO_PCI_DEVICE_MODERN,
		.vendor_id = pdev->subsystem_vendor,
	};
	snprintf(vp->vdev.name, sizeof(vp->vdev.name), "virtio-pci %s", pdev->name);
	rc = vp_find_caps(vp);
	if (rc)
		return rc;
	nr_vp_devs++;
	pdev->priv = vp;
	rc = pci_request_irq(pdev, vp_interrupt, &vp->vdev);
	vp->vdev.has_irq = rc == 0;
	if (rc)
		pr_warn("%s: no interrupt (%s): drivers must poll", vp->vdev.name, errname(rc));
	/* The transport owns the function whatever happens next; the core logs the outcome. */
	virtio_register_device(&vp->vdev);
	return 0;
}

static const struct pci_device_id virtio_pci_ids[] = {
	{ VIRTIO_PCI_VENDOR, VIRTIO_PCI_DEVICE_MODERN, 0x107f },
	{ VIRTIO_PCI_VENDOR, VIRTIO_PCI_DEVICE_LEGACY_FIRST, VIRTIO_PCI_DEVICE_LEGACY_LAST },
	{ 0 },
};

const struct pci_driver virtio_pci_driver = {
	.name = "virtio-pci",
	.ids = virtio_pci_ids,
	.probe = virtio_pci_probe,
};
