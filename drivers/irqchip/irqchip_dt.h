/* SPDX-License-Identifier: MIT */
/*
 * Private to drivers/irqchip/: the device-tree readings the APLIC and IMSIC drivers share. Each
 * checks what it reads; a problem is printed as "<chip>: <node path>: <what>" by the caller.
 *
 * Interface: irqchip_dt_reg, irqchip_dt_u32, irqchip_dt_hart_contexts, struct irqchip_hart_ctx.
 */
#ifndef RVMM_DRIVERS_IRQCHIP_DT_H
#define RVMM_DRIVERS_IRQCHIP_DT_H

#include <rvmm/types.h>

#define IRQCHIP_DT_PATH_LEN 96

/* One interrupts-extended entry that names a hart's local interrupt controller. */
struct irqchip_hart_ctx {
	uint32_t hartid;  /* reg of the cpu node above the riscv,cpu-intc */
	uint32_t cause;   /* the local interrupt: 9 S-mode external, 11 M-mode external */
};

/* node's full path into buf (IRQCHIP_DT_PATH_LEN bytes) for messages; returns buf. */
const char *irqchip_dt_path(const void *fdt, int node, char *buf);

/*
 * reg entry i of node, with the parent's #address-cells/#size-cells (1 or 2 each). 0, -ENOENT
 * if there is no such entry, -EINVAL if the property or the cell counts are malformed.
 * Addresses are taken as CPU physical: interrupt controllers sit on the root or a simple-bus
 * with an identity `ranges`.
 */
int irqchip_dt_reg(const void *fdt, int node, int i, uint64_t *base, uint64_t *size);

/* Property name as one cell: 0, -ENOENT if absent, -EINVAL if not 4 bytes. */
int irqchip_dt_u32(const void *fdt, int node, const char *name, uint32_t *out);

/*
 * node's interrupts-extended, read as <cpu-intc phandle, cause> pairs, into ctx (at most max).
 * Returns the number of entries, -ENOENT if there is none, or -EINVAL if an entry does not name
 * a riscv,cpu-intc below a cpu node with a one-cell reg.
 */
int irqchip_dt_hart_contexts(const void *fdt, int node, struct irqchip_hart_ctx *ctx, int max);

#endif
