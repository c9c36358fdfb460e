/* SPDX-License-Identifier: MIT */
/*
 * Message-signalled interrupts: a device (a PCI function's MSI-X table, an APLIC in MSI delivery
 * mode) raises an interrupt by writing `data` to `address`. The MSI controller (the IMSIC,
 * drivers/irqchip/imsic.c) hands out such pairs, each bound to a handler.
 *
 * Contract:
 * - msi_alloc() may be called at probe time on the boot hart (it takes imsic_lock, so any hart
 *   may call it). The vector targets the boot hart's interrupt file; the handler runs there in
 *   interrupt context with that hart's interrupts off, once per message (MSIs are edges: nothing
 *   to acknowledge at the device).
 * - The handler is in place before msi_alloc() returns: program the device only afterwards.
 * - msi_free() after the device can no longer write the message (its vector masked or disabled).
 *
 * Interface: struct msi_msg, msi_available, msi_alloc, msi_free.
 */
#ifndef RVMM_MSI_H
#define RVMM_MSI_H

#include <rvmm/types.h>

struct msi_msg {
	uint64_t address;  /* physical address the device writes */
	uint32_t data;     /* the value it writes (the IMSIC's interrupt identity) */
};

/* true once an MSI controller is set up for the boot hart. */
bool msi_available(void);

/*
 * One vector calling handler(arg): 0 and *msg filled, -ENODEV if there is no MSI controller,
 * -ENOSPC if every identity is taken.
 */
int msi_alloc(void (*handler)(void *arg), void *arg, struct msi_msg *msg);

/* Give back a vector msi_alloc() returned. */
void msi_free(const struct msi_msg *msg);

#endif
