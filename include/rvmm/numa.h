/* SPDX-License-Identifier: MIT */
/*
 * NUMA nodes as memory management sees them (kernel/mm/numa.c): which nodes exist, the distance
 * between two, each node's fallback order (itself, then the others nearest first), and the node
 * of each hart. Filled once at boot from the device tree (platform_numa.c) by numa_init(), then
 * only read, without a lock. A machine without numa-node-id is one node, 0.
 *
 * Interface: MAX_NUMNODES, NUMA_NO_NODE, numa_init, numa_set_hart_node, numa_node_id,
 * numa_hart_node, node_online, nr_online_nodes, nr_node_ids, node_distance, node_fallback,
 * for_each_online_node.
 */
#ifndef RVMM_NUMA_H
#define RVMM_NUMA_H

#include <rvmm/arch_cpu.h>
#include <rvmm/platform.h>
#include <rvmm/types.h>

#define MAX_NUMNODES PLAT_MAX_NODES
#define NUMA_HARTS   PLAT_MAX_HARTS /* hart indices with a node of their own; others: node 0 */

struct numa_info {
	uint32_t online_mask; /* nodes the tree describes (memory, harts or both) */
	int nr_node_ids;      /* highest online node + 1 */
	uint8_t distance[MAX_NUMNODES][MAX_NUMNODES];
	/* fallback[n]: online nodes by distance from n (n first, ties by id); nr_online entries. */
	int8_t fallback[MAX_NUMNODES][MAX_NUMNODES];
	int nr_online;
	int8_t hart_node[NUMA_HARTS]; /* by hart index (arch_hart_index) */
};
extern struct numa_info numa;

/* Take nodes and distances from plat (NULL: one node) and compute the fallback orders. */
void numa_init(const struct platform *plat);

/* The arch tells which node the hart with this index is in, as it brings it up. */
void numa_set_hart_node(unsigned index, int nid);

static inline bool node_online(int nid)
{
	return nid >= 0 && nid < MAX_NUMNODES && (numa.online_mask >> nid & 1);
}
static inline int nr_online_nodes(void)
{
	return numa.nr_online;
}
static inline int nr_node_ids(void)
{
	return numa.nr_node_ids;
}
static inline int node_distance(int a, int b)
{
	return numa.distance[a][b];
}
static inline int numa_hart_node(unsigned index)
{
	return index < NUMA_HARTS ? numa.hart_node[index] : 0;
}
/* The calling hart's node. */
static inline int numa_node_id(void)
{
	return numa_hart_node(arch_hart_index());
}
/* The i-th node to try for an allocation that prefers nid. */
static inline int node_fallback(int nid, int i)
{
	return numa.fallback[nid][i];
}

#define for_each_online_node(n)                                                                    \
	for ((n) = 0; (n) < numa.nr_node_ids; (n)++)                                               \
		if (node_online(n))

#endif
