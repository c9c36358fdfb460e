// SPDX-License-Identifier: MIT
/*
 * The PCI drivers rvmm has, as data: pci_init() offers each function to the drivers whose id
 * table matches its vendor:device, in this order. Adding a driver is one line here.
 *
 * Interface: pci_drivers[], pci_nr_drivers.
 */
#include <rvmm/pci.h>

extern const struct pci_driver virtio_pci_driver;
extern const struct pci_driver serial_pci_driver;

const struct pci_driver *const pci_drivers[] = {
	&virtio_pci_driver,
	&serial_pci_driver,
};
const size_t pci_nr_drivers = sizeof(pci_drivers) / sizeof(pci_drivers[0]);
