// SPDX-License-Identifier: MIT
//
// Host tests of the AIA drivers (drivers/irqchip/aplic.c, imsic.c), probed by the real driver
// walker (kernel/device.c) and used through the real interrupt-domain layer (kernel/irq.c),
// against simulated hardware: an APLIC S-level domain (register file with delegated sources,
// IDCs, MSI forwarding) and one IMSIC S-level interrupt file per hart (the stand-in asm/aia.h
// reaches it through this_hart). The device trees are built here in QEMU virt's shape and node
// order (APLICs before the IMSICs they send to): aia=aplic (direct), aia=aplic-imsic (MSI), one
// or two sockets; knobs break them the ways a bad DT or a bad firmware would.

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <asm/aia.h>
#include <asm/hart.h>
#include <rvmm/device.h>
#include <rvmm/errno.h>
#include <rvmm/irq.h>
#include <rvmm/irqchip.h>
#include <rvmm/msi.h>
#include <rvmm/platform.h>

#include <libfdt.h>

#include "../virtio/host.h"
#include "qemu_dtb.h"

#define NR_SOURCES 96
#define APLIC_S_PA 0xd000000UL
#define IMSIC_S_PA 0x28000000UL

/* ---- harts ---- */

struct hart harts[MAX_HARTS];
struct hart *this_hart = &harts[0];
unsigned nr_harts_online;
struct platform platform;

static void set_harts(unsigned n, unsigned long boot_hartid)
{
	nr_harts_online = n;
	for (unsigned i = 0; i < n; i++)
		harts[i] = (struct hart){ .index = i, .hartid = i, .state = HART_IDLE };
	/* harts[0] is the boot hart, whatever its id (OpenSBI's lottery). */
	harts[boot_hartid] = harts[0];
	harts[boot_hartid].index = (unsigned)boot_hartid;
	harts[0] = (struct hart){ .index = 0, .hartid = boot_hartid, .state = HART_IDLE };
	this_hart = &harts[0];
}

/* ---- simulated IMSIC files, one per hart id ---- */

static struct sim_file {
	unsigned long eidelivery, eithreshold;
	uint64_t eip[32], eie[32];
} files[MAX_HARTS];

static struct sim_file *cur_file(void) { return &files[this_hart->hartid]; }

static unsigned long *ireg(unsigned long reg)
{
	static unsigned long dummy;
	struct sim_file *f = cur_file();

	if (reg == IMSIC_EIDELIVERY)
		return &f->eidelivery;
	if (reg == IMSIC_EITHRESHOLD)
		return &f->eithreshold;
	if (reg >= IMSIC_EIP0 && reg < IMSIC_EIP0 + 64 && !(reg & 1))
		return (unsigned long *)&f->eip[(reg - IMSIC_EIP0) / 2];
	if (reg >= IMSIC_EIE0 && reg < IMSIC_EIE0 + 64 && !(reg & 1))
		return (unsigned long *)&f->eie[(reg - IMSIC_EIE0) / 2];
	dummy = 0;
	return &dummy;
}

unsigned long aia_ireg_read(unsigned long reg) { return *ireg(reg); }
void aia_ireg_write(unsigned long reg, unsigned long val) { *ireg(reg) = val; }
void aia_ireg_set(unsigned long reg, unsigned long bits) { *ireg(reg) |= bits; }
void aia_ireg_clear(unsigned long reg, unsigned long bits) { *ireg(reg) &= ~bits; }

uint32_t aia_claim_topei(void)
{
	struct sim_file *f = cur_file();

	if (!f->eidelivery)
		return 0;
	for (uint32_t id = 1; id < 2048; id++) {
		uint64_t bit = 1ULL << (id % 64);
		if (f->eip[id / 64] & f->eie[id / 64] & bit) {
			f->eip[id / 64] &= ~bit;
			return id;
		}
	}
	return 0;
}

// A device writes data to address: the file it lands in gets the identity pending.
static bool msi_write(uint64_t address, uint32_t data, unsigned hart_bits, unsigned sockets)
{
	uint64_t off = address - IMSIC_S_PA;
	unsigned hart = (off >> 12) & ((1u << hart_bits) - 1);
	unsigned group = sockets > 1 ? (unsigned)(off >> 24) & 1 : 0;
	unsigned per_socket = 1u << hart_bits;

	if (address < IMSIC_S_PA || data == 0 || data >= 2048)
		return false;
	files[group * per_socket + hart].eip[data / 64] |= 1ULL << (data % 64);
	return true;
}

