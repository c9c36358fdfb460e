// SPDX-License-Identifier: MIT
//
// The simulated virtio-mmio device (see vsim.h): register reads and writes as QEMU's
// virtio-mmio would answer them, and the device half of split virtqueues over host memory
// (page_offset is 0 on the host, so a ring or buffer address is a host pointer).

#include <stdlib.h>
#include <string.h>

#include <rvmm/virtio_ring.h>

#include "../../../drivers/virtio/virtio_mmio.h"
#include "host.h"
#include "vsim.h"

static uint64_t vsim_read(void *ctx, uint64_t off, unsigned size)
{
	struct vsim *s = ctx;
	struct vsim_queue *q = &s->q[s->queue_sel % VSIM_QUEUES];

	if (off >= VIRTIO_MMIO_CONFIG) {
		uint64_t v = 0;
		off -= VIRTIO_MMIO_CONFIG;
		if (off + size <= VSIM_CONFIG_SIZE)
			memcpy(&v, s->config + off, size);
		return v;
	}
	if (size != 4)
		abort(); /* the transport must use 32-bit register accesses */
	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE: return s->magic;
	case VIRTIO_MMIO_VERSION: return s->version;
	case VIRTIO_MMIO_DEVICE_ID: return s->device_id;
	case VIRTIO_MMIO_VENDOR_ID: return s->vendor_id;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		return s->dev_sel == 0 ? (uint32_t)s->features :
		       s->dev_sel == 1 ? (uint32_t)(s->features >> 32) : 0;
	case VIRTIO_MMIO_QUEUE_NUM_MAX: return s->queue_sel < VSIM_QUEUES ? q->num_max : 0;
	case VIRTIO_MMIO_QUEUE_READY: return s->queue_sel < VSIM_QUEUES ? q->ready : 0;
	case VIRTIO_MMIO_INTERRUPT_STATUS: return s->isr;
	case VIRTIO_MMIO_STATUS: return s->reset_stuck && s->resets ? 0x80 : s->status;
	case VIRTIO_MMIO_CONFIG_GENERATION:
		if (s->generation_churn) {
			s->generation_churn--;
			s->generation++;
		}
		return s->generation;
	default: return 0;
	}
}

static void vsim_reset(struct vsim *s)
{
	s->status = 0;
	s->isr = 0;
	s->driver_features = 0;
	s->resets++;
	for (int i = 0; i < VSIM_QUEUES; i++) {
		uint32_t max = s->q[i].num_max;
		s->q[i] = (struct vsim_queue){ .num_max = max };
	}
}

static void vsim_write(void *ctx, uint64_t off, uint64_t val, unsigned size)
{
	struct vsim *s = ctx;
	struct vsim_queue *q = &s->q[s->queue_sel % VSIM_QUEUES];
	uint32_t v = (uint32_t)val;

	if (size != 4 || off >= VIRTIO_MMIO_CONFIG)
		abort(); /* 32-bit registers only; config is read-only here */
	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL: s->dev_sel = v; break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL: s->drv_sel = v; break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		if (s->drv_sel < 2) {
			s->driver_features &= ~(0xffffffffULL << (32 * s->drv_sel));
			s->driver_features |= (uint64_t)v << (32 * s->drv_sel);
		}
		break;
	case VIRTIO_MMIO_QUEUE_SEL: s->queue_sel = v; break;
	case VIRTIO_MMIO_QUEUE_NUM: q->num = v; break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW: q->desc = (q->desc & ~0xffffffffULL) | v; break;
	case VIRTIO_MMIO_QUEUE_DESC_HIGH: q->desc = (q->desc & 0xffffffffULL) | (uint64_t)v << 32; break;
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW: q->avail = (q->avail & ~0xffffffffULL) | v; break;
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH: q->avail = (q->avail & 0xffffffffULL) | (uint64_t)v << 32; break;
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW: q->used = (q->used & ~0xffffffffULL) | v; break;
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH: q->used = (q->used & 0xffffffffULL) | (uint64_t)v << 32; break;
	case VIRTIO_MMIO_QUEUE_READY:
		/* A careful device: refuses a size above its maximum or not a power of two. */
		q->ready = v && q->num && q->num <= q->num_max && !(q->num & (q->num - 1));
		break;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		s->notifies++;
		if (v < VSIM_QUEUES && s->on_notify)
			s->on_notify(s, v);
		break;
	case VIRTIO_MMIO_INTERRUPT_ACK: s->isr &= ~v; break;
	case VIRTIO_MMIO_STATUS:
		if (s->status_writes < sizeof(s->status_log))
			s->status_log[s->status_writes] = (uint8_t)v;
		s->status_writes++;
		if (v == 0) {
			vsim_reset(s);
			break;
		}
		if ((v & VIRTIO_STATUS_FEATURES_OK) &&
		    (s->refuse_features_ok || !(s->driver_features & (1ULL << VIRTIO_F_VERSION_1)) ||
		     (s->driver_features & ~s->features)))
			v &= ~VIRTIO_STATUS_FEATURES_OK;
		s->status = v;
		break;
	default: break;
	}
}

