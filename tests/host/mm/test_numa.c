// SPDX-License-Identifier: MIT
//
// NUMA over the simulation: machines of two to four nodes (RAM ranges with a node each, distances
// as a distance-map gives them). Boot puts every section and page in its node's zones; an
// allocation prefers the calling hart's node and falls back by distance; hidden RAM of a node is
// hot-added into that node; a device region carries its node; offline migration keeps pages in
// their node while it has room.
//
// Interface: main() runs the "numa" case table (one case by name: build/host/mm/test_numa CASE).

#include <stdio.h>
#include <stdlib.h>

#include <rvmm/errno.h>
#include <rvmm/hotplug.h>
#include <rvmm/mem_ranges.h>
#include <rvmm/memblock.h>
#include <rvmm/migrate.h>
#include <rvmm/numa.h>
#include <rvmm/page_alloc.h>
#include <rvmm/platform.h>
#include <rvmm/section.h>

#include "sim.h"
#include "test.h"

#define N0 SIM_RAM_BASE               /* node 0: [2 GiB, 3 GiB) */
#define N1 (SIM_RAM_BASE + GiB(1))    /* node 1: [3 GiB, 4 GiB) */

// Two nodes of 1 GiB each; mem_limit hides the top of node 1 if not 0.
static int boot2(uint64_t mem_limit)
{
	struct sim_config cfg = { .nr_ram = 2, .ram = { { N0, GiB(1) }, { N1, GiB(1) } },
				  .node = { 0, 1 }, .mem_limit = mem_limit };
	return sim_boot(&cfg);
}

// Four nodes of 256 MiB: distances 0-1 20, 0-2 30, 0-3 40, 1-2 20, 1-3 30, 2-3 20.
static int boot4(void)
{
	static const uint8_t d[4][4] = {
		{ 10, 20, 30, 40 }, { 20, 10, 20, 30 }, { 30, 20, 10, 20 }, { 40, 30, 20, 10 } };
	struct sim_config cfg = { .nr_ram = 4 };
	for (int i = 0; i < 4; i++) {
		cfg.ram[i] = (struct sim_range){ SIM_RAM_BASE + (uint64_t)i * MiB(256), MiB(256) };
		cfg.node[i] = i;
		for (int j = 0; j < 4; j++)
			cfg.distance[i][j] = d[i][j];
	}
	return sim_boot(&cfg);
}

static uint64_t node_managed(int nid)
{
	return node_zone_managed_pages(nid, ZONE_NORMAL) + node_zone_managed_pages(nid, ZONE_MOVABLE);
}

static void count_pages(phys_addr_t s, phys_addr_t e, void *arg) { *(uint64_t *)arg += (e - s) >> PAGE_SHIFT; }

// Pages memblock left free in [lo, hi): what a node with that RAM manages after boot.
static uint64_t free_in(phys_addr_t lo, phys_addr_t hi)
{
	uint64_t n = 0;
	memblock_for_each_free(lo, hi, count_pages, &n);
	return n;
}

static int boot_nodes(void)
{
	CHECK_RC(boot2(0));
	CHECK_EQ(nr_online_nodes(), 2);
	for (unsigned long nr = N0 >> SECTION_SHIFT; nr < (N1 + GiB(1)) >> SECTION_SHIFT; nr++)
		CHECK_MSG(section_get(nr)->node == (nr >= (N1 >> SECTION_SHIFT)),
			  "section %lu in node %u", nr, section_get(nr)->node);
	// Each node manages what boot left free of its RAM (the memmap sits at the top: node 1).
	CHECK_EQ(node_managed(0), free_in(N0, N1));
	CHECK_EQ(node_managed(1), free_in(N1, N1 + GiB(1)));
	CHECK_EQ(node_managed(0) + node_managed(1), total_managed_pages());
	CHECK_EQ(zone_free_pages(ZONE_NORMAL),
		 node_zone_free_pages(0, ZONE_NORMAL) + node_zone_free_pages(1, ZONE_NORMAL));
	// Pages of node 1 are in node 1's section.
	deferred_init_pfn(PFN_DOWN(N1));
	CHECK_EQ(page_to_nid(pfn_to_page(PFN_DOWN(N1))), 1);
	return sim_check_buddy(NULL, 0, 0);
}

static int fallback_order(void)
{
	static const int8_t want[4][4] = { { 0, 1, 2, 3 }, { 1, 0, 2, 3 }, { 2, 1, 3, 0 },
					   { 3, 2, 1, 0 } };
	CHECK_RC(boot4());
	CHECK_EQ(nr_online_nodes(), 4);
	for (int n = 0; n < 4; n++)
		for (int i = 0; i < 4; i++)
			CHECK_MSG(node_fallback(n, i) == want[n][i], "node %d: fallback %d is %d, want %d",
				  n, i, node_fallback(n, i), want[n][i]);
	CHECK_EQ(node_distance(1, 3), 30);
	return 0;
}

