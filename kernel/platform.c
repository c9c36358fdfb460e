// SPDX-License-Identifier: MIT
/*
 * Reads the flattened device tree once at boot into struct platform (rvmm/platform.h). This file
 * checks the blob itself (header, sizes, a bounded walk of the whole structure block) and /chosen,
 * then calls the parsers for memory (platform_mem.c), harts (platform_cpus.c) and NUMA nodes
 * (platform_numa.c);
 * platform_print.c prints the result. Devices are probed later, by their drivers (device.c).
 * It also holds the checked readers they share (include/rvmm/dt.h). Nothing is trusted before it is
 * checked: every length, cell count and string, and every walk is bounded.
 *
 * Interface: platform_parse(), platform_check_reserved(). (The global `platform` is main.c's.)
 */
#include <rvmm/errno.h>
#include <rvmm/platform.h>
#include <rvmm/printk.h>

#include <rvmm/dt.h>

/* ---- Checked readers shared by platform*.c ---------------------------------------------- */

// Node names and strings come from the blob: never let one put control bytes on the console.
static char printable(char c)
{
	return c >= 0x20 && c < 0x7f ? c : '?';
}

const char *dt_path(const void *fdt, int node, char *buf)
{
	const char *name;

	if (node >= 0 && fdt_get_path(fdt, node, buf, DT_PATH_LEN) == 0) {
		for (char *p = buf; *p; p++)
			*p = printable(*p);
		return buf;
	}
	/* Deeper than DT_PATH_LEN: the node's own name says enough. */
	name = node >= 0 ? fdt_get_name(fdt, node, NULL) : NULL;
	buf[0] = buf[1] = buf[2] = '.';
	dt_copy(buf + 3, DT_PATH_LEN - 3, name ? name : "<bad node>");
	return buf;
}

void dt_copy(char *dst, size_t len, const char *src)
{
	size_t i;

	for (i = 0; i + 1 < len && src[i]; i++)
		dst[i] = printable(src[i]);
	dst[i] = '\0';
}

int dt_cells(const void *fdt, int node, const char *name, int dflt)
{
	int len;
	const fdt32_t *p = fdt_getprop(fdt, node, name, &len);

	if (!p)
		return dflt;
	if (len != 4 || fdt32_ld(p) > 4)
		return -EINVAL;
	return (int)fdt32_ld(p);
}

uint64_t dt_read_cells(const fdt32_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = (v << 32) | fdt32_ld(p + i);
	return v;
}

bool dt_node_enabled(const void *fdt, int node)
{
	int len;
	const char *s = fdt_getprop(fdt, node, "status", &len);

	if (!s)
		return true;
	return (len == 5 && memcmp(s, "okay", 5) == 0) || (len == 3 && memcmp(s, "ok", 3) == 0);
}

const char *dt_string(const void *fdt, int node, const char *name)
{
	int len;
	const char *s = fdt_getprop(fdt, node, name, &len);

	if (!s || len < 2 || s[len - 1] != '\0')
		return NULL;
	return s;
}

int dt_u32(const void *fdt, int node, const char *name, uint32_t *out)
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

int dt_reg_open(struct platform *plat, const void *fdt, int node, struct dt_reg *reg)
{
	int parent = fdt_parent_offset(fdt, node);
	int len, entry;

	if (parent < 0) {
		dt_warn(plat, fdt, node, "has no parent (%s)", fdt_strerror(parent));
		return -EINVAL;
	}
	reg->cells = fdt_getprop(fdt, node, "reg", &len);
	if (!reg->cells)
		return -ENOENT;
	reg->ac = dt_cells(fdt, parent, "#address-cells", 2);
	reg->sc = dt_cells(fdt, parent, "#size-cells", 1);
	if (reg->ac < 1 || reg->ac > 2 || reg->sc < 0 || reg->sc > 2) {
		dt_warn(plat, fdt, node, "parent's #address-cells %d / #size-cells %d not supported",
			reg->ac, reg->sc);
		return -EINVAL;
	}
	entry = 4 * (reg->ac + reg->sc);
	if (len == 0 || len % entry) {
		dt_warn(plat, fdt, node, "reg length %d is not a multiple of %d", len, entry);
		return -EINVAL;
	}
	reg->nr = len / entry;
	return reg->nr;
}

void dt_reg_get(const struct dt_reg *reg, int i, uint64_t *base, uint64_t *size)
{
	const fdt32_t *p = reg->cells + i * (reg->ac + reg->sc);

	*base = dt_read_cells(p, reg->ac);
	*size = dt_read_cells(p + reg->ac, reg->sc);
}

