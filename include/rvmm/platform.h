/* SPDX-License-Identifier: MIT */
/*
 * The platform description: everything rvmm learns from the device tree, read once at boot by
 * kernel/platform.c (the only code that walks the DTB). Later code reads only this.
 */
#ifndef RVMM_PLATFORM_H
#define RVMM_PLATFORM_H

#include <rvmm/types.h>

#define PLAT_MAX_MEM 64
#define PLAT_MAX_RESERVED 64
#define PLAT_MAX_HARTS MAX_HARTS
#define PLAT_MAX_VIRTIO_MMIO 32
#define PLAT_MAX_PCI_RANGES 4
#define PLAT_MAX_IMAP 64
#define PLAT_NAME_LEN 48
#define PLAT_BOOTARGS_LEN 512
#define PLAT_ISA_LEN 512  /* QEMU 10 spells ~330 characters; sstc/svadu come last */
/* RAM above this is clipped off by platform_parse(): rvmm's direct map and sections end here. */
#define PLAT_PHYS_LIMIT (1UL << 44)  /* 16 TiB */

struct plat_range {
	phys_addr_t base;
	uint64_t size;
	char name[PLAT_NAME_LEN]; /* node path the range came from, for messages */
	bool nomap;               /* reserved-memory child with no-map: never map it */
};

struct plat_hart {
	uint32_t hartid;
	bool enabled;       /* status is "okay" and the mmu-type is one rvmm can use */
	char isa[PLAT_ISA_LEN];  /* riscv,isa (cut at an extension boundary if longer) */
	char mmu[16];       /* "riscv,sv48" ... */
};

struct plat_device {
	bool present;
	phys_addr_t base;
	uint64_t size;
	uint32_t irq;        /* first interrupt, 0 if none */
	char name[PLAT_NAME_LEN];
};

struct plat_pci_range {
	uint32_t space;      /* 1 = I/O, 2 = 32-bit memory, 3 = 64-bit memory */
	bool prefetchable;
	uint64_t pci_addr;
	phys_addr_t cpu_addr;
	uint64_t size;
};

/* One row of the PCI host's interrupt-map: device slot + INTx pin -> PLIC source. */
struct plat_pci_imap {
	uint32_t devfn;      /* (device << 3), function bits masked by interrupt-map-mask */
	uint32_t pin;        /* 1..4 = INTA..INTD */
	uint32_t irq;
};

struct plat_pci_host {
	bool present;
	phys_addr_t ecam_base;
	uint64_t ecam_size;
	uint32_t bus_start, bus_end;
	struct plat_pci_range ranges[PLAT_MAX_PCI_RANGES];
	int nr_ranges;
	uint32_t imap_mask_devfn, imap_mask_pin;
	struct plat_pci_imap imap[PLAT_MAX_IMAP];
	int nr_imap;
	char name[PLAT_NAME_LEN];
};

struct platform {
	/* RAM as the device tree describes it, sorted by base, non-overlapping, non-empty. */
	struct plat_range mem[PLAT_MAX_MEM];
	int nr_mem;
	/* reserved-memory children and /memreserve/ entries (OpenSBI's region among them). */
	struct plat_range reserved[PLAT_MAX_RESERVED];
	int nr_reserved;

	struct plat_hart harts[PLAT_MAX_HARTS];
	int nr_harts;
	uint64_t timebase_hz;

	struct plat_device uart;      /* ns16550a from /chosen/stdout-path, else the first one */
	struct plat_device plic;      /* size, and the number of sources in irq */
	uint32_t plic_ndev;
	struct plat_device syscon_poweroff; /* unused when SBI SRST is there; base = the register */
	uint32_t syscon_poweroff_value;     /* written (32 bits) to syscon_poweroff.base to power off */
	struct plat_pci_host pci;
	struct plat_device virtio_mmio[PLAT_MAX_VIRTIO_MMIO];
	int nr_virtio_mmio;

	char bootargs[PLAT_BOOTARGS_LEN];
	phys_addr_t dtb_pa;     /* set by the caller: platform_parse() sees only a pointer */
	uint32_t dtb_size;      /* the header's totalsize */

	/* Problems found in the DT that rvmm went on despite (each already printed). */
	int nr_warnings;
};

/*
 * Fill *plat from the flattened device tree at fdt (size bytes readable). Checks the header and
 * every value before trusting it; each problem is printed as one "device tree: <node>: <what>"
 * line. A problem confined to a node drops that node and counts a warning. Returns 0, or -EINVAL
 * when nothing usable is left (bad header, no usable memory): the caller then cannot go on.
 */
int platform_parse(struct platform *plat, const void *fdt, size_t size);

/*
 * Check the kernel image [kstart, kend) against the parsed tree: it must lie inside one memory
 * range and overlap no reserved range. Prints one "device tree: <range>: ..." line per problem.
 * Returns 0, or -EINVAL if any was found (the caller cannot safely go on).
 */
int platform_check_reserved(const struct platform *plat, phys_addr_t kstart, phys_addr_t kend);

/* Print the whole description with kprintf (the `dt` command): memory, reserved, harts, devices. */
void platform_print(const struct platform *plat);

/* Whether hart h's riscv,isa lists the multi-letter extension ext ("sstc", "svvptc"). */
bool plat_hart_has_ext(const struct plat_hart *h, const char *ext);

/* The description of the machine we run on, filled at boot. */
extern struct platform platform;

#endif
