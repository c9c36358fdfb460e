// SPDX-License-Identifier: MIT
//
// Host tests of the AIA drivers (drivers/irqchip/aplic.c, imsic.c) against simulated hardware:
// an APLIC S-level domain (register file with delegated sources, IDCs, MSI forwarding) and one
// IMSIC S-level interrupt file per hart (the stand-in asm/aia.h reaches it through this_hart).
// The device trees are built here in QEMU virt's shape: aia=aplic (direct), aia=aplic-imsic
// (MSI), one or two sockets; knobs break them the ways a bad DT or a bad firmware would.

#include <stdio.h>
#include <string.h>

#include <asm/aia.h>
#include <asm/hart.h>
#include <rvmm/errno.h>
#include <rvmm/irqchip.h>
#include <rvmm/msi.h>

#include <libfdt.h>

#include "../virtio/host.h"

#define NR_SOURCES 96
#define APLIC_S_PA 0xd000000UL
#define IMSIC_S_PA 0x28000000UL

/* ---- harts ---- */

struct hart harts[MAX_HARTS];
struct hart *this_hart = &harts[0];

static void set_harts(unsigned n, unsigned long boot_hartid)
{
	for (unsigned i = 0; i < n; i++)
		harts[i] = (struct hart){ .index = i, .hartid = i };
	/* harts[0] is the boot hart, whatever its id (OpenSBI's lottery). */
	harts[boot_hartid] = harts[0];
	harts[boot_hartid].index = (unsigned)boot_hartid;
	harts[0] = (struct hart){ .index = 0, .hartid = boot_hartid };
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
} ap;

static bool delegated(unsigned i) { return i && i <= NR_SOURCES && (ap.delegated[i / 64] >> (i % 64) & 1); }

// MSI mode: a pending, enabled source is forwarded at once and stops being pending.
static void aplic_forward(unsigned i)
{
	if (!ap.msimode || !(ap.domaincfg & 0x100) || !ap.ip[i] || !ap.ie[i])
		return;
	ap.ip[i] = false;
	/* One socket in these MSI tests: hart index = file index. */
	files[ap.target[i] >> 18].eip[(ap.target[i] & 0x7ff) / 64] |= 1ULL << ((ap.target[i] & 0x7ff) % 64);
}

static uint64_t aplic_read(void *ctx __unused, uint64_t off, unsigned size)
{
	if (size != 4)
		return 0;
	if (off == A_DOMAINCFG)
		return 0x80000000u | (ap.domaincfg & 0x100) | (ap.msimode ? 4 : 0);
	if (off >= A_SOURCECFG && off < A_SOURCECFG + 4 * NR_SOURCES)
		return ap.sourcecfg[(off - A_SOURCECFG) / 4 + 1];
	if (off >= A_TARGET && off < A_TARGET + 4 * NR_SOURCES)
		return ap.target[(off - A_TARGET) / 4 + 1];
	if (off >= A_IDC && (off - A_IDC) % 32 == 0x1c) {
		unsigned idc = (unsigned)(off - A_IDC) / 32;
		for (unsigned i = 1; i <= NR_SOURCES && ap.idelivery[idc] && !ap.msimode; i++) {
			if (ap.ip[i] && ap.ie[i] && ap.target[i] >> 18 == idc) {
				ap.ip[i] = ap.input[i] && (ap.sourcecfg[i] & 6) == 6; /* level stays */
				return i << 16 | (ap.target[i] & 0xff);
			}
		}
	}
	return 0;
}

