// SPDX-License-Identifier: MIT
/*
 * The modern virtio-pci transport (virtio 1.2, 4.1): a PCI driver for 1af4:1000..107f. The
 * device's registers are found through vendor capabilities (0x09), each naming a BAR, an offset
 * and a length: common configuration, notifications (with notify_off_multiplier), ISR status and
 * device-specific configuration. Every capability is checked against its BAR before use.
 * Interrupts: with an MSI controller and an MSI-X capability, one vector for configuration
 * changes (vector 0) and one per queue (1 + index); a table too small for that gets one vector
 * for the configuration and one for all queues, and a single entry serves everything through the
 * ISR register, as INTx does. Without MSI-X, INTx: reading the ISR register acknowledges it (and
 * deasserts the line). The vectors are told to the device after every reset (they reset with
 * it) and for each queue as it is enabled; a device that cannot take one reads back NO_VECTOR.
 *
 * Transitional devices (1af4:1000..103f, QEMU's default for virtio-*-pci on the root bus) carry
 * the same modern capabilities beside their legacy I/O BAR: they are driven through those, their
 * virtio device id being the PCI subsystem id (virtio 1.2, 4.1.2.1). Only a legacy-only device
 * (no common configuration capability) is refused, with a message.
 *
 * Interface: virtio_pci_driver (pci_drivers.c).
 */
#include <rvmm/arch_cpu.h>
#include <rvmm/errno.h>
#include <rvmm/io.h>
#include <rvmm/pci.h>
#include <rvmm/printk.h>
#include <rvmm/virtio.h>
#include <stdio.h>

#include "virtio_pci.h"

#define VP_MAX_DEVICES 16
#define RESET_TIMEOUT_NS 100000000ULL /* 100 ms */

/* What an MSI-X vector of a virtio-pci device stands for. */
enum vp_vector_kind { VP_VEC_CONFIG, VP_VEC_QUEUE, VP_VEC_ALL_QUEUES, VP_VEC_ISR };

struct virtio_pci;

struct vp_vector {
	struct virtio_pci *vp;
	enum vp_vector_kind kind;
	unsigned queue;              /* VP_VEC_QUEUE: its index */
};