/* ---- simulated APLIC S-level domain ---- */

#define A_DOMAINCFG 0x0000
#define A_SOURCECFG 0x0004
#define A_SETIENUM 0x1edc
#define A_CLRIENUM 0x1fdc
#define A_SETIPNUM_LE 0x2000
#define A_TARGET 0x3004
#define A_IDC 0x4000

static struct sim_aplic {
	bool msimode;
	uint64_t delegated[2];          /* sources the M-level domain gave us */
	uint32_t domaincfg, sourcecfg[NR_SOURCES + 1], target[NR_SOURCES + 1];
	bool ie[NR_SOURCES + 1], ip[NR_SOURCES + 1], input[NR_SOURCES + 1];
	uint32_t idelivery[8], ithreshold[8];
	unsigned setipnum_writes;
} aps[2];                               /* socket 0's and socket 1's S-level domains */
#define ap aps[0]

static bool delegated(const struct sim_aplic *a, unsigned i)
{
	return i && i <= NR_SOURCES && (a->delegated[i / 64] >> (i % 64) & 1);
}

// MSI mode: a pending, enabled source is forwarded at once and stops being pending.
static void forward(struct sim_aplic *a, unsigned i)
{
	uint32_t eiid = a->target[i] & 0x7ff;

	if (!a->msimode || !(a->domaincfg & 0x100) || !a->ip[i] || !a->ie[i])
		return;
	a->ip[i] = false;
	/* One socket in these MSI tests: hart index = file index. */
	files[a->target[i] >> 18].eip[eiid / 64] |= 1ULL << (eiid % 64);
}

static void aplic_forward(unsigned i) { forward(&ap, i); }

static uint64_t aplic_read(void *ctx, uint64_t off, unsigned size)
{
	struct sim_aplic *a = ctx;

	if (size != 4)
		return 0;
	if (off == A_DOMAINCFG)
		return 0x80000000u | (a->domaincfg & 0x100) | (a->msimode ? 4 : 0);
	if (off >= A_SOURCECFG && off < A_SOURCECFG + 4 * NR_SOURCES)
		return a->sourcecfg[(off - A_SOURCECFG) / 4 + 1];
	if (off >= A_TARGET && off < A_TARGET + 4 * NR_SOURCES)
		return a->target[(off - A_TARGET) / 4 + 1];
	if (off >= A_IDC && (off - A_IDC) % 32 == 0x1c) {
		unsigned idc = (unsigned)(off - A_IDC) / 32;
		for (unsigned i = 1; i <= NR_SOURCES && a->idelivery[idc] && !a->msimode; i++) {
			if (a->ip[i] && a->ie[i] && a->target[i] >> 18 == idc) {
				a->ip[i] = a->input[i] && (a->sourcecfg[i] & 6) == 6; /* level stays */
				return i << 16 | (a->target[i] & 0xff);
			}
		}
	}
	return 0;
}

static void aplic_write(void *ctx, uint64_t off, uint64_t val, unsigned size)
{
	struct sim_aplic *a = ctx;
	unsigned i;

	if (size != 4)
		return;
	if (off == A_DOMAINCFG) {
		a->domaincfg = (uint32_t)val & 0x100;
	} else if (off >= A_SOURCECFG && off < A_SOURCECFG + 4 * NR_SOURCES) {
		i = (unsigned)(off - A_SOURCECFG) / 4 + 1;
		if (delegated(a, i))
			a->sourcecfg[i] = (uint32_t)val & 7;
	} else if (off >= A_TARGET && off < A_TARGET + 4 * NR_SOURCES) {
		a->target[(off - A_TARGET) / 4 + 1] = (uint32_t)val;
	} else if (off == A_SETIENUM || off == A_CLRIENUM) {
		if (delegated(a, (unsigned)val)) {
			a->ie[val] = off == A_SETIENUM;
			forward(a, (unsigned)val);
		}
	} else if (off == A_SETIPNUM_LE) {
		a->setipnum_writes++;
		/* Level-sensitive in MSI mode: pending again only if the line is still high. */
		if (delegated(a, (unsigned)val) && a->input[val]) {
			a->ip[val] = true;
			forward(a, (unsigned)val);
		}
	} else if (off >= A_IDC) {
		unsigned idc = (unsigned)(off - A_IDC) / 32, reg = (unsigned)(off - A_IDC) % 32;
		if (idc < 8 && reg == 0)
			a->idelivery[idc] = (uint32_t)val;
		if (idc < 8 && reg == 8)
			a->ithreshold[idc] = (uint32_t)val;
	}
}

