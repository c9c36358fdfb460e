/* SPDX-License-Identifier: MIT */
/*
 * PCI: an ECAM host bridge (the device tree's pci-host-ecam-generic, drivers/pci/pci_host_dt.c).
 * pci_init() scans the buses, sizes every function's BARs and places them in the host bridge's
 * windows, routes INTx through the host (its interrupt-map) to an interrupt controller, and binds
 * drivers from the table in
 * drivers/pci/pci_drivers.c by vendor:device. A function whose config space makes no sense (a BAR
 * size that is not a power of two, windows too small) is reported and skipped; the others are not
 * affected. The `lspci` command lists what was found.
 *
 * Interface: pci_init, pci_read_config8/16/32, pci_write_config8/16/32, pci_find_capability,
 * pci_find_next_capability, pci_iomap, pci_request_irq, pci_msix_enable/set_vector/disable;
 * struct pci_driver (pci_drivers[]).
 */
#ifndef RVMM_PCI_H
#define RVMM_PCI_H

#include <rvmm/irq.h>
#include <rvmm/msi.h>
#include <rvmm/types.h>

/* Type 0 configuration header (PCI Local Bus 3.0, 6.1) */
#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define  PCI_COMMAND_IO 0x1
#define  PCI_COMMAND_MEMORY 0x2
#define  PCI_COMMAND_MASTER 0x4
#define  PCI_COMMAND_INTX_DISABLE 0x400
#define PCI_STATUS 0x06
#define  PCI_STATUS_CAP_LIST 0x10
#define PCI_CLASS_REVISION 0x08 /* revision in bits 7..0, class code in 31..8 */
#define PCI_HEADER_TYPE 0x0e
#define  PCI_HEADER_TYPE_MASK 0x7f
#define  PCI_HEADER_MULTI_FUNCTION 0x80
#define PCI_BAR0 0x10
#define  PCI_BAR_IO 0x1
#define  PCI_BAR_MEM_TYPE_MASK 0x6
#define  PCI_BAR_MEM_TYPE_64 0x4
#define  PCI_BAR_MEM_PREFETCH 0x8
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID 0x2e
#define PCI_CAPABILITY_LIST 0x34
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN 0x3d /* 0 none, 1..4 INTA..INTD */

#define PCI_CAP_ID_MSIX 0x11
#define PCI_CAP_ID_VNDR 0x09

#define PCI_NUM_BARS 6
#define PCI_CFG_SIZE 4096 /* per function, in ECAM */

struct pci_bar {
	uint64_t pci_addr;     /* bus address written into the BAR */
	phys_addr_t cpu_addr;  /* where the CPU reaches it */
	uint64_t size;         /* 0: not implemented */
	bool io;               /* I/O space (else memory) */
	bool mem64, prefetch;
	void *va;              /* pci_iomap() mapping, NULL until mapped */
};

#define PCI_MSIX_MAX_VECTORS 8 /* per function: a virtio device's config + queues */

/* MSI-X state of a function (drivers/pci/pci_msix.c); all zero while it uses INTx. */
struct pci_msix {
	bool enabled;
	unsigned cap;                  /* config offset of the capability */
	unsigned table_size;           /* entries the function has */
	unsigned nr_vectors;           /* entries in use, from 0 */
	volatile uint8_t *table;
	struct msi_msg msg[PCI_MSIX_MAX_VECTORS]; /* data 0: vector not set */
};

struct irq_domain;

struct pci_driver;

struct pci_dev {
	uint8_t bus, devfn;    /* devfn = device << 3 | function */
	uint16_t vendor, device;
	uint16_t subsystem_vendor, subsystem;
	uint32_t class;        /* base class << 16 | subclass << 8 | prog-if */
	uint8_t revision, hdr_type, pin;
	struct irq_spec irq;   /* INTx as the host routes it; nr_cells 0 if none */
	struct irq_domain *msi; /* the host's MSI controller (msi-parent), NULL if none */
	struct pci_msix msix;
	struct pci_bar bar[PCI_NUM_BARS];
	volatile uint8_t *cfg; /* this function's 4 KiB of ECAM */
	const struct pci_driver *driver;
	void *priv;            /* the driver's */
	char problem[80];      /* why the function was skipped, "" if it was not */
	char name[16];         /* "00:02.0" */
};

struct pci_device_id {
	uint16_t vendor;
	uint16_t device_first, device_last; /* an inclusive range */
};

