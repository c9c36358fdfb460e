/* SPDX-License-Identifier: MIT */
/*
 * The split virtqueue as it lies in memory (virtio 1.2, section 2.7): what the driver and the
 * device share. Fields are little-endian; rvmm runs little-endian (RISC-V, and the host tests on
 * x86-64/arm64), so they are plain integers. Used by drivers/virtio/virtqueue.c and by the
 * simulated devices of the host tests.
 *
 *   descriptor table  16 bytes x num, 16-byte aligned   driver writes, device reads
 *   available ring    4 + 2 x num (+2), 2-byte aligned   driver writes, device reads
 *   used ring         4 + 8 x num (+2), 4-byte aligned   device writes, driver reads
 *
 * Interface: struct vring_desc/vring_avail/vring_used_elem/vring_used, VRING_* flags,
 * vring_*_size().
 */
#ifndef RVMM_VIRTIO_RING_H
#define RVMM_VIRTIO_RING_H

#include <rvmm/types.h>

#define VRING_DESC_F_NEXT 1     /* the chain goes on in desc.next */
#define VRING_DESC_F_WRITE 2    /* device writes this buffer (else it reads it) */
#define VRING_DESC_F_INDIRECT 4 /* not used by rvmm (VIRTIO_F_INDIRECT_DESC is not negotiated) */

#define VRING_AVAIL_F_NO_INTERRUPT 1 /* driver: do not interrupt me for used buffers */
#define VRING_USED_F_NO_NOTIFY 1     /* device: do not kick me for available buffers */

/* Largest queue the spec allows; rvmm uses at most VIRTQUEUE_MAX_SIZE (virtio.h). */
#define VRING_MAX_NUM 32768

struct vring_desc {
	uint64_t addr;  /* guest physical address of the buffer */
	uint32_t len;   /* bytes */
	uint16_t flags; /* VRING_DESC_F_* */
	uint16_t next;  /* next descriptor of the chain when F_NEXT */
};

struct vring_avail {
	uint16_t flags; /* VRING_AVAIL_F_* */
	uint16_t idx;   /* where the driver puts the next entry (mod num); free-running */
	uint16_t ring[];/* heads of descriptor chains; then used_event (unused here) */
};

struct vring_used_elem {
	uint32_t id;  /* head of the chain the device is done with */
	uint32_t len; /* bytes the device wrote into the chain's writable buffers */
};

struct vring_used {
	uint16_t flags; /* VRING_USED_F_* */
	uint16_t idx;   /* where the device puts the next entry (mod num); free-running */
	struct vring_used_elem ring[]; /* then avail_event (unused here) */
};

_Static_assert(sizeof(struct vring_desc) == 16, "vring_desc is 16 bytes");
_Static_assert(sizeof(struct vring_used_elem) == 8, "vring_used_elem is 8 bytes");

static inline size_t vring_desc_size(unsigned num) { return 16 * (size_t)num; }
static inline size_t vring_avail_size(unsigned num) { return 4 + 2 * (size_t)num + 2; }
static inline size_t vring_used_size(unsigned num) { return 4 + 8 * (size_t)num + 2; }

#endif
