// SPDX-License-Identifier: MIT
/*
 * RISC-V APLIC (advanced platform-level interrupt controller, AIA 1.0 chapter 4), found in the
 * DT as riscv,aplic. The machine's wires (UART, virtio-mmio, PCI INTx) enter the M-level domain,
 * which OpenSBI owns and which delegates them (riscv,delegation) to the S-level domain we drive.
 * One domain per socket: each node here is one domain with its own sources.
 *
 * A domain delivers in one of two ways, fixed by the machine (QEMU: aia=aplic / aplic-imsic):
 * - direct (the node has interrupts-extended): an interrupt delivery control (IDC) per listed
 *   hart; the hart takes an S-mode external interrupt and claims the source from its IDC's
 *   claimi register. A source can only target a hart of its own domain (its socket).
 * - MSI (the node has msi-parent): the domain writes a message to a hart's IMSIC file; the
 *   identity (EIID) comes from msi_alloc() and the target hart index from the IMSIC's layout.
 *   The MSI address configuration of the S-level domain is the firmware's (smsiaddrcfg of the
 *   M-level domain). A level-triggered source is not re-sent while it stays high (4.9.2), so
 *   after its handler ran the driver asks again through setipnum_le, which sets the pending bit
 *   only if the line is still asserted.
 *
 * Sources go to the boot hart when it is in the domain, else to the domain's first hart.
 *
 * Interface: aplic_probe, aplic_request, aplic_init_hart, aplic_handle_irq, aplic_dump.
 */
#include <asm/hart.h>
#include <rvmm/errno.h>
#include <rvmm/io.h>
#include <rvmm/irqchip.h>
#include <rvmm/msi.h>
#include <rvmm/page_alloc.h>
#include <rvmm/printk.h>

#include <libfdt.h>

#include "irqchip_dt.h"

#define APLIC_MAX 8             /* one S-level domain per socket; QEMU virt has up to 8 */
#define APLIC_MAX_SOURCES 1023

#define DOMAINCFG 0x0000
#define  DOMAINCFG_IE (1u << 8)
#define  DOMAINCFG_DM (1u << 2)  /* 1: MSI delivery */
#define SOURCECFG(i) (0x0004 + 4 * ((i) - 1))
#define  SOURCECFG_D (1u << 10)  /* delegated to a child domain */
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

#define S_EXT_CAUSE 9
#define M_EXT_CAUSE 11

struct aplic;

struct aplic_source {
	void (*handler)(void *arg);
	void *arg;
	struct aplic *domain;
	uint32_t hwirq;
	uint8_t sm;                 /* SM_* it was configured with; SM_INACTIVE: free */
	struct msi_msg msg;         /* MSI mode: the identity it is sent as */
};

struct aplic {
	uint8_t *base;
	phys_addr_t pa;
	uint32_t phandle;
	uint32_t nr_sources;
	bool msi;
	uint32_t target;            /* hart index field the sources are sent to */
	unsigned long idc_hartid[MAX_HARTS];  /* direct mode: IDC i serves this hart */
	unsigned nr_idcs;
	struct aplic_source *src;   /* [nr_sources + 1], from the page allocator */
	unsigned src_order;
	unsigned long unexpected;   /* direct mode: claims of sources without a handler */
	char name[IRQCHIP_DT_PATH_LEN];
};

/*
 * The domains, filled at boot by aplic_probe() on the boot hart before any interrupt is
 * enabled; sources are configured by aplic_request() at probe time of their devices (boot hart).
 * The interrupt path only reads. No lock: nothing changes once harts take interrupts from a
 * source, and a source's slot is written before the source is enabled.
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

// Direct mode: the IDCs from interrupts-extended. -ENODEV for the M-level domain.
static int read_idcs(struct aplic *a, const void *fdt, int node)
{
	static struct irqchip_hart_ctx ctx[MAX_HARTS];
	int n = irqchip_dt_hart_contexts(fdt, node, ctx, MAX_HARTS);
	int boot = -1;

	if (n < 0) {
		pr_err("aplic: %s: interrupts-extended does not name harts (or too many)", a->name);
		return -EINVAL;
	}
	if (ctx[0].cause == M_EXT_CAUSE)
		return -ENODEV;
	for (int i = 0; i < n; i++) {
		if (ctx[i].cause != S_EXT_CAUSE) {
			pr_err("aplic: %s: IDC %d is local interrupt %u, not 9", a->name, i,
			       ctx[i].cause);
			return -EINVAL;
		}
		a->idc_hartid[i] = ctx[i].hartid;
		if (ctx[i].hartid == harts[0].hartid)
			boot = i;
	}
	a->nr_idcs = (unsigned)n;
	/* The IDC's index in the domain is the target's hart index. */
	a->target = (uint32_t)(boot >= 0 ? boot : 0);
	return 0;
}