/* A driver: ids ends with an entry whose vendor is 0. */
struct pci_driver {
	const char *name;
	const struct pci_device_id *ids;
	/*
	 * Called for a matching function with its BARs assigned and memory decoding and bus
	 * mastering enabled. Returns 0 (bound), -ENODEV (not mine: the next driver is tried), or
	 * another -errno after a message (left unbound).
	 */
	int (*probe)(struct pci_dev *dev, const struct pci_device_id *id);
};

extern const struct pci_driver *const pci_drivers[];
extern const size_t pci_nr_drivers;

#define PCI_MAX_RANGES 4

/* A window of the host bridge: CPU addresses [cpu_addr, +size) reach PCI pci_addr on. */
struct pci_range {
	uint32_t space;      /* 1 = I/O, 2 = 32-bit memory, 3 = 64-bit memory */
	bool prefetchable;
	uint64_t pci_addr;
	phys_addr_t cpu_addr;
	uint64_t size;
};

struct pci_host {
	phys_addr_t ecam_base;
	uint64_t ecam_size;
	uint32_t bus_start, bus_end;
	struct pci_range ranges[PCI_MAX_RANGES];
	int nr_ranges;
	/* dev's INTx (dev->pin) as an interrupt: 0 and *spec, or -errno (no route). */
	int (*route_intx)(const struct pci_host *host, const struct pci_dev *dev,
			  struct irq_spec *spec);
	struct irq_domain *msi;  /* MSI controller of the functions (msi-parent), NULL if none */
	const void *fdt;     /* the host's DT node, for route_intx */
	int node;
	char name[48];
};

/*
 * Scan host's buses, assign BARs, route INTx, bind drivers. Boot hart, after ioremap and the
 * interrupt controllers work. Returns the number of functions found, or -errno if the host could
 * not be used at all (ECAM not mappable).
 */
int pci_init(const struct pci_host *host);

struct platform;
/*
 * drivers/pci/pci_host_dt.c: read a pci-host-ecam-generic node into *host (route_intx through
 * its interrupt-map). 0, or -EINVAL after a "device tree:" message.
 */
int pci_host_dt_parse(struct platform *plat, const void *fdt, int node, struct pci_host *host);

/* Config space of a function, at a byte offset below PCI_CFG_SIZE (naturally aligned). */
uint8_t pci_read_config8(const struct pci_dev *dev, unsigned off);
uint16_t pci_read_config16(const struct pci_dev *dev, unsigned off);
uint32_t pci_read_config32(const struct pci_dev *dev, unsigned off);
void pci_write_config8(struct pci_dev *dev, unsigned off, uint8_t val);
void pci_write_config16(struct pci_dev *dev, unsigned off, uint16_t val);
void pci_write_config32(struct pci_dev *dev, unsigned off, uint32_t val);

/*
 * Offset of the first capability with id cap (after pos for the _next form), or 0 if there is
 * none. The list walk is bounded and stops (with a message) at a loop or a bad pointer.
 */
unsigned pci_find_capability(const struct pci_dev *dev, uint8_t cap);
unsigned pci_find_next_capability(const struct pci_dev *dev, unsigned pos, uint8_t cap);

/* Map BAR bar (all of it) once and return its address; NULL if unassigned or unmappable. */
void *pci_iomap(struct pci_dev *dev, unsigned bar);

/*
 * Call handler(arg) when dev's INTx fires. Lines are shared: every handler on a line is called
 * and must check (and acknowledge) its own device. -ENODEV if dev has no interrupt; else
 * irq_request's result.
 */
int pci_request_irq(struct pci_dev *dev, void (*handler)(void *arg), void *arg);

/*
 * MSI-X (drivers/pci/pci_msix.c). pci_msix_enable() switches dev from INTx to MSI-X with nvec
 * vectors (entries 0..nvec-1), all masked: 0, -ENODEV if dev has no MSI-X capability or its host
 * no MSI controller (or pci_msi=off), -ENOSPC if the table (or PCI_MSIX_MAX_VECTORS) is smaller
 * than nvec, -EINVAL if the table lies outside its BAR. pci_msix_set_vector() gives vector vec a
 * message calling handler(arg) and unmasks it: 0, or the irq_request_msi() error.
 * pci_msix_disable() masks everything and goes back to INTx. Probe time, boot hart.
 */
int pci_msix_enable(struct pci_dev *dev, unsigned nvec);
int pci_msix_set_vector(struct pci_dev *dev, unsigned vec, void (*handler)(void *arg), void *arg);
void pci_msix_disable(struct pci_dev *dev);

#endif
