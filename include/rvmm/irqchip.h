/* SPDX-License-Identifier: MIT */
/*
 * What the AIA interrupt controllers (drivers/irqchip/) tell each other beyond the irq_domain
 * contract of rvmm/irq.h: an APLIC in MSI delivery mode names an IMSIC interrupt file by its
 * hart index, not by its address.
 *
 * Interface: imsic_hart_index_of.
 */
#ifndef RVMM_IRQCHIP_H
#define RVMM_IRQCHIP_H

#include <rvmm/types.h>

/*
 * The hart index (group << hart-index-bits | hart) of the S-level interrupt file at physical
 * address file, as an APLIC target register wants it: 0, or -ENODEV if no file is there.
 */
int imsic_hart_index_of(phys_addr_t file, uint32_t *index);

#endif
