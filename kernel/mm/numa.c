// SPDX-License-Identifier: MIT
/*
 * NUMA nodes for memory management (see include/rvmm/numa.h): copied from the parsed device tree
 * once at boot, with each node's fallback order worked out here so that the allocator's walk is
 * a table lookup. Boot hart only, before the page allocator; read-only afterwards.
 *
 * Interface: numa_init, numa_set_hart_node; the numa table.
 */
#include <rvmm/numa.h>
#include <rvmm/printk.h>

struct numa_info numa = {
    .online_mask = 1,
    .nr_node_ids = 1,
    .nr_online = 1,
    .distance = {[0] = {[0] = NUMA_LOCAL_DISTANCE}},
};

// Online nodes by distance from n, ties by node id (an insertion sort, stable). n comes first:
// the tree's distances are checked to be 10 to itself and more than 10 to any other node.
static void build_fallback(int n)
{
	int k = 0;

	for (int m = 0; m < numa.nr_node_ids; m++) {
		if (!node_online(m))
			continue;
		int j = k++;
		for (; j > 0; j--) {
			int prev = numa.fallback[n][j - 1];
			if (numa.distance[n][prev] <= numa.distance[n][m])
				break;
			numa.fallback[n][j] = (int8_t)prev;
		}
		numa.fallback[n][j] = (int8_t)m;
	}
}

void numa_init(const struct platform *plat)
{
	if (plat && !plat->nr_nodes)
		plat = NULL; /* a description not from platform_parse (host simulation): one node */
	numa.online_mask = plat ? plat->node_mask | 1u : 1u;
	numa.nr_node_ids = 32 - __builtin_clz(numa.online_mask);
	numa.nr_online = __builtin_popcount(numa.online_mask);
	for (int a = 0; a < MAX_NUMNODES; a++)
		for (int b = 0; b < MAX_NUMNODES; b++)
			numa.distance[a][b] = plat     ? plat->distance[a][b]
					      : a == b ? NUMA_LOCAL_DISTANCE
						       : NUMA_REMOTE_DISTANCE;
	for (int n = 0; n < numa.nr_node_ids; n++)
		if (node_online(n))
			build_fallback(n);
	if (numa.nr_online > 1)
		pr_info("numa: %d nodes, mask 0x%x", numa.nr_online, numa.online_mask);
}

void numa_set_hart_node(unsigned index, int nid)
{
	if (index < NUMA_HARTS)
		numa.hart_node[index] = (int8_t)(node_online(nid) ? nid : 0);
}
