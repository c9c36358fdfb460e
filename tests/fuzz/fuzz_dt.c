// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the device tree reader (kernel/platform*.c over the real libfdt), then the
 * command line it carries (cmdline_parse) and the `dt` printout (platform_print).
 *
 * Two modes, chosen by the input's first byte:
 *
 *   0xd0 ...  raw: the input is the blob (a DTB starts d0 0d fe ed), as a boot loader might hand
 *             over any bytes at all.
 *   other     structured: byte 0 picks one of the real trees embedded by fuzz_dt_blobs.S (QEMU
 *             virt dumped at several -m/-smp, and fixtures); the rest is a script of edits made
 *             with libfdt's read-write API (set a property to cells that matter, set one cell,
 *             delete a property or a node, add a node, add a /memreserve/ entry). The result is
 *             always a well-formed blob, so the fuzzer reaches the semantic checks (cell counts,
 *             ranges translation, overlaps, PCI interrupt-map) instead of the header checks.
 *
 * After parsing, struct platform must keep its promises (rvmm/platform.h): RAM sorted, page
 * aligned, non-empty, not overlapping, below PLAT_PHYS_LIMIT; counts within their arrays; every
 * string terminated; every range and hart in a described node, distances symmetric with 10 on
 * the diagonal only. A broken promise aborts (a crash for libFuzzer).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libfdt.h>

#include <rvmm/cmdline.h>
#include <rvmm/dt.h>
#include <rvmm/errno.h>
#include <rvmm/irq.h>
#include <rvmm/pci.h>
#include <rvmm/platform.h>

#include "fuzz.h"
#include "log.h"


struct platform platform; /* main.c's on the target; platform_print reads its argument only */

/*
 * What drivers ask of the tree at probe: every node's first interrupts (interrupt-parent,
 * interrupts-extended, interrupt-map chains) and, on an interrupt-map nexus, each INTx pin.
 */
/* drivers/pci/pci_host_dt.c hands a parsed host to the PCI core: nothing to scan here. */
int pci_init(const struct pci_host *host __attribute__((unused)))
{
	return 0;
}

static void resolve_interrupts(struct platform *plat, const void *fdt)
{
	struct irq_spec spec;
	struct pci_host host;
	int budget = DT_MAX_NODES, rc;

	for (int node = 0; node >= 0 && budget-- > 0; node = fdt_next_node(fdt, node, NULL)) {
		if (fdt_node_check_compatible(fdt, node, "pci-host-ecam-generic") == 0) {
			rc = pci_host_dt_parse(plat, fdt, node, &host);
			FUZZ_CHECK(rc == 0 || rc == -EINVAL, "pci_host_dt_parse %d", rc);
			FUZZ_CHECK(rc || (host.nr_ranges >= 0 && host.nr_ranges <= PCI_MAX_RANGES &&
					  host.bus_start <= host.bus_end && host.bus_end <= 255),
				   "pci host: %d ranges, buses %u..%u", host.nr_ranges,
				   host.bus_start, host.bus_end);
		}
		for (int i = 0; i < 3; i++) {
			rc = irq_parse_dt(fdt, node, i, &spec);
			FUZZ_CHECK(rc == 0 || rc == -ENOENT || rc == -EINVAL, "irq_parse_dt %d", rc);
			FUZZ_CHECK(rc || (spec.nr_cells >= 1 && spec.nr_cells <= IRQ_SPEC_MAX_CELLS),
				   "irq_parse_dt: %u cells", spec.nr_cells);
		}
		for (uint32_t pin = 1; pin <= 4 && fdt_getprop(fdt, node, "interrupt-map", NULL); pin++) {
			uint32_t addr[3] = { pin << 11, 0, 0 };

			rc = irq_map_dt(fdt, node, addr, 3, &pin, 1, &spec);
			FUZZ_CHECK(rc == 0 || rc == -ENOENT || rc == -EINVAL, "irq_map_dt %d", rc);
		}
	}
}

/* ---- Checks after the parse ---------------------------------------------------------------- */

static void check_str(const char *s, size_t len, const char *what)
{
	FUZZ_CHECK(memchr(s, '\0', len) != NULL, "%s is not terminated", what);
}

