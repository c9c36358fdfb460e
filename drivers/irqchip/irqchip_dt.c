// SPDX-License-Identifier: MIT
/*
 * Device-tree readings shared by the AIA drivers (APLIC, IMSIC): reg entries, one-cell
 * properties, and the interrupts-extended lists that tie a controller to harts.
 *
 * Interface: see irqchip_dt.h.
 */
#include <rvmm/errno.h>
#include <rvmm/types.h>

#include <libfdt.h>

#include "irqchip_dt.h"

const char *irqchip_dt_path(const void *fdt, int node, char *buf)
{
	if (fdt_get_path(fdt, node, buf, IRQCHIP_DT_PATH_LEN) != 0)
		strcpy(buf, "?");
	return buf;
}

static uint64_t read_cells(const fdt32_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 32 | fdt32_ld(p + i);
	return v;
}

static int parent_cells(const void *fdt, int parent, const char *name, int dflt)
{
	int len;
	const fdt32_t *p = fdt_getprop(fdt, parent, name, &len);

	if (!p)
		return dflt;
	if (len != 4 || fdt32_ld(p) < 1 || fdt32_ld(p) > 2)
		return -EINVAL;
	return (int)fdt32_ld(p);
}

int irqchip_dt_reg(const void *fdt, int node, int i, uint64_t *base, uint64_t *size)
{
	int parent = fdt_parent_offset(fdt, node);
	int ac = parent >= 0 ? parent_cells(fdt, parent, "#address-cells", 2) : -EINVAL;
	int sc = parent >= 0 ? parent_cells(fdt, parent, "#size-cells", 1) : -EINVAL;
	int len;
	const fdt32_t *reg = fdt_getprop(fdt, node, "reg", &len);

	if (!reg)
		return -ENOENT;
	if (ac < 0 || sc < 0 || len <= 0 || len % (4 * (ac + sc)))
		return -EINVAL;
	if (i >= len / (4 * (ac + sc)))
		return -ENOENT;
	reg += i * (ac + sc);
	*base = read_cells(reg, ac);
	*size = read_cells(reg + ac, sc);
	return 0;
}

int irqchip_dt_u32(const void *fdt, int node, const char *name, uint32_t *out)
{
	int len;
	const fdt32_t *p = fdt_getprop(fdt, node, name, &len);

	if (!p)
		return -ENOENT;
	if (len != 4)
		return -EINVAL;
	*out = fdt32_ld(p);
	return 0;
}

// The hart id of the cpu node above a riscv,cpu-intc node.
static int intc_hartid(const void *fdt, uint32_t phandle, uint32_t *hartid)
{
	int intc = fdt_node_offset_by_phandle(fdt, phandle);
	int cpu = intc >= 0 ? fdt_parent_offset(fdt, intc) : -1;

	if (intc < 0 || cpu < 0 || fdt_node_check_compatible(fdt, intc, "riscv,cpu-intc") != 0)
		return -EINVAL;
	return irqchip_dt_u32(fdt, cpu, "reg", hartid);
}

int irqchip_dt_hart_contexts(const void *fdt, int node, struct irqchip_hart_ctx *ctx, int max)
{
	int len, n;
	const fdt32_t *p = fdt_getprop(fdt, node, "interrupts-extended", &len);

	if (!p)
		return -ENOENT;
	if (len <= 0 || len % 8 || len / 8 > max)
		return -EINVAL;
	n = len / 8;
	for (int i = 0; i < n; i++) {
		if (intc_hartid(fdt, fdt32_ld(p + 2 * i), &ctx[i].hartid))
			return -EINVAL;
		ctx[i].cause = fdt32_ld(p + 2 * i + 1);
	}
	return n;
}
