// SPDX-License-Identifier: MIT
/*
 * RISC-V APLIC (advanced platform-level interrupt controller, AIA 1.0 chapter 4), found in the
 * DT as riscv,aplic. The machine's wires (UART, virtio-mmio, PCI INTx) enter the M-level domain,
 * which OpenSBI owns and which delegates them (riscv,delegation) to the S-level domain we drive.
 * One S-level domain per socket: each node is one irq_domain with its own sources.
 *
 * A domain delivers in one of two ways, fixed by the machine (QEMU: aia=aplic / aplic-imsic):
 * - direct (the node has interrupts-extended): an interrupt delivery control (IDC) per listed
 *   hart; the hart takes an S-mode external interrupt and claims the source from its IDC's
 *   claimi register. A source can only target a hart of its own domain (its socket): the boot
 *   hart when it is there, else the domain's first online hart.
 * - MSI (the node has msi-parent): the domain writes a message into a hart's IMSIC file. Each
 *   source takes a vector of the IMSIC domain (irq_request_msi) whose handler dispatches the
 *   source; its target register names the file by hart index and the identity (EIID). The MSI
 *   address configuration of the S-level domain is the firmware's (smsiaddrcfg of the M-level
 *   domain). A level-triggered source is not re-sent while it stays high (4.9.2), so after its
 *   handlers ran it is asked again through setipnum_le, which sets the pending bit only if the
 *   line is still asserted.
 *
 * Interface: the DT driver below; everything else goes through its irq_domain (rvmm/irq.h).
 */
#include <asm/hart.h>
#include <rvmm/device.h>
#include <rvmm/dt.h>
#include <rvmm/errno.h>
#include <rvmm/io.h>
#include <rvmm/irq.h>
#include <rvmm/msi.h>
#include <rvmm/irqchip.h>
#include <rvmm/page_alloc.h>
#include <rvmm/printk.h>

#include "aia_dt.h"

#define APLIC_MAX 8             /* one S-level domain per socket; QEMU virt has up to 8 */
#define APLIC_MAX_SOURCES 1023

#define DOMAINCFG 0x0000
#define  DOMAINCFG_IE (1u << 8)
#define  DOMAINCFG_DM (1u << 2)  /* 1: MSI delivery */
#define SOURCECFG(i) (0x0004 + 4 * ((i) - 1))
#define  SM_INACTIVE 0
#define  SM_EDGE_RISE 4
#define  SM_EDGE_FALL 5
#define  SM_LEVEL_HIGH 6
#define  SM_LEVEL_LOW 7
#define SETIENUM 0x1edc
#define CLRIENUM 0x1fdc
#define SETIPNUM_LE 0x2000
#define TARGET(i) (0x3004 + 4 * ((i) - 1))
#define  TARGET_HART_SHIFT 18
#define  TARGET_IPRIO 1          /* direct mode: every source at the same priority */
#define IDC(i) (0x4000 + 32 * (i))
#define  IDC_IDELIVERY 0x00
#define  IDC_ITHRESHOLD 0x08
#define  IDC_CLAIMI 0x1c
#define  CLAIMI_ID_SHIFT 16

/* The DT's interrupt type cell (Linux's IRQ_TYPE_* numbers). */
#define DT_EDGE_RISING 1
#define DT_EDGE_FALLING 2
#define DT_LEVEL_HIGH 4
#define DT_LEVEL_LOW 8

struct aplic;

struct aplic_source {
	struct aplic *aplic;
	uint32_t hwirq;
	uint8_t sm;                 /* SM_* from the specifier; SM_INACTIVE until xlate saw it */
};

struct aplic {
	struct irq_domain domain;
	uint8_t *base;
	uint32_t nr_sources;
	struct irq_domain *msi;     /* MSI mode: the IMSIC's domain; NULL: direct mode */
	unsigned long idc_hartid[MAX_HARTS];  /* direct mode: IDC i serves this hart */
	unsigned nr_idcs;
	struct aplic_source *src;   /* [nr_sources + 1], from the page allocator */
	char name[PLAT_NAME_LEN];
};

/*
 * The domains, filled by probes on the boot hart before any line is enabled; a source's slot is
 * written by xlate/enable (boot hart, probe time) before the source is enabled. The interrupt
 * path only reads. No lock.
 */
static struct aplic aplics[APLIC_MAX];
static unsigned nr_aplics;

static uint8_t sm_of_type(uint32_t type)
{
	switch (type) {
	case DT_EDGE_RISING: return SM_EDGE_RISE;
	case DT_EDGE_FALLING: return SM_EDGE_FALL;
	case DT_LEVEL_HIGH: return SM_LEVEL_HIGH;
	case DT_LEVEL_LOW: return SM_LEVEL_LOW;
	default: return SM_INACTIVE;
	}
}

static bool is_level(uint8_t sm)
{
	return sm == SM_LEVEL_HIGH || sm == SM_LEVEL_LOW;
}

