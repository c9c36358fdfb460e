// SPDX-License-Identifier: MIT
//
// The simulated virtio-mem device (see vmem_dev.h): requests served synchronously from the
// queue notification, as QEMU's virtio-mem answers them.

#include <stdlib.h>
#include <string.h>

#include <rvmm/virtio.h>

#include "virtio_mem.h"
#include "vmem_dev.h"

void vmem_dev_sync(struct vmem_dev *d)
{
	uint8_t *c = d->s->config;

	memcpy(c + VMEM_CFG_BLOCK_SIZE, &d->block_size, 8);
	memcpy(c + VMEM_CFG_NODE_ID, &d->node_id, 2);
	memcpy(c + VMEM_CFG_ADDR, &d->addr, 8);
	memcpy(c + VMEM_CFG_REGION_SIZE, &d->region_size, 8);
	memcpy(c + VMEM_CFG_USABLE_REGION_SIZE, &d->usable_region_size, 8);
	memcpy(c + VMEM_CFG_PLUGGED_SIZE, &d->plugged_size, 8);
	memcpy(c + VMEM_CFG_REQUESTED_SIZE, &d->requested_size, 8);
	d->s->generation++;
}

static void resize_usable(struct vmem_dev *d, bool can_shrink)
{
	uint64_t size = d->requested_size + VMEM_DEV_EXTENT;

	if (d->block_size && size % d->block_size)
		size += d->block_size - size % d->block_size;
	size = MIN(size, d->region_size);
	if (size > d->usable_region_size || can_shrink)
		d->usable_region_size = size;
}

static bool valid_range(const struct vmem_dev *d, uint64_t pa, uint64_t nb)
{
	uint64_t size = nb * d->block_size;

	return nb && pa % d->block_size == 0 && pa >= d->addr &&
	       pa + size <= d->addr + d->usable_region_size && pa + size > pa;
}

static bool range_in_state(const struct vmem_dev *d, uint64_t pa, uint64_t nb, bool plugged)
{
	uint64_t first = (pa - d->addr) / d->block_size;

	for (uint64_t i = first; i < first + nb; i++)
		if (d->plugged[i] != plugged)
			return false;
	return true;
}

static uint16_t state_change(struct vmem_dev *d, uint64_t pa, uint16_t nb, bool plug)
{
	uint64_t size = (uint64_t)nb * d->block_size;

	if (!valid_range(d, pa, nb)) {
		d->nr_errors++;
		return VIRTIO_MEM_RESP_ERROR;
	}
	if (plug && d->plugged_size + size > d->requested_size)
		return VIRTIO_MEM_RESP_NACK;
	if (!range_in_state(d, pa, nb, !plug)) {
		d->nr_errors++;
		return VIRTIO_MEM_RESP_ERROR;
	}
	if (plug && d->busy_plugs && d->busy_plugs--)
		return VIRTIO_MEM_RESP_BUSY;
	if (!plug && d->busy_unplugs && d->busy_unplugs--)
		return VIRTIO_MEM_RESP_BUSY;
	memset(&d->plugged[(pa - d->addr) / d->block_size], plug, nb);
	if (plug)
		d->plugged_size += size;
	else
		d->plugged_size -= size;
	return VIRTIO_MEM_RESP_ACK;
}

static uint16_t answer(struct vmem_dev *d, const struct virtio_mem_req *req, uint16_t *state)
{
	if (d->error_all)
		return VIRTIO_MEM_RESP_ERROR;
	if (req->nb_blocks > d->max_nb_blocks)
		d->max_nb_blocks = req->nb_blocks;
	switch (req->type) {
	case VIRTIO_MEM_REQ_PLUG:
		d->nr_plug++;
		if (d->nack_plugs) {
			d->nack_plugs--;
			return VIRTIO_MEM_RESP_NACK;
		}
		return state_change(d, req->addr, req->nb_blocks, true);
	case VIRTIO_MEM_REQ_UNPLUG:
		d->nr_unplug++;
		return state_change(d, req->addr, req->nb_blocks, false);
	case VIRTIO_MEM_REQ_UNPLUG_ALL:
		d->nr_unplug_all++;
		if (d->busy_unplug_alls) {
			d->busy_unplug_alls--;
			return VIRTIO_MEM_RESP_BUSY;
		}
		memset(d->plugged, 0, d->nr_blocks);
		d->plugged_size = 0;
		resize_usable(d, true);
		return VIRTIO_MEM_RESP_ACK;
	case VIRTIO_MEM_REQ_STATE:
		d->nr_state++;
		if (!valid_range(d, req->addr, req->nb_blocks))
			return VIRTIO_MEM_RESP_ERROR;
		*state = range_in_state(d, req->addr, req->nb_blocks, true) ? 0 :
			 range_in_state(d, req->addr, req->nb_blocks, false) ? 1 : 2;
		return VIRTIO_MEM_RESP_ACK;
	default:
		d->nr_errors++;
		return VIRTIO_MEM_RESP_ERROR;
	}
}

