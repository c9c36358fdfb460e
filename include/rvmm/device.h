/* SPDX-License-Identifier: MIT */
/*
 * The driver model for devices the device tree describes (OpenSBI's fdt_driver / Linux's
 * platform_driver, in small). Each driver defines, next to its code, the `compatible` strings it
 * drives and a probe, with DT_DRIVER(); kernel/device.c walks the tree once per stage and offers
 * every enabled node to each driver whose table matches one of the node's compatible strings.
 *
 * A probe returns 0 (the node is bound: no other driver sees it), -ENODEV ("not mine": the next
 * matching driver is offered the node, silently), -EAGAIN (a resource it needs, say its interrupt
 * controller, is not there yet: the node is offered again after the rest of the stage), or
 * another -errno after printing why (the node stays unbound; the walker counts it).
 *
 * Stages run in order, each a full walk: interrupt controllers first (device interrupts are
 * resolved through them), then every other device once all harts have started (a controller
 * routes a line only to a hart that is online).
 */
#ifndef RVMM_DEVICE_H
#define RVMM_DEVICE_H

#include <rvmm/types.h>

enum dt_stage {
	DT_STAGE_IRQCHIP,  /* interrupt controllers (PLIC, APLIC, IMSIC) */
	DT_STAGE_DEVICE,   /* everything else: consoles, buses, virtio, power */
	DT_NR_STAGES,
};

struct platform;

/* What a probe is given: the tree, the node, and the platform for dt_warn's count. */
struct dt_device {
	struct platform *plat;
	const void *fdt;
	int node;
	const char *name;  /* the node's path, for messages */
};

struct dt_driver {
	const char *name;
	const char *const *compatible;  /* NULL-terminated */
	enum dt_stage stage;
	int (*probe)(const struct dt_device *dev);
};

#define DT_DRIVER(ident, ...)                                                                \
	static const struct dt_driver __dt_driver_##ident                                    \
		__attribute__((used, section("rvmm_drivers"), aligned(8))) = { __VA_ARGS__ }

/*
 * Offer every enabled node of fdt to the drivers of stage. Returns the number of nodes whose
 * probe failed (each already reported), 0 if none did.
 */
int dt_probe_stage(struct platform *plat, const void *fdt, enum dt_stage stage);

/* The driver bound to node (NULL if none), for `dt` and tests. */
const struct dt_driver *dt_bound_driver(int node);
/* Every bound node and its driver, with kprintf (the `dt` command). */
void dt_print_devices(const void *fdt);

#endif
