/* SPDX-License-Identifier: MIT */
/*
 * The AIA interrupt controllers (drivers/irqchip/): the APLIC, one S-level domain per socket, in
 * direct or MSI delivery mode, and the IMSIC, one S-level interrupt file per hart. The IMSIC
 * is the MSI controller (include/rvmm/msi.h).
 *
 * Order at boot (boot hart): imsic_probe() first (an APLIC in MSI mode sends through it), then
 * aplic_probe() for each S-level APLIC node; every hart then calls imsic_init_hart() and
 * aplic_init_hart() with its interrupts still off, and its S-mode external interrupt calls
 * imsic_handle_irq() and aplic_handle_irq().
 *
 * Interface: imsic_probe, imsic_hart_index, imsic_init_hart, imsic_handle_irq, imsic_dump,
 * aplic_probe, aplic_request, aplic_init_hart, aplic_handle_irq, aplic_dump.
 */
#ifndef RVMM_IRQCHIP_H
#define RVMM_IRQCHIP_H

#include <rvmm/types.h>

/*
 * A riscv,imsics node. 0 when it is the S-level one and usable; -ENODEV for the M-level one
 * (OpenSBI's); -EINVAL after a message for a malformed one; -EBUSY if one is set up already.
 */
int imsic_probe(const void *fdt, int node);
/* The hart index an APLIC in MSI mode names hartid's file by: 0, or -ENODEV if it has none. */
int imsic_hart_index(unsigned long hartid, uint32_t *index);
void imsic_init_hart(void);
/* Claim and handle every pending identity of this hart's file; true if there was one. */
bool imsic_handle_irq(void);
void imsic_dump(void);

/*
 * A riscv,aplic node: 0 when it is an S-level domain now enabled (sources all off), -ENODEV for
 * the M-level one (riscv,children: the firmware's) or an MSI-mode one without an IMSIC, another
 * -errno after a message.
 */
int aplic_probe(const void *fdt, int node);
/*
 * Source spec[0] of the domain with DT phandle phandle, of type spec[1] (1 rising edge, 2 falling,
 * 4 level high, 8 level low; #interrupt-cells is 2): configure it, route it (direct: to an IDC;
 * MSI: through a vector of the IMSIC) and enable it; handler(arg) then runs for each interrupt.
 * -ENODEV if no such domain or the source is not delegated to it, -EINVAL for a bad specifier,
 * -EBUSY if the source is taken, -ENOSPC if the IMSIC has no identity left.
 */
int aplic_request(uint32_t phandle, const uint32_t *spec, int cells, void (*handler)(void *arg),
		  void *arg);
void aplic_init_hart(void);
/* Direct mode: claim and handle every source pending at this hart's IDCs; true if there was one. */
bool aplic_handle_irq(void);
void aplic_dump(void);

#endif