static int read_node(struct aplic *a, const void *fdt, int node, uint64_t *size)
{
	uint32_t msi_parent;
	int rc;

	irqchip_dt_path(fdt, node, a->name);
	if (fdt_getprop(fdt, node, "riscv,children", NULL) ||
	    fdt_getprop(fdt, node, "riscv,delegation", NULL))
		return -ENODEV; /* the M-level (root) domain: the firmware's */
	rc = irqchip_dt_reg(fdt, node, 0, &a->pa, size);
	if (rc) {
		pr_err("aplic: %s: reg is %s", a->name, rc == -ENOENT ? "missing" : "malformed");
		return -EINVAL;
	}
	if (irqchip_dt_u32(fdt, node, "riscv,num-sources", &a->nr_sources) ||
	    a->nr_sources < 1 || a->nr_sources > APLIC_MAX_SOURCES) {
		pr_err("aplic: %s: riscv,num-sources is missing or not 1..1023", a->name);
		return -EINVAL;
	}
	a->phandle = fdt_get_phandle(fdt, node);
	if (irqchip_dt_u32(fdt, node, "msi-parent", &msi_parent) == 0) {
		a->msi = true;
		if (!msi_available()) {
			pr_err("aplic: %s: MSI delivery, but no S-level IMSIC is set up", a->name);
			return -ENODEV;
		}
		return imsic_hart_index(harts[0].hartid, &a->target);
	}
	rc = read_idcs(a, fdt, node);
	if (rc == 0 && *size < IDC(a->nr_idcs)) {
		pr_err("aplic: %s: reg size 0x%lx holds fewer than its %u IDCs", a->name,
		       (unsigned long)*size, a->nr_idcs);
		return -EINVAL;
	}
	return rc;
}

int aplic_probe(const void *fdt, int node)
{
	struct aplic *a;
	uint64_t size;
	uint32_t cfg;
	int rc;

	if (nr_aplics == APLIC_MAX) {
		pr_warn("aplic: more than %d S-level domains, the rest ignored", APLIC_MAX);
		return -ENOSPC;
	}
	a = &aplics[nr_aplics];
	*a = (struct aplic){ 0 };
	rc = read_node(a, fdt, node, &size);
	if (rc)
		return rc;
	for (a->src_order = 0; (PAGE_SIZE << a->src_order) <
			       (a->nr_sources + 1) * sizeof(struct aplic_source); a->src_order++)
		;
	a->src = get_free_pages(a->src_order, GFP_KERNEL | GFP_ZERO);
	a->base = ioremap(a->pa, size);
	if (!a->src || !a->base) {
		if (a->src)
			free_pages_va(a->src, a->src_order);
		return -ENOMEM;
	}
	/* Every source off until a driver asks for it; then the domain on. */
	writel(0, a->base + DOMAINCFG);
	for (uint32_t i = 1; i <= a->nr_sources; i++) {
		writel(i, a->base + CLRIENUM);
		writel(SM_INACTIVE, a->base + SOURCECFG(i));
	}
	writel(DOMAINCFG_IE | (a->msi ? DOMAINCFG_DM : 0), a->base + DOMAINCFG);
	cfg = readl(a->base + DOMAINCFG);
	if (!!(cfg & DOMAINCFG_DM) != a->msi || !(cfg & DOMAINCFG_IE)) {
		pr_err("aplic: %s: domaincfg reads 0x%x: the domain is not in %s delivery mode",
		       a->name, cfg, a->msi ? "MSI" : "direct");
		free_pages_va(a->src, a->src_order);
		return -EIO;
	}
	nr_aplics++;
	pr_info("aplic: %s at 0x%lx, %u sources, %s delivery to hart index %u", a->name,
		(unsigned long)a->pa, a->nr_sources, a->msi ? "MSI" : "direct", a->target);
	return 0;
}

