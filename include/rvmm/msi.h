/* SPDX-License-Identifier: MIT */
/*
 * Message-signalled interrupts: a device (a PCI function's MSI-X table, an APLIC in MSI delivery
 * mode) raises an interrupt by writing `data` to `address`. An MSI controller (the IMSIC,
 * drivers/irqchip/imsic.c) composes such messages for its vectors; irq_request_msi()
 * (rvmm/irq.h) hands one out bound to a handler, which then runs on the boot hart, once per
 * message (MSIs are edges: nothing to acknowledge at the device).
 *
 * Interface: struct msi_msg.
 */
#ifndef RVMM_MSI_H
#define RVMM_MSI_H

#include <rvmm/types.h>

struct msi_msg {
	uint64_t address;  /* physical address the device writes (an IMSIC interrupt file) */
	uint32_t data;     /* the value it writes (the file's interrupt identity) */
};

#endif
