// SPDX-License-Identifier: MIT
/*
 * The PCI core over an ECAM host: config space access, the bus scan, capability lists, INTx
 * routing (through the host; shared lines through the interrupt domains), driver binding from
 * pci_drivers[], and the `lspci` command. BARs are sized and placed by pci_bar.c.
 *
 * ECAM gives every function 4 KiB of config space at base + (bus - bus_start) << 20 |
 * device << 15 | function << 12. The scan is bounded by the DT's bus-range, 32 devices and 8
 * functions. PCI-to-PCI bridges are listed but not configured (QEMU virt has none by default):
 * the buses behind them stay unnumbered and empty.
 *
 * Interface: pci_init, pci_read/write_config8/16/32, pci_find_capability,
 * pci_find_next_capability, pci_iomap, pci_request_irq, the `lspci` command.
 */
#include <rvmm/cmdline.h>
#include <rvmm/console.h>
#include <rvmm/errno.h>
#include <rvmm/io.h>
#include <rvmm/irq.h>
#include <rvmm/pci.h>
#include <rvmm/printk.h>
#include <stdio.h>

#include "pci_internal.h"

#define PCI_MAX_DEVS 64
#define PCI_MAX_CAPS 48 /* (256 - 64) / 4: more means a loop */

/* Functions found, written by pci_init on the boot hart before the shell runs: no lock. */
static struct pci_dev pci_devs[PCI_MAX_DEVS];
static unsigned nr_pci_devs;

/* ---- config space ---------------------------------------------------------------------------- */

uint8_t pci_read_config8(const struct pci_dev *dev, unsigned off)
{
	return off < PCI_CFG_SIZE ? readb(dev->cfg + off) : 0xff;
}

uint16_t pci_read_config16(const struct pci_dev *dev, unsigned off)
{
	return off < PCI_CFG_SIZE - 1 && !(off & 1) ? readw(dev->cfg + off) : 0xffff;
}

uint32_t pci_read_config32(const struct pci_dev *dev, unsigned off)
{
	return off < PCI_CFG_SIZE - 3 && !(off & 3) ? readl(dev->cfg + off) : ~0u;
}

void pci_write_config8(struct pci_dev *dev, unsigned off, uint8_t val)
{
	if (off < PCI_CFG_SIZE)
		writeb(val, dev->cfg + off);
}

void pci_write_config16(struct pci_dev *dev, unsigned off, uint16_t val)
{
	if (off < PCI_CFG_SIZE - 1 && !(off & 1))
		writew(val, dev->cfg + off);
}

void pci_write_config32(struct pci_dev *dev, unsigned off, uint32_t val)
{
	if (off < PCI_CFG_SIZE - 3 && !(off & 3))
		writel(val, dev->cfg + off);
}

/* ---- capabilities --------------------------------------------------------------------------- */

/*
 * Walk the list from the pointer at ptr_off (PCI_CAPABILITY_LIST, or a capability's next field).
 * Pointers below 0x40 end the list; a list longer than PCI_MAX_CAPS or visiting an entry twice is
 * a loop, reported once per function.
 */
static unsigned cap_walk(const struct pci_dev *dev, unsigned ptr_off, uint8_t cap)
{
	uint64_t seen[4] = { 0 }; /* one bit per dword of the 256-byte header */
	unsigned pos = pci_read_config8(dev, ptr_off) & ~3u;

	for (int n = 0; n < PCI_MAX_CAPS && pos >= 0x40; n++) {
		unsigned dw = pos / 4;
		if (seen[dw / 64] >> (dw % 64) & 1)
			break;
		seen[dw / 64] |= 1ULL << (dw % 64);
		if (pci_read_config8(dev, pos) == cap)
			return pos;
		pos = pci_read_config8(dev, pos + 1) & ~3u;
	}
	if (pos >= 0x40)
		pr_warn("pci %s: capability list loops (at 0x%x): rest ignored", dev->name, pos);
	return 0;
}

