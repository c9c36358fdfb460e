// SPDX-License-Identifier: MIT
/*
 * NUMA from the device tree: the numa-node-id of memory and cpu nodes (read by platform_mem.c
 * and platform_cpus.c through dt_numa_node_id) and the distance-map node
 * (compatible "numa-distance-map-v1": distance-matrix is <node-a node-b distance> triples).
 *
 * What is sound is kept and each problem is one dt_warn line:
 *   - a numa-node-id that is not one cell, or names a node past PLAT_MAX_NODES: node 0;
 *   - a memory range or hart without numa-node-id while others have one: node 0;
 *   - a distance-map entry naming a node no memory or cpu node has: ignored;
 *   - a distance to itself other than 10: 10; a distance between two nodes of 10 or less
 *     (0 among them): 20; the two directions given differently: the larger for both.
 * A direction the map leaves out mirrors the other; a pair it leaves out entirely is 20.
 *
 * Interface: dt_numa_node_id, platform_parse_numa (rvmm/dt.h).
 */
#include <rvmm/errno.h>
#include <rvmm/platform.h>

#include <rvmm/dt.h>

static const char *const distance_map_compat[] = {"numa-distance-map-v1"};

int dt_numa_node_id(struct platform *plat, const void *fdt, int node)
{
	uint32_t id;
	int rc = dt_u32(fdt, node, "numa-node-id", &id);

	if (rc == -ENOENT)
		return NUMA_NO_NODE;
	plat->numa = true;
	if (rc) {
		dt_warn(plat, fdt, node, "numa-node-id is not one cell, node 0 used");
		return 0;
	}
	if (id >= PLAT_MAX_NODES) {
		dt_warn(plat, fdt, node,
			"numa-node-id %u is beyond the %d nodes rvmm supports, "
			"node 0 used",
			id, PLAT_MAX_NODES);
		return 0;
	}
	return (int)id;
}

// Memory ranges and harts that named no node go to node 0, with a message if others named one.
static void assign_missing_nodes(struct platform *plat)
{
	const char *last = NULL;

	for (int i = 0; i < plat->nr_mem; i++) {
		struct plat_range *r = &plat->mem[i];

		if (r->node != NUMA_NO_NODE)
			continue;
		r->node = 0;
		/* One line per memory node, not per reg entry. */
		if (plat->numa && (!last || strcmp(last, r->name) != 0))
			dt_warn_at(plat, r->name,
				   "no numa-node-id while other nodes have one, node 0 "
				   "used");
		last = r->name;
	}
	for (int i = 0; i < plat->nr_harts; i++) {
		struct plat_hart *h = &plat->harts[i];

		if (h->node != NUMA_NO_NODE)
			continue;
		h->node = 0;
		if (plat->numa)
			dt_warn_at(plat, "/cpus",
				   "hart %u has no numa-node-id while other harts or "
				   "memory have one, node 0 used",
				   h->hartid);
	}
}

static void set_pair(struct platform *plat, int a, int b, uint8_t d)
{
	plat->distance[a][b] = d;
	plat->distance[b][a] = d;
}

// One <a b distance> entry, checked; given[a][b] records what the map said for a -> b.
static void distance_entry(struct platform *plat, const char *path, uint32_t a, uint32_t b,
			   uint32_t d, uint32_t given[PLAT_MAX_NODES][PLAT_MAX_NODES])
{
	if (!plat_node_valid(plat, (int)a) || !plat_node_valid(plat, (int)b)) {
		dt_warn_at(plat, path,
			   "distance-matrix entry <%u %u %u> names node %u, which no "
			   "memory or cpu node has, ignored",
			   a, b, d, plat_node_valid(plat, (int)a) ? b : a);
		return;
	}
	if (a == b) {
		if (d != NUMA_LOCAL_DISTANCE)
			dt_warn_at(plat, path,
				   "distance-matrix: node %u to itself is %u, not %d; "
				   "%d used",
				   a, d, NUMA_LOCAL_DISTANCE, NUMA_LOCAL_DISTANCE);
		return;
	}
	if (d <= NUMA_LOCAL_DISTANCE || d > 255) {
		dt_warn_at(plat, path,
			   "distance-matrix: node %u to node %u is %u, not within "
			   "(%d, 255]; %d used",
			   a, b, d, NUMA_LOCAL_DISTANCE, NUMA_REMOTE_DISTANCE);
		d = NUMA_REMOTE_DISTANCE;
	}
	given[a][b] = d;
	if (given[b][a] && given[b][a] != d) {
		uint32_t m = MAX(d, given[b][a]);

		dt_warn_at(plat, path,
			   "distance-matrix is not symmetric: node %u to %u is %u, "
			   "node %u to %u is %u; %u used both ways",
			   b, a, given[b][a], a, b, d, m);
		set_pair(plat, (int)a, (int)b, (uint8_t)m);
		return;
	}
	set_pair(plat, (int)a, (int)b, (uint8_t)d);
}

static void parse_distance_map(struct platform *plat, const void *fdt, int node)
{
	static uint32_t given[PLAT_MAX_NODES]
			     [PLAT_MAX_NODES]; /* boot hart only: not on the stack */
	char path[DT_PATH_LEN];
	const fdt32_t *m;
	int len;

	dt_path(fdt, node, path);
	m = fdt_getprop(fdt, node, "distance-matrix", &len);
	if (!m || len == 0 || len % 12) {
		dt_warn_at(plat, path, "distance-matrix is %s, distances default to %d",
			   m ? "not a list of <node node distance> triples" : "missing",
			   NUMA_REMOTE_DISTANCE);
		return;
	}
	if (!plat->numa) {
		dt_warn_at(plat, path, "distance-map but no numa-node-id anywhere, ignored");
		return;
	}
	memset(given, 0, sizeof(given));
	for (int i = 0; i < len / 12; i++, m += 3)
		distance_entry(plat, path, fdt32_ld(m), fdt32_ld(m + 1), fdt32_ld(m + 2), given);
}

int platform_parse_numa(struct platform *plat, const void *fdt)
{
	int node, budget, maps = 0;

	assign_missing_nodes(plat);
	plat->node_mask = 0;
	for (int i = 0; i < plat->nr_mem; i++)
		plat->node_mask |= 1u << plat->mem[i].node;
	for (int i = 0; i < plat->nr_harts; i++)
		plat->node_mask |= 1u << plat->harts[i].node;
	plat->node_mask |= 1u; /* node 0 always exists: where what named no node goes */
	plat->nr_nodes = 32 - __builtin_clz(plat->node_mask);

	for (int a = 0; a < PLAT_MAX_NODES; a++)
		for (int b = 0; b < PLAT_MAX_NODES; b++)
			plat->distance[a][b] = a == b ? NUMA_LOCAL_DISTANCE : NUMA_REMOTE_DISTANCE;
	dt_for_each_compatible(node, fdt, distance_map_compat, budget)
	{
		if (maps++) {
			dt_warn(plat, fdt, node, "a second distance-map, ignored");
			continue;
		}
		parse_distance_map(plat, fdt, node);
	}
	return 0;
}