// Every range and hart in a node the mask holds; distances symmetric, 10 on the diagonal only.
static void check_numa(const struct platform *p)
{
	FUZZ_CHECK((p->node_mask & 1) && p->nr_nodes >= 1 && p->nr_nodes <= PLAT_MAX_NODES &&
			   p->node_mask >> p->nr_nodes == 0 && p->node_mask >> (p->nr_nodes - 1) == 1,
		   "node_mask 0x%x, nr_nodes %d", p->node_mask, p->nr_nodes);
	for (int i = 0; i < p->nr_mem; i++)
		FUZZ_CHECK(plat_node_valid(p, p->mem[i].node), "mem[%d] in node %d", i,
			   p->mem[i].node);
	for (int i = 0; i < p->nr_harts; i++)
		FUZZ_CHECK(plat_node_valid(p, p->harts[i].node), "hart %u in node %d",
			   p->harts[i].hartid, p->harts[i].node);
	for (int a = 0; a < p->nr_nodes; a++)
		for (int b = 0; b < p->nr_nodes; b++)
			FUZZ_CHECK(p->distance[a][b] == p->distance[b][a] &&
					   (a == b) == (p->distance[a][b] == NUMA_LOCAL_DISTANCE) &&
					   p->distance[a][b] >= NUMA_LOCAL_DISTANCE,
				   "distance %d -> %d is %u, back %u", a, b, p->distance[a][b],
				   p->distance[b][a]);
}

static void check_platform(const struct platform *p, int rc)
{
	FUZZ_CHECK(rc == 0 || rc == -EINVAL, "platform_parse returned %d", rc);
	if (rc)
		return;
	FUZZ_CHECK(p->nr_mem >= 1 && p->nr_mem <= PLAT_MAX_MEM, "nr_mem %d", p->nr_mem);
	for (int i = 0; i < p->nr_mem; i++) {
		const struct plat_range *r = &p->mem[i];

		check_str(r->name, sizeof(r->name), "mem name");
		FUZZ_CHECK(r->size > 0, "mem[%d] empty", i);
		FUZZ_CHECK(IS_ALIGNED(r->base, PAGE_SIZE) && IS_ALIGNED(r->size, PAGE_SIZE),
			   "mem[%d] [0x%lx, +0x%lx) not page aligned", i, r->base, r->size);
		FUZZ_CHECK(r->base + r->size > r->base && r->base + r->size <= PLAT_PHYS_LIMIT,
			   "mem[%d] [0x%lx, +0x%lx) beyond PLAT_PHYS_LIMIT", i, r->base, r->size);
		FUZZ_CHECK(i == 0 || p->mem[i - 1].base + p->mem[i - 1].size <= r->base,
			   "mem[%d] at 0x%lx unsorted or overlapping mem[%d]", i, r->base, i - 1);
	}
	FUZZ_CHECK(p->nr_reserved >= 0 && p->nr_reserved <= PLAT_MAX_RESERVED, "nr_reserved %d",
		   p->nr_reserved);
	for (int i = 0; i < p->nr_reserved; i++) {
		const struct plat_range *r = &p->reserved[i];

		check_str(r->name, sizeof(r->name), "reserved name");
		FUZZ_CHECK(r->size > 0 && r->base + r->size - 1 >= r->base,
			   "reserved[%d] [0x%lx, +0x%lx) empty or wrapping", i, r->base, r->size);
		FUZZ_CHECK(i == 0 || p->reserved[i - 1].base <= r->base, "reserved unsorted at %d",
			   i);
	}
	FUZZ_CHECK(p->nr_harts >= 0 && p->nr_harts <= PLAT_MAX_HARTS, "nr_harts %d", p->nr_harts);
	for (int i = 0; i < p->nr_harts; i++) {
		check_str(p->harts[i].isa, sizeof(p->harts[i].isa), "hart isa");
		check_str(p->harts[i].mmu, sizeof(p->harts[i].mmu), "hart mmu");
	}
	check_str(p->bootargs, sizeof(p->bootargs), "bootargs");
	check_numa(p);
}

