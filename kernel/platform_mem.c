// SPDX-License-Identifier: MIT
/*
 * RAM and reserved ranges from the device tree: every device_type = "memory" node (any number of
 * reg entries each, in the root's #address-cells/#size-cells), the children of /reserved-memory,
 * and the /memreserve/ block (OpenSBI's own region is among these on QEMU virt).
 *
 * Each RAM range keeps its memory node's numa-node-id (NUMA_NO_NODE when it has none, settled by
 * platform_parse_numa). RAM leaves here as struct platform promises: sorted by base, page aligned, non-empty, no
 * overlaps, nothing above PLAT_PHYS_LIMIT (16 TiB). Each entry that had to be dropped, trimmed or
 * clipped is one dt_warn line.
 *
 * Interface: platform_parse_memory(), platform_parse_reserved() (see include/rvmm/dt.h).
 */
#include <rvmm/errno.h>
#include <rvmm/platform.h>

#include <rvmm/dt.h>

// Insertion sort by base: at most PLAT_MAX_MEM entries.
static void sort_ranges(struct plat_range *r, int n)
{
	for (int i = 1; i < n; i++) {
		struct plat_range t = r[i];
		int j = i;

		for (; j > 0 && r[j - 1].base > t.base; j--)
			r[j] = r[j - 1];
		r[j] = t;
	}
}

static void add_range(struct plat_range *r, phys_addr_t base, uint64_t size, const char *name,
		      bool nomap, int node)
{
	r->base = base;
	r->size = size;
	r->nomap = nomap;
	r->node = node;
	dt_copy(r->name, sizeof(r->name), name);
}

/*
 * One RAM entry of a memory node: dropped if empty or wrapping, clipped at PLAT_PHYS_LIMIT,
 * trimmed inward to pages. Returns false if nothing is left of it.
 */
static bool check_ram(struct platform *plat, const char *path, int i, uint64_t *base,
		      uint64_t *size)
{
	uint64_t start = *base, end = *base + *size;

	if (*size == 0) {
		dt_warn_at(plat, path, "reg entry %d at 0x%lx has size 0, dropped", i, start);
		return false;
	}
	if (end < start) {
		dt_warn_at(plat, path, "reg entry %d [0x%lx, +0x%lx) wraps past 2^64, dropped", i,
			   start, *size);
		return false;
	}
	if (start >= PLAT_PHYS_LIMIT) {
		dt_warn_at(plat, path, "reg entry %d [0x%lx, 0x%lx) is above the 16 TiB rvmm "
			   "supports, dropped", i, start, end);
		return false;
	}
	if (end > PLAT_PHYS_LIMIT) {
		dt_warn_at(plat, path, "reg entry %d [0x%lx, 0x%lx) clipped at 16 TiB (0x%lx)", i,
			   start, end, PLAT_PHYS_LIMIT);
		end = PLAT_PHYS_LIMIT;
	}
	if (!IS_ALIGNED(start, PAGE_SIZE) || !IS_ALIGNED(end, PAGE_SIZE)) {
		uint64_t s = ALIGN_UP(start, PAGE_SIZE), e = ALIGN_DOWN(end, PAGE_SIZE);

		if (s >= e) {
			dt_warn_at(plat, path, "reg entry %d [0x%lx, 0x%lx) holds no whole page, "
				   "dropped", i, start, end);
			return false;
		}
		dt_warn_at(plat, path, "reg entry %d [0x%lx, 0x%lx) is not page aligned, trimmed "
			   "to [0x%lx, 0x%lx)", i, start, end, s, e);
		start = s;
		end = e;
	}
	*base = start;
	*size = end - start;
	return true;
}

static void add_memory_node(struct platform *plat, const void *fdt, int node)
{
	char path[DT_PATH_LEN];
	struct dt_reg reg;
	uint64_t base, size;
	int nr = dt_reg_open(plat, fdt, node, &reg), nid;

	if (nr == -ENOENT)
		dt_warn(plat, fdt, node, "memory node has no reg, dropped");
	if (nr < 0)
		return;
	nid = dt_numa_node_id(plat, fdt, node);
	dt_path(fdt, node, path);
	for (int i = 0; i < nr; i++) {
		dt_reg_get(&reg, i, &base, &size);
		/* QEMU describes a node with harts and no memory by a memory node of size 0. */
		if (size == 0 && nid != NUMA_NO_NODE) {
			pr_info("device tree: %s: node %d has no memory here (size 0)", path, nid);
			continue;
		}
		if (!check_ram(plat, path, i, &base, &size))
			continue;
		if (dt_translate(plat, fdt, node, fdt_parent_offset(fdt, node), &base, size))
			continue;
		/* A bus's ranges may move it above 16 TiB, past 2^64 or off page alignment. */
		if (!check_ram(plat, path, i, &base, &size))
			continue;
		if (plat->nr_mem == PLAT_MAX_MEM) {
			dt_warn_at(plat, path, "more than %d memory ranges, entry %d and later dropped",
				   PLAT_MAX_MEM, i);
			return;
		}
		add_range(&plat->mem[plat->nr_mem++], base, size, path, false, nid);
	}
}

