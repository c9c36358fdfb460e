// SPDX-License-Identifier: MIT
//
// The `nodes` command: the NUMA layout as `numactl -H` prints it. The harts of each node (their
// ids as the device tree gives them, enabled ones), its memory (managed pages of its zones,
// hot-plugged included) and what is free, then the distance table:
//
//   available: 2 nodes (0-1)
//   node 0 cpus: 0 1
//   node 0 size: 2032 MB
//   node 0 free: 1990 MB
//   ...
//   node distances:
//   node   0   1
//     0:  10  20
//     1:  20  10
//
// Interface: the CONSOLE_COMMAND nodes.

#include <rvmm/console.h>
#include <rvmm/hotplug.h>
#include <rvmm/numa.h>
#include <rvmm/page_alloc.h>
#include <rvmm/platform.h>
#include <rvmm/printk.h>

// "0-1", "0,2", "0-2,5": the online node ids as numactl lists them.
static void print_node_list(void)
{
	int n = 0, comma = 0;
	while (n < nr_node_ids()) {
		if (!node_online(n)) {
			n++;
			continue;
		}
		int last = n;
		while (node_online(last + 1))
			last++;
		kprintf(comma++ ? ",%d" : "%d", n);
		if (last > n)
			kprintf("-%d", last);
		n = last + 1;
	}
}

static uint64_t node_pages(int nid, uint64_t (*count)(int, enum zone_type))
{
	return count(nid, ZONE_NORMAL) + count(nid, ZONE_MOVABLE);
}

static int cmd_nodes(int argc, char **argv __unused)
{
	int n;
	if (argc != 1)
		return CMD_USAGE;
	kprintf("available: %d nodes (", nr_online_nodes());
	print_node_list();
	kprintf(")\n");
	get_online_mems();
	for_each_online_node(n)
	{
		kprintf("node %d cpus:", n);
		for (int i = 0; i < platform.nr_harts; i++)
			if (platform.harts[i].enabled && platform.harts[i].node == n)
				kprintf(" %u", platform.harts[i].hartid);
		kprintf("\nnode %d size: %llu MB\n", n,
			(unsigned long long)(node_pages(n, node_zone_managed_pages) >>
					     (20 - PAGE_SHIFT)));
		kprintf(
		    "node %d free: %llu MB\n", n,
		    (unsigned long long)(node_pages(n, node_zone_free_pages) >> (20 - PAGE_SHIFT)));
	}
	put_online_mems();
	kprintf("node distances:\nnode");
	for_each_online_node(n) kprintf(" %3d", n);
	kprintf("\n");
	for_each_online_node(n)
	{
		int m;
		kprintf("%3d:", n);
		for_each_online_node(m) kprintf(" %3d", node_distance(n, m));
		kprintf("\n");
	}
	return 0;
}

CONSOLE_COMMAND(nodes, .name = "nodes", .usage = "nodes",
		.summary = "NUMA nodes: harts, memory size and free, distances (as numactl -H)",
		.run = cmd_nodes);