static void aplic_write(void *ctx __unused, uint64_t off, uint64_t val, unsigned size)
{
	unsigned i;

	if (size != 4)
		return;
	if (off == A_DOMAINCFG) {
		ap.domaincfg = (uint32_t)val & 0x100;
	} else if (off >= A_SOURCECFG && off < A_SOURCECFG + 4 * NR_SOURCES) {
		i = (unsigned)(off - A_SOURCECFG) / 4 + 1;
		if (delegated(i))
			ap.sourcecfg[i] = (uint32_t)val & 7;
	} else if (off >= A_TARGET && off < A_TARGET + 4 * NR_SOURCES) {
		ap.target[(off - A_TARGET) / 4 + 1] = (uint32_t)val;
	} else if (off == A_SETIENUM || off == A_CLRIENUM) {
		if (delegated((unsigned)val)) {
			ap.ie[val] = off == A_SETIENUM;
			aplic_forward((unsigned)val);
		}
	} else if (off == A_SETIPNUM_LE) {
		ap.setipnum_writes++;
		/* Level-sensitive in MSI mode: pending again only if the line is still high. */
		if (delegated((unsigned)val) && ap.input[val]) {
			ap.ip[val] = true;
			aplic_forward((unsigned)val);
		}
	} else if (off >= A_IDC) {
		unsigned idc = (unsigned)(off - A_IDC) / 32, reg = (unsigned)(off - A_IDC) % 32;
		if (idc < 8 && reg == 0)
			ap.idelivery[idc] = (uint32_t)val;
		if (idc < 8 && reg == 8)
			ap.ithreshold[idc] = (uint32_t)val;
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

static int prop_u32(void *fdt, const char *name, uint32_t v) { return prop_cells(fdt, name, &v, 1); }

// phandles: cpu-intc of hart h is 100 + h; IMSIC M 2, S 3; APLIC M 4 (+s), S 10 (+s).
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
			v[0] = 0; v[1] = (uint32_t)base; v[2] = 0; v[3] = 0x8000;
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
	OK(fdt_end_node(fdt));
	OK(fdt_end_node(fdt));
	OK(fdt_finish(fdt));
	return 0;
}

static int node_at(const char *path) { return fdt_path_offset(dtb, path); }

static void sim_reset(bool msi)
{
	memset(&ap, 0, sizeof(ap));
	memset(files, 0, sizeof(files));
	ap.msimode = msi;
	ap.delegated[0] = ~1ULL;
	ap.delegated[1] = ~0ULL;
	host_mmio_add(APLIC_S_PA, 0x8000, &aplic_ops, NULL);
}

// Build, reset the simulation, probe IMSIC (MSI mode) and the S-level APLIC of socket 0.
static int setup(const struct dt_opts *o, unsigned long boot_hartid)
{
	set_harts(o->harts, boot_hartid);
	sim_reset(o->msi);
	if (build_dt(o))
		return -1;
	if (o->msi) {
		int rc = imsic_probe(dtb, node_at("/soc/interrupt-controller@28000000"));
		if (rc)
			return rc;
	}
	return aplic_probe(dtb, node_at("/soc/interrupt-controller@d000000"));
}

/* ---- handlers ---- */

static unsigned calls[4];
static struct hart *ran_on;

static void handler(void *arg)
{
	calls[(uintptr_t)arg]++;
	ran_on = this_hart;
}

static bool all_harts_handle(void)
{
	bool any = false;

	for (unsigned i = 0; i < MAX_HARTS && (i == 0 || harts[i].hartid); i++) {
		this_hart = &harts[i];
		any |= imsic_handle_irq();
		any |= aplic_handle_irq();
	}
	this_hart = &harts[0];
	return any;
}

static void init_all_harts(unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		this_hart = &harts[i];
		imsic_init_hart();
		aplic_init_hart();
	}
	this_hart = &harts[0];
}

/* ---- cases: direct delivery ---- */

