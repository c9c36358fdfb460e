/* SPDX-License-Identifier: MIT */
/*
 * The small device tree readers kernel/platform*.c and the drivers' probes share, each of which
 * checks what it reads, and the one way a problem is reported:
 *
 *     device tree: <node path>: <what is wrong>
 *
 * dt_warn() prints it with pr_warn and counts it in plat->nr_warnings (the node, or the entry, is
 * then dropped); dt_err() prints it with pr_err for a problem that makes the whole tree unusable.
 * libfdt's FDT_ERR_* codes never leave these readers: they become -EINVAL after a message.
 *
 * Interface: dt_warn/dt_err/dt_warn_at, dt_path, dt_cells, dt_read_cells, dt_node_enabled,
 * dt_string, dt_u32, dt_reg_open/dt_reg_get/dt_reg_phys, dt_translate,
 * dt_compatible/dt_for_each_compatible, dt_copy, and the per-part parsers
 * platform_parse_memory/_reserved/_cpus/_numa, dt_numa_node_id.
 */
#ifndef RVMM_DT_H
#define RVMM_DT_H

#include <rvmm/platform.h>
#include <rvmm/printk.h>

#include <libfdt.h>

#define DT_PATH_LEN 128
#define DT_MAX_NODES 4096  /* bounds every walk over the tree, whatever the blob says */
#define DT_MAX_DEPTH 16    /* deepest node accepted; also bounds walks up through parents */

/*
 * The node's full path into buf (DT_PATH_LEN bytes), or ".../name" if longer; non-printable
 * bytes shown as '?'. Returns buf.
 */
const char *dt_path(const void *fdt, int node, char *buf);

#define dt_warn_at(plat, where, fmt, ...)                                                  \
	do {                                                                               \
		pr_warn("device tree: %s: " fmt, (where), ##__VA_ARGS__);                  \
		(plat)->nr_warnings++;                                                     \
	} while (0)

#define dt_warn(plat, fdt, node, fmt, ...)                                                 \
	do {                                                                               \
		char dt_pathbuf_[DT_PATH_LEN];                                             \
		dt_warn_at(plat, dt_path(fdt, node, dt_pathbuf_), fmt, ##__VA_ARGS__);     \
	} while (0)

#define dt_err(fdt, node, fmt, ...)                                                        \
	do {                                                                               \
		char dt_pathbuf_[DT_PATH_LEN];                                             \
		pr_err("device tree: %s: " fmt, dt_path(fdt, node, dt_pathbuf_),          \
		       ##__VA_ARGS__);                                                     \
	} while (0)

/*
 * #address-cells / #size-cells (name) of node: dflt when absent. Returns the count, or -EINVAL
 * when the property is not one cell or is above 4 (no message: the caller knows the context).
 */
int dt_cells(const void *fdt, int node, const char *name, int dflt);

/* n (0..2) big-endian cells at p as one number. */
uint64_t dt_read_cells(const fdt32_t *p, int n);

/* status absent, "okay" or "ok". */
bool dt_node_enabled(const void *fdt, int node);

/* Property name of node as a NUL-terminated string, or NULL if absent, empty or unterminated. */
const char *dt_string(const void *fdt, int node, const char *name);

/* Property name as one cell: 0 and *out set, -ENOENT if absent, -EINVAL if not 4 bytes. */
int dt_u32(const void *fdt, int node, const char *name, uint32_t *out);

/* A node's reg property, checked: entries of ac + sc cells from the parent's cell counts. */
struct dt_reg {
	const fdt32_t *cells;
	int nr;          /* number of entries */
	int ac, sc;      /* 1..2, 0..2 */
};

/*
 * Open node's reg. Returns the number of entries (>= 1), -ENOENT if there is no reg (no
 * message), or -EINVAL after a dt_warn (bad parent cell counts, empty, length not a multiple).
 */
int dt_reg_open(struct platform *plat, const void *fdt, int node, struct dt_reg *reg);
void dt_reg_get(const struct dt_reg *reg, int i, uint64_t *base, uint64_t *size);

/*
 * Translate addr (size bytes), an address in the space of bus's children, up through each
 * ancestor's ranges into a CPU physical address. node names the owner in messages. Returns 0, or
 * -EINVAL after a dt_warn.
 */
int dt_translate(struct platform *plat, const void *fdt, int node, int bus, uint64_t *addr,
		 uint64_t size);

/* Entry i of node's reg, translated to CPU physical: 0, -ENOENT, or -EINVAL after a dt_warn. */
int dt_reg_phys(struct platform *plat, const void *fdt, int node, int i, uint64_t *base,
		uint64_t *size);

/* node is compatible with one of the n strings in list. */
bool dt_compatible(const void *fdt, int node, const char *const *list, size_t n);

/*
 * The next enabled node after from (-1: from the root) compatible with one of list, in tree
 * order, or -1. *budget (nodes left to visit) bounds the whole scan.
 */
int dt_next_compatible(const void *fdt, int from, const char *const *list, size_t n, int *budget);

#define dt_for_each_compatible(node, fdt, list, budget)                                     \
	for ((budget) = DT_MAX_NODES,                                                      \
	     (node) = dt_next_compatible(fdt, -1, list, ARRAY_SIZE(list), &(budget));      \
	     (node) >= 0; (node) = dt_next_compatible(fdt, node, list, ARRAY_SIZE(list), &(budget)))

/* Copy src into a fixed-size field, truncating; bytes that are not printable ASCII become '?'. */
void dt_copy(char *dst, size_t len, const char *src);

/* The parts of platform_parse(). Each returns 0, or -EINVAL when the whole tree is unusable. */
int platform_parse_memory(struct platform *plat, const void *fdt);
int platform_parse_reserved(struct platform *plat, const void *fdt);
int platform_parse_cpus(struct platform *plat, const void *fdt);
int platform_parse_numa(struct platform *plat, const void *fdt);

/*
 * node's numa-node-id: the id (0..PLAT_MAX_NODES-1), NUMA_NO_NODE (-1) when absent, or 0 after a
 * dt_warn when it is malformed or beyond the nodes rvmm supports. Sets plat->numa if present.
 */
int dt_numa_node_id(struct platform *plat, const void *fdt, int node);

#endif