// Map addr through one bus's non-empty ranges. 0 if an entry covers [addr, addr + size).
static int map_ranges(const void *fdt, int bus, int parent, const fdt32_t *r, int len,
		      uint64_t *addr, uint64_t size)
{
	int cac = dt_cells(fdt, bus, "#address-cells", 2);
	int csc = dt_cells(fdt, bus, "#size-cells", 1);
	int pac = dt_cells(fdt, parent, "#address-cells", 2);
	int entry = cac + pac + csc;

	if (cac < 1 || cac > 2 || pac < 1 || pac > 2 || csc < 1 || csc > 2 || len % (4 * entry))
		return -EINVAL;
	for (int i = 0; i < len / (4 * entry); i++, r += entry) {
		uint64_t c = dt_read_cells(r, cac);
		uint64_t p = dt_read_cells(r + cac, pac);
		uint64_t s = dt_read_cells(r + cac + pac, csc);

		if (*addr >= c && *addr - c < s && size <= s - (*addr - c)) {
			*addr = p + (*addr - c);
			return 0;
		}
	}
	return -ENOENT;
}

int dt_translate(struct platform *plat, const void *fdt, int node, int bus, uint64_t *addr,
		 uint64_t size)
{
	char bp[DT_PATH_LEN];
	uint64_t a = *addr;
	int depth, len, parent, rc;

	for (depth = 0; bus > 0 && depth < DT_MAX_DEPTH; depth++, bus = parent) {
		const fdt32_t *r = fdt_getprop(fdt, bus, "ranges", &len);

		parent = fdt_parent_offset(fdt, bus);
		if (parent < 0)
			break;
		if (!r) {
			dt_warn(plat, fdt, node, "%s has no ranges: address 0x%lx not reachable",
				dt_path(fdt, bus, bp), a);
			return -EINVAL;
		}
		if (len == 0)
			continue;   /* "ranges;" : identity */
		rc = map_ranges(fdt, bus, parent, r, len, &a, size);
		if (rc) {
			dt_warn(plat, fdt, node, "address 0x%lx size 0x%lx %s by the ranges of %s",
				*addr, size, rc == -ENOENT ? "not covered" : "not decodable",
				dt_path(fdt, bus, bp));
			return -EINVAL;
		}
	}
	if (bus > 0) {
		dt_warn(plat, fdt, node, "nested too deep to translate its address");
		return -EINVAL;
	}
	*addr = a;
	return 0;
}

int dt_reg_phys(struct platform *plat, const void *fdt, int node, int i, uint64_t *base,
		uint64_t *size)
{
	struct dt_reg reg;
	int rc = dt_reg_open(plat, fdt, node, &reg);

	if (rc < 0)
		return rc;
	if (i >= reg.nr)
		return -ENOENT;
	dt_reg_get(&reg, i, base, size);
	if (*size && *base + *size - 1 < *base) {
		dt_warn(plat, fdt, node, "reg entry %d [0x%lx, +0x%lx) wraps past 2^64", i, *base,
			*size);
		return -EINVAL;
	}
	return dt_translate(plat, fdt, node, fdt_parent_offset(fdt, node), base, *size);
}

bool dt_compatible(const void *fdt, int node, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fdt_node_check_compatible(fdt, node, list[i]) == 0)
			return true;
	return false;
}

int dt_next_compatible(const void *fdt, int from, const char *const *list, size_t n, int *budget)
{
	int node = from;

	if (node < 0) {
		node = 0;
		if (dt_compatible(fdt, node, list, n) && dt_node_enabled(fdt, node))
			return node;
	}
	while (--*budget > 0) {
		node = fdt_next_node(fdt, node, NULL);
		if (node < 0)
			return -1;
		if (dt_compatible(fdt, node, list, n) && dt_node_enabled(fdt, node))
			return node;
	}
	return -1;
}

/* ---- The blob itself ------------------------------------------------------------------------ */

// Header and sizes: nothing else in the blob may be read before this returns 0.
static int check_header(const void *fdt, size_t size)
{
	int rc;

	if (!fdt || size < sizeof(struct fdt_header)) {
		pr_err("device tree: header: blob is %lu bytes, smaller than a header (%lu)",
		       (unsigned long)size, (unsigned long)sizeof(struct fdt_header));
		return -EINVAL;
	}
	rc = fdt_check_header(fdt);
	if (rc) {
		pr_err("device tree: header: not a valid device tree (%s, magic 0x%x version %u)",
		       fdt_strerror(rc), fdt_magic(fdt), fdt_version(fdt));
		return -EINVAL;
	}
	/* libfdt loads tags and reserve entries in place: their blocks must be aligned for that. */
	if (fdt_off_dt_struct(fdt) % 4 || fdt_off_mem_rsvmap(fdt) % 8) {
		pr_err("device tree: header: structure block at 0x%x or reserve map at 0x%x is "
		       "misaligned", fdt_off_dt_struct(fdt), fdt_off_mem_rsvmap(fdt));
		return -EINVAL;
	}
	if (fdt_totalsize(fdt) > size) {
		pr_err("device tree: header: totalsize %u is larger than the %lu bytes available",
		       fdt_totalsize(fdt), (unsigned long)size);
		return -EINVAL;
	}
	return 0;
}

/*
 * Walk every node and property once, bounded by DT_MAX_NODES and DT_MAX_DEPTH, so the lookups
 * that follow meet only a well-formed structure block: tags, node names, property names (offsets
 * into the strings block) and lengths all inside the blob.
 */
