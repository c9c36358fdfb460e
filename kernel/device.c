// SPDX-License-Identifier: MIT
//
// The generic half of the driver model (include/rvmm/device.h): walk the device tree and hand
// each enabled node to the drivers whose compatible table matches it. It knows no device: every
// compatible string lives with its driver, in the rvmm_drivers section DT_DRIVER() fills.
//
// Interface: dt_probe_stage, dt_bound_driver, dt_print_devices.

#include <rvmm/device.h>
#include <rvmm/dt.h>
#include <rvmm/errno.h>
#include <rvmm/printk.h>

#define DT_MAX_BOUND 256
#define DT_MAX_DEFERRED 32

extern const struct dt_driver __start_rvmm_drivers[], __stop_rvmm_drivers[];

/* Nodes bound so far; boot hart only, during the stages. */
static struct {
	int node;
	const struct dt_driver *driver;
} bound[DT_MAX_BOUND];
static unsigned nr_bound;

const struct dt_driver *dt_bound_driver(int node)
{
	for (unsigned i = 0; i < nr_bound; i++)
		if (bound[i].node == node)
			return bound[i].driver;
	return NULL;
}

void dt_print_devices(const void *fdt)
{
	char path[DT_PATH_LEN];

	kprintf("devices: %u bound\n", nr_bound);
	for (unsigned i = 0; i < nr_bound; i++)
		kprintf("  %-40s %s\n", dt_path(fdt, bound[i].node, path), bound[i].driver->name);
}

static bool driver_matches(const struct dt_driver *drv, const void *fdt, int node)
{
	for (const char *const *c = drv->compatible; *c; c++)
		if (fdt_node_check_compatible(fdt, node, *c) == 0)
			return true;
	return false;
}

/*
 * Offer node to each matching driver of stage in turn. Returns 0 (bound, or no driver wants it),
 * -EAGAIN (a driver asked to be asked again), or the first real error.
 */
static int probe_node(struct platform *plat, const void *fdt, int node, enum dt_stage stage)
{
	char path[DT_PATH_LEN];
	struct dt_device dev = { plat, fdt, node, NULL };
	int rc = 0;

	for (const struct dt_driver *drv = __start_rvmm_drivers; drv < __stop_rvmm_drivers; drv++) {
		if (drv->stage != stage || !driver_matches(drv, fdt, node))
			continue;
		/* The path costs a walk from the root: only for nodes a driver wants. */
		if (!dev.name)
			dev.name = dt_path(fdt, node, path);
		rc = drv->probe(&dev);
		if (rc == -ENODEV)
			continue;
		if (rc == 0) {
			if (nr_bound < DT_MAX_BOUND)
				bound[nr_bound++] = (typeof(bound[0])){ node, drv };
			return 0;
		}
		if (rc != -EAGAIN)
			pr_err("%s: %s: probe failed (%s)", drv->name, dev.name, errname(rc));
		return rc;
	}
	return 0;
}

int dt_probe_stage(struct platform *plat, const void *fdt, enum dt_stage stage)
{
	int deferred[DT_MAX_DEFERRED], nr_deferred = 0, failed = 0, budget = DT_MAX_NODES;
	bool progress = true;
	char path[DT_PATH_LEN];

	for (int node = 0; node >= 0 && budget-- > 0; node = fdt_next_node(fdt, node, NULL)) {
		if (!dt_node_enabled(fdt, node) || dt_bound_driver(node))
			continue;
		int rc = probe_node(plat, fdt, node, stage);
		if (rc == -EAGAIN && nr_deferred < DT_MAX_DEFERRED) {
			deferred[nr_deferred++] = node;
		} else if (rc) {
			if (rc == -EAGAIN)
				pr_err("%s: more than %d probes waiting: not probed",
				       dt_path(fdt, node, path), DT_MAX_DEFERRED);
			failed++;
		}
	}
	/* Deferred nodes wait for one another (an MSI controller's users): retry while any binds. */
	while (nr_deferred && progress) {
		progress = false;
		for (int i = 0; i < nr_deferred; i++) {
			int rc = probe_node(plat, fdt, deferred[i], stage);
			if (rc == -EAGAIN)
				continue;
			failed += rc != 0;
			deferred[i--] = deferred[--nr_deferred];
			progress = true;
		}
	}
	for (int i = 0; i < nr_deferred; i++)
		pr_err("%s: a resource it needs never appeared: not probed",
		       dt_path(fdt, deferred[i], path));
	return failed + nr_deferred;
}
