// SPDX-License-Identifier: MIT
//
// Interrupt domains (include/rvmm/irq.h): the registry of controllers, the table of handlers per
// line, and the device tree walk from a device's interrupt properties to the controller that owns
// them. Controller drivers do the hardware; this file only finds and dispatches.
//
// Interface: see include/rvmm/irq.h.

#include <rvmm/console.h>
#include <rvmm/dt.h>
#include <rvmm/errno.h>
#include <rvmm/irq.h>
#include <rvmm/printk.h>

#include <stdio.h>

#define IRQ_MAX_DOMAINS 16
#define IRQ_MAX_ACTIONS 128
#define IRQ_MAX_NEXUS 8  /* interrupt-map hops followed before giving up (a loop) */

static struct irq_domain *domains[IRQ_MAX_DOMAINS];
static unsigned nr_domains;

/* One handler of one line; a shared line has several. */
static struct irq_action {
	struct irq_domain *domain;
	uint32_t hwirq;
	irq_handler_t handler;
	void *arg;
	uint64_t count;  /* times it ran: relaxed atomic increments, for `irqs` */
} actions[IRQ_MAX_ACTIONS];
static unsigned nr_actions;

int irq_domain_register(struct irq_domain *d)
{
	if (d->phandle && irq_domain_find(d->phandle))
		return -EEXIST;
	if (nr_domains == IRQ_MAX_DOMAINS)
		return -ENOSPC;
	domains[nr_domains] = d;
	__atomic_store_n(&nr_domains, nr_domains + 1, __ATOMIC_RELEASE);
	if (d->ops->init_hart)
		d->ops->init_hart(d);
	return 0;
}

struct irq_domain *irq_domain_find(uint32_t phandle)
{
	for (unsigned i = 0; i < nr_domains && phandle; i++)
		if (domains[i]->phandle == phandle)
			return domains[i];
	return NULL;
}

/* ---- Handlers ------------------------------------------------------------------------------- */

static bool line_requested(struct irq_domain *d, uint32_t hwirq)
{
	for (unsigned i = 0; i < nr_actions; i++)
		if (actions[i].domain == d && actions[i].hwirq == hwirq)
			return true;
	return false;
}

// Publish a handler; enable the line (first handler only) once the handler is there to run.
static int add_action(struct irq_domain *d, uint32_t hwirq, irq_handler_t handler, void *arg)
{
	bool first = !line_requested(d, hwirq);
	int rc;

	if (nr_actions == IRQ_MAX_ACTIONS)
		return -ENOSPC;
	actions[nr_actions] = (struct irq_action){ d, hwirq, handler, arg, 0 };
	__atomic_store_n(&nr_actions, nr_actions + 1, __ATOMIC_RELEASE);
	if (!first || !d->ops->enable)
		return 0;
	rc = d->ops->enable(d, hwirq);
	if (rc)
		nr_actions--; /* the line never fired: nobody can be running this handler */
	return rc;
}

int irq_request(const struct irq_spec *spec, irq_handler_t handler, void *arg)
{
	struct irq_domain *d = irq_domain_find(spec->parent);
	uint32_t hwirq;
	int rc;

	if (!d || !d->ops->xlate)
		return -ENODEV;
	rc = d->ops->xlate(d, spec, &hwirq);
	if (rc)
		return rc;
	return add_action(d, hwirq, handler, arg);
}

int irq_request_dt(const void *fdt, int node, int index, irq_handler_t handler, void *arg)
{
	struct irq_spec spec;
	int rc = irq_parse_dt(fdt, node, index, &spec);

	return rc ? rc : irq_request(&spec, handler, arg);
}

int irq_request_msi(struct irq_domain *d, irq_handler_t handler, void *arg, struct msi_msg *msg)
{
	uint32_t hwirq;
	int rc;

	if (!d->ops->msi_alloc || !d->ops->msi_compose)
		return -ENOTSUP;
	rc = d->ops->msi_alloc(d, &hwirq);
	if (rc)
		return rc;
	rc = add_action(d, hwirq, handler, arg);
	if (rc)
		return rc;
	d->ops->msi_compose(d, hwirq, msg);
	return 0;
}