static void vmem_dev_notify(struct vsim *s, unsigned q)
{
	struct vmem_dev *d = s->priv;
	struct vsim_chain c;

	while (vsim_pop(s, q, &c)) {
		struct virtio_mem_req req;
		struct virtio_mem_resp resp = { 0 };

		if (d->silent)
			continue;
		bool fail = d->fail_nth && !--d->fail_nth;
		if (fail) {
			d->fail_hits++;
			if (d->fail_answer == VMEM_DEV_NO_ANSWER)
				continue;
		}
		/* QEMU: one readable request of at least 24 bytes, then writable room for 10. */
		if (c.nr != 2 || c.seg[0].write || !c.seg[1].write || c.seg[0].len < sizeof(req) ||
		    c.seg[1].len < sizeof(resp)) {
			d->protocol_errors++;
			vsim_push(s, q, c.head, 0);
			continue;
		}
		memcpy(&req, c.seg[0].addr, sizeof(req));
		resp.type = fail ? (uint16_t)d->fail_answer : answer(d, &req, &resp.state);
		memcpy(c.seg[1].addr, &resp, sizeof(resp));
		vmem_dev_sync(d);
		vsim_push(s, q, c.head, sizeof(resp));
		if (d->after_request)
			d->after_request(d, req.type);
	}
}

struct vmem_dev *vmem_dev_create(phys_addr_t mmio_pa, uint32_t irq, uint64_t block_size,
				 uint64_t addr, uint64_t region_size, uint64_t requested,
				 uint64_t plugged)
{
	struct vmem_dev *d = calloc(1, sizeof(*d));

	if (!d)
		abort();
	d->s = vsim_create(mmio_pa, irq, VIRTIO_ID_MEM);
	d->s->features |= 1ULL << VIRTIO_MEM_F_UNPLUGGED_INACCESSIBLE;
	d->s->q[0].num_max = 128;
	d->s->priv = d;
	d->s->on_notify = vmem_dev_notify;
	d->block_size = block_size;
	d->addr = addr;
	d->region_size = region_size;
	d->requested_size = requested;
	d->nr_blocks = block_size ? region_size / block_size : 0;
	d->plugged = calloc(d->nr_blocks + 1, 1);
	if (!d->plugged)
		abort();
	if (block_size) {
		uint64_t n = MIN(plugged / block_size, d->nr_blocks);
		memset(d->plugged, 1, n);
	}
	d->plugged_size = plugged;
	resize_usable(d, true);
	if (d->usable_region_size < plugged)
		d->usable_region_size = MIN(plugged, region_size);
	vmem_dev_sync(d);
	return d;
}

void vmem_dev_request(struct vmem_dev *d, uint64_t requested)
{
	d->requested_size = requested;
	resize_usable(d, false);
	vmem_dev_sync(d);
	vsim_raise_config_change(d->s);
}

bool vmem_dev_is_plugged(const struct vmem_dev *d, phys_addr_t pa, uint64_t size)
{
	if (pa < d->addr || pa + size > d->addr + d->region_size || pa % d->block_size ||
	    size % d->block_size)
		return false;
	return range_in_state(d, pa, size / d->block_size, true);
}

uint64_t vmem_dev_plugged_blocks(const struct vmem_dev *d)
{
	uint64_t n = 0;

	for (uint64_t i = 0; i < d->nr_blocks; i++)
		n += d->plugged[i];
	return n;
}
