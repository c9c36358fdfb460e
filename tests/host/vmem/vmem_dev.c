// SPDX-License-Identifier: MIT
//
// The simulated virtio-mem device (see vmem_dev.h): requests served synchronously from the
// queue notification, as QEMU's virtio-mem answers them.

#include <stdlib.h>
#include <string.h>

#include <rvmm/virtio.h>

#include "host.h"
#include "virtio_mem.h"
#include "vmem_dev.h"

void vmem_dev_sync(struct vmem_dev *d)
{
	uint8_t *c = d->s->config;

	memcpy(c + VMEM_CFG_BLOCK_SIZE, &d->block_size, 8);
	memcpy(c + VMEM_CFG_NODE_ID, &d->node_id, 2);
	memcpy(c + VMEM_CFG_ADDR, &d->addr, 8);
	memcpy(c + VMEM_CFG_REGION_SIZE, &d->region_size, 8);
	uint64_t usable = d->usable_region_size;
	if (d->broken_rule == VMEM_BREAK_USABLE && d->plugged_size >= d->block_size)
		usable = d->plugged_size - d->block_size;
	memcpy(c + VMEM_CFG_USABLE_REGION_SIZE, &usable, 8);
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

/* Why a request's range is invalid (the rule it breaks), VMEM_BREAK_NONE if it is valid. */
static enum vmem_dev_break invalid_range(const struct vmem_dev *d, uint64_t pa, uint64_t nb)
{
	uint64_t size = nb * d->block_size;

	if (!nb)
		return VMEM_BREAK_ZERO;
	if (pa % d->block_size)
		return VMEM_BREAK_MISALIGNED;
	if (pa < d->addr || pa + size > d->addr + d->usable_region_size || pa + size <= pa)
		return VMEM_BREAK_OUTSIDE;
	return VMEM_BREAK_NONE;
}

/* ERROR for a request breaking `rule`; ACK (changing nothing) when the device breaks it. */
static uint16_t refuse(struct vmem_dev *d, enum vmem_dev_break rule)
{
	if (d->broken_rule == rule)
		return VIRTIO_MEM_RESP_ACK;
	d->nr_errors++;
	return VIRTIO_MEM_RESP_ERROR;
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

	enum vmem_dev_break bad = invalid_range(d, pa, nb);

	if (bad)
		return refuse(d, bad);
	if (plug && d->plugged_size + size > d->requested_size)
		return VIRTIO_MEM_RESP_NACK;
	if (!range_in_state(d, pa, nb, !plug))
		return refuse(d, plug ? VMEM_BREAK_PLUG_PLUGGED : VMEM_BREAK_UNPLUG_UNPLUGGED);
	if (plug && d->busy_plugs && d->busy_plugs--)
		return VIRTIO_MEM_RESP_BUSY;
	if (!plug && d->busy_unplugs && d->busy_unplugs--)
		return VIRTIO_MEM_RESP_BUSY;
	memset(&d->plugged[(pa - d->addr) / d->block_size], plug, nb);
	if (d->broken_rule == VMEM_BREAK_SIZE)
		return VIRTIO_MEM_RESP_ACK;
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
		if (d->broken_rule == VMEM_BREAK_UNPLUG_ALL)
			return VIRTIO_MEM_RESP_ACK;
		memset(d->plugged, 0, d->nr_blocks);
		d->plugged_size = 0;
		resize_usable(d, true);
		return VIRTIO_MEM_RESP_ACK;
	case VIRTIO_MEM_REQ_STATE:
		d->nr_state++;
		enum vmem_dev_break bad = invalid_range(d, req->addr, req->nb_blocks);
		if (bad) {
			*state = VIRTIO_MEM_STATE_UNPLUGGED;
			return refuse(d, bad);
		}
		*state = range_in_state(d, req->addr, req->nb_blocks, true) ?
				 (d->broken_rule == VMEM_BREAK_STATE_PLUGGED ?
					  VIRTIO_MEM_STATE_MIXED :
					  VIRTIO_MEM_STATE_PLUGGED) :
			 range_in_state(d, req->addr, req->nb_blocks, false) ?
				 VIRTIO_MEM_STATE_UNPLUGGED :
			 d->broken_rule == VMEM_BREAK_STATE_MIXED ? VIRTIO_MEM_STATE_PLUGGED :
								     VIRTIO_MEM_STATE_MIXED;
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
	if (d->broken_rule != VMEM_BREAK_ANNOUNCE)
		vsim_raise_config_change(d->s);
}

/* ---- memory ---- */

#define RAM_WORDS (1u << 16) /* open addressing; enough for the words the selftest writes */

static struct vmem_word *ram_word(struct vmem_dev *d, uint64_t pa)
{
	uint32_t h = (uint32_t)((pa >> 3) * 0x9e3779b1u) % RAM_WORDS;

	while (d->ram[h].pa && d->ram[h].pa != pa)
		h = (h + 1) % RAM_WORDS;
	if (!d->ram[h].pa) {
		if (++d->ram_len == RAM_WORDS)
			abort();
		d->ram[h].pa = pa;
	}
	return &d->ram[h];
}

/* Only plugged blocks may be touched (UNPLUGGED_INACCESSIBLE): count the others. */
static bool ram_plugged(struct vmem_dev *d, uint64_t off)
{
	if (d->plugged[off / d->block_size])
		return true;
	d->inaccessible_touches++;
	return false;
}

static uint64_t ram_read(void *ctx, uint64_t off, unsigned size)
{
	struct vmem_dev *d = ctx;

	if (size != 8 || off % 8)
		abort(); /* the selftest reads words */
	if (!ram_plugged(d, off))
		return ~0ULL;
	uint64_t v = ram_word(d, d->addr + off)->val;
	return d->broken_rule == VMEM_BREAK_MEMORY ? v ^ 1 : v;
}

static void ram_write(void *ctx, uint64_t off, uint64_t val, unsigned size)
{
	struct vmem_dev *d = ctx;

	if (size != 8 || off % 8)
		abort();
	if (ram_plugged(d, off))
		ram_word(d, d->addr + off)->val = val;
}

static const struct host_mmio_ops ram_ops = { .read = ram_read, .write = ram_write };

void vmem_dev_add_ram(struct vmem_dev *d)
{
	d->ram = calloc(RAM_WORDS, sizeof(*d->ram));
	if (!d->ram)
		abort();
	host_ram_add(d->addr, d->region_size, &ram_ops, d);
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
