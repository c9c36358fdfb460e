// SPDX-License-Identifier: MIT
/*
 * The virtio,mmio device tree binding: each enabled slot node becomes a virtio_mmio_slot (its
 * register file and interrupt) for virtio_mmio_probe(). An empty slot is "not mine" (-ENODEV).
 *
 * Interface: the DT driver below.
 */
#include <rvmm/device.h>
#include <rvmm/dt.h>
#include <rvmm/errno.h>
#include <rvmm/irq.h>
#include <rvmm/virtio.h>

static int virtio_mmio_dt_probe(const struct dt_device *dev)
{
	struct virtio_mmio_slot slot = { 0 };
	struct virtio_device *vdev;
	int rc = dt_reg_phys(dev->plat, dev->fdt, dev->node, 0, &slot.base, &slot.size);

	if (rc)
		return rc == -ENOENT ? -EINVAL : rc;
	rc = irq_parse_dt(dev->fdt, dev->node, 0, &slot.irq);
	if (rc)
		slot.irq.nr_cells = 0;
	dt_copy(slot.name, sizeof(slot.name), dev->name);
	rc = virtio_mmio_probe(&slot, &vdev);
	/* A device the core holds (bound or not) keeps its slot; an empty slot is no device. */
	return vdev ? 0 : rc;
}

static const char *const virtio_mmio_compatible[] = { "virtio,mmio", NULL };

DT_DRIVER(virtio_mmio, .name = "virtio-mmio", .compatible = virtio_mmio_compatible,
	  .stage = DT_STAGE_DEVICE, .probe = virtio_mmio_dt_probe);