// Parse a copy of exactly size bytes (so ASan sees any read past the blob), check, use.
static void parse_blob(const void *blob, size_t size)
{
	static struct platform plat;
	static struct cmdline cl;
	void *copy = malloc(size ? size : 1);
	int rc;

	memcpy(copy, blob, size);
	log_clear();
	rc = platform_parse(&plat, copy, size);
	check_platform(&plat, rc);
	if (rc == 0) {
		platform_print(&plat);
		platform_check_reserved(&plat, 0x80200000, 0x80400000);
		rc = cmdline_parse(plat.bootargs, &cl);
		FUZZ_CHECK(rc == cl.nr_unknown + cl.nr_bad, "cmdline_parse returned %d", rc);
		resolve_interrupts(&plat, copy);
	}
	free(copy);
}

/* ---- Structured mode ------------------------------------------------------------------------- */

/* fuzz_dt_blobs.S: the embedded trees, as {start, end} pairs, then a count. */
extern const unsigned char *const fuzz_dt_blobs[];
extern const unsigned int fuzz_dt_nr_blobs;

#define EDIT_ROOM 65536
#define MAX_EDITS 48

static const char *const prop_names[] = {
    "reg",
    "ranges",
    "#address-cells",
    "#size-cells",
    "device_type",
    "compatible",
    "status",
    "interrupts",
    "interrupts-extended",
    "interrupt-parent",
    "interrupt-map",
    "interrupt-map-mask",
    "#interrupt-cells",
    "bus-range",
    "stdout-path",
    "bootargs",
    "riscv,isa",
    "mmu-type",
    "timebase-frequency",
    "no-map",
    "phandle",
    "riscv,ndev",
    "regmap",
    "offset",
    "value",
    "linux,pci-domain",
    "dma-coherent",
    "riscv,isa-extensions",
    "numa-node-id",
    "distance-matrix",
};

static const char *const strings[] = {
    "memory",
    "cpu",
    "okay",
    "ok",
    "disabled",
    "ns16550a",
    "riscv,plic0",
    "sifive,plic-1.0.0",
    "virtio,mmio",
    "syscon-poweroff",
    "pci-host-ecam-generic",
    "pci",
    "riscv,sv39",
    "riscv,sv48",
    "riscv,sv57",
    "riscv,none",
    "rv64imafdc_zicsr_zifencei",
    "/soc/serial@10000000",
    "/soc/serial@10000000:115200",
    "serial0",
    "mem=1G loglevel=7",
    "",
    "simple-bus",
    "syscon",
    "numa-distance-map-v1",
};

static const char *const node_names[] = {
    "memory@80000000",
    "memory@100000000",
    "memory@0",
    "reserved-memory",
    "rsv@80000000",
    "cpus",
    "cpu@0",
    "cpu@1",
    "soc",
    "serial@10000000",
    "virtio_mmio@10001000",
    "pci@30000000",
    "plic@c000000",
    "poweroff",
    "chosen",
    "bus@0",
    "distance-map",
    "x",
};

static const uint32_t interesting32[] = {
    0,		1,	    2,		3,	    4,		5,	    8,
    0x80,	0x1000,	    0x100000,	0x200000,   0x8000000,	0x10000000, 0x30000000,
    0x40000000, 0x7fffffff, 0x80000000, 0x80200000, 0xc0000000, 0xfffff000, 0xffffffff,
    0x2000000,	0x3000000,  0x42000000, 0x43000000, 0x1800,	0xf800,	    0x7,
};

static uint32_t cell(struct fuzz_in *in)
{
	uint8_t c = fin_u8(in);

	if (c < 224)
		return interesting32[c % ARRAY_SIZE(interesting32)];
	return fin_u32(in);
}

static uint64_t cell64(struct fuzz_in *in)
{
	uint64_t hi = fin_pick(in, 4) ? 0 : cell(in);

	return hi << 32 | cell(in);
}

// The node with index i in tree order (modulo the number of nodes); 0 is the root.
static int pick_node(const void *fdt, struct fuzz_in *in)
{
	unsigned want = fin_u16(in), n = 0;
	int node, nodes[512];

	for (node = 0; node >= 0 && n < ARRAY_SIZE(nodes); node = fdt_next_node(fdt, node, NULL))
		nodes[n++] = node;
	return nodes[want % n];
}

