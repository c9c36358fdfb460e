/* SPDX-License-Identifier: MIT */
/*
 * virtio: where device drivers (virtio_rng.c, virtio_mem.c) and transports (virtio_mmio.c,
 * virtio_pci.c) meet. A transport finds a device, fills a struct virtio_device with its ops and
 * calls virtio_register_device(); the core resets the device, negotiates features with the driver
 * that matches the device id (a table in drivers/virtio/virtio_drivers.c), and calls its probe.
 * The driver then sees only the functions below: it cannot tell which transport it is on.
 *
 * Status handshake (virtio 1.2, 3.1.1), done by the core:
 *   reset -> ACKNOWLEDGE -> DRIVER -> features -> FEATURES_OK (re-read) -> probe: queues ->
 *   DRIVER_OK (virtio_device_ready, or by the core after probe); FAILED on any error.
 *
 * Interface:
 *   transports  virtio_register_device, virtio_unregister_device, virtio_interrupt,
 *               virtio_config_interrupt, virtio_vq_interrupt
 *   drivers     virtio_has_feature, virtio_cread8/16/32, virtio_cread64, __virtio_cread64,
 *               virtio_cread_consistent, virtio_find_vq, virtio_device_ready, virtio_device_broken
 *   virtqueues  virtqueue_add, virtqueue_kick, virtqueue_get_used, virtqueue_wait_used,
 *               virtqueue_num_free, virtqueue_detach_unused, virtqueue_is_broken
 *   boot        virtio_mmio_probe and its DT driver (virtio_mmio.c); virtio-pci binds
 *               through pci_init() (virtio_pci.c)
 *   devices     virtio_rng_read (virtio_rng.c)
 */
#ifndef RVMM_VIRTIO_H
#define RVMM_VIRTIO_H

#include <rvmm/irq.h>
#include <rvmm/spinlock.h>
#include <rvmm/types.h>
#include <rvmm/virtio_ring.h>

/* Device status bits (3.1.1) */
#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED 128

/* Transport-independent feature bits (6). Device bits are 0..23 (and 50..127). */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32      /* required: rvmm drives modern devices only */
#define VIRTIO_F_ACCESS_PLATFORM 33 /* accepted: DMA address = physical address on rvmm */
#define VIRTIO_F_RING_PACKED 34

/* Device ids (5) */
#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG 4
#define VIRTIO_ID_BALLOON 5
#define VIRTIO_ID_MEM 24
#define VIRTIO_ID_PMEM 27

/* Interrupt causes, as the PCI ISR register and the MMIO InterruptStatus report them. */
#define VIRTIO_ISR_VQ 1
#define VIRTIO_ISR_CONFIG 2

#define VIRTIO_MAX_VQS 8
#define VIRTIO_NAME_LEN 32
#define VIRTQUEUE_MAX_SIZE 256 /* rvmm caps every queue at this many descriptors */
#define VIRTQUEUE_MAX_SG 16    /* and a chain at this many buffers */

struct virtio_device;
struct virtqueue;

/*
 * What a transport does for the core. All are required. Offsets of config accessors are within
 * the device-specific configuration space, already checked against vdev->config_len by the core.
 */
struct virtio_transport_ops {
	uint8_t (*get_status)(struct virtio_device *vdev);
	void (*set_status)(struct virtio_device *vdev, uint8_t status); /* never 0: use reset */
	/* Write status 0 and wait (bounded) until it reads back 0: 0 or -ETIMEDOUT. */
	int (*reset)(struct virtio_device *vdev);
	uint64_t (*get_features)(struct virtio_device *vdev);
	void (*set_features)(struct virtio_device *vdev, uint64_t features);
	uint32_t (*config_generation)(struct virtio_device *vdev);
	uint8_t (*config_read8)(struct virtio_device *vdev, uint32_t off);
	uint16_t (*config_read16)(struct virtio_device *vdev, uint32_t off);
	uint32_t (*config_read32)(struct virtio_device *vdev, uint32_t off);
	/* Largest size of queue index, 0 if there is no such queue or it is already enabled. */
	uint16_t (*queue_max_size)(struct virtio_device *vdev, unsigned index);
	/* Give the device vq's size and ring addresses and enable it; 0 or -errno. */
	int (*queue_activate)(struct virtio_device *vdev, struct virtqueue *vq);
	/* Tell the device there are new available buffers in vq. */
	void (*notify)(struct virtqueue *vq);
	/* Read and acknowledge the pending interrupt causes (VIRTIO_ISR_*). */
	uint8_t (*irq_ack)(struct virtio_device *vdev);
};

