// SPDX-License-Identifier: MIT
/*
 * Harts from the device tree: /cpus (hart ids, ISA, MMU type, timebase, numa-node-id). A hart node with a
 * problem is dropped after a dt_warn. (Devices are no business of this file: drivers probe their
 * own nodes, rvmm/device.h.)
 *
 * Interface: platform_parse_cpus() (see include/rvmm/dt.h), plat_hart_has_ext (rvmm/platform.h).
 */
#include <rvmm/errno.h>
#include <rvmm/platform.h>

#include <rvmm/dt.h>

static const char *const mmu_usable[] = { "riscv,sv39", "riscv,sv48", "riscv,sv57" };

/* ---- /cpus ---------------------------------------------------------------------------------- */

static bool read_timebase(const void *fdt, int node, uint64_t *hz)
{
	int len;
	const fdt32_t *p = fdt_getprop(fdt, node, "timebase-frequency", &len);

	if (!p || (len != 4 && len != 8))
		return false;
	*hz = dt_read_cells(p, len / 4);
	return true;
}

// Keep whole "_ext" words of a long riscv,isa string ("rv64imafdch_zicbom_...").
static void copy_isa(char *dst, const char *isa)
{
	size_t n;

	dt_copy(dst, PLAT_ISA_LEN, isa ? isa : "");
	n = strlen(dst);
	if (isa && isa[n] != '\0') {
		while (n > 0 && dst[n] != '_')
			n--;
		if (n > 0)
			dst[n] = '\0';
	}
}

bool plat_hart_has_ext(const struct plat_hart *h, const char *ext)
{
	// riscv,isa is "rv64imafdch_zicsr_..._sstc": multi-letter extensions follow underscores.
	size_t n = strlen(ext);
	for (const char *p = strchr(h->isa, '_'); p; p = strchr(p + 1, '_'))
		if (strncmp(p + 1, ext, n) == 0 && (p[1 + n] == '_' || p[1 + n] == '\0'))
			return true;
	return false;
}

static void add_hart(struct platform *plat, const void *fdt, int node, int ac)
{
	const char *mmu = dt_string(fdt, node, "mmu-type");
	bool usable = false; /* status okay and an mmu-type rvmm can use */
	struct plat_hart *h;
	uint64_t id;
	int len, i;
	const fdt32_t *reg = fdt_getprop(fdt, node, "reg", &len);

	if (!reg || len != 4 * ac) {
		dt_warn(plat, fdt, node, "reg length %d is not one hart id of %d cells, dropped",
			reg ? len : 0, ac);
		return;
	}
	id = dt_read_cells(reg, ac);
	if (id > UINT32_MAX) {
		dt_warn(plat, fdt, node, "hart id 0x%lx is too large, dropped", id);
		return;
	}
	for (i = 0; i < plat->nr_harts; i++) {
		if (plat->harts[i].hartid == id) {
			dt_warn(plat, fdt, node, "hart id %lu appears twice, dropped", id);
			return;
		}
	}
	for (i = 0; mmu && i < (int)ARRAY_SIZE(mmu_usable); i++)
		if (strcmp(mmu, mmu_usable[i]) == 0)
			usable = dt_node_enabled(fdt, node);
	if (plat->nr_harts < PLAT_MAX_HARTS) {
		h = &plat->harts[plat->nr_harts++];
	} else {
		// A full table keeps the harts that can run: one that cannot never takes a place.
		for (i = plat->nr_harts - 1; usable && i >= 0 && plat->harts[i].enabled; i--)
			;
		if (!usable || i < 0) {
			dt_warn(plat, fdt, node, "more than %d harts, hart %lu dropped", PLAT_MAX_HARTS, id);
			return;
		}
		dt_warn(plat, fdt, node, "more than %d harts: disabled hart %u dropped for hart %lu",
			PLAT_MAX_HARTS, plat->harts[i].hartid, id);
		h = &plat->harts[i];
	}
	h->hartid = (uint32_t)id;
	copy_isa(h->isa, dt_string(fdt, node, "riscv,isa"));
	dt_copy(h->mmu, sizeof(h->mmu), mmu ? mmu : "none");
	h->node = dt_numa_node_id(plat, fdt, node);
	h->enabled = usable;
	if (!plat->timebase_hz)
		read_timebase(fdt, node, &plat->timebase_hz);
}

int platform_parse_cpus(struct platform *plat, const void *fdt)
{
	int cpus = fdt_path_offset(fdt, "/cpus");
	int node, ac, count = 0, enabled = 0;
	const char *type;

	if (cpus < 0) {
		dt_warn(plat, fdt, 0, "no /cpus node");
		return 0;
	}
	read_timebase(fdt, cpus, &plat->timebase_hz);
	ac = dt_cells(fdt, cpus, "#address-cells", 1);
	if (ac < 1 || ac > 2) {
		dt_warn(plat, fdt, cpus, "#address-cells %d not supported, no harts read", ac);
		return 0;
	}
	fdt_for_each_subnode(node, fdt, cpus) {
		if (++count > DT_MAX_NODES)
			break;
		type = dt_string(fdt, node, "device_type");
		if (type && strcmp(type, "cpu") == 0)
			add_hart(plat, fdt, node, ac);
	}
	for (int i = 0; i < plat->nr_harts; i++)
		enabled += plat->harts[i].enabled;
	if (plat->nr_harts && !enabled)
		dt_warn(plat, fdt, cpus, "no hart has status okay and mmu-type sv39/sv48/sv57");
	if (!plat->timebase_hz)
		dt_warn(plat, fdt, cpus, "no timebase-frequency");
	return 0;
}