struct virtio_pci {
	struct virtio_device vdev;
	struct pci_dev *pdev;
	uint8_t *common, *isr, *notify, *device;
	uint32_t notify_len, notify_mult;
	unsigned nr_vectors;         /* MSI-X vectors in use; 0: INTx (or no interrupt) */
	struct vp_vector vec[PCI_MSIX_MAX_VECTORS];
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

// The MSI-X vector queue index raises: its own, the shared queue vector, or the only one.
static uint16_t vp_queue_vector(const struct virtio_pci *vp, unsigned index)
{
	if (vp->nr_vectors == 0)
		return VIRTIO_MSI_NO_VECTOR;
	if (vp->nr_vectors == 1)
		return 0;
	return vp->vec[1].kind == VP_VEC_ALL_QUEUES ? 1 : (uint16_t)(1 + index);
}

// Tell the device the configuration vector (reset clears it): 0, or -EIO if it refuses.
static int vp_set_config_vector(struct virtio_pci *vp)
{
	if (vp->nr_vectors == 0)
		return 0;
	writew(0, vp->common + VIRTIO_PCI_COMMON_MSIX);
	if (readw(vp->common + VIRTIO_PCI_COMMON_MSIX) != 0) {
		pr_err("%s: device refused MSI-X vector 0 for configuration changes",
		       vp->vdev.name);
		return -EIO;
	}
	return 0;
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
	return vp_set_config_vector(to_vp(vdev));
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
	writew(vp_queue_vector(vp, vq->index), c + VIRTIO_PCI_COMMON_Q_MSIX);
	if (readw(c + VIRTIO_PCI_COMMON_Q_MSIX) != vp_queue_vector(vp, vq->index)) {
		pr_err("%s: queue %u: device refused MSI-X vector %u", vdev->name, vq->index,
		       vp_queue_vector(vp, vq->index));
		return -EIO;
	}
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

static void vp_vector_interrupt(void *arg)
{
	struct vp_vector *v = arg;
	struct virtio_device *vdev = &v->vp->vdev;

	switch (v->kind) {
	case VP_VEC_CONFIG:
		virtio_config_interrupt(vdev);
		break;
	case VP_VEC_QUEUE:
		virtio_vq_interrupt(vdev, v->queue);
		break;
	case VP_VEC_ALL_QUEUES:
		for (unsigned i = 0; i < VIRTIO_MAX_VQS; i++)
			virtio_vq_interrupt(vdev, i);
		break;
	case VP_VEC_ISR:
		virtio_interrupt(vdev);
		break;
	}
}

/*
 * MSI-X vectors for the configuration and the queues: one each if the table allows, else
 * configuration + all queues, else one for everything. 0, or -errno with INTx left as it was.
 */
static int vp_setup_msix(struct virtio_pci *vp)
{
	unsigned nq = readw(vp->common + VIRTIO_PCI_COMMON_NUMQ);
	unsigned want[] = { 1 + nq, 2, 1 };
	int rc = -ENOSPC;

	for (unsigned i = 0; i < ARRAY_SIZE(want) && rc == -ENOSPC; i++) {
		if (want[i] > PCI_MSIX_MAX_VECTORS || (i > 0 && want[i] >= want[i - 1]))
			continue;
		rc = pci_msix_enable(vp->pdev, want[i]);
		if (rc == 0)
			vp->nr_vectors = want[i];
	}
	if (rc)
		return rc;
	for (unsigned v = 0; v < vp->nr_vectors; v++) {
		struct vp_vector *vec = &vp->vec[v];

		*vec = (struct vp_vector){ .vp = vp, .kind = VP_VEC_CONFIG };
		if (vp->nr_vectors == 1)
			vec->kind = VP_VEC_ISR;
		else if (v > 0 && vp->nr_vectors == 2 && nq > 1)
			vec->kind = VP_VEC_ALL_QUEUES;
		else if (v > 0)
			*vec = (struct vp_vector){ .vp = vp, .kind = VP_VEC_QUEUE, .queue = v - 1 };
		rc = pci_msix_set_vector(vp->pdev, v, vp_vector_interrupt, vec);
		if (rc) {
			pci_msix_disable(vp->pdev);
			vp->nr_vectors = 0;
			return rc;
		}
	}
	return 0;
}

// MSI-X if possible, else INTx; a device with neither is polled by its driver.
static void vp_setup_irq(struct virtio_pci *vp)
{
	int rc = vp_setup_msix(vp);

	vp->vdev.has_irq = rc == 0;
	if (rc == 0) {
		pr_info("%s: MSI-X, %u vector%s (%s)", vp->vdev.name, vp->nr_vectors,
			vp->nr_vectors > 1 ? "s" : "",
			vp->nr_vectors == 1 ? "shared by everything" :
			vp->vec[1].kind == VP_VEC_ALL_QUEUES ? "configuration, all queues" :
							       "configuration, one per queue");
		return;
	}
	if (rc != -ENODEV)
		pr_warn("%s: MSI-X not usable (%s): INTx instead", vp->vdev.name, errname(rc));
	rc = pci_request_irq(vp->pdev, vp_interrupt, &vp->vdev);
	vp->vdev.has_irq = rc == 0;
	if (rc)
		pr_warn("%s: no interrupt (%s): drivers must poll", vp->vdev.name, errname(rc));
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

static bool vp_has_common_cap(struct pci_dev *pdev)
{
	for (unsigned pos = pci_find_capability(pdev, PCI_CAP_ID_VNDR); pos;
	     pos = pci_find_next_capability(pdev, pos, PCI_CAP_ID_VNDR))
		if (pci_read_config8(pdev, pos + VIRTIO_PCI_CAP_CFG_TYPE) == VIRTIO_PCI_CAP_COMMON_CFG)
			return true;
	return false;
}

static int virtio_pci_probe(struct pci_dev *pdev, const struct pci_device_id *id __unused)
{
	bool transitional = pdev->device <= VIRTIO_PCI_DEVICE_LEGACY_LAST;
	struct virtio_pci *vp;
	int rc;

	if (transitional && !vp_has_common_cap(pdev)) {
		pr_warn("pci %s: virtio %04x:%04x is a legacy device without modern capabilities: "
			"not supported, ignored", pdev->name, pdev->vendor, pdev->device);
		return -ENODEV;
	}
	if (transitional && pdev->subsystem == 0) {
		pr_warn("pci %s: transitional virtio %04x:%04x names no device type (subsystem id 0), "
			"ignored", pdev->name, pdev->vendor, pdev->device);
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
		.device_id = transitional ? pdev->subsystem : pdev->device - VIRTIO_PCI_DEVICE_MODERN,
		.vendor_id = pdev->subsystem_vendor,
	};
	snprintf(vp->vdev.name, sizeof(vp->vdev.name), "virtio-pci %s", pdev->name);
	rc = vp_find_caps(vp);
	if (rc)
		return rc;
	nr_vp_devs++;
	pdev->priv = vp;
	vp_setup_irq(vp);
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