static const struct host_mmio_ops aplic_ops = { aplic_read, aplic_write };

// The device side of wire i: level high now (input), or an edge.
static void wire(unsigned i, bool level)
{
	ap.input[i] = level;
	if (level) {
		ap.ip[i] = true;
		aplic_forward(i);
	}
}

/* ---- device trees ---- */

struct dt_opts {
	unsigned harts, sockets;
	bool msi;
	uint32_t num_ids;            /* 0: 255 */
	uint32_t s_cause;            /* 0: 9 */
	bool no_msi_parent_imsic;    /* MSI mode without an S-level IMSIC node */
	uint32_t aplic_size;         /* 0: 0x8000 */
};

static uint8_t dtb[16384];

#define OK(x) do { if ((x) < 0) return -1; } while (0)

static int prop_cells(void *fdt, const char *name, const uint32_t *v, int n)
{
	fdt32_t c[64];

	for (int i = 0; i < n; i++)
		c[i] = cpu_to_fdt32(v[i]);
	return fdt_property(fdt, name, c, 4 * n);
}

static int prop_u32(void *fdt, const char *name, uint32_t v)
{
	return prop_cells(fdt, name, &v, 1);
}

// phandles: cpu-intc of hart h is 100 + h; IMSIC M 2, S 3; APLIC M 4 + k, S 10 + k (socket k).
static int build_dt(const struct dt_opts *o)
{
	void *fdt = dtb;
	uint32_t v[64];
	unsigned per = o->harts / o->sockets;
	char name[64];

	OK(fdt_create(fdt, sizeof(dtb)));
	OK(fdt_finish_reservemap(fdt));
	OK(fdt_begin_node(fdt, ""));
	OK(prop_u32(fdt, "#address-cells", 2));
	OK(prop_u32(fdt, "#size-cells", 2));
	OK(fdt_begin_node(fdt, "cpus"));
	OK(prop_u32(fdt, "#address-cells", 1));
	OK(prop_u32(fdt, "#size-cells", 0));
	for (unsigned h = 0; h < o->harts; h++) {
		snprintf(name, sizeof(name), "cpu@%u", h);
		OK(fdt_begin_node(fdt, name));
		OK(fdt_property_string(fdt, "device_type", "cpu"));
		OK(prop_u32(fdt, "reg", h));
		OK(fdt_begin_node(fdt, "interrupt-controller"));
		OK(fdt_property_string(fdt, "compatible", "riscv,cpu-intc"));
		OK(prop_u32(fdt, "phandle", 100 + h));
		OK(fdt_end_node(fdt));
		OK(fdt_end_node(fdt));
	}
	OK(fdt_end_node(fdt));
	OK(fdt_begin_node(fdt, "soc"));
	OK(prop_u32(fdt, "#address-cells", 2));
	OK(prop_u32(fdt, "#size-cells", 2));
	OK(fdt_property(fdt, "ranges", "", 0));
	for (unsigned k = 0; k < o->sockets; k++) {
		for (int level = 0; level < 2; level++) {
			bool s = level == 1;
			uint64_t base = (s ? APLIC_S_PA : 0xc000000UL) + k * 0x8000UL;
			snprintf(name, sizeof(name), "interrupt-controller@%lx", (unsigned long)base);
			OK(fdt_begin_node(fdt, name));
			OK(fdt_property(fdt, "compatible", "qemu,aplic\0riscv,aplic", 23));
			OK(prop_u32(fdt, "phandle", (s ? 10 : 4) + k));
			OK(prop_u32(fdt, "riscv,num-sources", NR_SOURCES));
			OK(prop_u32(fdt, "#interrupt-cells", 2));
			v[0] = 0; v[1] = (uint32_t)base; v[2] = 0;
			v[3] = o->aplic_size ? o->aplic_size : 0x8000;
			OK(prop_cells(fdt, "reg", v, 4));
			if (!s) {
				v[0] = 10 + k; v[1] = 1; v[2] = NR_SOURCES;
				OK(prop_cells(fdt, "riscv,delegation", v, 3));
				OK(prop_u32(fdt, "riscv,children", 10 + k));
			}
			if (o->msi) {
				OK(prop_u32(fdt, "msi-parent", s ? 3 : 2));
			} else {
				for (unsigned h = 0; h < per; h++) {
					v[2 * h] = 100 + k * per + h;
					v[2 * h + 1] = s ? (o->s_cause ? o->s_cause : 9) : 11;
				}
				OK(prop_cells(fdt, "interrupts-extended", v, 2 * (int)per));
			}
			OK(fdt_end_node(fdt));
		}
	}
	if (o->msi) {
		for (int level = 0; level < 2; level++) {
			bool s = level == 1;
			if (s && o->no_msi_parent_imsic)
				continue;
			snprintf(name, sizeof(name), "interrupt-controller@%lx",
				 s ? IMSIC_S_PA : 0x24000000UL);
			OK(fdt_begin_node(fdt, name));
			OK(fdt_property(fdt, "compatible", "qemu,imsics\0riscv,imsics", 25));
			OK(prop_u32(fdt, "phandle", s ? 3 : 2));
			OK(prop_u32(fdt, "riscv,num-ids", o->num_ids ? o->num_ids : 255));
			for (unsigned h = 0; h < o->harts; h++) {
				v[2 * h] = 100 + h;
				v[2 * h + 1] = s ? (o->s_cause ? o->s_cause : 9) : 11;
			}
			OK(prop_cells(fdt, "interrupts-extended", v, 2 * (int)o->harts));
			for (unsigned k = 0; k < o->sockets; k++) {
				uint64_t base = (s ? IMSIC_S_PA : 0x24000000UL) + ((uint64_t)k << 24);
				v[4 * k] = 0;
				v[4 * k + 1] = (uint32_t)base;
				v[4 * k + 2] = 0;
				v[4 * k + 3] = per * 0x1000;
			}
			OK(prop_cells(fdt, "reg", v, 4 * (int)o->sockets));
			if (o->sockets > 1) {
				OK(prop_u32(fdt, "riscv,group-index-bits", 1));
				OK(prop_u32(fdt, "riscv,group-index-shift", 24));
				OK(prop_u32(fdt, "riscv,hart-index-bits", 1));
			}
			OK(fdt_end_node(fdt));
		}
	}
	OK(fdt_end_node(fdt));
	OK(fdt_end_node(fdt));
	OK(fdt_finish(fdt));
	return 0;
}

