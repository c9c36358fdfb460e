/* SPDX-License-Identifier: MIT */
/*
 * A simulated virtio-mmio (version 2) device for host tests: a register file in memory, the
 * device side of split virtqueues, and knobs to make it misbehave. A test creates one at a
 * "physical" address, sets device_id, features, config and an on_notify callback that serves
 * requests (vsim_pop, then vsim_push), and probes it with virtio_mmio_probe(&s->slot, &vdev).
 * Reusable by any device driver's tests (virtio-mem: fill config, answer PLUG/UNPLUG in
 * on_notify).
 *
 * Interface: vsim_create, vsim_pop, vsim_push, vsim_raise_config_change, struct vsim.
 */
#ifndef RVMM_TESTS_HOST_VIRTIO_VSIM_H
#define RVMM_TESTS_HOST_VIRTIO_VSIM_H

#include <rvmm/virtio.h>
#include <rvmm/types.h>
#include <rvmm/virtio.h>

#define VSIM_QUEUES 8
#define VSIM_MAX_SEGS 16
#define VSIM_CONFIG_SIZE 256

struct vsim_queue {
	uint32_t num_max;   /* 0: no such queue */
	uint32_t num, ready;
	uint64_t desc, avail, used;
	uint16_t last_avail; /* next avail entry the device will take */
};

/* One descriptor chain as the device sees it. */
struct vsim_chain {
	uint16_t head;
	unsigned nr;
	struct { void *addr; uint32_t len; bool write; } seg[VSIM_MAX_SEGS];
	uint32_t out_len, in_len; /* bytes readable / writable by the device */
};

struct vsim {
	struct virtio_mmio_slot slot; /* pass to virtio_mmio_probe() */
	/* Identity, set before probing. */
	uint32_t magic, version, device_id, vendor_id;
	uint64_t features;           /* offered */
	uint8_t config[VSIM_CONFIG_SIZE];
	uint32_t generation;
	/* Misbehaviour knobs. */
	bool refuse_features_ok;     /* FEATURES_OK does not stick */
	bool reset_stuck;            /* status never reads 0 after a reset */
	unsigned generation_churn;   /* bump generation on this many config_generation reads */
	/* State the driver set. */
	uint64_t driver_features;
	uint32_t status, isr;
	uint32_t dev_sel, drv_sel, queue_sel;
	struct vsim_queue q[VSIM_QUEUES];
	unsigned notifies, resets, status_writes;
	uint8_t status_log[16];      /* every value written to Status, in order */
	/* Device behaviour: a kick on queue q. May call vsim_pop/vsim_push. */
	void (*on_notify)(struct vsim *s, unsigned q);
	void *priv;                  /* the test's */
};

/* A device at pa (0x200 bytes of registers, interrupt irq), magic/version valid, no queues. */
struct vsim *vsim_create(phys_addr_t pa, uint32_t irq, uint32_t device_id);

/*
 * Take the next available chain of queue q into *c (bounds-checked like a careful device).
 * Returns false if there is none (or the ring is not set up).
 */
bool vsim_pop(struct vsim *s, unsigned q, struct vsim_chain *c);

/* Put (id, len) on queue q's used ring and set the queue interrupt bit (no interrupt raised). */
void vsim_push(struct vsim *s, unsigned q, uint32_t id, uint32_t len);

/* Bump the generation, set the config-change interrupt bit and raise the interrupt. */
void vsim_raise_config_change(struct vsim *s);

#endif