static int check_structure(const void *fdt)
{
	int node = 0, depth = 0, prev = 0, count, prop, len, next;
	const char *name;
	uint32_t tag;

	if (fdt_next_tag(fdt, 0, &len) != FDT_BEGIN_NODE) {
		pr_err("device tree: /: structure block does not start with the root node");
		return -EINVAL;
	}
	for (count = 0; depth >= 0; count++) {
		if (count == DT_MAX_NODES) {
			pr_err("device tree: /: more than %d nodes", DT_MAX_NODES);
			return -EINVAL;
		}
		if (depth > DT_MAX_DEPTH) {
			dt_err(fdt, prev, "nodes nested deeper than %d", DT_MAX_DEPTH);
			return -EINVAL;
		}
		if (!fdt_get_name(fdt, node, &len)) {
			dt_err(fdt, prev, "structure block is corrupt after this node (%s)",
			       fdt_strerror(len));
			return -EINVAL;
		}
		fdt_for_each_property_offset(prop, fdt, node) {
			if (!fdt_getprop_by_offset(fdt, prop, &name, &len)) {
				dt_err(fdt, node, "structure block is corrupt (property at %d: %s)",
				       prop, fdt_strerror(len));
				return -EINVAL;
			}
		}
		if (prop != -FDT_ERR_NOTFOUND) {
			dt_err(fdt, node, "structure block is corrupt (%s)", fdt_strerror(prop));
			return -EINVAL;
		}
		prev = node;
		node = fdt_next_node(fdt, node, &depth);
		if (node < 0) {
			/* NOTFOUND here: the block ended before the root node was closed. */
			dt_err(fdt, prev, "structure block is corrupt after this node (%s)",
			       fdt_strerror(node == -FDT_ERR_NOTFOUND ? -FDT_ERR_TRUNCATED : node));
			return -EINVAL;
		}
	}
	/* After the root's end only NOPs, then FDT_END, may follow. */
	for (count = 0; count < DT_MAX_NODES; count++, node = next) {
		tag = fdt_next_tag(fdt, node, &next);
		if (tag == FDT_END && next >= 0)
			return 0;
		if (tag != FDT_NOP || next < 0)
			break;
	}
	pr_err("device tree: /: structure block does not end after the root node");
	return -EINVAL;
}

/* ---- /chosen ------------------------------------------------------------------------------- */

static void parse_chosen(struct platform *plat, const void *fdt)
{
	int chosen = fdt_path_offset(fdt, "/chosen");
	const char *s;
	size_t n;
	int len;

	if (chosen < 0)
		return;
	if (fdt_getprop(fdt, chosen, "bootargs", &len)) {
		s = dt_string(fdt, chosen, "bootargs");
		if (!s && len > 1) {
			dt_warn(plat, fdt, chosen, "bootargs is not a terminated string, ignored");
		} else if (s) {
			n = strlen(s);
			if (n >= sizeof(plat->bootargs))
				dt_warn(plat, fdt, chosen, "bootargs is %lu characters, cut to %lu",
					(unsigned long)n, (unsigned long)sizeof(plat->bootargs) - 1);
			dt_copy(plat->bootargs, sizeof(plat->bootargs), s);
		}
	}
}

/* ---- Entry points -------------------------------------------------------------------------- */

int platform_parse(struct platform *plat, const void *fdt, size_t size)
{
	int rc;

	memset(plat, 0, sizeof(*plat));
	rc = check_header(fdt, size);
	if (rc)
		return rc;
	rc = check_structure(fdt);
	if (rc)
		return rc;
	plat->dtb_size = fdt_totalsize(fdt);

	plat->fdt = fdt;
	parse_chosen(plat, fdt);
	rc = platform_parse_memory(plat, fdt);
	if (rc)
		return rc;
	rc = platform_parse_reserved(plat, fdt);
	if (rc)
		return rc;
	rc = platform_parse_cpus(plat, fdt);
	if (rc)
		return rc;
	return platform_parse_numa(plat, fdt);
}

int platform_check_reserved(const struct platform *plat, phys_addr_t kstart, phys_addr_t kend)
{
	int rc = 0, i;

	for (i = 0; i < plat->nr_reserved; i++) {
		const struct plat_range *r = &plat->reserved[i];

		if (r->base < kend && kstart < r->base + r->size) {
			pr_err("device tree: %s: reserved [0x%lx, 0x%lx) overlaps the kernel image "
			       "[0x%lx, 0x%lx)", r->name, r->base, r->base + r->size, kstart, kend);
			rc = -EINVAL;
		}
	}
	for (i = 0; i < plat->nr_mem; i++)
		if (plat->mem[i].base <= kstart && kend <= plat->mem[i].base + plat->mem[i].size)
			break;
	if (i == plat->nr_mem) {
		pr_err("device tree: /: no memory range holds the kernel image [0x%lx, 0x%lx)",
		       kstart, kend);
		rc = -EINVAL;
	}
	return rc;
}