struct virtio_device {
	/* Filled by the transport before virtio_register_device(). */
	const struct virtio_transport_ops *ops;
	void *transport;           /* the transport's state for this device */
	uint32_t device_id;        /* VIRTIO_ID_* */
	uint32_t vendor_id;
	uint32_t config_len;       /* bytes of device-specific configuration space */
	char name[VIRTIO_NAME_LEN];/* "virtio-mmio@10008000", "virtio-pci 00:02.0": in messages */
	bool has_irq;              /* an interrupt handler is registered; else drivers poll */

	/* Owned by the core. */
	const struct virtio_driver *driver; /* bound driver, NULL if none */
	uint64_t features;         /* negotiated (device & driver) */
	uint64_t device_features;  /* as offered, for the `virtio` command */
	bool ready;                /* DRIVER_OK set */
	bool broken;               /* device misbehaved or needs a reset: queues refuse work */
	struct virtqueue *vqs[VIRTIO_MAX_VQS];
	void *priv;                /* the driver's */
	/* Interrupts taken (or, without one, found by virtio_poll), by cause; atomic increments,
	 * read by the `virtio` command. */
	unsigned long nr_config_irqs, nr_vq_irqs;
};

/* A device driver. The table of them is drivers/virtio/virtio_drivers.c. */
struct virtio_driver {
	const char *name;
	uint32_t device_id;
	/* Device feature bits the driver can use; the core adds VERSION_1 and ACCESS_PLATFORM. */
	uint64_t features;
	/* Bytes of device configuration the driver reads: the core refuses a device with fewer. */
	uint32_t config_len;
	/*
	 * Called with features negotiated (FEATURES_OK accepted), before DRIVER_OK: read and check
	 * config, set up queues; call virtio_device_ready() before using them if the probe itself
	 * sends requests. Returns 0, or -errno after a message (the core then resets the device, frees
	 * its queues and sets FAILED). -ENODEV means "not mine".
	 */
	int (*probe)(struct virtio_device *vdev);
	/* Undo probe. The core has reset the device already (no buffer is in flight any more). */
	void (*remove)(struct virtio_device *vdev);
	/* The device's configuration changed (interrupt context). May be NULL. */
	void (*config_changed)(struct virtio_device *vdev);
};

extern const struct virtio_driver *const virtio_drivers[];
extern const size_t virtio_nr_drivers;

/* ---- For transports (drivers/virtio/virtio.c) ------------------------------------------------ */

/*
 * Take a device the transport found: reset it, find its driver, negotiate and probe. Returns 0
 * when a driver bound, -ENODEV when none matched (device left ACKNOWLEDGEd), or -errno when
 * negotiation or probe failed (device left FAILED, queues freed). The device stays listed by the
 * `virtio` command in every case, so the transport must keep vdev alive.
 */
int virtio_register_device(struct virtio_device *vdev);

/* Unbind: reset the device, then the driver's remove(), then free the queues. */
void virtio_unregister_device(struct virtio_device *vdev);

/* The transport's interrupt handler calls this: acks the device, runs config_changed and the
 * queue callbacks. */
void virtio_interrupt(struct virtio_device *vdev);

/* Per-cause forms, for transports with a vector per cause (virtio-pci with MSI-X): the
 * configuration changed; queue index has used buffers (no such queue: nothing happens). */
void virtio_config_interrupt(struct virtio_device *vdev);
void virtio_vq_interrupt(struct virtio_device *vdev, unsigned index);

