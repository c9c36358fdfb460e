// SPDX-License-Identifier: MIT
/*
 * QEMU's pci-serial (1b36:0002, PCI class 0x0700): one 16550 whose eight registers are BAR 0,
 * an I/O BAR. It becomes a console port like the device tree's UART (uart16550.h), with its
 * receive interrupt on the function's INTx pin (a shared line: the handler only drains its own
 * receive register). With QEMU's `-chardev ...,mux=on` the keyboard goes to the last front end
 * attached, which is this port when -device pci-serial comes last: the shell reads every port.
 *
 * Interface: serial_pci_driver (pci_drivers.c).
 */
#include <rvmm/errno.h>
#include <rvmm/pci.h>
#include <rvmm/printk.h>
#include <stdio.h>

#include "uart16550.h"

#define SERIAL_PCI_MAX 4

/* Filled by probes on the boot hart; a port is published by console_port_register. */
static struct uart16550 pci_uarts[SERIAL_PCI_MAX];
static unsigned nr_pci_uarts;

static int serial_pci_probe(struct pci_dev *dev, const struct pci_device_id *id __unused)
{
	struct uart16550 *u = &pci_uarts[nr_pci_uarts];
	int rc;

	if (nr_pci_uarts == SERIAL_PCI_MAX) {
		pr_warn("pci %s: more than %d PCI serial ports, ignored", dev->name, SERIAL_PCI_MAX);
		return -ENOSPC;
	}
	if (dev->bar[0].size < 8) {
		pr_err("pci %s: serial port without its 8-byte register BAR 0", dev->name);
		return -EINVAL;
	}
	u->base = pci_iomap(dev, 0);
	if (!u->base)
		return -ENOMEM;
	snprintf(u->name, sizeof(u->name), "pci-serial %s", dev->name);
	rc = uart16550_register(u);
	if (rc)
		return rc;
	nr_pci_uarts++;
	dev->priv = u;
	rc = pci_request_irq(dev, uart16550_interrupt, u);
	if (rc == 0)
		uart16550_enable_rx_irq(u);
	pr_info("%s: console port at %s 0x%lx (%s receive%s%s)", u->name,
		dev->bar[0].io ? "I/O" : "memory", (unsigned long)dev->bar[0].cpu_addr,
		u->rx_irq ? "interrupt-driven" : "polled", rc ? ": " : "", rc ? errname(rc) : "");
	return 0;
}

static const struct pci_device_id serial_pci_ids[] = {
	{ 0x1b36, 0x0002, 0x0002 },
	{ 0 },
};

const struct pci_driver serial_pci_driver = {
	.name = "serial-pci",
	.ids = serial_pci_ids,
	.probe = serial_pci_probe,
};
