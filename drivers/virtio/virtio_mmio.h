/* SPDX-License-Identifier: MIT */
/*
 * The virtio-mmio register file, version 2 (virtio 1.2, 4.2.2): byte offsets of 32-bit registers.
 * Shared by the transport (virtio_mmio.c) and the simulated device of the host tests.
 */
#ifndef RVMM_VIRTIO_MMIO_H
#define RVMM_VIRTIO_MMIO_H

#define VIRTIO_MMIO_MAGIC_VALUE 0x000        /* "virt" */
#define VIRTIO_MMIO_VERSION 0x004            /* 2; 1 is the legacy layout */
#define VIRTIO_MMIO_DEVICE_ID 0x008          /* 0: empty slot */
#define VIRTIO_MMIO_VENDOR_ID 0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES 0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014
#define VIRTIO_MMIO_DRIVER_FEATURES 0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024
#define VIRTIO_MMIO_QUEUE_SEL 0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX 0x034
#define VIRTIO_MMIO_QUEUE_NUM 0x038
#define VIRTIO_MMIO_QUEUE_READY 0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY 0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS 0x060
#define VIRTIO_MMIO_INTERRUPT_ACK 0x064
#define VIRTIO_MMIO_STATUS 0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW 0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH 0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW 0x090   /* the available ring */
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH 0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW 0x0a0   /* the used ring */
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH 0x0a4
#define VIRTIO_MMIO_CONFIG_GENERATION 0x0fc
#define VIRTIO_MMIO_CONFIG 0x100             /* device-specific configuration */

#define VIRTIO_MMIO_MAGIC 0x74726976         /* "virt", little-endian */

#endif
