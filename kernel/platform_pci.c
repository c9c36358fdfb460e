// SPDX-License-Identifier: MIT
/*
 * The generic ECAM PCIe host from the device tree (pci-host-ecam-generic): the ECAM window, the
 * bus range, the windows in `ranges` and the INTx routing in `interrupt-map`.
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
 * Interface: platform_parse_pci() (see platform_fdt.h).
 */
#include <rvmm/errno.h>
#include <rvmm/platform.h>

#include "platform_fdt.h"

#define PCI_SPACE(hi) (((hi) >> 24) & 3)
#define PCI_PREFETCH(hi) (((hi) >> 30) & 1)
#define PCI_DEVFN(hi) (((hi) >> 8) & 0xff)

static const char *const pci_compat[] = { "pci-host-ecam-generic" };

static void parse_ranges(struct platform *plat, const void *fdt, int node, int sc)
{
	struct plat_pci_host *pci = &plat->pci;
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
		if (pci->nr_ranges == PLAT_MAX_PCI_RANGES) {
			dt_warn(plat, fdt, node, "more than %d ranges, entry %d dropped",
				PLAT_MAX_PCI_RANGES, i);
			break;
		}
		pci->ranges[pci->nr_ranges++] = (struct plat_pci_range){
			.space = PCI_SPACE(hi),
			.prefetchable = PCI_PREFETCH(hi),
			.pci_addr = dt_read_cells(r + 1, 2),
			.cpu_addr = cpu,
			.size = size,
		};
	}
}

/*
 * interrupt-map rows into pci->imap. Rows vary in length with their parent, so a row that cannot
 * be sized (unknown phandle, bad cell counts) ends the decoding: the rows before it are kept.
 */
static void parse_imap(struct platform *plat, const void *fdt, int node, uint32_t plic_phandle)
{
	struct plat_pci_host *pci = &plat->pci;
	int icells = dt_cells(fdt, node, "#interrupt-cells", 1);
	int len, mlen, cells, row, pnode, pac, pic, rowlen;
	const fdt32_t *map = fdt_getprop(fdt, node, "interrupt-map", &len);
	const fdt32_t *mask = fdt_getprop(fdt, node, "interrupt-map-mask", &mlen);

	if (!map)
		return;   /* MSI only, or no legacy interrupts: not a problem */
	if (icells != 1) {
		dt_warn(plat, fdt, node, "#interrupt-cells %d is not 1, interrupt-map ignored", icells);
		return;
	}
	pci->imap_mask_devfn = 0xff;
	pci->imap_mask_pin = 0xffffffff;
	if (mask && mlen == 4 * (3 + icells)) {
		pci->imap_mask_devfn = PCI_DEVFN(fdt32_ld(mask));
		pci->imap_mask_pin = fdt32_ld(mask + 3);
	} else if (mask) {
		dt_warn(plat, fdt, node, "interrupt-map-mask length %d is not %d, interrupt-map ignored",
			mlen, 4 * (3 + icells));
		return;
	}
	cells = len / 4;
	for (row = 0; cells > 0; row++) {
		if (cells < 3 + icells + 1) {
			dt_warn(plat, fdt, node, "interrupt-map row %d is cut short", row);
			return;
		}
		pnode = fdt_node_offset_by_phandle(fdt, fdt32_ld(map + 3 + icells));
		pac = pnode >= 0 ? dt_cells(fdt, pnode, "#address-cells", 0) : -1;
		pic = pnode >= 0 ? dt_cells(fdt, pnode, "#interrupt-cells", -1) : -1;
		if (pnode < 0 || pac < 0 || pic < 1) {
			dt_warn(plat, fdt, node, "interrupt-map row %d: parent 0x%x %s, rest ignored",
				row, fdt32_ld(map + 3 + icells),
				pnode < 0 ? "names no node" : "has bad #address/#interrupt-cells");
			return;
		}
		rowlen = 3 + icells + 1 + pac + pic;
		if (cells < rowlen) {
			dt_warn(plat, fdt, node, "interrupt-map row %d is cut short", row);
			return;
		}
		if (fdt32_ld(map + 3 + icells) != plic_phandle || !plic_phandle) {
			dt_warn(plat, fdt, node, "interrupt-map row %d: parent is not the PLIC, ignored",
				row);
		} else if (pci->nr_imap == PLAT_MAX_IMAP) {
			dt_warn(plat, fdt, node, "more than %d interrupt-map rows, rest ignored",
				PLAT_MAX_IMAP);
			return;
		} else {
			pci->imap[pci->nr_imap++] = (struct plat_pci_imap){
				.devfn = PCI_DEVFN(fdt32_ld(map)) & pci->imap_mask_devfn,
				.pin = fdt32_ld(map + 3) & pci->imap_mask_pin,
				.irq = fdt32_ld(map + 3 + icells + 1 + pac),
			};
		}
		map += rowlen;
		cells -= rowlen;
	}
}

// One host bridge: ECAM window and bus range first; without them the node is dropped.
static bool parse_host(struct platform *plat, const void *fdt, int node, uint32_t plic_phandle)
{
	struct plat_pci_host *pci = &plat->pci;
	char path[DT_PATH_LEN];
	int ac = dt_cells(fdt, node, "#address-cells", 2);
	int sc = dt_cells(fdt, node, "#size-cells", 1);
	int len, rc;
	const fdt32_t *br = fdt_getprop(fdt, node, "bus-range", &len);

	memset(pci, 0, sizeof(*pci));
	if (ac != 3 || sc < 1 || sc > 2) {
		dt_warn(plat, fdt, node, "#address-cells %d / #size-cells %d are not 3 / 1..2, dropped",
			ac, sc);
		return false;
	}
	rc = dt_reg_phys(plat, fdt, node, 0, &pci->ecam_base, &pci->ecam_size);
	if (rc == -ENOENT)
		dt_warn(plat, fdt, node, "no reg (ECAM window), dropped");
	if (rc)
		return false;
	pci->bus_start = 0;
	pci->bus_end = 255;
	if (br) {
		if (len != 8 || fdt32_ld(br) > fdt32_ld(br + 1) || fdt32_ld(br + 1) > 255) {
			dt_warn(plat, fdt, node, "bus-range is not <start end> within 0..255, dropped");
			return false;
		}
		pci->bus_start = fdt32_ld(br);
		pci->bus_end = fdt32_ld(br + 1);
	}
	if (pci->ecam_size < (uint64_t)(pci->bus_end - pci->bus_start + 1) << 20) {
		dt_warn(plat, fdt, node, "ECAM size 0x%lx is too small for buses %u..%u, dropped",
			pci->ecam_size, pci->bus_start, pci->bus_end);
		return false;
	}
	parse_ranges(plat, fdt, node, sc);
	parse_imap(plat, fdt, node, plic_phandle);
	dt_copy(pci->name, sizeof(pci->name), dt_path(fdt, node, path));
	pci->present = true;
	return true;
}

void platform_parse_pci(struct platform *plat, const void *fdt, uint32_t plic_phandle)
{
	int node, budget;

	/* The first usable host: rvmm drives one. */
	dt_for_each_compatible(node, fdt, pci_compat, budget)
		if (parse_host(plat, fdt, node, plic_phandle))
			return;
	memset(&plat->pci, 0, sizeof(plat->pci));
}
