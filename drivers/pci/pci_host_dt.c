// SPDX-License-Identifier: MIT
/*
 * The generic ECAM PCIe host from the device tree (pci-host-ecam-generic), as a DT driver: the
 * ECAM window, the bus range and the windows in `ranges` are read here, then pci_init() scans
 * the bus. A function's INTx pin is routed through the node's `interrupt-map` by the interrupt
 * domain layer (irq_map_dt), to whichever controller the row names; MSI-X vectors come from the
 * controller msi-parent names (an IMSIC), if any.
 *
 * A PCI address is 3 cells: phys.hi = npt000ss bbbbbbbb dddddfff rrrrrrrr (ss: the space, 1 I/O,
 * 2 32-bit memory, 3 64-bit memory; p: prefetchable; b/d/f/r: bus, device, function, register),
 * then the 64-bit address in phys.mid, phys.lo. An interrupt-map row is
 *
 *     child address (3 cells) | child pin (#interrupt-cells of the host, 1) | parent phandle |
 *     parent address (#address-cells of the parent, 0 for the PLIC) | parent specifier
 *     (#interrupt-cells of the parent, 1 for the PLIC: the source number)
 *
 * so on QEMU virt each row is 6 cells and there are 4 slots x 4 pins = 16 rows.
 *
 * Interface: the DT driver below; pci_host_dt_parse (host tests).
 */
#include <rvmm/device.h>
#include <rvmm/dt.h>
#include <rvmm/errno.h>
#include <rvmm/irq.h>
#include <rvmm/pci.h>

#define PCI_SPACE(hi) (((hi) >> 24) & 3)
#define PCI_PREFETCH(hi) (((hi) >> 30) & 1)

static void parse_ranges(struct platform *plat, const void *fdt, int node, int sc,
			 struct pci_host *pci)
{
	int parent = fdt_parent_offset(fdt, node);
	int pac = dt_cells(fdt, parent, "#address-cells", 2);
	int len, entry = 3 + pac + sc;
	const fdt32_t *r = fdt_getprop(fdt, node, "ranges", &len);

	if (!r) {
		dt_warn(plat, fdt, node, "no ranges: no windows for BARs");
		return;
	}
	if (pac < 1 || pac > 2 || len % (4 * entry)) {
		dt_warn(plat, fdt, node, "ranges length %d is not a multiple of %d, ignored", len,
			4 * entry);
		return;
	}
	for (int i = 0; i < len / (4 * entry); i++, r += entry) {
		uint32_t hi = fdt32_ld(r);
		uint64_t cpu = dt_read_cells(r + 3, pac), size = dt_read_cells(r + 3 + pac, sc);

		if (PCI_SPACE(hi) == 0 || size == 0) {
			dt_warn(plat, fdt, node, "ranges entry %d (%s) ignored", i,
				size ? "configuration space" : "size 0");
			continue;
		}
		if (dt_translate(plat, fdt, node, parent, &cpu, size))
			continue;
		if (pci->nr_ranges == PCI_MAX_RANGES) {
			dt_warn(plat, fdt, node, "more than %d ranges, entry %d dropped",
				PCI_MAX_RANGES, i);
			break;
		}
		pci->ranges[pci->nr_ranges++] = (struct pci_range){
			.space = PCI_SPACE(hi),
			.prefetchable = PCI_PREFETCH(hi),
			.pci_addr = dt_read_cells(r + 1, 2),
			.cpu_addr = cpu,
			.size = size,
		};
	}
}

// INTx: the child unit address is phys.hi with bus and devfn (the rest zero), the pin 1..4.
static int route_intx(const struct pci_host *host, const struct pci_dev *dev, struct irq_spec *spec)
{
	uint32_t addr[3] = { (uint32_t)dev->bus << 16 | (uint32_t)dev->devfn << 8, 0, 0 };
	uint32_t pin = dev->pin;

	return irq_map_dt(host->fdt, host->node, addr, 3, &pin, 1, spec);
}

int pci_host_dt_parse(struct platform *plat, const void *fdt, int node, struct pci_host *pci)
{
	char path[DT_PATH_LEN];
	int ac = dt_cells(fdt, node, "#address-cells", 2);
	int sc = dt_cells(fdt, node, "#size-cells", 1);
	int len, rc;
	const fdt32_t *br = fdt_getprop(fdt, node, "bus-range", &len);

	memset(pci, 0, sizeof(*pci));
	if (ac != 3 || sc < 1 || sc > 2) {
		dt_warn(plat, fdt, node, "#address-cells %d / #size-cells %d are not 3 / 1..2, dropped",
			ac, sc);
		return -EINVAL;
	}
	rc = dt_reg_phys(plat, fdt, node, 0, &pci->ecam_base, &pci->ecam_size);
	if (rc == -ENOENT)
		dt_warn(plat, fdt, node, "no reg (ECAM window), dropped");
	if (rc)
		return -EINVAL;
	pci->bus_start = 0;
	pci->bus_end = 255;
	if (br) {
		if (len != 8 || fdt32_ld(br) > fdt32_ld(br + 1) || fdt32_ld(br + 1) > 255) {
			dt_warn(plat, fdt, node, "bus-range is not <start end> within 0..255, dropped");
			return -EINVAL;
		}
		pci->bus_start = fdt32_ld(br);
		pci->bus_end = fdt32_ld(br + 1);
	}
	if (pci->ecam_size < (uint64_t)(pci->bus_end - pci->bus_start + 1) << 20) {
		dt_warn(plat, fdt, node, "ECAM size 0x%lx is too small for buses %u..%u, dropped",
			pci->ecam_size, pci->bus_start, pci->bus_end);
		return -EINVAL;
	}
	parse_ranges(plat, fdt, node, sc, pci);
	dt_copy(pci->name, sizeof(pci->name), dt_path(fdt, node, path));
	pci->fdt = fdt;
	pci->node = node;
	pci->route_intx = route_intx;
	pci->msi = irq_msi_domain(fdt, node);
	return 0;
}

/* One host: pci_init's function table is shared by all, and QEMU virt has one. */
static struct pci_host dt_host;

static int pci_host_probe(const struct dt_device *dev)
{
	int rc;

	if (dt_host.fdt) {
		pr_warn("pci: %s: a second ECAM host is not supported, ignored", dev->name);
		return -ENODEV;
	}
	rc = pci_host_dt_parse(dev->plat, dev->fdt, dev->node, &dt_host);
	if (rc)
		return rc;
	rc = pci_init(&dt_host);
	return rc < 0 ? rc : 0;
}

static const char *const pci_host_compatible[] = { "pci-host-ecam-generic", NULL };

DT_DRIVER(pci_host, .name = "pci-host-ecam", .compatible = pci_host_compatible,
	  .stage = DT_STAGE_DEVICE, .probe = pci_host_probe);