static void sim_reset(bool msi)
{
	memset(&ap, 0, sizeof(ap));
	memset(files, 0, sizeof(files));
	memset(&aps[1], 0, sizeof(aps[1]));
	for (int k = 0; k < 2; k++) {
		aps[k].msimode = msi;
		aps[k].delegated[0] = ~1ULL;
		aps[k].delegated[1] = ~0ULL;
		host_mmio_add(APLIC_S_PA + 0x8000UL * k, 0x8000, &aplic_ops, &aps[k]);
	}
}

// Build the tree, reset the simulation, probe every interrupt controller as boot does.
static int setup(const struct dt_opts *o, unsigned long boot_hartid)
{
	set_harts(o->harts, boot_hartid);
	sim_reset(o->msi);
	if (build_dt(o))
		return -1;
	return dt_probe_stage(&platform, dtb, DT_STAGE_IRQCHIP);
}

#define APLIC_S 10   /* phandle of socket 0's S-level APLIC */
#define IMSIC_S 3    /* phandle of the S-level IMSIC */

static int request(uint32_t src, uint32_t type, irq_handler_t fn, uintptr_t arg)
{
	struct irq_spec spec = { APLIC_S, 2, { src, type } };

	return irq_request(&spec, fn, (void *)arg);
}

/* ---- handlers ---- */

static unsigned calls[4];
static struct hart *ran_on;

static void handler(void *arg)
{
	calls[(uintptr_t)arg]++;
	ran_on = this_hart;
}

// Every hart takes its external interrupt once (the trap path: irq_handle_external).
static void all_harts_take_interrupts(unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		this_hart = &harts[i];
		irq_handle_external();
	}
	this_hart = &harts[0];
}