static const struct host_mmio_ops vsim_ops = { vsim_read, vsim_write };

struct vsim *vsim_create(phys_addr_t pa, uint32_t irq, uint32_t device_id)
{
	struct vsim *s = calloc(1, sizeof(*s));

	if (!s)
		abort();
	s->magic = VIRTIO_MMIO_MAGIC;
	s->version = 2;
	s->device_id = device_id;
	s->vendor_id = 0x554d4551; /* "QEMU" */
	s->features = 1ULL << VIRTIO_F_VERSION_1;
	s->slot = (struct virtio_mmio_slot){ .base = pa, .size = 0x200 };
	if (irq)
		s->slot.irq = (struct irq_spec){ .parent = HOST_IRQ_PARENT, .nr_cells = 1, .cells = { irq } };
	strcpy(s->slot.name, "/soc/virtio_mmio");
	host_mmio_add(pa, 0x200, &vsim_ops, s);
	return s;
}

bool vsim_pop(struct vsim *s, unsigned qi, struct vsim_chain *c)
{
	struct vsim_queue *q = &s->q[qi];

	if (qi >= VSIM_QUEUES || !q->ready)
		return false;
	struct vring_desc *desc = (struct vring_desc *)(uintptr_t)q->desc;
	struct vring_avail *avail = (struct vring_avail *)(uintptr_t)q->avail;
	if (q->last_avail == __atomic_load_n(&avail->idx, __ATOMIC_ACQUIRE))
		return false;
	uint16_t d = avail->ring[q->last_avail++ % q->num];
	*c = (struct vsim_chain){ .head = d };
	for (;;) {
		if (d >= q->num || c->nr == VSIM_MAX_SEGS)
			abort(); /* the driver wrote a bad chain: a driver bug the test must see */
		c->seg[c->nr].addr = (void *)(uintptr_t)desc[d].addr;
		c->seg[c->nr].len = desc[d].len;
		c->seg[c->nr].write = desc[d].flags & VRING_DESC_F_WRITE;
		if (c->seg[c->nr].write)
			c->in_len += desc[d].len;
		else
			c->out_len += desc[d].len;
		c->nr++;
		if (!(desc[d].flags & VRING_DESC_F_NEXT))
			return true;
		d = desc[d].next;
	}
}

void vsim_push(struct vsim *s, unsigned qi, uint32_t id, uint32_t len)
{
	struct vsim_queue *q = &s->q[qi];
	struct vring_used *used = (struct vring_used *)(uintptr_t)q->used;

	used->ring[used->idx % q->num] = (struct vring_used_elem){ id, len };
	__atomic_store_n(&used->idx, (uint16_t)(used->idx + 1), __ATOMIC_RELEASE);
	s->isr |= VIRTIO_ISR_VQ;
}

void vsim_raise_config_change(struct vsim *s)
{
	s->generation++;
	s->isr |= VIRTIO_ISR_CONFIG;
	host_irq_raise(s->slot.irq.cells[0]);
}
