/* SPDX-License-Identifier: MIT */
/*
 * Private to the AIA drivers (aplic.c, imsic.c): the one device-tree reading they share.
 *
 * Interface: aia_dt_harts.
 */
#ifndef RVMM_DRIVERS_IRQCHIP_AIA_DT_H
#define RVMM_DRIVERS_IRQCHIP_AIA_DT_H

#include <rvmm/device.h>

/*
 * dev's interrupts-extended as the harts an S-level AIA part serves (an APLIC's IDCs, an IMSIC's
 * interrupt files), in order: entry i is hart hartid[i]; entries past max (harts rvmm does not
 * run) are ignored with a message; *total (if not NULL) gets the number of entries. Returns the
 * count read (1..max), -ENODEV
 * when the entries are the M-level external interrupt (the firmware's part, not ours), or
 * -EINVAL after a dt_warn when an entry is not a hart's S-level external interrupt.
 */
int aia_dt_harts(const struct dt_device *dev, unsigned long *hartid, unsigned max,
		 unsigned *total);

#endif