static int test_direct_probe_and_route(void)
{
	struct dt_opts o = { .harts = 2, .sockets = 1 };
	uint32_t spec[2] = { 10, 4 };

	CHECK_RC(setup(&o, 1));
	CHECK(host_log_contains("direct delivery to hart index 1"));
	CHECK_EQ(ap.domaincfg, 0x100);
	init_all_harts(2);
	CHECK_EQ(ap.idelivery[0], 1);
	CHECK_EQ(ap.idelivery[1], 1);
	CHECK_RC(aplic_request(10, spec, 2, handler, (void *)1));
	CHECK_EQ(ap.sourcecfg[10], 6);            /* level high */
	CHECK_EQ(ap.target[10], 1u << 18 | 1);    /* the boot hart's IDC, priority 1 */
	CHECK(ap.ie[10]);
	wire(10, false);
	ap.ip[10] = true;                         /* an edge's worth */
	CHECK(all_harts_handle());
	CHECK_EQ(calls[1], 1);
	CHECK(ran_on == &harts[0]);               /* hart id 1, the boot hart */
	CHECK(!all_harts_handle());
	return 0;
}

static int test_direct_m_level_is_not_ours(void)
{
	struct dt_opts o = { .harts = 2, .sockets = 1 };

	set_harts(2, 0);
	sim_reset(false);
	CHECK_RC(build_dt(&o));
	CHECK_EQ(aplic_probe(dtb, node_at("/soc/interrupt-controller@c000000")), -ENODEV);
	return 0;
}

static int test_direct_bad_requests(void)
{
	struct dt_opts o = { .harts = 2, .sockets = 1 };
	uint32_t bad_src[2] = { NR_SOURCES + 1, 4 }, bad_type[2] = { 5, 3 }, ok[2] = { 5, 1 };

	CHECK_RC(setup(&o, 0));
	CHECK_EQ(aplic_request(10, bad_src, 2, handler, NULL), -EINVAL);
	CHECK_EQ(aplic_request(10, bad_type, 2, handler, NULL), -EINVAL);
	CHECK_EQ(aplic_request(10, ok, 1, handler, NULL), -EINVAL);
	CHECK_EQ(aplic_request(99, ok, 2, handler, NULL), -ENODEV);
	CHECK_RC(aplic_request(10, ok, 2, handler, NULL));
	CHECK_EQ(ap.sourcecfg[5], 4);             /* rising edge */
	CHECK_EQ(aplic_request(10, ok, 2, handler, NULL), -EBUSY);
	/* A source the firmware did not delegate reads back inactive. */
	ap.delegated[0] &= ~(1ULL << 7);
	ok[0] = 7;
	CHECK_EQ(aplic_request(10, ok, 2, handler, NULL), -ENODEV);
	CHECK(host_log_contains("source 7 is not delegated"));
	return 0;
}

static int test_direct_wrong_cause(void)
{
	struct dt_opts o = { .harts = 2, .sockets = 1, .s_cause = 5 };

	CHECK_EQ(setup(&o, 0), -EINVAL);
	CHECK(host_log_contains("not 9"));
	return 0;
}

static int test_direct_second_socket_targets_its_own_hart(void)
{
	struct dt_opts o = { .harts = 4, .sockets = 2 };
	uint32_t spec[2] = { 3, 4 };

	set_harts(4, 0);
	sim_reset(false);
	CHECK_RC(build_dt(&o));
	/* Socket 1's domain (harts 2, 3) at the simulated address. */
	host_mmio_add(0xd008000UL, 0x8000, &aplic_ops, NULL);
	CHECK_RC(aplic_probe(dtb, node_at("/soc/interrupt-controller@d008000")));
	init_all_harts(4);
	CHECK_RC(aplic_request(11, spec, 2, handler, (void *)2));
	CHECK_EQ(ap.target[3] >> 18, 0);          /* IDC 0 of that domain: hart 2 */
	ap.ip[3] = true;
	CHECK(all_harts_handle());
	CHECK_EQ(calls[2], 1);
	CHECK_EQ(ran_on->hartid, 2);
	return 0;
}

/* ---- cases: IMSIC and MSI delivery ---- */