// The other harts start: each sets up its part (the boot hart did at registration).
static void start_other_harts(unsigned n)
{
	for (unsigned i = 1; i < n; i++) {
		this_hart = &harts[i];
		irq_init_hart();
	}
	this_hart = &harts[0];
}

/* ---- cases: direct delivery ---- */

static int test_direct_probe_and_route(void)
{
	struct dt_opts o = { .harts = 2, .sockets = 1 };

	CHECK_EQ(setup(&o, 1), 0);
	CHECK(log_has("aplic: /soc/interrupt-controller@d000000 at 0xd000000, 96 sources, "
				"direct delivery to 2 harts"));
	CHECK_EQ(ap.domaincfg, 0x100);
	CHECK_EQ(ap.idelivery[1], 1);             /* the boot hart (id 1) at registration */
	start_other_harts(2);
	CHECK_EQ(ap.idelivery[0], 1);
	CHECK_RC(request(10, 4, handler, 1));
	CHECK_EQ(ap.sourcecfg[10], 6);            /* level high */
	CHECK_EQ(ap.target[10], 1u << 18 | 1);    /* the boot hart's IDC, priority 1 */
	CHECK(ap.ie[10]);
	ap.ip[10] = true;                         /* an edge's worth */
	all_harts_take_interrupts(2);
	CHECK_EQ(calls[1], 1);
	CHECK(ran_on == &harts[0]);               /* hart id 1, the boot hart */
	/* A second device on the line (PCI INTx is shared): both handlers run, one enable. */
	CHECK_RC(request(10, 4, handler, 2));
	ap.ip[10] = true;
	all_harts_take_interrupts(2);
	CHECK_EQ(calls[1], 2);
	CHECK_EQ(calls[2], 1);
	return 0;
}

static int test_direct_bad_requests(void)
{
	struct dt_opts o = { .harts = 2, .sockets = 1 };
	struct irq_spec one_cell = { APLIC_S, 1, { 5 } };

	CHECK_EQ(setup(&o, 0), 0);
	CHECK_EQ(request(NR_SOURCES + 1, 4, handler, 0), -EINVAL);
	CHECK_EQ(request(5, 3, handler, 0), -EINVAL);          /* no such type */
	CHECK_EQ(irq_request(&one_cell, handler, NULL), -EINVAL);
	CHECK_RC(request(5, 1, handler, 0));
	CHECK_EQ(ap.sourcecfg[5], 4);                          /* rising edge */
	CHECK_EQ(request(5, 4, handler, 0), -EINVAL);          /* same line, other type */
	/* A source the firmware did not delegate reads back inactive. */
	ap.delegated[0] &= ~(1ULL << 7);
	CHECK_EQ(request(7, 4, handler, 0), -ENODEV);
	CHECK(log_has("source 7 is not delegated"));
	CHECK(!ap.ie[7]);
	return 0;
}

static int test_direct_wrong_cause(void)
{
	struct dt_opts o = { .harts = 2, .sockets = 1, .s_cause = 5 };

	CHECK_EQ(setup(&o, 0), 1);                /* the S-level APLIC failed; the M-level is not ours */
	CHECK(log_has("entry 0 is not a hart's S-level external interrupt (9)"));
	CHECK_EQ(request(10, 4, handler, 0), -ENODEV);
	return 0;
}

static int test_direct_second_socket_targets_its_own_hart(void)
{
	struct dt_opts o = { .harts = 4, .sockets = 2 };
	struct irq_spec spec = { APLIC_S + 1, 2, { 3, 4 } };

	CHECK_EQ(setup(&o, 0), 0);
	start_other_harts(4);
	CHECK_RC(irq_request(&spec, handler, (void *)2));
	CHECK_EQ(aps[1].target[3] >> 18, 0);      /* IDC 0 of socket 1's domain: hart 2 */
	CHECK(!aps[0].ie[3]);
	aps[1].ip[3] = true;
	all_harts_take_interrupts(4);
	CHECK_EQ(calls[2], 1);
	CHECK_EQ(ran_on->hartid, 2);
	return 0;
}

