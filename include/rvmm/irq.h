/* SPDX-License-Identifier: MIT */
/*
 * Interrupt domains: how a device's interrupt reaches its handler, whatever controller owns it.
 *
 * A controller driver (drivers/irqchip/: PLIC today; APLIC and IMSIC next) probes its DT node and
 * registers one struct irq_domain per controller instance, keyed by the node's phandle: several
 * controllers of one kind (one PLIC per socket) are several domains. A device driver never names
 * a controller: it asks for "interrupt i of my node" (irq_request_dt), or for the INTx pin of a
 * PCI function through its host bridge (irq_map_dt + irq_request), or for an MSI vector from the
 * MSI controller its node points at (irq_msi_domain + irq_request_msi). The DT is read the way
 * the devicetree specification (2.4) says: `interrupts` with the nearest `interrupt-parent`,
 * `interrupts-extended`, and `interrupt-map` / `interrupt-map-mask` on a nexus (followed through
 * nested nexus nodes).
 *
 * Contract for a controller driver (struct irq_domain_ops):
 *   - xlate turns a specifier of the controller's #interrupt-cells into a line number (hwirq),
 *     checking it; wired controllers only (NULL: the domain takes no DT specifiers).
 *   - enable routes line hwirq to a hart that is online and unmasks it. Called once per line, on
 *     its first request, on the boot hart after every hart has started.
 *   - handle runs from the S-mode external interrupt on each hart (interrupts masked): it claims
 *     every line pending for this hart, calls irq_dispatch(d, hwirq) for each and completes it.
 *     It must return quickly when the controller has nothing for this hart.
 *   - init_hart (optional) sets up the per-hart part (threshold, delivery) on each hart as it
 *     starts: the boot hart at registration, the others from secondary start-up.
 *   - An MSI controller also implements msi_alloc (one free vector as hwirq, or -ENOSPC) and
 *     msi_compose (the address and data a device writes to raise hwirq); irq_request_msi
 *     enables the vector after its handler is in place.
 *
 * Locking: domains and handlers are registered by probes, on the boot hart, one at a time; the
 * tables only grow and each entry is published with a release store after it is filled, so the
 * handle/dispatch path on any hart reads them without a lock. Nothing is ever unregistered.
 *
 * Interface: irq_domain_register, irq_domain_find, irq_parse_dt, irq_map_dt, irq_request,
 * irq_request_dt, irq_msi_domain, irq_request_msi, irq_dispatch, irq_handle_external,
 * irq_init_hart, irq_intc_hartid, irq_describe.
 */
#ifndef RVMM_IRQ_H
#define RVMM_IRQ_H

#include <rvmm/types.h>

typedef void (*irq_handler_t)(void *arg);

#define IRQ_SPEC_MAX_CELLS 4

/* One interrupt as the DT names it: the controller's phandle and its specifier cells. */
struct irq_spec {
	uint32_t parent;
	unsigned nr_cells;
	uint32_t cells[IRQ_SPEC_MAX_CELLS];
};

/* What a device writes, and where, to raise an MSI: defined by the MSI layer (rvmm/msi.h). */
struct msi_msg;
struct irq_domain;

struct irq_domain_ops {
	int (*xlate)(struct irq_domain *d, const struct irq_spec *spec, uint32_t *hwirq);
	int (*enable)(struct irq_domain *d, uint32_t hwirq);
	void (*handle)(struct irq_domain *d);
	void (*init_hart)(struct irq_domain *d);
	int (*msi_alloc)(struct irq_domain *d, uint32_t *hwirq);
	void (*msi_compose)(struct irq_domain *d, uint32_t hwirq, struct msi_msg *msg);
};

struct irq_domain {
	const char *name;    /* the controller's DT path, for messages and `irqs` */
	uint32_t phandle;    /* the DT node's phandle; 0 if it has none (then no device can name it) */
	const struct irq_domain_ops *ops;
	void *priv;          /* the controller driver's */
};

/*
 * Make d known: it is then found by its phandle and takes external interrupts. Calls
 * d->ops->init_hart on this hart. 0, -EEXIST (another domain has that phandle), -ENOSPC.
 */
int irq_domain_register(struct irq_domain *d);
struct irq_domain *irq_domain_find(uint32_t phandle);

/*
 * Interrupt index of node (its `interrupts-extended`, else `interrupts` with the nearest
 * `interrupt-parent`), resolved through any interrupt-map on the way to a controller. 0 and
 * *spec set; -ENOENT if node has no interrupt index; -EINVAL, after a "device tree:" message,
 * if the properties cannot be decoded.
 */
int irq_parse_dt(const void *fdt, int node, int index, struct irq_spec *spec);

/*
 * The interrupt that a child of nexus, at unit address addr (naddr cells, the nexus's
 * #address-cells) raising specifier intspec (nint cells, its #interrupt-cells), reaches through
 * nexus's interrupt-map (masked by interrupt-map-mask), followed to a controller. 0 and *spec set,
 * -ENOENT if no row matches, -EINVAL after a message if the map cannot be decoded.
 */
int irq_map_dt(const void *fdt, int nexus, const uint32_t *addr, unsigned naddr,
	       const uint32_t *intspec, unsigned nint, struct irq_spec *spec);

/*
 * Call handler(arg) whenever the interrupt spec fires (lines may be shared: every handler of a
 * line runs). 0; -ENODEV if no registered controller has spec->parent; the controller's error
 * (-EINVAL for a specifier it rejects); -ENOSPC if the handler table is full.
 */
int irq_request(const struct irq_spec *spec, irq_handler_t handler, void *arg);
/* irq_parse_dt + irq_request. */
int irq_request_dt(const void *fdt, int node, int index, irq_handler_t handler, void *arg);

/*
 * The MSI controller serving node: the nearest `msi-parent` up from node, if a registered domain
 * with msi_alloc has that phandle. NULL otherwise (the caller falls back to wired interrupts).
 */
struct irq_domain *irq_msi_domain(const void *fdt, int node);
/*
 * A new vector of the MSI domain d that calls handler(arg); *msg is what the device must write.
 * 0, -ENOTSUP if d is no MSI controller, -ENOSPC when vectors or handler slots run out.
 */
int irq_request_msi(struct irq_domain *d, irq_handler_t handler, void *arg, struct msi_msg *msg);

/* For controller drivers (from ops->handle): run every handler of line hwirq of d. */
void irq_dispatch(struct irq_domain *d, uint32_t hwirq);

/* Trap path: the S-mode external interrupt on this hart. */
void irq_handle_external(void);
/* Each hart as it starts: every registered domain's init_hart. */
void irq_init_hart(void);

/*
 * For controller drivers reading interrupts-extended: the hart id of the hart whose local
 * interrupt controller (riscv,cpu-intc under a cpu node) has phandle intc. 0, or -ENOENT.
 */
int irq_intc_hartid(const void *fdt, uint32_t intc, unsigned long *hartid);

/* "/soc/plic@c000000 10" into buf (len bytes), for messages; the phandle if no domain has it. */
void irq_describe(const struct irq_spec *spec, char *buf, size_t len);

#endif