static int test_imsic_files_and_vectors(void)
{
	struct dt_opts o = { .harts = 4, .sockets = 1, .msi = true };
	struct msi_msg m1, m2;
	uint32_t idx;

	CHECK_RC(setup(&o, 2));
	init_all_harts(4);
	for (unsigned h = 0; h < 4; h++) {
		CHECK_EQ(files[h].eidelivery, 1);
		CHECK_EQ(files[h].eie[0], ~1ULL);     /* ids 1..63 */
		CHECK_EQ(files[h].eie[3], ~0ULL);     /* 192..255 */
		CHECK_EQ(files[h].eie[4], 0);
	}
	CHECK_RC(imsic_hart_index(3, &idx));
	CHECK_EQ(idx, 3);
	CHECK_EQ(imsic_hart_index(9, &idx), -ENODEV);
	CHECK_RC(msi_alloc(handler, (void *)1, &m1));
	CHECK_RC(msi_alloc(handler, (void *)2, &m2));
	CHECK_EQ(m1.address, IMSIC_S_PA + 2 * 0x1000); /* the boot hart's file */
	CHECK(m1.data != m2.data && m1.data && m2.data);
	CHECK(msi_write(m2.address, m2.data, 2, 1));
	CHECK(msi_write(m1.address, m1.data, 2, 1));
	CHECK(all_harts_handle());
	CHECK_EQ(calls[1], 1);
	CHECK_EQ(calls[2], 1);
	CHECK_EQ(ran_on->hartid, 2);
	msi_free(&m1);
	CHECK(msi_write(m1.address, m1.data, 2, 1));
	CHECK(all_harts_handle());
	CHECK_EQ(calls[1], 1);
	CHECK(host_log_contains("has no handler"));
	return 0;
}

static int test_imsic_exhaustion(void)
{
	struct dt_opts o = { .harts = 1, .sockets = 1, .msi = true, .num_ids = 63 };
	struct msi_msg m;

	CHECK_RC(setup(&o, 0));
	for (int i = 0; i < 63; i++)
		CHECK_RC(msi_alloc(handler, NULL, &m));
	CHECK_EQ(msi_alloc(handler, NULL, &m), -ENOSPC);
	msi_free(&(struct msi_msg){ .data = 17 });
	CHECK_RC(msi_alloc(handler, NULL, &m));
	CHECK_EQ(m.data, 17);
	return 0;
}

static int test_imsic_bad_nodes(void)
{
	struct dt_opts bad_ids = { .harts = 2, .sockets = 1, .msi = true, .num_ids = 4000 };
	struct dt_opts m_level = { .harts = 2, .sockets = 1, .msi = true };

	set_harts(2, 0);
	CHECK_RC(build_dt(&bad_ids));
	CHECK_EQ(imsic_probe(dtb, node_at("/soc/interrupt-controller@28000000")), -EINVAL);
	CHECK(host_log_contains("riscv,num-ids"));
	CHECK(!msi_available());
	CHECK_RC(build_dt(&m_level));
	CHECK_EQ(imsic_probe(dtb, node_at("/soc/interrupt-controller@24000000")), -ENODEV);
	CHECK(!msi_available());
	return 0;
}

static int test_imsic_two_sockets_group_index(void)
{
	struct dt_opts o = { .harts = 4, .sockets = 2, .msi = true };
	uint32_t idx;

	set_harts(4, 0);
	CHECK_RC(build_dt(&o));
	CHECK_RC(imsic_probe(dtb, node_at("/soc/interrupt-controller@28000000")));
	CHECK_RC(imsic_hart_index(1, &idx));
	CHECK_EQ(idx, 1);
	CHECK_RC(imsic_hart_index(2, &idx));      /* socket 1, hart 0: group 1 */
	CHECK_EQ(idx, 2);
	CHECK_RC(imsic_hart_index(3, &idx));
	CHECK_EQ(idx, 3);
	CHECK(host_log_contains("4 S-level files (1 bits hart index, 1 bits group at 24)"));
	return 0;
}