void irq_dispatch(struct irq_domain *d, uint32_t hwirq)
{
	unsigned n = __atomic_load_n(&nr_actions, __ATOMIC_ACQUIRE);
	bool handled = false;

	for (unsigned i = 0; i < n; i++) {
		if (actions[i].domain == d && actions[i].hwirq == hwirq) {
			actions[i].handler(actions[i].arg);
			__atomic_fetch_add(&actions[i].count, 1, __ATOMIC_RELAXED);
			handled = true;
		}
	}
	if (!handled)
		pr_warn("irq: %s line %u has no handler", d->name, hwirq);
}

void irq_handle_external(void)
{
	unsigned n = __atomic_load_n(&nr_domains, __ATOMIC_ACQUIRE);

	for (unsigned i = 0; i < n; i++)
		if (domains[i]->ops->handle)
			domains[i]->ops->handle(domains[i]);
}

void irq_init_hart(void)
{
	unsigned n = __atomic_load_n(&nr_domains, __ATOMIC_ACQUIRE);

	for (unsigned i = 0; i < n; i++)
		if (domains[i]->ops->init_hart)
			domains[i]->ops->init_hart(domains[i]);
}

void irq_describe(const struct irq_spec *spec, char *buf, size_t len)
{
	struct irq_domain *d = irq_domain_find(spec->parent);
	int n;

	if (!d) {
		snprintf(buf, len, "phandle 0x%x (no driver)", spec->parent);
		return;
	}
	n = snprintf(buf, len, "%s", d->name);
	for (unsigned i = 0; i < spec->nr_cells && n > 0 && (size_t)n < len; i++)
		n += snprintf(buf + n, len - n, " %u", spec->cells[i]);
}

/* ---- The device tree walk ------------------------------------------------------------------- */

