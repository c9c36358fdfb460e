// SPDX-License-Identifier: MIT
/*
 * NUMA from the device tree (kernel/platform_numa.c): QEMU virt's own trees with two and four
 * nodes (a hart-only node, a distance-map), the fixtures numa-4 (a memory-only node) and
 * numa-bad (every problem once: one message each, the rest kept), and a tree without NUMA.
 */
#include "harness.h"

#include <rvmm/platform.h>
#include <rvmm/printk.h>

static struct platform plat;

// The node of the RAM range starting at base, or -2 if there is none.
static int mem_node(uint64_t base)
{
	for (int i = 0; i < plat.nr_mem; i++)
		if (plat.mem[i].base == base)
			return plat.mem[i].node;
	return -2;
}

static int hart_node(uint32_t hartid)
{
	for (int i = 0; i < plat.nr_harts; i++)
		if (plat.harts[i].hartid == hartid)
			return plat.harts[i].node;
	return -2;
}

static int check_distances(const uint8_t want[][4], int n)
{
	for (int a = 0; a < n; a++)
		for (int b = 0; b < n; b++)
			CHECK_MSG(plat.distance[a][b] == want[a][b], "distance %d -> %d is %u, want %u",
				  a, b, plat.distance[a][b], want[a][b]);
	return 0;
}

static int numa_none(void)
{
	CHECK_RC(parse_dtb(&plat, "qemu-3g-4.dtb"));
	CHECK(!plat.numa);
	CHECK_EQ(plat.nr_nodes, 1);
	CHECK_EQ(plat.node_mask, 1);
	CHECK_EQ(mem_node(0x80000000), 0);
	for (int i = 0; i < plat.nr_harts; i++)
		CHECK_EQ(plat.harts[i].node, 0);
	CHECK_EQ(plat.distance[0][0], 10);
	log_clear();
	platform_print(&plat);
	CHECK_MSG(!log_has("node") && !log_has("numa"), "plain tree printed nodes:\n%s",
		  log_text());
	return 0;
}

static int numa_qemu_two_sockets(void)
{
	static const uint8_t want[4][4] = {{10, 20}, {20, 10}};

	CHECK_RC(parse_dtb(&plat, "qemu-2g-4-2sockets.dtb"));
	CHECK_MSG(log_count("device tree:") == 0, "warnings:\n%s", log_text());
	CHECK(plat.numa);
	CHECK_EQ(plat.nr_nodes, 2);
	CHECK_EQ(plat.node_mask, 3);
	CHECK_EQ(plat.nr_mem, 2);
	CHECK_EQ(mem_node(0x80000000), 0);
	CHECK_EQ(mem_node(0xc0000000), 1);
	CHECK_EQ(hart_node(0), 0);
	CHECK_EQ(hart_node(1), 0);
	CHECK_EQ(hart_node(2), 1);
	CHECK_EQ(hart_node(3), 1);
	CHECK_RC(check_distances(want, 2)); /* no distance-map: QEMU gave none */
	log_clear();
	platform_print(&plat);
	CHECK_MSG(log_has("hart 2: enabled  node 1") && log_has("node 1  /memory@c0000000") &&
			  log_has("numa: 2 nodes, mask 0x3"),
		  "printout:\n%s", log_text());
	return 0;
}

static int numa_qemu_four_nodes(void)
{
	static const uint8_t want[4][4] = {
	    {10, 20, 30, 40}, {20, 10, 20, 30}, {30, 20, 10, 20}, {40, 30, 20, 10}};

	CHECK_RC(parse_dtb(&plat, "qemu-numa4.dtb"));
	/* QEMU gives the hart-only node a memory node of size 0: a fact, not a problem. */
	CHECK_MSG(plat.nr_warnings == 0 && log_count("<warn>") == 0, "warnings:\n%s", log_text());
	CHECK_MSG(log_find(LOG_INFO, "device tree: /memory@140000000: node 3 has no memory here "
				     "(size 0)") >= 0, "log:\n%s", log_text());
	CHECK_EQ(plat.nr_nodes, 4);
	CHECK_EQ(plat.node_mask, 0xf);
	CHECK_EQ(plat.nr_mem, 3);
	CHECK_EQ(mem_node(0x80000000), 0);
	CHECK_EQ(mem_node(0xc0000000), 1);
	CHECK_EQ(mem_node(0x100000000), 2);
	/* Node 3: harts 6 and 7, no memory. */
	CHECK_EQ(hart_node(6), 3);
	CHECK_EQ(hart_node(7), 3);
	CHECK_EQ(hart_node(5), 2);
	CHECK_RC(check_distances(want, 4));
	return 0;
}

