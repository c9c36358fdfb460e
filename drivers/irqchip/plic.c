// SPDX-License-Identifier: MIT
/*
 * RISC-V PLIC (platform-level interrupt controller, riscv,plic0 / sifive,plic-1.0.0), one
 * interrupt domain per DT node: QEMU virt has one per socket.
 *
 * A PLIC has contexts, each wired to one hart's M- or S-mode external interrupt; the node's
 * interrupts-extended lists them in order, context i being entry i (<&cpuN_intc 11> M-mode,
 * <&cpuN_intc 9> S-mode, -1 unused). Only the S-mode ones are ours. A line is routed to one hart
 * of its PLIC: the boot hart if the PLIC reaches it, else the first online hart it reaches, so
 * each socket's devices interrupt a hart of that socket.
 *
 * Interface: the DT driver below; everything else goes through its irq_domain (rvmm/irq.h).
 */
#include <asm/hart.h>
#include <asm/csr.h>
#include <rvmm/device.h>
#include <rvmm/dt.h>
#include <rvmm/errno.h>
#include <rvmm/io.h>
#include <rvmm/irq.h>
#include <rvmm/printk.h>

#define PLIC_MAX 8          /* controllers: QEMU virt has at most 8 sockets */
#define PLIC_MAX_SRC 1024
#define PLIC_MAX_CTX 15872  /* the register map's limit */
#define PRIORITY(irq) (4 * (irq))
#define ENABLE(ctx) (0x2000 + 0x80 * (ctx))
#define THRESHOLD(ctx) (0x200000 + 0x1000 * (ctx))
#define CLAIM(ctx) (0x200000 + 0x1000 * (ctx) + 4)

struct plic_hart_ctx {
	unsigned long hartid;
	uint32_t ctx;
};

struct plic {
	struct irq_domain domain;
	uint8_t *base;
	uint32_t ndev;
	struct plic_hart_ctx sctx[MAX_HARTS]; /* S-mode context of each hart it reaches */
	unsigned nr_sctx;
	char name[PLAT_NAME_LEN];
};

/* Filled by probes on the boot hart before any line is enabled; read-only afterwards. */
static struct plic plics[PLIC_MAX];
static unsigned nr_plics;

static const struct plic_hart_ctx *hart_ctx(const struct plic *p, unsigned long hartid)
{
	for (unsigned i = 0; i < p->nr_sctx; i++)
		if (p->sctx[i].hartid == hartid)
			return &p->sctx[i];
	return NULL;
}

static int plic_xlate(struct irq_domain *d, const struct irq_spec *spec, uint32_t *hwirq)
{
	struct plic *p = d->priv;

	if (spec->nr_cells != 1 || spec->cells[0] == 0 || spec->cells[0] > p->ndev)
		return -EINVAL;
	*hwirq = spec->cells[0];
	return 0;
}

// The hart a new line goes to: the boot hart if this PLIC reaches it, else its first online one.
static const struct plic_hart_ctx *route_target(const struct plic *p)
{
	const struct plic_hart_ctx *c = hart_ctx(p, harts[0].hartid);

	for (unsigned i = 1; !c && i < nr_harts_online; i++)
		if (harts[i].state != HART_OFF && harts[i].state != HART_HALTED)
			c = hart_ctx(p, harts[i].hartid);
	return c;
}

static int plic_enable(struct irq_domain *d, uint32_t hwirq)
{
	struct plic *p = d->priv;
	const struct plic_hart_ctx *c = route_target(p);

	if (!c) {
		pr_warn("plic: %s reaches no online hart: line %u stays off", p->name, hwirq);
		return -ENODEV;
	}
	uint32_t *en = (uint32_t *)(p->base + ENABLE(c->ctx)) + hwirq / 32;
	writel(1, p->base + PRIORITY(hwirq));
	writel(readl(en) | (1u << (hwirq % 32)), en);
	return 0;
}