// After sorting: a range overlapping the one before it is trimmed to start where that one ends.
static void remove_overlaps(struct platform *plat)
{
	int i, n = 1;

	for (i = 1; i < plat->nr_mem; i++) {
		struct plat_range *prev = &plat->mem[n - 1], *r = &plat->mem[i];
		uint64_t pend = prev->base + prev->size, end = r->base + r->size;

		if (r->base < pend) {
			dt_warn_at(plat, r->name, "[0x%lx, 0x%lx) overlaps %s [0x%lx, 0x%lx), %s",
				   r->base, end, prev->name, prev->base, pend,
				   end <= pend ? "dropped" : "trimmed");
			if (end <= pend)
				continue;
			r->base = pend;
			r->size = end - pend;
		}
		plat->mem[n++] = *r;
	}
	plat->nr_mem = MIN(plat->nr_mem, n);
}

int platform_parse_memory(struct platform *plat, const void *fdt)
{
	int ac = dt_cells(fdt, 0, "#address-cells", 2);
	int sc = dt_cells(fdt, 0, "#size-cells", 1);
	int node, count = 0;

	if (ac < 1 || ac > 2 || sc < 1 || sc > 2) {
		dt_err(fdt, 0, "#address-cells %d / #size-cells %d not supported for memory "
		       "(1 or 2 each)", ac, sc);
		return -EINVAL;
	}
	for (node = fdt_node_offset_by_prop_value(fdt, -1, "device_type", "memory", 7);
	     node >= 0 && count < DT_MAX_NODES;
	     node = fdt_node_offset_by_prop_value(fdt, node, "device_type", "memory", 7)) {
		count++;
		if (dt_node_enabled(fdt, node))
			add_memory_node(plat, fdt, node);
	}
	if (count == 0) {
		dt_err(fdt, 0, "no memory node (device_type = \"memory\")");
		return -EINVAL;
	}
	sort_ranges(plat->mem, plat->nr_mem);
	remove_overlaps(plat);
	if (plat->nr_mem == 0) {
		dt_err(fdt, 0, "no usable memory left");
		return -EINVAL;
	}
	return 0;
}

static void add_reserved(struct platform *plat, const char *path, uint64_t base, uint64_t size,
			 bool nomap)
{
	if (size == 0 || base + size < base) {
		dt_warn_at(plat, path, "reserved range at 0x%lx size 0x%lx is %s, dropped", base,
			   size, size ? "wrapping" : "empty");
		return;
	}
	if (plat->nr_reserved == PLAT_MAX_RESERVED) {
		dt_warn_at(plat, path, "more than %d reserved ranges, [0x%lx, 0x%lx) dropped",
			   PLAT_MAX_RESERVED, base, base + size);
		return;
	}
	add_range(&plat->reserved[plat->nr_reserved++], base, size, path, nomap, NUMA_NO_NODE);
}

int platform_parse_reserved(struct platform *plat, const void *fdt)
{
	char path[DT_PATH_LEN];
	struct dt_reg reg;
	uint64_t base, size;
	int parent, node, nr, count = 0;

	parent = fdt_path_offset(fdt, "/reserved-memory");
	if (parent >= 0) {
		fdt_for_each_subnode(node, fdt, parent) {
			if (++count > DT_MAX_NODES)
				break;
			if (!dt_node_enabled(fdt, node))
				continue;
			dt_path(fdt, node, path);
			nr = dt_reg_open(plat, fdt, node, &reg);
			if (nr == -ENOENT)
				pr_info("device tree: %s: no reg (dynamic reservation), not used", path);
			for (int i = 0; i < nr; i++) {
				dt_reg_get(&reg, i, &base, &size);
				if (size && dt_translate(plat, fdt, node, parent, &base, size))
					continue;
				add_reserved(plat, path, base, size,
					     fdt_getprop(fdt, node, "no-map", NULL) != NULL);
			}
		}
	}

	nr = fdt_num_mem_rsv(fdt);
	if (nr < 0)
		dt_warn_at(plat, "/memreserve/", "reserve map unreadable (%s)", fdt_strerror(nr));
	for (int i = 0; i < nr; i++) {
		if (fdt_get_mem_rsv(fdt, i, &base, &size))
			break;
		add_reserved(plat, "/memreserve/", base, size, false);
	}
	sort_ranges(plat->reserved, plat->nr_reserved);
	return 0;
}