static int test_msi_mode_edge_and_level(void)
{
	struct dt_opts o = { .harts = 2, .sockets = 1, .msi = true };
	uint32_t level[2] = { 33, 4 }, edge[2] = { 34, 1 };

	CHECK_RC(setup(&o, 1));
	CHECK(host_log_contains("MSI delivery to hart index 1"));
	init_all_harts(2);
	CHECK_RC(aplic_request(10, level, 2, handler, (void *)1));
	CHECK_RC(aplic_request(10, edge, 2, handler, (void *)2));
	CHECK_EQ(ap.target[33] >> 18, 1);
	CHECK(ap.target[33] & 0x7ff);
	CHECK(ap.target[33] != ap.target[34]);
	/* A level source whose device lowered the line in the handler: one retrigger, no resend. */
	wire(33, true);
	ap.input[33] = false;
	CHECK(imsic_handle_irq());
	CHECK_EQ(calls[1], 1);
	CHECK_EQ(ap.setipnum_writes, 1);
	/* Edges are not retriggered. */
	ap.setipnum_writes = 0;
	ap.ip[34] = true;
	aplic_forward(34);
	CHECK(imsic_handle_irq());
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
	uint32_t level[2] = { 33, 4 };

	CHECK_RC(setup(&o, 0));
	init_all_harts(1);
	CHECK_RC(aplic_request(10, level, 2, input_low_handler, (void *)3));
	wire(33, true);
	CHECK(imsic_handle_irq());
	CHECK_EQ(calls[3], 3);
	CHECK(!imsic_handle_irq());
	return 0;
}

static int test_msi_mode_without_imsic(void)
{
	struct dt_opts o = { .harts = 2, .sockets = 1, .msi = true, .no_msi_parent_imsic = true };

	set_harts(2, 0);
	sim_reset(true);
	CHECK_RC(build_dt(&o));
	CHECK_EQ(aplic_probe(dtb, node_at("/soc/interrupt-controller@d000000")), -ENODEV);
	CHECK(host_log_contains("no S-level IMSIC"));
	return 0;
}

static int test_delivery_mode_mismatch(void)
{
	struct dt_opts o = { .harts = 2, .sockets = 1 };

	set_harts(2, 0);
	sim_reset(true); /* the hardware is in MSI mode, the DT says direct */
	CHECK_RC(build_dt(&o));
	CHECK_EQ(aplic_probe(dtb, node_at("/soc/interrupt-controller@d000000")), -EIO);
	CHECK(host_log_contains("not in direct delivery mode"));
	CHECK_EQ(host_pages_in_use(), 0);
	return 0;
}

static const struct host_case cases[] = {
	{ test_direct_probe_and_route, "direct_probe_and_route" },
	{ test_direct_m_level_is_not_ours, "direct_m_level_is_not_ours" },
	{ test_direct_bad_requests, "direct_bad_requests" },
	{ test_direct_wrong_cause, "direct_wrong_cause" },
	{ test_direct_second_socket_targets_its_own_hart, "direct_second_socket" },
	{ test_imsic_files_and_vectors, "imsic_files_and_vectors" },
	{ test_imsic_exhaustion, "imsic_exhaustion" },
	{ test_imsic_bad_nodes, "imsic_bad_nodes" },
	{ test_imsic_two_sockets_group_index, "imsic_two_sockets" },
	{ test_msi_mode_edge_and_level, "msi_mode_edge_and_level" },
	{ test_msi_mode_level_stops, "msi_mode_level_stops" },
	{ test_msi_mode_without_imsic, "msi_mode_without_imsic" },
	{ test_delivery_mode_mismatch, "delivery_mode_mismatch" },
};

int main(int argc, char **argv)
{
	return host_test_main("irqchip", cases, ARRAY_SIZE(cases), argc, argv);
}