static int numa_fixture_memory_only_node(void)
{
	static const uint8_t want[4][4] = {
	    {10, 20, 30, 40}, {20, 10, 25, 30}, {30, 25, 10, 20}, {40, 30, 20, 10}};

	CHECK_RC(parse_dtb(&plat, "fx/numa-4.dtb"));
	CHECK_MSG(log_count("device tree:") == 0, "warnings:\n%s", log_text());
	CHECK_EQ(plat.nr_warnings, 0);
	CHECK_EQ(plat.node_mask, 0xf);
	CHECK_EQ(mem_node(0x180000000), 3);
	for (int i = 0; i < plat.nr_harts; i++)
		CHECK_MSG(plat.harts[i].node != 3, "hart %u in the memory-only node",
			  plat.harts[i].hartid);
	CHECK_EQ(hart_node(3), 2);
	CHECK_RC(check_distances(want, 4));
	return 0;
}

static int numa_fixture_bad(void)
{
	static const char *const msgs[] = {
	    "device tree: /memory@100000000: numa-node-id 99 is beyond the 16 nodes rvmm "
	    "supports, node 0 used",
	    "device tree: /memory@140000000: numa-node-id is not one cell, node 0 used",
	    "device tree: /memory@180000000: no numa-node-id while other nodes have one, node 0 "
	    "used",
	    "device tree: /cpus: hart 2 has no numa-node-id while other harts or memory have one, "
	    "node 0 used",
	    "device tree: /distance-map: distance-matrix: node 0 to node 1 is 0, not within (10, "
	    "255]; 20 used",
	    "device tree: /distance-map: distance-matrix is not symmetric: node 1 to 2 is 30, node 2 "
	    "to 1 is 40; 40 used both ways",
	    "device tree: /distance-map: distance-matrix: node 1 to itself is 12, not 10; 10 used",
	    "device tree: /distance-map: distance-matrix entry <0 7 20> names node 7, which no "
	    "memory or cpu node has, ignored",
	};
	static const uint8_t want[4][4] = {{10, 20, 20}, {20, 10, 40}, {20, 40, 10}};
	int rc = parse_dtb(&plat, "fx/numa-bad.dtb");

	CHECK_MSG(rc == 0, "rc %d: boot must go on", rc);
	for (size_t i = 0; i < ARRAY_SIZE(msgs); i++)
		CHECK_MSG(log_find(LOG_WARN, msgs[i]) >= 0 && log_count(msgs[i]) == 1,
			  "want once: %s\nlog:\n%s", msgs[i], log_text());
	CHECK_EQ(plat.nr_warnings, ARRAY_SIZE(msgs));
	CHECK_EQ(plat.nr_mem, 5);
	CHECK_EQ(mem_node(0x100000000), 0);
	CHECK_EQ(mem_node(0x140000000), 0);
	CHECK_EQ(mem_node(0x180000000), 0);
	CHECK_EQ(mem_node(0xc0000000), 1);
	CHECK_EQ(hart_node(2), 0);
	CHECK_EQ(hart_node(3), 2);
	CHECK_EQ(plat.node_mask, 7);
	CHECK_RC(check_distances(want, 3));
	return 0;
}

TEST_SUITE(numa_suite, "numa",
	   CASE(numa_none),
	   CASE(numa_qemu_two_sockets),
	   CASE(numa_qemu_four_nodes),
	   CASE(numa_fixture_memory_only_node),
	   CASE(numa_fixture_bad))