// The calling hart's node first, for single pages (per-hart cache) and blocks alike.
static int local_first(void)
{
	CHECK_RC(boot4());
	for (int n = 0; n < 4; n++) {
		sim_set_hart((unsigned)n, 1);
		numa_set_hart_node((unsigned)n, n);
		struct page *p = alloc_pages(0, GFP_KERNEL), *q = alloc_pages(3, GFP_MOVABLE);
		CHECK(p && q);
		CHECK_MSG(page_to_nid(p) == n && page_to_nid(q) == n,
			  "hart of node %d got pages of nodes %d, %d", n, page_to_nid(p), page_to_nid(q));
		free_pages(p, 0);
		free_pages(q, 3);
		page_alloc_drain_local();
	}
	sim_set_hart(0, 1);
	// An explicit node from any hart.
	struct page *p = alloc_pages_node(3, 0, GFP_KERNEL);
	CHECK(p && page_to_nid(p) == 3);
	free_pages(p, 0);
	return sim_check_buddy(NULL, 0, 0);
}

// Node 2 full: its harts get node 1's pages (distance 20, before node 3 at 20 by id), then node
// 3's, then node 0's.
static int fallback_by_distance(void)
{
	CHECK_RC(boot4());
	sim_set_hart(2, 1);
	numa_set_hart_node(2, 2);
	static struct page *held[4][300];
	int nh[4] = { 0 };
	for (int want = 2, k = 0; k < 4; k++) {
		want = node_fallback(2, k);
		// Take every 4 MiB block this node has; then one page must come from the next node.
		for (;;) {
			struct page *p = alloc_pages(MAX_ORDER, GFP_KERNEL);
			if (!p)
				break;
			if (page_to_nid(p) != want) {
				free_pages(p, MAX_ORDER);
				break;
			}
			CHECK(nh[want] < 300);
			held[want][nh[want]++] = p;
		}
		CHECK_MSG(nh[want] > 50, "node %d gave only %d blocks (fallback step %d)", want,
			  nh[want], k);
	}
	CHECK_EQ(node_fallback(2, 1), 1);
	CHECK_EQ(node_fallback(2, 2), 3);
	for (int n = 0; n < 4; n++)
		while (nh[n])
			free_pages(held[n][--nh[n]], MAX_ORDER);
	page_alloc_drain_local();
	sim_set_hart(0, 1);
	return sim_check_buddy(NULL, 0, 0);
}

// mem= hides the top half of node 1; hot-add puts it back in node 1, and hot-remove takes it out.
static int hidden_into_node(void)
{
	CHECK_RC(boot2(GiB(1) + MiB(512)));
	uint64_t n1 = node_managed(1);
	CHECK_EQ(n1, free_in(N1, N1 + MiB(512)));
	phys_addr_t pa = N1 + MiB(512);
	CHECK_EQ(mem_range_nid(pa), 1);
	CHECK_RC(sim_hotadd(pa, MiB(512), ZONE_MOVABLE, false));
	CHECK_EQ(section_get(pa >> SECTION_SHIFT)->node, 1);
	CHECK_EQ(node_zone_managed_pages(1, ZONE_MOVABLE), MiB(512) >> PAGE_SHIFT);
	CHECK_EQ(node_zone_managed_pages(0, ZONE_MOVABLE), 0);
	CHECK_RC(sim_check_buddy(NULL, 0, 0));
	CHECK_RC(offline_pages(PFN_DOWN(pa), MiB(512) >> PAGE_SHIFT));
	CHECK_RC(remove_memory(pa, MiB(512)));
	CHECK_EQ(node_managed(1), n1);
	return sim_check_buddy(NULL, 0, 0);
}

// A driver's region is in the node it names; a node that does not exist is refused.
static int region_node(void)
{
	static const struct mem_region r = { .name = "dev", .start = GiB(8), .end = GiB(9), .node = 1 };
	static const struct mem_region bad = { .name = "bad", .start = GiB(10), .end = GiB(11),
					       .node = 5 };
	CHECK_RC(boot2(0));
	log_clear();
	CHECK_EQ(mem_region_register(&bad), -EINVAL);
	CHECK(log_has("mem ranges: bad [0x280000000-0x2c0000000): node 5 does not exist"));
	CHECK_RC(mem_region_register(&r));
	mem_hotplug_begin();
	CHECK_RC(__add_memory_driver(&r, GiB(8), MiB(256), 0));
	CHECK_RC(__online_pages(PFN_DOWN(GiB(8)), MiB(256) >> PAGE_SHIFT, ZONE_MOVABLE));
	mem_hotplug_done();
	CHECK_EQ(section_get(GiB(8) >> SECTION_SHIFT)->node, 1);
	CHECK_EQ(node_zone_managed_pages(1, ZONE_MOVABLE), MiB(256) >> PAGE_SHIFT);
	return sim_check_buddy(NULL, 0, 0);
}