static int test_direct_no_hart_online(void)
{
	struct dt_opts o = { .harts = 4, .sockets = 2 };
	struct irq_spec spec = { APLIC_S + 1, 2, { 3, 4 } };

	CHECK_EQ(setup(&o, 0), 0);
	nr_harts_online = 1;                      /* nosmp: socket 1 has nobody */
	CHECK_EQ(irq_request(&spec, handler, NULL), -ENODEV);
	CHECK(log_has("reaches no online hart: source 3 stays off"));
	return 0;
}

/* ---- cases: IMSIC and MSI delivery ---- */

static int test_imsic_files_and_vectors(void)
{
	struct dt_opts o = { .harts = 4, .sockets = 1, .msi = true };
	struct irq_domain *d;
	struct msi_msg m1, m2;
	uint32_t idx;

	CHECK_EQ(setup(&o, 2), 0);
	CHECK(log_has("4 S-level files (2 bits hart index, 0 bits group at 24), 255 ids"));
	start_other_harts(4);
	for (unsigned h = 0; h < 4; h++) {
		CHECK_EQ(files[h].eidelivery, 1);
		CHECK_EQ(files[h].eie[0], 0);         /* nothing enabled before it is used */
	}
	CHECK_RC(imsic_hart_index_of(IMSIC_S_PA + 3 * 0x1000, &idx));
	CHECK_EQ(idx, 3);
	CHECK_EQ(imsic_hart_index_of(IMSIC_S_PA + 9 * 0x1000, &idx), -ENODEV);
	d = irq_domain_find(IMSIC_S);
	CHECK(d);
	CHECK_RC(irq_request_msi(d, handler, (void *)1, &m1));
	CHECK_RC(irq_request_msi(d, handler, (void *)2, &m2));
	CHECK_EQ(m1.address, IMSIC_S_PA + 2 * 0x1000); /* the boot hart's file */
	CHECK(m1.data != m2.data && m1.data && m2.data);
	CHECK(files[2].eie[0] >> m1.data & 1);    /* enabled in the boot hart's file only */
	CHECK_EQ(files[1].eie[0], 0);
	CHECK(msi_write(m2.address, m2.data, 2, 1));
	CHECK(msi_write(m1.address, m1.data, 2, 1));
	all_harts_take_interrupts(4);
	CHECK_EQ(calls[1], 1);
	CHECK_EQ(calls[2], 1);
	CHECK_EQ(ran_on->hartid, 2);
	/* An identity nobody enabled stays pending and is never claimed. */
	CHECK(msi_write(m1.address, 200, 2, 1));
	all_harts_take_interrupts(4);
	CHECK(files[2].eip[3] >> (200 % 64) & 1);
	return 0;
}

static int test_imsic_exhaustion(void)
{
	struct dt_opts o = { .harts = 1, .sockets = 1, .msi = true, .num_ids = 63 };
	struct irq_domain *d;
	struct msi_msg m;

	CHECK_EQ(setup(&o, 0), 0);
	d = irq_domain_find(IMSIC_S);
	for (int i = 0; i < 63; i++)
		CHECK_RC(irq_request_msi(d, handler, NULL, &m));
	CHECK_EQ(m.data, 63);
	CHECK_EQ(irq_request_msi(d, handler, NULL, &m), -ENOSPC);
	return 0;
}

static int test_imsic_bad_nodes(void)
{
	struct dt_opts bad_ids = { .harts = 2, .sockets = 1, .msi = true, .num_ids = 4000 };

	/* The S-level IMSIC is dropped, so the S-level APLIC that sends through it waits, then
	 * is not probed: both counted. */
	CHECK_EQ(setup(&bad_ids, 0), 2);
	CHECK(log_has("riscv,num-ids is missing or not 63..2047"));
	CHECK(!irq_domain_find(IMSIC_S));
	CHECK(!irq_domain_find(APLIC_S));
	return 0;
}

static int test_imsic_two_sockets_group_index(void)
{
	struct dt_opts o = { .harts = 4, .sockets = 2, .msi = true };
	uint32_t idx;

	CHECK_EQ(setup(&o, 0), 0);
	CHECK(log_has("4 S-level files (1 bits hart index, 1 bits group at 24)"));
	CHECK_RC(imsic_hart_index_of(IMSIC_S_PA + 0x1000, &idx));
	CHECK_EQ(idx, 1);
	CHECK_RC(imsic_hart_index_of(IMSIC_S_PA + (1 << 24), &idx)); /* socket 1, hart 0 */
	CHECK_EQ(idx, 2);
	CHECK_RC(imsic_hart_index_of(IMSIC_S_PA + (1 << 24) + 0x1000, &idx));
	CHECK_EQ(idx, 3);
	return 0;
}