/* ---- the domain ----------------------------------------------------------------------------- */

// <source type>: a source of this domain with a known trigger type.
static int aplic_xlate(struct irq_domain *d, const struct irq_spec *spec, uint32_t *hwirq)
{
	struct aplic *a = d->priv;
	uint8_t sm = spec->nr_cells == 2 ? sm_of_type(spec->cells[1]) : SM_INACTIVE;
	struct aplic_source *s;

	if (spec->nr_cells != 2 || spec->cells[0] == 0 || spec->cells[0] > a->nr_sources ||
	    sm == SM_INACTIVE)
		return -EINVAL;
	s = &a->src[spec->cells[0]];
	if (s->sm != SM_INACTIVE && s->sm != sm)
		return -EINVAL; /* one line, one trigger type */
	*s = (struct aplic_source){ .aplic = a, .hwirq = spec->cells[0], .sm = sm };
	*hwirq = spec->cells[0];
	return 0;
}

// Direct mode: the IDC a new source goes to, -1 if no hart of the domain is online.
static int route_idc(const struct aplic *a)
{
	for (unsigned idc = 0; idc < a->nr_idcs; idc++)
		if (a->idc_hartid[idc] == harts[0].hartid)
			return (int)idc;
	for (unsigned i = 1; i < nr_harts_online; i++) {
		if (harts[i].state == HART_OFF || harts[i].state == HART_HALTED)
			continue;
		for (unsigned idc = 0; idc < a->nr_idcs; idc++)
			if (a->idc_hartid[idc] == harts[i].hartid)
				return (int)idc;
	}
	return -1;
}

// MSI mode: the IMSIC vector of a source runs its handlers, then re-asks a level source.
static void aplic_msi_interrupt(void *arg)
{
	struct aplic_source *s = arg;

	irq_dispatch(&s->aplic->domain, s->hwirq);
	if (is_level(s->sm))
		writel(s->hwirq, s->aplic->base + SETIPNUM_LE);
}

static int msi_target(struct aplic *a, struct aplic_source *s, uint32_t *target)
{
	struct msi_msg msg;
	uint32_t hart;
	int rc = irq_request_msi(a->msi, aplic_msi_interrupt, s, &msg);

	if (rc)
		return rc;
	rc = imsic_hart_index_of(msg.address, &hart);
	if (rc)
		return rc;
	*target = hart << TARGET_HART_SHIFT | msg.data;
	return 0;
}

static int aplic_enable(struct irq_domain *d, uint32_t hwirq)
{
	struct aplic *a = d->priv;
	struct aplic_source *s = &a->src[hwirq];
	uint32_t target;
	int idc, rc;

	writel(s->sm, a->base + SOURCECFG(hwirq));
	if (readl(a->base + SOURCECFG(hwirq)) != s->sm) {
		pr_err("aplic: %s: source %u is not delegated to this domain (firmware): stays off",
		       a->name, hwirq);
		writel(SM_INACTIVE, a->base + SOURCECFG(hwirq));
		return -ENODEV;
	}
	if (a->msi) {
		rc = msi_target(a, s, &target);
	} else if ((idc = route_idc(a)) >= 0) {
		target = (uint32_t)idc << TARGET_HART_SHIFT | TARGET_IPRIO;
		rc = 0;
	} else {
		pr_warn("aplic: %s reaches no online hart: source %u stays off", a->name, hwirq);
		rc = -ENODEV;
	}
	if (rc) {
		writel(SM_INACTIVE, a->base + SOURCECFG(hwirq));
		return rc;
	}
	writel(target, a->base + TARGET(hwirq));
	writel(hwirq, a->base + SETIENUM);
	return 0;
}

// Direct mode: claim every source pending at this hart's IDC.
static void aplic_handle(struct irq_domain *d)
{
	struct aplic *a = d->priv;

	for (unsigned idc = 0; idc < a->nr_idcs; idc++) {
		uint8_t *claimi = a->base + IDC(idc) + IDC_CLAIMI;
		uint32_t v;

		if (a->idc_hartid[idc] != this_hart->hartid)
			continue;
		while ((v = readl(claimi)) != 0)
			irq_dispatch(d, v >> CLAIMI_ID_SHIFT);
	}
}

static void aplic_init_hart(struct irq_domain *d)
{
	struct aplic *a = d->priv;

	for (unsigned idc = 0; idc < a->nr_idcs; idc++) {
		if (a->idc_hartid[idc] != this_hart->hartid)
			continue;
		writel(0, a->base + IDC(idc) + IDC_ITHRESHOLD);
		writel(1, a->base + IDC(idc) + IDC_IDELIVERY);
	}
}

static const struct irq_domain_ops aplic_direct_ops = {
	.xlate = aplic_xlate,
	.enable = aplic_enable,
	.handle = aplic_handle,
	.init_hart = aplic_init_hart,
};