// Movable pages of node 1 being offlined move to node 1's boot RAM, not to node 0 (nearer to the
// offlining hart, which is in node 0).
static int migrate_same_node(void)
{
	CHECK_RC(boot2(GiB(1) + MiB(512)));
	phys_addr_t pa = N1 + MiB(512);
	CHECK_RC(sim_hotadd(pa, MiB(256), ZONE_MOVABLE, false));
	sim_set_hart(1, 1);
	numa_set_hart_node(1, 1);
	static struct movable m[4096];
	int n = 0;
	for (; n < 4096; n++) {
		m[n] = (struct movable)MOVABLE_INIT;
		CHECK_RC(movable_alloc(&m[n], 0));
	}
	page_alloc_drain_local();
	sim_set_hart(0, 1);
	for (int i = 0; i < n; i++)
		CHECK_MSG(movable_pfn(&m[i]) >= PFN_DOWN(pa), "movable page %d outside the hot range", i);
	uint64_t other0 = migrate_stats.other_node, moved0 = migrate_stats.migrated;
	CHECK_RC(offline_pages(PFN_DOWN(pa), MiB(256) >> PAGE_SHIFT));
	CHECK(migrate_stats.migrated - moved0 >= (uint64_t)n);
	CHECK_EQ(migrate_stats.other_node, other0);
	for (int i = 0; i < n; i++)
		CHECK_EQ(page_to_nid(pfn_to_page(movable_pfn(&m[i]))), 1);
	CHECK_RC(sim_check_buddy(NULL, 0, 0));
	for (int i = 0; i < n; i++)
		movable_free(&m[i]);
	return 0;
}

// `nodes` as numactl -H, `meminfo N` as Linux's nodeN/meminfo, `sections` and its map with nodes.
static int console_views(void)
{
	CHECK_RC(boot2(GiB(1) + MiB(512)));
	for (int i = 0; i < 4; i++)
		platform.harts[i] = (struct plat_hart){ .hartid = (uint32_t)i, .enabled = true,
							.node = i / 2 };
	platform.nr_harts = 4;
	log_clear();
	CHECK_RC(sim_run("nodes"));
	char want[200];
	snprintf(want, sizeof(want), "node 1 size: %llu MB\n",
		 (unsigned long long)(node_managed(1) >> (20 - PAGE_SHIFT)));
	CHECK_MSG(log_has("available: 2 nodes (0-1)\nnode 0 cpus: 0 1\n") &&
			  log_has("node 1 cpus: 2 3\n") && log_has(want) &&
			  log_has("node distances:\nnode   0   1\n  0:  10  20\n  1:  20  10\n"),
		  "nodes:\n%s", log_text());
	log_clear();
	CHECK_RC(sim_run("meminfo 1"));
	snprintf(want, sizeof(want), "Node 1 MemTotal:       %8llu kB",
		 (unsigned long long)(node_managed(1) * 4));
	CHECK_MSG(log_has(want) && log_has("Node 1 MemFreeMovable:        0 kB") &&
			  log_has("Node 1 MemPlugged:") && !log_has("Node 0"),
		  "meminfo 1:\n%s", log_text());
	log_clear();
	CHECK(sim_run("meminfo 7") != 0);
	CHECK(log_has("meminfo: no node 7 (this machine has 2, ids below 2)"));
	log_clear();
	CHECK_RC(sim_run("meminfo"));
	CHECK(log_has("MemTotal:") && !log_has("Node"));
	log_clear();
	CHECK_RC(sim_run("sections"));
	CHECK_MSG(log_has("boot  node 0\n") && log_has("boot deferred  node 1\n") &&
			  log_has("RAM above mem= (hot-add can add it)  node 1\n"),
		  "sections:\n%s", log_text());
	log_clear();
	CHECK_RC(sim_run("sections --map"));
	CHECK_MSG(log_has("nodes begin: node 0 at 0x000080000000 (section 16) node 1 at "
			  "0x0000c0000000 (section 24)\n"), "map:\n%s", log_text());
	return 0;
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
		CASE(boot_nodes),
		CASE(fallback_order),
		CASE(local_first),
		CASE(fallback_by_distance),
		CASE(hidden_into_node),
		CASE(region_node),
		CASE(migrate_same_node),
		CASE(console_views),
	};
	return test_main("numa", cases, ARRAY_SIZE(cases), argc, argv);
}