static int test_msi_mode_edge_and_level(void)
{
	struct dt_opts o = { .harts = 2, .sockets = 1, .msi = true };

	CHECK_EQ(setup(&o, 1), 0);
	CHECK(log_has("96 sources, MSI delivery through /soc/interrupt-controller@28000000"));
	CHECK_RC(request(33, 4, handler, 1));
	CHECK_RC(request(34, 1, handler, 2));
	CHECK_EQ(ap.target[33] >> 18, 1);         /* the boot hart's file */
	CHECK(ap.target[33] & 0x7ff);
	CHECK(ap.target[33] != ap.target[34]);
	/* A level source whose device lowered the line in the handler: one retrigger, no resend. */
	wire(33, true);
	ap.input[33] = false;
	all_harts_take_interrupts(2);
	CHECK_EQ(calls[1], 1);
	CHECK_EQ(ap.setipnum_writes, 1);
	/* Edges are not retriggered. */
	ap.setipnum_writes = 0;
	ap.ip[34] = true;
	aplic_forward(34);
	all_harts_take_interrupts(2);
	CHECK_EQ(calls[2], 1);
	CHECK_EQ(ap.setipnum_writes, 0);
	return 0;
}

static void input_low_handler(void *arg)
{
	calls[(uintptr_t)arg]++;
	ap.input[33] = calls[(uintptr_t)arg] < 3; /* the device drops the line on the third */
}

static int test_msi_mode_level_stops(void)
{
	struct dt_opts o = { .harts = 1, .sockets = 1, .msi = true };

	CHECK_EQ(setup(&o, 0), 0);
	CHECK_RC(request(33, 4, input_low_handler, 3));
	wire(33, true);
	all_harts_take_interrupts(1);
	CHECK_EQ(calls[3], 3);                    /* re-sent while high, not after */
	CHECK_EQ(ap.setipnum_writes, 3);
	return 0;
}

static int test_msi_mode_without_imsic(void)
{
	struct dt_opts o = { .harts = 2, .sockets = 1, .msi = true, .no_msi_parent_imsic = true };

	CHECK_EQ(setup(&o, 0), 1);                /* waits for an IMSIC that never comes */
	CHECK(!irq_domain_find(APLIC_S));
	return 0;
}

static int test_delivery_mode_mismatch(void)
{
	struct dt_opts o = { .harts = 2, .sockets = 1 };

	set_harts(2, 0);
	sim_reset(true); /* the hardware is in MSI mode, the DT says direct */
	CHECK_RC(build_dt(&o));
	CHECK_EQ(dt_probe_stage(&platform, dtb, DT_STAGE_IRQCHIP), 1);
	CHECK(log_has("not in direct delivery mode"));
	CHECK_EQ(host_pages_in_use(), 0);
	return 0;
}

/* ---- cases: QEMU virt's own trees (dumped by irqchip.mk) ---- */

// The simulated S-level domain a phandle names (socket 0 or 1), NULL if neither.
static struct sim_aplic *sim_of(const void *fdt, uint32_t phandle)
{
	if (phandle == phandle_at(fdt, "/soc/interrupt-controller@d000000"))
		return &aps[0];
	if (phandle == phandle_at(fdt, "/soc/interrupt-controller@d008000"))
		return &aps[1];
	return NULL;
}

/*
 * Probe every controller of the tree; the UART (interrupt-parent) and a PCI slot's INTA
 * (interrupt-map) reach the S-level domain they name, and fire into their handlers.
 */