/*
 * For a device without interrupt (!vdev->has_irq): look at its interrupt status as the handler
 * would (config_changed and queue callbacks run with this hart's interrupts masked). Drivers call
 * it from their polling loop; without it a configuration change is never seen.
 */
void virtio_poll(struct virtio_device *vdev);

/* ---- For drivers ---------------------------------------------------------------------------- */

static inline bool virtio_has_feature(const struct virtio_device *vdev, unsigned bit)
{
	return bit < 64 && (vdev->features >> bit) & 1;
}

/*
 * Device configuration reads at a byte offset, with the field's natural width. Reading outside
 * config_len gives all ones and a warning. A 64-bit field is two 32-bit reads: virtio_cread64
 * repeats them until config_generation is stable (bounded; -EIO if it never is), __virtio_cread64
 * does not (for use inside virtio_cread_consistent).
 */
uint8_t virtio_cread8(struct virtio_device *vdev, uint32_t off);
uint16_t virtio_cread16(struct virtio_device *vdev, uint32_t off);
uint32_t virtio_cread32(struct virtio_device *vdev, uint32_t off);
uint64_t __virtio_cread64(struct virtio_device *vdev, uint32_t off);
int virtio_cread64(struct virtio_device *vdev, uint32_t off, uint64_t *val);

/*
 * Run read(vdev, arg), which reads several config fields into arg, until the configuration
 * generation is the same before and after (at most a few tries). Returns read()'s error, or -EIO
 * if the device kept changing.
 */
int virtio_cread_consistent(struct virtio_device *vdev,
			    int (*read)(struct virtio_device *vdev, void *arg), void *arg);

/*
 * Set DRIVER_OK: the device may now use the queues. Call after the queues are set up. The core
 * calls it after a successful probe if the driver did not.
 */
void virtio_device_ready(struct virtio_device *vdev);

/* Stop using the device after it misbehaved: queues refuse new work. Logs reason once. */
void virtio_device_broken(struct virtio_device *vdev, const char *reason);

/*
 * Allocate queue index (size min(device maximum, VIRTQUEUE_MAX_SIZE)) and give it to the device.
 * callback (may be NULL) runs from virtio_interrupt() when the device used buffers. Only during
 * probe. Returns 0 with *out set, -ENOENT if the device has no such queue, -ENOMEM, or the
 * transport's error; nothing is left allocated on error. The core frees queues on unbind.
 */
int virtio_find_vq(struct virtio_device *vdev, unsigned index, const char *name,
		   void (*callback)(struct virtqueue *vq), struct virtqueue **out);

/* ---- Virtqueues (drivers/virtio/virtqueue.c) ------------------------------------------------ */

/* A buffer: kernel direct-map memory (get_free_pages); DMA address = __pa(addr). */
struct virtio_sg {
	void *addr;
	uint32_t len;
};

struct vq_slot {
	void *token;     /* the driver's, returned by virtqueue_get_used; NULL while free */
	uint16_t ndescs; /* descriptors in this chain */
	uint32_t in_len; /* bytes the device may write: used lengths above this are nonsense */
};

struct virtqueue {
	struct virtio_device *vdev;
	unsigned index;
	const char *name;
	void (*callback)(struct virtqueue *vq);
	uint16_t num;              /* ring size, a power of two */
	struct vring_desc *desc;   /* rings, in one block of 2^order pages */
	struct vring_avail *avail;
	struct vring_used *used;
	phys_addr_t desc_pa, avail_pa, used_pa;
	unsigned order;
	void *notify_addr;         /* the transport's: where notify() writes */