unsigned pci_find_capability(const struct pci_dev *dev, uint8_t cap)
{
	if (!(pci_read_config16(dev, PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return 0;
	return cap_walk(dev, PCI_CAPABILITY_LIST, cap);
}

unsigned pci_find_next_capability(const struct pci_dev *dev, unsigned pos, uint8_t cap)
{
	if (pos < 0x40 || pos > 0xfc)
		return 0;
	return cap_walk(dev, pos + 1, cap);
}

/* ---- BAR mapping and interrupts ------------------------------------------------------------- */

void *pci_iomap(struct pci_dev *dev, unsigned bar)
{
	struct pci_bar *b;

	if (bar >= PCI_NUM_BARS || !dev->bar[bar].size)
		return NULL;
	b = &dev->bar[bar];
	if (!b->va)
		b->va = ioremap(b->cpu_addr, b->size);
	return b->va;
}

int pci_request_irq(struct pci_dev *dev, void (*handler)(void *arg), void *arg)
{
	if (!dev->irq.nr_cells || !cmdline.pci_intx)
		return -ENODEV; /* pci_intx=off: the driver polls */
	return irq_request(&dev->irq, handler, arg);
}

/* dev's INTx pin through the host's routing; dev->irq stays empty if it has none. */
static void pci_route_irq(const struct pci_host *host, struct pci_dev *dev)
{
	int rc;

	if (dev->pin < 1 || dev->pin > 4 || !host->route_intx)
		return;
	rc = host->route_intx(host, dev, &dev->irq);
	if (rc) {
		dev->irq.nr_cells = 0;
		pr_warn("pci %s: INT%c# has no route (%s): no interrupt", dev->name,
			'A' + dev->pin - 1, errname(rc));
	}
}

/* ---- scan and bind -------------------------------------------------------------------------- */

static void pci_bind(struct pci_dev *dev)
{
	for (size_t d = 0; d < pci_nr_drivers; d++) {
		const struct pci_driver *drv = pci_drivers[d];
		for (const struct pci_device_id *id = drv->ids; id->vendor; id++) {
			if (id->vendor != dev->vendor || dev->device < id->device_first ||
			    dev->device > id->device_last)
				continue;
			int rc = drv->probe(dev, id);
			if (rc == 0) {
				dev->driver = drv;
				return;
			}
			if (rc != -ENODEV) {
				pr_err("pci %s: %s probe failed (%s)", dev->name, drv->name,
				       errname(rc));
				return;
			}
		}
	}
}

/* Read one present function's header into a new pci_dev and set it up; NULL if full. */
static struct pci_dev *pci_setup_function(const struct pci_host *host, volatile uint8_t *cfg,
					  unsigned bus, unsigned devfn)
{
	struct pci_dev *dev;
	uint32_t cr;

	if (nr_pci_devs == PCI_MAX_DEVS) {
		pr_warn("pci %02x:%02x.%u: more than %d functions, ignored", bus, devfn >> 3,
			devfn & 7, PCI_MAX_DEVS);
		return NULL;
	}
	dev = &pci_devs[nr_pci_devs++];
	*dev = (struct pci_dev){ .bus = bus, .devfn = devfn, .cfg = cfg };
	snprintf(dev->name, sizeof(dev->name), "%02x:%02x.%u", bus, devfn >> 3, devfn & 7);
	dev->vendor = pci_read_config16(dev, PCI_VENDOR_ID);
	dev->device = pci_read_config16(dev, PCI_DEVICE_ID);
	cr = pci_read_config32(dev, PCI_CLASS_REVISION);
	dev->class = cr >> 8;
	dev->revision = cr & 0xff;
	dev->hdr_type = pci_read_config8(dev, PCI_HEADER_TYPE) & PCI_HEADER_TYPE_MASK;

	if (dev->hdr_type != 0) {
		snprintf(dev->problem, sizeof(dev->problem), "header type %u (%s) not configured",
			 dev->hdr_type, dev->hdr_type == 1 ? "PCI bridge" : "unknown");
		pr_warn("pci %s: %04x:%04x: %s", dev->name, dev->vendor, dev->device, dev->problem);
		return dev;
	}
	dev->subsystem_vendor = pci_read_config16(dev, PCI_SUBSYSTEM_VENDOR_ID);
	dev->subsystem = pci_read_config16(dev, PCI_SUBSYSTEM_ID);
	dev->pin = pci_read_config8(dev, PCI_INTERRUPT_PIN);
	if (pci_assign_bars(dev)) {
		pr_err("pci %s: %04x:%04x: %s: function skipped", dev->name, dev->vendor,
		       dev->device, dev->problem);
		return dev;
	}
	pci_route_irq(host, dev);
	dev->msi = host->msi;
	if (dev->irq.nr_cells) /* informational: the controller's line, low byte */
		pci_write_config8(dev, PCI_INTERRUPT_LINE, (uint8_t)dev->irq.cells[0]);
	return dev;
}

int pci_init(const struct pci_host *host)
{
	unsigned nbus;
	uint8_t *ecam;

	nbus = host->bus_end - host->bus_start + 1;
	ecam = ioremap(host->ecam_base, (uint64_t)nbus << 20);
	if (!ecam) {
		pr_err("pci: %s: cannot map ECAM at 0x%lx", host->name, (unsigned long)host->ecam_base);
		return -ENOMEM;
	}
	pci_windows_init(host);
	pr_info("pci: %s: ECAM 0x%lx, buses %02x-%02x, %d windows", host->name,
		(unsigned long)host->ecam_base, host->bus_start, host->bus_end, host->nr_ranges);

	for (unsigned b = 0; b < nbus; b++) {
		for (unsigned devfn = 0; devfn < 256; devfn++) {
			volatile uint8_t *cfg = ecam + ((uint64_t)b << 20) + ((uint64_t)devfn << 12);
			if (readw(cfg + PCI_VENDOR_ID) == 0xffff) {
				if ((devfn & 7) == 0)
					devfn += 7; /* no function 0: no device */
				continue;
			}
			struct pci_dev *dev = pci_setup_function(host, cfg, host->bus_start + b, devfn);
			if (!dev)
				break;
			if ((devfn & 7) == 0 && !(readb(cfg + PCI_HEADER_TYPE) & PCI_HEADER_MULTI_FUNCTION))
				devfn += 7; /* single-function device */
		}
	}
	/* Bind after the scan: every BAR is placed before any driver maps one. */
	for (unsigned i = 0; i < nr_pci_devs; i++)
		if (!pci_devs[i].problem[0])
			pci_bind(&pci_devs[i]);
	pr_info("pci: %u functions", nr_pci_devs);
	return (int)nr_pci_devs;
}

/* ---- lspci ---------------------------------------------------------------------------------- */

static int cmd_lspci(int argc, char **argv __unused)
{
	if (argc != 1)
		return CMD_USAGE;
	if (!nr_pci_devs)
		kprintf("no PCI functions\n");
	for (unsigned i = 0; i < nr_pci_devs; i++) {
		const struct pci_dev *dev = &pci_devs[i];
		kprintf("%s %04x:%04x class %06x", dev->name, dev->vendor, dev->device, dev->class);
		if (dev->msix.enabled)
			kprintf(" msi-x %u of %u vectors", dev->msix.nr_vectors, dev->msix.table_size);
		else if (dev->irq.nr_cells) {
			char irq[64];
			irq_describe(&dev->irq, irq, sizeof(irq));
			kprintf(" irq %s (INT%c)", irq, 'A' + dev->pin - 1);
		}
		kprintf(" driver %s\n", dev->driver ? dev->driver->name : "-");
		if (dev->problem[0])
			kprintf("        skipped: %s\n", dev->problem);
		for (unsigned b = 0; b < PCI_NUM_BARS; b++)
			if (dev->bar[b].size)
				kprintf("        BAR%u %-10s 0x%09lx size 0x%lx (cpu 0x%lx)\n", b,
					pci_bar_kind(&dev->bar[b]), (unsigned long)dev->bar[b].pci_addr,
					(unsigned long)dev->bar[b].size,
					(unsigned long)dev->bar[b].cpu_addr);
	}
	return 0;
}
CONSOLE_COMMAND(lspci, .name = "lspci", .usage = "lspci",
		.summary = "list PCI functions: address, ids, class, BARs, interrupt, driver",
		.run = cmd_lspci);
