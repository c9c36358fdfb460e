/* SPDX-License-Identifier: MIT */
/*
 * virtio-pmem (virtio 1.2, 5.19): shared by the driver (virtio_pmem.c: probe, the region, FLUSH
 * requests, devdax and kmem) and its console command (virtio_pmem_cmd.c).
 *
 * The device is a range of host memory (QEMU: a memory-backend-file, share=on) placed in the
 * device-memory window above RAM; its configuration gives le64 start at offset 0 and le64 size
 * at 8. One virtqueue: a request is a device-readable le32 type (0 = FLUSH) and a
 * device-writable le32 ret (0 = ok, 1 = failure: QEMU's fsync of the file failed, or the backend
 * is RAM and has no file). The driver uses the section-aligned part of the region:
 *
 *   devdax  ZONE_DEVICE (memremap.h): descriptors, the region in the direct map with the devmap
 *           bit and the largest leaves; the console reads and writes it there
 *   kmem    System RAM through the hot-plug core (Movable by default); the data is treated as lost
 *
 * Locking: a device's state (mode, holds, counters) changes only at probe and from console
 * commands, which run one at a time on the console hart; the flush request is the only thing
 * the device shares, through its virtqueue (vq->lock). Memory-hotplug locking is memremap's and
 * the hot-plug core's (hotplug_lock).
 *
 * Interface: virtio_pmem_driver, pmem_devices[], pmem_flush, pmem_set_memmap, pmem_kmem_online,
 * pmem_kmem_offline, pmem_mode_name.
 */
#ifndef RVMM_DRIVERS_VIRTIO_PMEM_H
#define RVMM_DRIVERS_VIRTIO_PMEM_H

#include <rvmm/mem_ranges.h>
#include <rvmm/memremap.h>
#include <rvmm/virtio.h>

#define PMEM_MAX_DEVICES 4
#define PMEM_MAX_HOLDS 16
#define PMEM_CFG_LEN 16
#define PMEM_FLUSH_TIMEOUT_MS 10000
#define VIRTIO_PMEM_REQ_FLUSH 0

enum pmem_mode { PMEM_UNMAPPED, PMEM_DEVDAX, PMEM_KMEM };

/* One request: the type the device reads, then the ret it writes (virtio: little endian). */
struct pmem_req {
	uint32_t type;
	uint32_t ret;
};

struct virtio_pmem {
	struct virtio_device *vdev;
	struct virtqueue *vq;
	char name[16];             /* "pmem0" */
	phys_addr_t start;         /* the device's region, as its configuration says */
	uint64_t size;
	struct mem_region region;  /* its section-aligned part: what rvmm maps */
	struct dev_pagemap pgmap;
	enum pmem_mode mode;
	enum zone_type kmem_zone;
	struct page *holds[PMEM_MAX_HOLDS]; /* references taken by `pmem hold` */
	struct pmem_req *req;      /* one page of direct-map memory */
	bool flush_pending;        /* a request the device has not answered in time */
	uint64_t flushes, flush_failures;
	int last_flush;            /* 0 or -errno, as pmem_flush returned */
	bool last_flush_device;    /* that -EIO was the device's answer (ret 1) */
	uint64_t last_flush_ns, kmem_online_ns, kmem_offline_ns;
};

extern struct virtio_pmem *pmem_devices[PMEM_MAX_DEVICES];

/*
 * Send a FLUSH and wait (PMEM_FLUSH_TIMEOUT_MS) for the answer: 0 ok; -EIO the device answered
 * failure (ret 1: its backend could not be synced) or the queue is broken; -EPROTO it answered
 * without a status; -ETIMEDOUT no answer (the request stays with the device; the next flush
 * waits for it first); -ENOSPC. Every failure is counted; the latency is recorded.
 */
int pmem_flush(struct virtio_pmem *pm);

/* Redo the devdax memmap with (share) or without tail sharing. 0 or -errno after a message. */
int pmem_set_memmap(struct virtio_pmem *pm, bool share);

/* devdax -> System RAM in zone, and back; 0 or -errno after a message. */
int pmem_kmem_online(struct virtio_pmem *pm, enum zone_type zone);
int pmem_kmem_offline(struct virtio_pmem *pm);

const char *pmem_mode_name(enum pmem_mode m);

#endif
