/* SPDX-License-Identifier: MIT */
/*
 * External interrupts (PLIC): drivers register a handler for a source number the DT gave them.
 *
 * Interface: plic_init, plic_init_hart, irq_register.
 */
#ifndef RVMM_IRQ_H
#define RVMM_IRQ_H

#include <rvmm/platform.h>

typedef void (*irq_handler_t)(void *arg);

int plic_init(const struct plat_device *plic, uint32_t ndev);
void plic_init_hart(void);
/* Route source irq to the boot hart and call handler(arg) on it. -EINVAL if out of range. */
int irq_register(uint32_t irq, irq_handler_t handler, void *arg);

#endif