	/*
	 * lock protects the fields below and the rings' driver side. Taken by virtqueue_add/kick/
	 * get_used/detach_unused with interrupts masked (callbacks run in interrupt context).
	 * Innermost: no other lock is taken under it except printk's. Class LOCK_CLASS_VIRTQUEUE:
	 * callers may hold hotplug_lock or a zone lock, never another queue's lock.
	 */
	spinlock_t lock;
	uint16_t free_head;        /* first free descriptor (chained through next) */
	uint16_t num_free;
	uint16_t avail_idx;        /* our copy of avail->idx */
	uint16_t last_used;        /* used entries consumed so far (free-running) */
	uint16_t added;            /* added since the last kick */
	uint16_t inflight;         /* chains the device has */
	bool broken;
	struct vq_slot *slot;      /* num entries, indexed by chain head */
};

/*
 * Put a chain of nr_out device-readable then nr_in device-writable buffers (sg[0..nr_out+nr_in))
 * on the available ring; token (not NULL) comes back from virtqueue_get_used. Does not notify:
 * call virtqueue_kick. Returns 0, -ENOSPC (not enough free descriptors), -EINVAL (no buffers,
 * more than VIRTQUEUE_MAX_SG, a zero length, a NULL token), -EFAULT (a buffer outside the direct
 * map), or -EIO if vq is broken. Nothing is changed on error. Takes vq->lock.
 */
int virtqueue_add(struct virtqueue *vq, const struct virtio_sg *sg, unsigned nr_out,
		  unsigned nr_in, void *token);

/* Publish what was added and notify the device (unless it asked not to be). Takes vq->lock. */
void virtqueue_kick(struct virtqueue *vq);

/*
 * Take one buffer chain the device is done with: 0 with *token and *len (bytes written, within
 * what the chain can hold) set; -EAGAIN if there is none yet; -EIO if the device returned
 * nonsense (an id that is not a chain in flight, a length beyond the chain, an index that runs
 * ahead): the queue is marked broken with a message and gives nothing more. Takes vq->lock.
 */
int virtqueue_get_used(struct virtqueue *vq, void **token, uint32_t *len);

/*
 * virtqueue_get_used, polling for up to timeout_ms: -ETIMEDOUT (and nothing changed) if the
 * device did not answer in time.
 */
int virtqueue_wait_used(struct virtqueue *vq, uint64_t timeout_ms, void **token, uint32_t *len);

/* Descriptors free now. */
unsigned virtqueue_num_free(struct virtqueue *vq);

/*
 * After the device was reset: take back one chain still in flight and return its token (NULL
 * when none is left), so the driver can free its buffers.
 */
void *virtqueue_detach_unused(struct virtqueue *vq);

static inline bool virtqueue_is_broken(const struct virtqueue *vq)
{
	return READ_ONCE(vq->broken);
}

/* virtqueue.c internals the core uses to create and free queues. */
int vq_create(struct virtio_device *vdev, unsigned index, uint16_t num, const char *name,
	      void (*callback)(struct virtqueue *vq), struct virtqueue **out);
void vq_destroy(struct virtqueue *vq);

/* ---- Boot (virtio_mmio.c) ------------------------------------------------------------------- */

/* One virtio-mmio register file: the DT driver in virtio_mmio.c fills it from a virtio,mmio node. */
struct virtio_mmio_slot {
	phys_addr_t base;
	uint64_t size;
	struct irq_spec irq;  /* nr_cells 0: no interrupt (the device is polled) */
	char name[48];        /* the DT node, for messages */
};

/*
 * Probe one slot: -ENODEV for an empty slot (quietly) or one that is not virtio-mmio version 2
 * (with a message), otherwise virtio_register_device()'s result; *out is the registered device
 * (bound or not) or NULL.
 */
int virtio_mmio_probe(const struct virtio_mmio_slot *slot, struct virtio_device **out);

/* ---- Devices (virtio_rng.c) ------------------------------------------------------------------ */

/*
 * Read len random bytes from the first entropy device, waiting at most timeout_ms for each
 * answer. Returns the bytes read (len), -ENODEV if there is no device, -ETIMEDOUT if it did not
 * answer (its buffer stays with it; the next call waits for it first), -EIO if it misbehaved.
 * Console context only (not reentrant).
 */
int virtio_rng_read(void *buf, size_t len, uint64_t timeout_ms);

#endif