#define irq_dt_warn(fdt, node, fmt, ...)                                                   \
	do {                                                                               \
		char irq_path_[DT_PATH_LEN];                                               \
		pr_warn("device tree: %s: " fmt, dt_path(fdt, node, irq_path_), ##__VA_ARGS__); \
	} while (0)

// The node a phandle names, and its #interrupt-cells: 0, or -EINVAL after a message.
static int interrupt_parent(const void *fdt, int from, uint32_t phandle, int *node, int *cells)
{
	*node = fdt_node_offset_by_phandle(fdt, phandle);
	if (*node < 0) {
		irq_dt_warn(fdt, from, "interrupt parent 0x%x names no node", phandle);
		return -EINVAL;
	}
	*cells = dt_cells(fdt, *node, "#interrupt-cells", -1);
	if (*cells < 1 || *cells > IRQ_SPEC_MAX_CELLS) {
		irq_dt_warn(fdt, from, "interrupt parent %s has no usable #interrupt-cells",
			    fdt_get_name(fdt, *node, NULL));
		return -EINVAL;
	}
	return 0;
}

static bool is_controller(const void *fdt, int node)
{
	return fdt_getprop(fdt, node, "interrupt-controller", NULL) != NULL;
}

// The first n cells of node's reg (its unit address, as a nexus above it reads it), zero-padded.
static void unit_address(const void *fdt, int node, uint32_t *addr, unsigned n)
{
	int len;
	const fdt32_t *reg = fdt_getprop(fdt, node, "reg", &len);

	for (unsigned i = 0; i < n; i++)
		addr[i] = reg && (int)(4 * (i + 1)) <= len ? fdt32_ld(reg + i) : 0;
}

static int map_dt(const void *fdt, int nexus, const uint32_t *addr, unsigned naddr,
		  const uint32_t *intspec, unsigned nint, struct irq_spec *spec, int depth);

// spec names parent node pnode (with its specifier): follow interrupt-maps until a controller.
static int resolve(const void *fdt, int from, int pnode, struct irq_spec *spec, int depth)
{
	uint32_t addr[4];
	int ac;

	if (is_controller(fdt, pnode))
		return 0;
	if (!fdt_getprop(fdt, pnode, "interrupt-map", NULL)) {
		irq_dt_warn(fdt, from, "interrupt parent %s is neither a controller nor a nexus",
			    fdt_get_name(fdt, pnode, NULL));
		return -EINVAL;
	}
	ac = dt_cells(fdt, pnode, "#address-cells", 0);
	if (ac < 0 || ac > 4)
		return -EINVAL;
	unit_address(fdt, from, addr, (unsigned)ac);
	struct irq_spec child = *spec;
	return map_dt(fdt, pnode, addr, (unsigned)ac, child.cells, child.nr_cells, spec, depth + 1);
}

// The interrupt-parent in effect at node: its own, else the nearest ancestor's. 0 if none.
static uint32_t find_interrupt_parent(const void *fdt, int node)
{
	uint32_t ph;

	for (int depth = 0; node >= 0 && depth < DT_MAX_DEPTH; depth++) {
		if (dt_u32(fdt, node, "interrupt-parent", &ph) == 0)
			return ph;
		node = fdt_parent_offset(fdt, node);
	}
	return 0;
}

static int parse_extended(const void *fdt, int node, int index, struct irq_spec *spec)
{
	int len, pnode, cells, rc;
	const fdt32_t *p = fdt_getprop(fdt, node, "interrupts-extended", &len);
	const fdt32_t *end = p + len / 4;

	for (int i = 0; p < end; i++) {
		rc = interrupt_parent(fdt, node, fdt32_ld(p), &pnode, &cells);
		if (rc)
			return rc;
		if (end - p < 1 + cells) {
			irq_dt_warn(fdt, node, "interrupts-extended entry %d is cut short", i);
			return -EINVAL;
		}
		if (i == index) {
			spec->parent = fdt32_ld(p);
			spec->nr_cells = (unsigned)cells;
			for (int c = 0; c < cells; c++)
				spec->cells[c] = fdt32_ld(p + 1 + c);
			return resolve(fdt, node, pnode, spec, 0);
		}
		p += 1 + cells;
	}
	return -ENOENT;
}

int irq_parse_dt(const void *fdt, int node, int index, struct irq_spec *spec)
{
	int len, pnode, cells, rc;
	const fdt32_t *p;
	uint32_t parent;

	if (fdt_getprop(fdt, node, "interrupts-extended", NULL))
		return parse_extended(fdt, node, index, spec);
	p = fdt_getprop(fdt, node, "interrupts", &len);
	if (!p)
		return -ENOENT;
	parent = find_interrupt_parent(fdt, node);
	if (!parent) {
		irq_dt_warn(fdt, node, "has interrupts but no interrupt-parent");
		return -EINVAL;
	}
	rc = interrupt_parent(fdt, node, parent, &pnode, &cells);
	if (rc)
		return rc;
	if (len % (4 * cells)) {
		irq_dt_warn(fdt, node, "interrupts length %d is not a multiple of %d", len, 4 * cells);
		return -EINVAL;
	}
	if (index < 0 || index >= len / (4 * cells))
		return -ENOENT;
	spec->parent = parent;
	spec->nr_cells = (unsigned)cells;
	for (int c = 0; c < cells; c++)
		spec->cells[c] = fdt32_ld(p + index * cells + c);
	return resolve(fdt, node, pnode, spec, 0);
}

static int map_dt(const void *fdt, int nexus, const uint32_t *addr, unsigned naddr,
		  const uint32_t *intspec, unsigned nint, struct irq_spec *spec, int depth)
{
	int len, mlen, pnode, pac, pic;
	const fdt32_t *map = fdt_getprop(fdt, nexus, "interrupt-map", &len);
	const fdt32_t *mask = fdt_getprop(fdt, nexus, "interrupt-map-mask", &mlen);
	unsigned key = naddr + nint, cells = map ? (unsigned)len / 4 : 0;
	uint32_t want[8];

	if (!map)
		return -ENOENT;
	if (depth >= IRQ_MAX_NEXUS) {
		irq_dt_warn(fdt, nexus, "interrupt-map chain deeper than %d", IRQ_MAX_NEXUS);
		return -EINVAL;
	}
	if (key > ARRAY_SIZE(want) || (mask && mlen != (int)(4 * key))) {
		irq_dt_warn(fdt, nexus, "interrupt-map-mask length %d is not %u", mlen, 4 * key);
		return -EINVAL;
	}
	for (unsigned i = 0; i < key; i++) {
		want[i] = i < naddr ? addr[i] : intspec[i - naddr];
		if (mask)
			want[i] &= fdt32_ld(mask + i);
	}
	for (int row = 0; cells > 0; row++) {
		bool match = true;

		if (cells < key + 1) {
			irq_dt_warn(fdt, nexus, "interrupt-map row %d is cut short", row);
			return -EINVAL;
		}
		if (interrupt_parent(fdt, nexus, fdt32_ld(map + key), &pnode, &pic))
			return -EINVAL;
		pac = dt_cells(fdt, pnode, "#address-cells", 0);
		if (pac < 0 || cells < key + 1 + (unsigned)pac + (unsigned)pic) {
			irq_dt_warn(fdt, nexus, "interrupt-map row %d is cut short", row);
			return -EINVAL;
		}
		for (unsigned i = 0; i < key && match; i++)
			match = (fdt32_ld(map + i) & (mask ? fdt32_ld(mask + i) : ~0u)) == want[i];
		if (match) {
			spec->parent = fdt32_ld(map + key);
			spec->nr_cells = (unsigned)pic;
			for (int c = 0; c < pic; c++)
				spec->cells[c] = fdt32_ld(map + key + 1 + pac + c);
			/* A parent that is itself a nexus maps with the unit address of this row. */
			if (!is_controller(fdt, pnode) && pac > 0 && pac <= 4) {
				uint32_t paddr[4];
				struct irq_spec child = *spec;

				for (int c = 0; c < pac; c++)
					paddr[c] = fdt32_ld(map + key + 1 + c);
				return map_dt(fdt, pnode, paddr, (unsigned)pac, child.cells,
					      child.nr_cells, spec, depth + 1);
			}
			return resolve(fdt, nexus, pnode, spec, depth + 1);
		}
		map += key + 1 + pac + pic;
		cells -= key + 1 + pac + pic;
	}
	return -ENOENT;
}

int irq_map_dt(const void *fdt, int nexus, const uint32_t *addr, unsigned naddr,
	       const uint32_t *intspec, unsigned nint, struct irq_spec *spec)
{
	return map_dt(fdt, nexus, addr, naddr, intspec, nint, spec, 0);
}

struct irq_domain *irq_msi_domain(const void *fdt, int node)
{
	struct irq_domain *d;
	uint32_t ph;
	int len;

	for (int depth = 0; node >= 0 && depth < DT_MAX_DEPTH; depth++) {
		const fdt32_t *p = fdt_getprop(fdt, node, "msi-parent", &len);

		if (p && len >= 4) {
			ph = fdt32_ld(p);
			d = irq_domain_find(ph);
			return d && d->ops->msi_alloc ? d : NULL;
		}
		node = fdt_parent_offset(fdt, node);
	}
	return NULL;
}

int irq_intc_hartid(const void *fdt, uint32_t intc, unsigned long *hartid)
{
	int node = fdt_node_offset_by_phandle(fdt, intc);
	int cpu = node >= 0 ? fdt_parent_offset(fdt, node) : -1;
	int cpus = cpu >= 0 ? fdt_parent_offset(fdt, cpu) : -1;
	const char *type = cpu >= 0 ? dt_string(fdt, cpu, "device_type") : NULL;
	int ac = cpus >= 0 ? dt_cells(fdt, cpus, "#address-cells", 1) : -1;
	int len;
	const fdt32_t *reg = cpu >= 0 ? fdt_getprop(fdt, cpu, "reg", &len) : NULL;

	if (!type || strcmp(type, "cpu") != 0 || ac < 1 || ac > 2 || !reg || len != 4 * ac)
		return -ENOENT;
	*hartid = dt_read_cells(reg, ac);
	return 0;
}

/* ---- `irqs` ------------------------------------------------------------------------------- */

static int cmd_irqs(int argc, char **argv __unused)
{
	unsigned nd = __atomic_load_n(&nr_domains, __ATOMIC_ACQUIRE);
	unsigned na = __atomic_load_n(&nr_actions, __ATOMIC_ACQUIRE);

	if (argc != 1)
		return CMD_USAGE;
	for (unsigned i = 0; i < nd; i++) {
		kprintf("%s%s\n", domains[i]->name, domains[i]->ops->msi_alloc ? " (MSI)" : "");
		for (unsigned a = 0; a < na; a++)
			if (actions[a].domain == domains[i])
				kprintf("  line %-5u %10lu interrupts\n", actions[a].hwirq,
					(unsigned long)__atomic_load_n(&actions[a].count,
								       __ATOMIC_RELAXED));
	}
	if (!nd)
		kprintf("no interrupt controller: devices poll\n");
	return 0;
}
CONSOLE_COMMAND(irqs, .name = "irqs", .usage = "irqs",
		.summary = "interrupt controllers and, per requested line, how often it fired",
		.run = cmd_irqs);