static struct aplic *aplic_by_phandle(uint32_t phandle)
{
	for (unsigned i = 0; i < nr_aplics; i++)
		if (aplics[i].phandle == phandle)
			return &aplics[i];
	return NULL;
}

// MSI mode: the handler the IMSIC calls for the source's identity.
static void aplic_msi_interrupt(void *arg)
{
	struct aplic_source *s = arg;

	s->handler(s->arg);
	if (is_level(s->sm))
		writel(s->hwirq, s->domain->base + SETIPNUM_LE);
}

int aplic_request(uint32_t phandle, const uint32_t *spec, int cells, void (*handler)(void *arg),
		  void *arg)
{
	struct aplic *a = aplic_by_phandle(phandle);
	struct aplic_source *s;
	uint32_t hwirq, target;
	uint8_t sm;
	int rc;

	if (!a)
		return -ENODEV;
	if (cells != 2)
		return -EINVAL;
	hwirq = spec[0];
	sm = sm_of_type(spec[1]);
	if (hwirq == 0 || hwirq > a->nr_sources || sm == SM_INACTIVE) {
		pr_err("aplic: %s: interrupt <%u %u> is not a source 1..%u with a known type",
		       a->name, spec[0], spec[1], a->nr_sources);
		return -EINVAL;
	}
	s = &a->src[hwirq];
	if (s->handler)
		return -EBUSY;
	writel(sm, a->base + SOURCECFG(hwirq));
	if (readl(a->base + SOURCECFG(hwirq)) != sm) {
		pr_err("aplic: %s: source %u is not delegated to this domain", a->name, hwirq);
		writel(SM_INACTIVE, a->base + SOURCECFG(hwirq));
		return -ENODEV;
	}
	*s = (struct aplic_source){
		.handler = handler, .arg = arg, .domain = a, .hwirq = hwirq, .sm = sm,
	};
	target = a->target << TARGET_HART_SHIFT;
	if (a->msi) {
		rc = msi_alloc(aplic_msi_interrupt, s, &s->msg);
		if (rc) {
			writel(SM_INACTIVE, a->base + SOURCECFG(hwirq));
			*s = (struct aplic_source){ 0 };
			return rc;
		}
		target |= s->msg.data;
	} else {
		target |= TARGET_IPRIO;
	}
	writel(target, a->base + TARGET(hwirq));
	writel(hwirq, a->base + SETIENUM);
	return 0;
}

void aplic_init_hart(void)
{
	for (unsigned i = 0; i < nr_aplics; i++) {
		struct aplic *a = &aplics[i];

		for (unsigned idc = 0; !a->msi && idc < a->nr_idcs; idc++) {
			if (a->idc_hartid[idc] != this_hart->hartid)
				continue;
			writel(0, a->base + IDC(idc) + IDC_ITHRESHOLD);
			writel(1, a->base + IDC(idc) + IDC_IDELIVERY);
		}
	}
}

bool aplic_handle_irq(void)
{
	bool any = false;

	for (unsigned i = 0; i < nr_aplics; i++) {
		struct aplic *a = &aplics[i];

		for (unsigned idc = 0; !a->msi && idc < a->nr_idcs; idc++) {
			uint8_t *claimi = a->base + IDC(idc) + IDC_CLAIMI;
			uint32_t v, hwirq;

			if (a->idc_hartid[idc] != this_hart->hartid)
				continue;
			while ((v = readl(claimi)) != 0) {
				hwirq = v >> CLAIMI_ID_SHIFT;
				any = true;
				if (hwirq && hwirq <= a->nr_sources && a->src[hwirq].handler)
					a->src[hwirq].handler(a->src[hwirq].arg);
				else if (a->unexpected++ < 8)
					pr_warn("aplic: %s: source %u has no handler", a->name, hwirq);
			}
		}
	}
	return any;
}

void aplic_dump(void)
{
	for (unsigned i = 0; i < nr_aplics; i++) {
		struct aplic *a = &aplics[i];
		unsigned used = 0;

		for (uint32_t s = 1; s <= a->nr_sources; s++)
			used += a->src[s].handler != NULL;
		kprintf("aplic %s: %s delivery, %u of %u sources in use, target hart index %u\n",
			a->name, a->msi ? "MSI" : "direct", used, a->nr_sources, a->target);
	}
}