static int qemu_tree(const char *name, bool msi, unsigned sockets)
{
	const void *fdt = load_qemu_dtb(name);
	const char *m_level = msi ? "/soc/interrupt-controller@24000000"
				  : "/soc/interrupt-controller@c000000";
	uint32_t addr[3] = { 1 << 11, 0, 0 }, pin = 1;  /* slot 1, INTA */
	struct irq_spec uart, intx;
	struct sim_aplic *a;
	int node;

	CHECK_MSG(fdt, "%s: missing or not a DTB (irqchip.mk dumps it with QEMU)", name);
	set_harts(4, 0);
	sim_reset(msi);
	CHECK_EQ(dt_probe_stage(&platform, fdt, DT_STAGE_IRQCHIP), 0);
	start_other_harts(4);
	CHECK(irq_domain_find(phandle_at(fdt, "/soc/interrupt-controller@d000000")));
	CHECK_EQ(!!irq_domain_find(phandle_at(fdt, "/soc/interrupt-controller@d008000")),
		 sockets == 2);
	CHECK(!irq_domain_find(phandle_at(fdt, m_level)));       /* the firmware's */
	CHECK_EQ(!!irq_domain_find(phandle_at(fdt, "/soc/interrupt-controller@28000000")), msi);

	node = fdt_path_offset(fdt, "/soc/serial@10000000");
	CHECK_RC(irq_parse_dt(fdt, node, 0, &uart));
	CHECK_RC(irq_request(&uart, handler, (void *)1));
	a = sim_of(fdt, uart.parent);
	CHECK(a);
	CHECK_EQ(a->sourcecfg[10], 6);
	CHECK(a->ie[10]);
	a->ip[10] = true;
	forward(a, 10);
	all_harts_take_interrupts(4);
	CHECK_EQ(calls[1], 1);

	node = fdt_path_offset(fdt, "/soc/pci@30000000");
	CHECK_RC(irq_map_dt(fdt, node, addr, 3, &pin, 1, &intx));
	CHECK_RC(irq_request(&intx, handler, (void *)2));
	a = sim_of(fdt, intx.parent);
	CHECK(a);
	CHECK_EQ(intx.cells[0], 33);                               /* QEMU: slot 1, INTA */
	CHECK(a->ie[33]);
	a->ip[33] = true;
	forward(a, 33);
	all_harts_take_interrupts(4);
	CHECK_EQ(calls[2], 1);
	/* Direct: a hart of the socket whose domain it is; MSI: the boot hart's file. */
	CHECK(msi ? ran_on == &harts[0] : (ran_on->hartid >= 2) == (a == &aps[1]));
	return 0;
}

static int test_qemu_aplic(void) { return qemu_tree("aplic-1.dtb", false, 1); }
static int test_qemu_aplic_two_sockets(void) { return qemu_tree("aplic-2.dtb", false, 2); }
static int test_qemu_aplic_imsic(void) { return qemu_tree("aplic-imsic-1.dtb", true, 1); }
static int test_qemu_aplic_imsic_two_sockets(void)
{
	return qemu_tree("aplic-imsic-2.dtb", true, 2);
}

static int test_reg_too_small(void)
{
	struct dt_opts msi = { .harts = 2, .sockets = 1, .msi = true, .aplic_size = 0x3000 };
	struct dt_opts direct = { .harts = 2, .sockets = 1, .aplic_size = 0x4020 };

	CHECK_EQ(setup(&msi, 0), 1);
	CHECK(log_has("reg size 0x3000 is smaller than the 0x4000 bytes"));
	CHECK_EQ(setup(&direct, 0), 1);           /* two IDCs need 0x4040 */
	CHECK(log_has("reg size 0x4020 is smaller than the 0x4040 bytes"));
	CHECK(!irq_domain_find(APLIC_S));
	return 0;
}

static const struct test_case cases[] = {
	CASE(test_direct_probe_and_route),
	CASE(test_direct_bad_requests),
	CASE(test_direct_wrong_cause),
	CASE(test_direct_second_socket_targets_its_own_hart),
	CASE(test_direct_no_hart_online),
	CASE(test_imsic_files_and_vectors),
	CASE(test_imsic_exhaustion),
	CASE(test_imsic_bad_nodes),
	CASE(test_imsic_two_sockets_group_index),
	CASE(test_msi_mode_edge_and_level),
	CASE(test_msi_mode_level_stops),
	CASE(test_msi_mode_without_imsic),
	CASE(test_delivery_mode_mismatch),
	CASE(test_reg_too_small),
	CASE(test_qemu_aplic),
	CASE(test_qemu_aplic_two_sockets),
	CASE(test_qemu_aplic_imsic),
	CASE(test_qemu_aplic_imsic_two_sockets),
};

int main(int argc, char **argv)
{
	return test_main("irqchip", cases, ARRAY_SIZE(cases), argc, argv);
}
