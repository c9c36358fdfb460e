// SPDX-License-Identifier: MIT
/*
 * RISC-V PLIC (platform-level interrupt controller), found in the DT as riscv,plic0.
 *
 * Every source is routed to the boot hart's S-mode context. On QEMU virt the contexts come in
 * pairs per hart id (M-mode, S-mode), so hart id h's S-mode context is 2h + 1. The boot hart is
 * whichever OpenSBI's lottery picked, not necessarily hart id 0.
 */
#include <asm/hart.h>
#include <asm/trap.h>
#include <rvmm/errno.h>
#include <rvmm/io.h>
#include <rvmm/irq.h>
#include <rvmm/printk.h>

#define PLIC_MAX_SRC 1024
#define PRIORITY(irq) (4 * (irq))
#define ENABLE(ctx) (0x2000 + 0x80 * (ctx))
#define THRESHOLD(ctx) (0x200000 + 0x1000 * (ctx))
#define CLAIM(ctx) (0x200000 + 0x1000 * (ctx) + 4)

static struct {
	uint8_t *base;
	uint32_t ndev;
	irq_handler_t handler[PLIC_MAX_SRC];
	void *arg[PLIC_MAX_SRC];
} plic;

static unsigned s_context(unsigned long hartid) { return 2 * hartid + 1; }

int plic_init(const struct plat_device *dev, uint32_t ndev)
{
	if (!dev->present) {
		pr_warn("plic: none in the device tree; no device interrupts (console polls)");
		return -ENODEV;
	}
	plic.base = ioremap(dev->base, dev->size);
	if (!plic.base)
		return -ENOMEM;
	plic.ndev = MIN(ndev, (uint32_t)PLIC_MAX_SRC - 1);
	pr_info("plic: %s at 0x%lx, %u sources", dev->name, (unsigned long)dev->base, plic.ndev);
	return 0;
}

void plic_init_hart(void)
{
	if (plic.base)
		writel(0, plic.base + THRESHOLD(s_context(this_hart->hartid)));
}

int irq_register(uint32_t irq, irq_handler_t handler, void *arg)
{
	if (!plic.base || irq == 0 || irq > plic.ndev)
		return -EINVAL;
	plic.handler[irq] = handler;
	plic.arg[irq] = arg;
	unsigned ctx = s_context(harts[0].hartid);
	writel(1, plic.base + PRIORITY(irq));
	uint32_t *en = (uint32_t *)(plic.base + ENABLE(ctx)) + irq / 32;
	writel(readl(en) | (1u << (irq % 32)), en);
	return 0;
}

void plic_interrupt(void)
{
	unsigned ctx = s_context(this_hart->hartid);
	uint32_t irq;

	if (!plic.base)
		return;
	while ((irq = readl(plic.base + CLAIM(ctx))) != 0) {
		if (irq <= plic.ndev && plic.handler[irq])
			plic.handler[irq](plic.arg[irq]);
		else
			pr_warn("plic: interrupt %u has no handler", irq);
		writel(irq, plic.base + CLAIM(ctx));
	}
}
