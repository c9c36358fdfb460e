// SPDX-License-Identifier: MIT
/*
 * The device-tree reading the APLIC and IMSIC drivers share: which harts a node serves.
 *
 * Interface: aia_dt_harts (aia_dt.h).
 */
#include <asm/csr.h>
#include <rvmm/dt.h>
#include <rvmm/errno.h>
#include <rvmm/irq.h>
#include <rvmm/printk.h>

#include "aia_dt.h"

#define IRQ_M_EXT 11

int aia_dt_harts(const struct dt_device *dev, unsigned long *hartid, unsigned max,
		 unsigned *total)
{
	int len, n;
	const fdt32_t *ie = fdt_getprop(dev->fdt, dev->node, "interrupts-extended", &len);

	if (!ie || len <= 0 || len % 8) {
		dt_warn(dev->plat, dev->fdt, dev->node, "interrupts-extended is missing or not "
			"<phandle cause> pairs, dropped");
		return -EINVAL;
	}
	if (fdt32_ld(ie + 1) == IRQ_M_EXT)
		return -ENODEV;
	n = MIN(len / 8, (int)max);
	if (total)
		*total = (unsigned)len / 8;
	if (len / 8 > n) /* harts rvmm does not run: their entries come last, nothing shifts */
		pr_warn("%s: harts past the first %d ignored (rvmm runs at most %d)", dev->name, n,
			n);
	for (int i = 0; i < n; i++) {
		if (fdt32_ld(ie + 2 * i + 1) != IRQ_S_EXT ||
		    irq_intc_hartid(dev->fdt, fdt32_ld(ie + 2 * i), &hartid[i])) {
			dt_warn(dev->plat, dev->fdt, dev->node, "entry %d is not a hart's S-level "
				"external interrupt (9), dropped", i);
			return -EINVAL;
		}
	}
	return n;
}