static const char *pick_prop(struct fuzz_in *in)
{
	return prop_names[fin_pick(in, ARRAY_SIZE(prop_names))];
}

static void edit(void *fdt, struct fuzz_in *in)
{
	uint32_t cells[16];
	uint8_t bytes[64];
	char name[32];
	const char *pname, *str;
	int node, len, n;
	const void *val;

	switch (fin_pick(in, 11)) {
	case 0: /* property = up to 16 cells that matter */
		node = pick_node(fdt, in);
		pname = pick_prop(in);
		n = fin_pick(in, 17);
		for (int i = 0; i < n; i++)
			cells[i] = cpu_to_fdt32(cell(in));
		fdt_setprop(fdt, node, pname, cells, 4 * n);
		break;
	case 1: /* property = raw bytes */
		node = pick_node(fdt, in);
		pname = pick_prop(in);
		n = (int)fin_bytes(in, bytes, fin_pick(in, sizeof(bytes)));
		fdt_setprop(fdt, node, pname, bytes, n);
		break;
	case 2: /* property = a string that matters */
		node = pick_node(fdt, in);
		pname = pick_prop(in);
		str = strings[fin_pick(in, ARRAY_SIZE(strings))]; /* a macro: str is read twice */
		fdt_setprop_string(fdt, node, pname, str);
		break;
	case 3: /* one cell of an existing property */
		node = pick_node(fdt, in);
		pname = pick_prop(in);
		val = fdt_getprop(fdt, node, pname, &len);
		if (val && len >= 4) {
			uint32_t v = cpu_to_fdt32(cell(in));
			unsigned idx = fin_u8(in) % (unsigned)(len / 4);

			fdt_setprop_inplace_namelen_partial(fdt, node, pname, (int)strlen(pname),
							    idx * 4, &v, 4);
		}
		break;
	case 4:
		node = pick_node(fdt, in);
		fdt_delprop(fdt, node, pick_prop(in));
		break;
	case 5: /* a new node, maybe a memory node at once */
		node = pick_node(fdt, in);
		if (fin_pick(in, 4) == 0) {
			n = (int)fin_bytes(in, name, fin_pick(in, sizeof(name) - 1));
			name[n] = '\0';
		} else {
			snprintf(name, sizeof(name), "%s",
				 node_names[fin_pick(in, ARRAY_SIZE(node_names))]);
		}
		node = fdt_add_subnode(fdt, node, name);
		if (node >= 0 && fin_pick(in, 2))
			fdt_setprop_string(fdt, node, "device_type", "memory");
		break;
	case 6:
		node = pick_node(fdt, in);
		if (node > 0)
			fdt_del_node(fdt, node);
		break;
	case 7:
		node = pick_node(fdt, in);
		if (node > 0)
			fdt_nop_node(fdt, node);
		break;
	case 8: {
		uint64_t a = cell64(in), s = cell64(in);

		fdt_add_mem_rsv(fdt, a, s);
		break;
	}
	case 9: fdt_del_mem_rsv(fdt, fin_u8(in) % 8); break;
	case 10: /* a property with a name from the input */
		node = pick_node(fdt, in);
		n = (int)fin_bytes(in, name, fin_pick(in, sizeof(name) - 1));
		name[n] = '\0';
		if (n)
			fdt_setprop_u32(fdt, node, name, cell(in));
		break;
	}
}

static void structured(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	unsigned which = fin_u8(&in) % fuzz_dt_nr_blobs;
	const void *base = fuzz_dt_blobs[2 * which];
	size_t room = fdt_totalsize(base) + EDIT_ROOM;
	void *fdt = malloc(room);

	FUZZ_CHECK(fdt_open_into(base, fdt, (int)room) == 0, "embedded tree %u unusable", which);
	for (int i = 0; i < MAX_EDITS && !fin_empty(&in); i++)
		edit(fdt, &in);
	if (fdt_pack(fdt) == 0)
		parse_blob(fdt, fdt_totalsize(fdt));
	free(fdt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 0 && data[0] == 0xd0)
		parse_blob(data, size);
	else if (size > 0)
		structured(data, size);
	return 0;
}
