/* SPDX-License-Identifier: MIT */
/*
 * The modern virtio-pci layout (virtio 1.2, 4.1.4): vendor capabilities that point into BARs,
 * and the common configuration structure. Shared by the transport (virtio_pci.c) and simulated
 * devices of host tests.
 */
#ifndef RVMM_VIRTIO_PCI_H
#define RVMM_VIRTIO_PCI_H

#define VIRTIO_PCI_VENDOR 0x1af4
#define VIRTIO_PCI_DEVICE_MODERN 0x1040   /* + virtio device id, up to 0x107f */
#define VIRTIO_PCI_DEVICE_LEGACY_FIRST 0x1000 /* transitional: 0x1000..0x103f */
#define VIRTIO_PCI_DEVICE_LEGACY_LAST 0x103f

/* struct virtio_pci_cap, at a vendor-specific (0x09) capability */
#define VIRTIO_PCI_CAP_LEN 2        /* u8 cap_len */
#define VIRTIO_PCI_CAP_CFG_TYPE 3   /* u8: one of the types below */
#define VIRTIO_PCI_CAP_BAR 4        /* u8 */
#define VIRTIO_PCI_CAP_OFFSET 8     /* le32, within the BAR */
#define VIRTIO_PCI_CAP_LENGTH 12    /* le32 */
#define VIRTIO_PCI_NOTIFY_CAP_MULT 16 /* le32 notify_off_multiplier (notify cap only) */
#define VIRTIO_PCI_CAP_SIZE 16
#define VIRTIO_PCI_NOTIFY_CAP_SIZE 20

#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG 3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4
#define VIRTIO_PCI_CAP_PCI_CFG 5

/* struct virtio_pci_common_cfg */
#define VIRTIO_PCI_COMMON_DFSELECT 0x00   /* le32 device_feature_select */
#define VIRTIO_PCI_COMMON_DF 0x04         /* le32 device_feature */
#define VIRTIO_PCI_COMMON_GFSELECT 0x08   /* le32 driver_feature_select */
#define VIRTIO_PCI_COMMON_GF 0x0c         /* le32 driver_feature */
#define VIRTIO_PCI_COMMON_MSIX 0x10       /* le16 config_msix_vector */
#define VIRTIO_PCI_COMMON_NUMQ 0x12       /* le16 num_queues */
#define VIRTIO_PCI_COMMON_STATUS 0x14     /* u8 device_status */
#define VIRTIO_PCI_COMMON_CFGGENERATION 0x15 /* u8 config_generation */
#define VIRTIO_PCI_COMMON_Q_SELECT 0x16   /* le16 */
#define VIRTIO_PCI_COMMON_Q_SIZE 0x18     /* le16 */
#define VIRTIO_PCI_COMMON_Q_MSIX 0x1a     /* le16 */
#define VIRTIO_PCI_COMMON_Q_ENABLE 0x1c   /* le16 */
#define VIRTIO_PCI_COMMON_Q_NOFF 0x1e     /* le16 queue_notify_off */
#define VIRTIO_PCI_COMMON_Q_DESCLO 0x20   /* le64 as two le32 */
#define VIRTIO_PCI_COMMON_Q_DESCHI 0x24
#define VIRTIO_PCI_COMMON_Q_AVAILLO 0x28
#define VIRTIO_PCI_COMMON_Q_AVAILHI 0x2c
#define VIRTIO_PCI_COMMON_Q_USEDLO 0x30
#define VIRTIO_PCI_COMMON_Q_USEDHI 0x34
#define VIRTIO_PCI_COMMON_SIZE 0x38       /* the virtio 1.0 structure; 1.2 adds 4 bytes */

#define VIRTIO_MSI_NO_VECTOR 0xffff

#endif