static void plic_handle(struct irq_domain *d)
{
	struct plic *p = d->priv;
	const struct plic_hart_ctx *c = hart_ctx(p, this_hart->hartid);
	uint32_t hwirq;

	if (!c)
		return;
	while ((hwirq = readl(p->base + CLAIM(c->ctx))) != 0) {
		irq_dispatch(d, hwirq);
		writel(hwirq, p->base + CLAIM(c->ctx));
	}
}

static void plic_init_hart(struct irq_domain *d)
{
	struct plic *p = d->priv;
	const struct plic_hart_ctx *c = hart_ctx(p, this_hart->hartid);

	if (c)
		writel(0, p->base + THRESHOLD(c->ctx));
}

static const struct irq_domain_ops plic_ops = {
	.xlate = plic_xlate,
	.enable = plic_enable,
	.handle = plic_handle,
	.init_hart = plic_init_hart,
};

// interrupts-extended: the S-mode external interrupt (9) entries are our contexts.
static int read_contexts(const struct dt_device *dev, struct plic *p)
{
	int len;
	const fdt32_t *ie = fdt_getprop(dev->fdt, dev->node, "interrupts-extended", &len);

	if (!ie || len % 8) {
		dt_warn(dev->plat, dev->fdt, dev->node, "interrupts-extended is %s, dropped",
			ie ? "not <phandle cause> pairs" : "missing");
		return -EINVAL;
	}
	for (int ctx = 0; ctx < len / 8 && ctx < PLIC_MAX_CTX; ctx++) {
		unsigned long hartid;

		if (fdt32_ld(ie + 2 * ctx + 1) != IRQ_S_EXT)
			continue;
		if (irq_intc_hartid(dev->fdt, fdt32_ld(ie + 2 * ctx), &hartid)) {
			dt_warn(dev->plat, dev->fdt, dev->node, "context %d names no hart, ignored", ctx);
			continue;
		}
		if (p->nr_sctx == MAX_HARTS || hart_ctx(p, hartid))
			continue;
		p->sctx[p->nr_sctx++] = (struct plic_hart_ctx){ hartid, (uint32_t)ctx };
	}
	return 0;
}

static int plic_probe(const struct dt_device *dev)
{
	struct plic *p = &plics[nr_plics];
	uint64_t base, size;
	uint32_t ndev;
	int rc;

	if (nr_plics == PLIC_MAX) {
		pr_err("plic: %s: more than %d PLICs", dev->name, PLIC_MAX);
		return -ENOSPC;
	}
	rc = dt_u32(dev->fdt, dev->node, "riscv,ndev", &ndev);
	if (rc || ndev == 0 || ndev >= PLIC_MAX_SRC) {
		dt_warn(dev->plat, dev->fdt, dev->node, "riscv,ndev %s, dropped",
			rc ? "missing or not one cell" : "is not 1..1023");
		return -EINVAL;
	}
	rc = dt_reg_phys(dev->plat, dev->fdt, dev->node, 0, &base, &size);
	if (rc)
		return rc == -ENOENT ? -EINVAL : rc;
	*p = (struct plic){ .ndev = ndev };
	rc = read_contexts(dev, p);
	if (rc)
		return rc;
	p->base = ioremap(base, size);
	if (!p->base)
		return -ENOMEM;
	dt_copy(p->name, sizeof(p->name), dev->name);
	p->domain = (struct irq_domain){ .name = p->name, .phandle = fdt_get_phandle(dev->fdt, dev->node),
					 .ops = &plic_ops, .priv = p };
	rc = irq_domain_register(&p->domain);
	if (rc)
		return rc;
	nr_plics++;
	pr_info("plic: %s at 0x%lx, %u sources, %u harts", p->name, (unsigned long)base, ndev,
		p->nr_sctx);
	return 0;
}

static const char *const plic_compatible[] = { "riscv,plic0", "sifive,plic-1.0.0", NULL };

DT_DRIVER(plic, .name = "plic", .compatible = plic_compatible, .stage = DT_STAGE_IRQCHIP,
	  .probe = plic_probe);