/* MSI mode: the IMSIC takes the interrupts; nothing per hart here. */
static const struct irq_domain_ops aplic_msi_ops = {
	.xlate = aplic_xlate,
	.enable = aplic_enable,
};

/* ---- the DT node ---------------------------------------------------------------------------- */

// The node's mode and targets. -EAGAIN while its MSI controller is not probed yet.
static int read_node(const struct dt_device *dev, struct aplic *a, uint64_t size)
{
	if (fdt_getprop(dev->fdt, dev->node, "riscv,children", NULL) ||
	    fdt_getprop(dev->fdt, dev->node, "riscv,delegation", NULL))
		return -ENODEV; /* the M-level (root) domain: the firmware's */
	if (dt_u32(dev->fdt, dev->node, "riscv,num-sources", &a->nr_sources) ||
	    a->nr_sources < 1 || a->nr_sources > APLIC_MAX_SOURCES) {
		dt_warn(dev->plat, dev->fdt, dev->node, "riscv,num-sources is missing or not "
			"1..1023, dropped");
		return -EINVAL;
	}
	if (fdt_getprop(dev->fdt, dev->node, "msi-parent", NULL)) {
		a->msi = irq_msi_domain(dev->fdt, dev->node);
		if (!a->msi)
			return -EAGAIN;
	} else {
		/* Direct mode: an IDC per hart of interrupts-extended. */
		int n = aia_dt_harts(dev, a->idc_hartid, MAX_HARTS, NULL);
		if (n < 0)
			return n;
		a->nr_idcs = (unsigned)n;
	}
	/* The registers up to the targets (MSI mode), or to the last IDC (direct mode). */
	if (size < IDC(a->nr_idcs)) {
		dt_warn(dev->plat, dev->fdt, dev->node, "reg size 0x%lx is smaller than the 0x%x "
			"bytes of registers it must hold, dropped", (unsigned long)size,
			IDC(a->nr_idcs));
		return -EINVAL;
	}
	return 0;
}

static int aplic_probe(const struct dt_device *dev)
{
	struct aplic *a = &aplics[nr_aplics];
	unsigned order = 0;
	uint64_t base, size;
	uint32_t cfg;
	int rc;

	if (nr_aplics == APLIC_MAX) {
		pr_err("aplic: %s: more than %d S-level domains", dev->name, APLIC_MAX);
		return -ENOSPC;
	}
	rc = dt_reg_phys(dev->plat, dev->fdt, dev->node, 0, &base, &size);
	if (rc)
		return rc == -ENOENT ? -EINVAL : rc;
	*a = (struct aplic){ 0 };
	rc = read_node(dev, a, size);
	if (rc)
		return rc;
	while ((PAGE_SIZE << order) < (a->nr_sources + 1) * sizeof(struct aplic_source))
		order++;
	a->base = ioremap(base, size);
	a->src = a->base ? get_free_pages(order, GFP_KERNEL | GFP_ZERO) : NULL;
	if (!a->src)
		return -ENOMEM;
	/* Every source off until a driver asks for it; then the domain on. */
	writel(0, a->base + DOMAINCFG);
	for (uint32_t i = 1; i <= a->nr_sources; i++) {
		writel(i, a->base + CLRIENUM);
		writel(SM_INACTIVE, a->base + SOURCECFG(i));
	}
	writel(DOMAINCFG_IE | (a->msi ? DOMAINCFG_DM : 0), a->base + DOMAINCFG);
	cfg = readl(a->base + DOMAINCFG);
	if (!!(cfg & DOMAINCFG_DM) != !!a->msi || !(cfg & DOMAINCFG_IE)) {
		pr_err("aplic: %s: domaincfg reads 0x%x: the domain is not in %s delivery mode",
		       dev->name, cfg, a->msi ? "MSI" : "direct");
		free_pages_va(a->src, order);
		return -EIO;
	}
	dt_copy(a->name, sizeof(a->name), dev->name);
	a->domain = (struct irq_domain){ .name = a->name, .priv = a,
					 .ops = a->msi ? &aplic_msi_ops : &aplic_direct_ops,
					 .phandle = fdt_get_phandle(dev->fdt, dev->node) };
	rc = irq_domain_register(&a->domain);
	if (rc) {
		free_pages_va(a->src, order);
		return rc;
	}
	nr_aplics++;
	if (a->msi)
		pr_info("aplic: %s at 0x%lx, %u sources, MSI delivery through %s", a->name,
			(unsigned long)base, a->nr_sources, a->msi->name);
	else
		pr_info("aplic: %s at 0x%lx, %u sources, direct delivery to %u harts", a->name,
			(unsigned long)base, a->nr_sources, a->nr_idcs);
	return 0;
}

static const char *const aplic_compatible[] = { "riscv,aplic", NULL };

DT_DRIVER(aplic, .name = "aplic", .compatible = aplic_compatible, .stage = DT_STAGE_IRQCHIP,
	  .probe = aplic_probe);
