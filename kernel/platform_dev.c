// SPDX-License-Identifier: MIT
/*
 * Harts and devices from the device tree: /cpus (hart ids, ISA, MMU type, timebase), the console
 * UART (ns16550a: the one /chosen/stdout-path names, else the first), the PLIC, the virtio-mmio
 * slots and the syscon poweroff; the PCIe host is in platform_pci.c.
 * Devices are matched from one table per kind; a node with a problem is dropped after a dt_warn.
 *
 * Interface: platform_parse_cpus(), platform_parse_devices() (see platform_fdt.h).
 */
#include <rvmm/errno.h>
#include <rvmm/platform.h>

#include "platform_fdt.h"

static const char *const uart_compat[] = { "ns16550a" };
static const char *const plic_compat[] = { "riscv,plic0", "sifive,plic-1.0.0" };
static const char *const virtio_compat[] = { "virtio,mmio" };
static const char *const poweroff_compat[] = { "syscon-poweroff" };
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

/* ---- Devices -------------------------------------------------------------------------------- */

// reg entry 0 and the first interrupt of node into *d. On a problem: false, the node dropped,
// *d untouched.
static bool fill_device(struct platform *plat, const void *fdt, int node, struct plat_device *d)
{
	char path[DT_PATH_LEN];
	struct plat_device dev = { .present = true };
	int rc = dt_reg_phys(plat, fdt, node, 0, &dev.base, &dev.size);

	if (rc == -ENOENT)
		dt_warn(plat, fdt, node, "no reg, dropped");
	if (rc)
		return false;
	if (dev.size == 0) {
		dt_warn(plat, fdt, node, "reg size is 0, dropped");
		return false;
	}
	dev.irq = dt_irq(fdt, node);
	dt_copy(dev.name, sizeof(dev.name), dt_path(fdt, node, path));
	*d = dev;
	return true;
}

static void parse_uart(struct platform *plat, const void *fdt, int stdout_node)
{
	char path[DT_PATH_LEN];
	int node, budget;

	if (stdout_node >= 0) {
		if (dt_compatible(fdt, stdout_node, uart_compat, ARRAY_SIZE(uart_compat)) &&
		    fill_device(plat, fdt, stdout_node, &plat->uart))
			return;
		pr_info("device tree: %s: stdout-path names it but it is no usable ns16550a; "
			"using the first one", dt_path(fdt, stdout_node, path));
	}
	dt_for_each_compatible(node, fdt, uart_compat, budget)
		if (fill_device(plat, fdt, node, &plat->uart))
			return;
}

// Returns the PLIC's phandle (0 if none), for the PCI interrupt-map.
static uint32_t parse_plic(struct platform *plat, const void *fdt)
{
	uint32_t ndev;
	int node, budget, rc;

	dt_for_each_compatible(node, fdt, plic_compat, budget) {
		rc = dt_u32(fdt, node, "riscv,ndev", &ndev);
		if (rc || ndev == 0 || ndev > 1023) {
			dt_warn(plat, fdt, node, "riscv,ndev %s, dropped",
				rc ? "missing or not one cell" : "is not 1..1023");
			continue;
		}
		if (!fill_device(plat, fdt, node, &plat->plic))
			continue;
		plat->plic.irq = ndev;
		plat->plic_ndev = ndev;
		return fdt_get_phandle(fdt, node);
	}
	return 0;
}

static void parse_virtio(struct platform *plat, const void *fdt)
{
	struct plat_device *v = plat->virtio_mmio;
	int node, budget, i, j;

	dt_for_each_compatible(node, fdt, virtio_compat, budget) {
		if (plat->nr_virtio_mmio == PLAT_MAX_VIRTIO_MMIO) {
			dt_warn(plat, fdt, node, "more than %d virtio,mmio nodes, dropped",
				PLAT_MAX_VIRTIO_MMIO);
			break;
		}
		if (fill_device(plat, fdt, node, &v[plat->nr_virtio_mmio]))
			plat->nr_virtio_mmio++;
	}
	/* By base, so "virtio-mmio 0" is the lowest slot whatever the DT order (QEMU's is reversed). */
	for (i = 1; i < plat->nr_virtio_mmio; i++) {
		struct plat_device t = v[i];

		for (j = i; j > 0 && v[j - 1].base > t.base; j--)
			v[j] = v[j - 1];
		v[j] = t;
	}
}

static void parse_poweroff(struct platform *plat, const void *fdt)
{
	uint32_t regmap, offset, value;
	int node, syscon, budget;

	dt_for_each_compatible(node, fdt, poweroff_compat, budget) {
		if (dt_u32(fdt, node, "regmap", &regmap) || dt_u32(fdt, node, "offset", &offset) ||
		    dt_u32(fdt, node, "value", &value)) {
			dt_warn(plat, fdt, node, "regmap, offset or value missing, dropped");
			continue;
		}
		syscon = fdt_node_offset_by_phandle(fdt, regmap);
		if (syscon < 0) {
			dt_warn(plat, fdt, node, "regmap 0x%x names no node, dropped", regmap);
			continue;
		}
		if (!fill_device(plat, fdt, syscon, &plat->syscon_poweroff))
			continue;
		if (offset > plat->syscon_poweroff.size - 4 || plat->syscon_poweroff.size < 4) {
			dt_warn(plat, fdt, node, "offset 0x%x is outside its syscon, dropped", offset);
			plat->syscon_poweroff.present = false;
			continue;
		}
		plat->syscon_poweroff.base += offset;
		plat->syscon_poweroff.size = 4;
		plat->syscon_poweroff.irq = 0;
		plat->syscon_poweroff_value = value;
		return;
	}
}

int platform_parse_devices(struct platform *plat, const void *fdt, int stdout_node)
{
	uint32_t plic_phandle;

	parse_uart(plat, fdt, stdout_node);
	plic_phandle = parse_plic(plat, fdt);
	platform_parse_pci(plat, fdt, plic_phandle);
	parse_virtio(plat, fdt);
	parse_poweroff(plat, fdt);
	return 0;
}
