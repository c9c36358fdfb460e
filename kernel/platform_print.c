// SPDX-License-Identifier: MIT
/*
 * Prints struct platform for people: the `dt` console command and boot logs (nodes and distances
 * only for a tree with numa-node-id, so a plain machine's printout is as before). Reads only the
 * struct, never the DTB.
 *
 * Interface: platform_print().
 */
#include <rvmm/platform.h>
#include <rvmm/printk.h>

// A size in the largest binary unit that divides it: "1 GiB", "256 KiB", "100 bytes".
static void print_size(uint64_t size)
{
	static const char *const unit[] = { "bytes", "KiB", "MiB", "GiB", "TiB" };
	int u = 0;

	while (u < 4 && size && size % 1024 == 0) {
		size /= 1024;
		u++;
	}
	kprintf("%lu %s", size, unit[u]);
}

static void print_range(const struct plat_range *r, bool numa)
{
	kprintf("  [0x%lx, 0x%lx) ", r->base, r->base + r->size);
	print_size(r->size);
	if (numa)
		kprintf("  node %d", r->node);
	kprintf("  %s%s\n", r->name, r->nomap ? "  no-map" : "");
}

// Nodes and the distance-map, only for a tree with numa-node-id.
static void print_numa(const struct platform *plat)
{
	kprintf("numa: %d nodes, mask 0x%x; distances:\n", __builtin_popcount(plat->node_mask),
		plat->node_mask);
	for (int a = 0; a < plat->nr_nodes; a++) {
		if (!plat_node_valid(plat, a))
			continue;
		kprintf("  node %d:", a);
		for (int b = 0; b < plat->nr_nodes; b++)
			if (plat_node_valid(plat, b))
				kprintf(" %u", plat->distance[a][b]);
		kprintf("\n");
	}
}

void platform_print(const struct platform *plat)
{
	uint64_t total = 0;
	int i;

	for (i = 0; i < plat->nr_mem; i++)
		total += plat->mem[i].size;
	kprintf("memory: %d ranges, ", plat->nr_mem);
	print_size(total);
	kprintf("\n");
	for (i = 0; i < plat->nr_mem; i++)
		print_range(&plat->mem[i], plat->numa);

	kprintf("reserved: %d ranges\n", plat->nr_reserved);
	for (i = 0; i < plat->nr_reserved; i++)
		print_range(&plat->reserved[i], false);

	kprintf("harts: %d, timebase %lu Hz\n", plat->nr_harts, plat->timebase_hz);
	for (i = 0; i < plat->nr_harts; i++) {
		const struct plat_hart *h = &plat->harts[i];

		kprintf("  hart %u: %s", h->hartid, h->enabled ? "enabled " : "disabled");
		if (plat->numa)
			kprintf(" node %d", h->node);
		kprintf(" %s %s\n", h->mmu, h->isa);
	}
	if (plat->numa)
		print_numa(plat);

	kprintf("dtb: 0x%lx, %u bytes; %d warnings\n", plat->dtb_pa, plat->dtb_size,
		plat->nr_warnings);
}
