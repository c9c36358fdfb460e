// SPDX-License-Identifier: MIT
//
// Host tests of drivers/pci (scan, BAR sizing and placement, capability walks, INTx routing,
// driver binding) against a simulated ECAM: one bus of functions whose config space answers
// BAR sizing like hardware (address bits below the size read back as zero). Bad functions (BAR
// sizes that are not powers of two, windows too small) must be skipped with a message and leave
// everything else as it would have been without them.

#include <string.h>

#include <rvmm/cmdline.h>
#include <rvmm/errno.h>
#include <rvmm/msi.h>
#include <rvmm/pci.h>

#include "host.h"

#define ECAM_PA 0x30000000UL

/* ---- the simulated ECAM ---- */

struct sim_fn {
	bool present;
	uint8_t cfg[256];
	uint64_t bar_size[PCI_NUM_BARS]; /* for a 64-bit BAR, in the lower index */
	unsigned writes;                 /* config writes seen */
};

static struct sim_fn fns[256]; /* bus 0, indexed by devfn */

static uint64_t ecam_read(void *ctx __unused, uint64_t off, unsigned size)
{
	struct sim_fn *f = &fns[(off >> 12) & 0xff];
	uint64_t v = 0;

	if (off >> 20)
		return ~0ULL; /* other buses: nothing */
	if (!f->present)
		return size == 1 ? 0xff : size == 2 ? 0xffff : 0xffffffff;
	if ((off & 0xfff) + size <= 256)
		memcpy(&v, f->cfg + (off & 0xfff), size);
	return v;
}

static void ecam_write(void *ctx __unused, uint64_t off, uint64_t val, unsigned size)
{
	struct sim_fn *f = &fns[(off >> 12) & 0xff];
	unsigned reg = off & 0xfff;

	if (off >> 20 || !f->present || reg + size > 256)
		return;
	f->writes++;
	if (reg >= PCI_BAR0 && reg < PCI_BAR0 + 24 && size == 4) {
		unsigned i = (reg - PCI_BAR0) / 4;
		uint32_t cur, ro, mask;
		memcpy(&cur, f->cfg + reg, 4);
		bool upper = i > 0 && f->bar_size[i - 1] && (f->cfg[reg - 4] & 0x7) == 0x4;
		uint64_t sz = upper ? f->bar_size[i - 1] : f->bar_size[i];
		if (!sz)
			return; /* not implemented: reads 0 */
		if (upper) {
			ro = 0;
			mask = (uint32_t)(~(sz - 1) >> 32);
		} else {
			ro = cur & ((cur & 1) ? 0x3 : 0xf);
			mask = (uint32_t)~(sz - 1) & ((cur & 1) ? ~3u : ~0xfu);
		}
		uint32_t nv = ((uint32_t)val & mask) | ro;
		memcpy(f->cfg + reg, &nv, 4);
		return;
	}
	if (reg == PCI_COMMAND || reg == PCI_INTERRUPT_LINE || reg >= 0x40)
		memcpy(f->cfg + reg, &val, size);
}

static const struct host_mmio_ops ecam_ops = { ecam_read, ecam_write };

static void put16(struct sim_fn *f, unsigned off, uint16_t v) { memcpy(f->cfg + off, &v, 2); }
static void put32(struct sim_fn *f, unsigned off, uint32_t v) { memcpy(f->cfg + off, &v, 4); }
static uint32_t get32(struct sim_fn *f, unsigned off) { uint32_t v; memcpy(&v, f->cfg + off, 4); return v; }

static struct sim_fn *add_fn(unsigned dev, unsigned fn, uint16_t vendor, uint16_t device,
			     uint32_t class)
{
	struct sim_fn *f = &fns[dev << 3 | fn];
	f->present = true;
	put16(f, PCI_VENDOR_ID, vendor);
	put16(f, PCI_DEVICE_ID, device);
	put32(f, PCI_CLASS_REVISION, class << 8 | 1);
	return f;
}

/* A BAR: flags are its low bits (0 mem32, 0x4 mem64, 0x8 prefetch, 0x1 io). */
static void add_bar(struct sim_fn *f, unsigned i, uint64_t size, uint32_t flags)
{
	f->bar_size[i] = size;
	put32(f, PCI_BAR0 + 4 * i, flags);
}

/* A capability at pos with id, linked after the previous one (or from 0x34). */
static void add_cap(struct sim_fn *f, unsigned pos, uint8_t id, unsigned next)
{
	f->cfg[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	f->cfg[pos] = id;
	f->cfg[pos + 1] = (uint8_t)next;
}

/* QEMU virt's host: I/O, 32-bit and 64-bit windows; INTx as its interrupt-map routes it. */
static struct pci_host host;

/* QEMU's interrupt-map: slot bits 0..1 of devfn only (mask 0x1800), pins rotated per slot. */
static int virt_route_intx(const struct pci_host *h __unused, const struct pci_dev *dev,
			   struct irq_spec *spec)
{
	unsigned slot = (dev->devfn >> 3) & 3;

	*spec = (struct irq_spec){ HOST_IRQ_PARENT, 1, { 32 + (slot + dev->pin - 1) % 4 } };
	return 0;
}

static void virt_host(uint64_t mem32_size)
{
	struct pci_host *h = &host;
	h->ecam_base = ECAM_PA;
	h->ecam_size = 1 << 20;
	h->bus_start = h->bus_end = 0;
	h->ranges[0] = (struct pci_range){ 1, false, 0, 0x3000000, 0x10000 };
	h->ranges[1] = (struct pci_range){ 2, false, 0x40000000, 0x40000000, mem32_size };
	h->ranges[2] = (struct pci_range){ 3, false, 0x400000000ULL, 0x400000000ULL,
						 0x400000000ULL };
	h->nr_ranges = 3;
	h->route_intx = virt_route_intx;
	strcpy(h->name, "/soc/pci@30000000");
	host_mmio_add(ECAM_PA, 1 << 20, &ecam_ops, NULL);
}

/* ---- a test driver for 1234:0001..000f, recording what it saw ---- */

static struct pci_dev *probed[8];
static unsigned nr_probed;

static int test_probe(struct pci_dev *dev, const struct pci_device_id *id __unused)
{
	if (dev->device == 0x000f)
		return -ENODEV; /* not mine */
	probed[nr_probed++] = dev;
	return 0;
}

static const struct pci_device_id test_ids[] = { { 0x1234, 0x0001, 0x000f }, { 0 } };
static const struct pci_driver test_pci_driver = { "testpci", test_ids, test_probe };
const struct pci_driver *const pci_drivers[] = { &test_pci_driver };
const size_t pci_nr_drivers = 1;

/* ---- cases ---- */

static int scan_and_assign(void)
{
	virt_host(0x40000000);
	add_fn(0, 0, 0x1b36, 0x0008, 0x060000);
	struct sim_fn *a = add_fn(1, 0, 0x1234, 0x0001, 0x00ff00);
	add_bar(a, 1, 0x1000, 0);        /* mem32 */
	add_bar(a, 4, 0x4000, 0x4 | 0x8); /* mem64 prefetchable */
	a->cfg[PCI_INTERRUPT_PIN] = 1;
	struct sim_fn *m0 = add_fn(2, 0, 0x1234, 0x0002, 0x020000);
	m0->cfg[PCI_HEADER_TYPE] = PCI_HEADER_MULTI_FUNCTION;
	add_bar(m0, 0, 0x20, 0x1);        /* io */
	m0->cfg[PCI_INTERRUPT_PIN] = 2;
	struct sim_fn *m1 = add_fn(2, 3, 0x1234, 0x0003, 0x020000);
	add_bar(m1, 2, 0x100000, 0x4);    /* mem64 non-prefetchable: mem32 window first */
	add_fn(3, 1, 0x1234, 0x0004, 0);  /* function 1 of a device without function 0: unseen */

	CHECK_EQ(pci_init(&host), 4);
	CHECK_EQ(nr_probed, 3);
	struct pci_dev *d = probed[0];
	CHECK(strcmp(d->name, "00:01.0") == 0);
	CHECK_EQ(d->class, 0x00ff00);
	CHECK_EQ(d->bar[1].size, 0x1000);
	CHECK(d->bar[4].mem64 && d->bar[4].prefetch);
	CHECK_EQ(d->bar[4].pci_addr, 0x400000000ULL); /* 64-bit prefetchable -> the 64-bit window */
	CHECK_EQ(get32(a, PCI_BAR0 + 16), 0x0000000c);
	CHECK_EQ(get32(a, PCI_BAR0 + 20), 0x4);
	CHECK(d->bar[1].pci_addr >= 0x40000000 && d->bar[1].pci_addr < 0x80000000);
	CHECK_EQ(get32(a, PCI_BAR0 + 4), (uint32_t)d->bar[1].pci_addr);
	CHECK_EQ(a->cfg[PCI_COMMAND] & 7, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	CHECK_EQ(d->irq.cells[0], 33);          /* slot 1, INTA */
	CHECK_EQ(a->cfg[PCI_INTERRUPT_LINE], 33);
	d = probed[1];
	CHECK(strcmp(d->name, "00:02.0") == 0 && d->bar[0].io);
	CHECK_EQ(d->bar[0].pci_addr, 0x1000);   /* I/O above the legacy range */
	CHECK_EQ(d->bar[0].cpu_addr, 0x3001000);
	CHECK_EQ(m0->cfg[PCI_COMMAND] & 7, PCI_COMMAND_IO | PCI_COMMAND_MASTER);
	CHECK_EQ(d->irq.cells[0], 35);          /* slot 2, INTB */
	d = probed[2];
	CHECK(strcmp(d->name, "00:02.3") == 0);
	CHECK(d->bar[2].mem64 && d->bar[2].pci_addr < 0x80000000);
	CHECK(IS_ALIGNED(d->bar[2].pci_addr, 0x100000));
	CHECK(d->driver == &test_pci_driver);
	return 0;
}

/* Two identical devices around a bad one: the second lands where it would have anyway. */
static int bad_bar_skipped(void)
{
	virt_host(0x40000000);
	struct sim_fn *a = add_fn(1, 0, 0x1234, 0x0001, 0);
	add_bar(a, 0, 0x1000, 0);
	struct sim_fn *bad = add_fn(2, 0, 0x1234, 0x0002, 0);
	add_bar(bad, 0, 0x2000, 0);
	add_bar(bad, 1, 0x3000, 0); /* mask 0xffffd000: not a power of two */
	put16(bad, PCI_COMMAND, 0x0400);
	struct sim_fn *b = add_fn(3, 0, 0x1234, 0x0003, 0);
	add_bar(b, 0, 0x1000, 0);

	CHECK_EQ(pci_init(&host), 3);
	CHECK_EQ(nr_probed, 2);
	CHECK(log_has("00:02.0: 1234:0002: BAR1 size mask"));
	CHECK(log_has("function skipped"));
	CHECK_EQ(get32(bad, PCI_BAR0), 0);      /* nothing programmed */
	CHECK_EQ(get32(bad, PCI_BAR0 + 4), 0);
	CHECK_EQ(get32(bad, PCI_COMMAND), 0x0400);
	CHECK_EQ(probed[0]->bar[0].pci_addr, 0x40000000);
	CHECK_EQ(probed[1]->bar[0].pci_addr, 0x40001000);
	return 0;
}

static int window_too_small(void)
{
	virt_host(0x10000); /* 64 KiB of 32-bit space */
	host.nr_ranges = 2; /* and no 64-bit window */
	struct sim_fn *big = add_fn(1, 0, 0x1234, 0x0001, 0);
	add_bar(big, 0, 0x1000, 0);
	add_bar(big, 1, 0x100000, 0); /* 1 MiB: cannot fit */
	struct sim_fn *small = add_fn(2, 0, 0x1234, 0x0002, 0);
	add_bar(small, 0, 0x8000, 0);

	CHECK_EQ(pci_init(&host), 2);
	CHECK(log_has("BAR1 (mem32, 0x100000 bytes) fits in no window"));
	CHECK_EQ(get32(big, PCI_BAR0), 0); /* all or nothing: BAR0 not placed either */
	CHECK_EQ(nr_probed, 1);
	CHECK_EQ(probed[0]->bar[0].pci_addr, 0x40000000);
	return 0;
}

static int capabilities(void)
{
	virt_host(0x40000000);
	struct sim_fn *f = add_fn(1, 0, 0x1234, 0x0001, 0);
	f->cfg[PCI_CAPABILITY_LIST] = 0x40;
	add_cap(f, 0x40, PCI_CAP_ID_VNDR, 0x50);
	add_cap(f, 0x50, PCI_CAP_ID_MSIX, 0x60);
	add_cap(f, 0x60, PCI_CAP_ID_VNDR, 0x00);
	struct sim_fn *loop = add_fn(2, 0, 0x1234, 0x0002, 0);
	loop->cfg[PCI_CAPABILITY_LIST] = 0x40;
	add_cap(loop, 0x40, PCI_CAP_ID_VNDR, 0x48);
	add_cap(loop, 0x48, 0x05, 0x40); /* back to the first */
	struct sim_fn *none = add_fn(3, 0, 0x1234, 0x0003, 0);
	none->cfg[PCI_CAPABILITY_LIST] = 0x40; /* pointer without the status bit: ignored */

	CHECK_EQ(pci_init(&host), 3);
	struct pci_dev *d = probed[0];
	CHECK_EQ(pci_find_capability(d, PCI_CAP_ID_VNDR), 0x40);
	CHECK_EQ(pci_find_next_capability(d, 0x40, PCI_CAP_ID_VNDR), 0x60);
	CHECK_EQ(pci_find_next_capability(d, 0x60, PCI_CAP_ID_VNDR), 0);
	CHECK_EQ(pci_find_capability(d, PCI_CAP_ID_MSIX), 0x50);
	CHECK_EQ(pci_find_capability(d, 0x10), 0);
	d = probed[1];
	CHECK_EQ(pci_find_capability(d, PCI_CAP_ID_VNDR), 0x40);
	CHECK_EQ(pci_find_capability(d, PCI_CAP_ID_MSIX), 0); /* ends, does not hang */
	CHECK(log_has("capability list loops"));
	CHECK_EQ(pci_find_capability(probed[2], PCI_CAP_ID_VNDR), 0);
	return 0;
}

static int not_mine(void)
{
	virt_host(0x40000000);
	add_fn(1, 0, 0x1234, 0x000f, 0);  /* the driver says -ENODEV */
	add_fn(2, 0, 0x5678, 0x0001, 0);  /* nobody's */
	struct sim_fn *br = add_fn(3, 0, 0x1b36, 0x000c, 0x060400);
	br->cfg[PCI_HEADER_TYPE] = 1;
	CHECK_EQ(pci_init(&host), 3);
	CHECK_EQ(nr_probed, 0);
	CHECK(log_has("header type 1 (PCI bridge) not configured"));
	return 0;
}

/* ---- MSI-X: a stand-in MSI controller and plain memory behind the 32-bit window ---- */

static struct irq_domain fake_imsic = { .name = "fake-imsic" };
static unsigned fake_msi_next = 40;

int irq_request_msi(struct irq_domain *d, irq_handler_t handler __unused, void *arg __unused,
		    struct msi_msg *msg)
{
	if (d != &fake_imsic)
		return -ENOTSUP;
	*msg = (struct msi_msg){ .address = 0x28002000ULL, .data = fake_msi_next++ };
	return 0;
}

static uint8_t bar_mem[0x10000];

static uint64_t mem_read(void *ctx __unused, uint64_t off, unsigned size)
{
	uint64_t v = 0;
	memcpy(&v, bar_mem + off, size);
	return v;
}

static void mem_write(void *ctx __unused, uint64_t off, uint64_t val, unsigned size)
{
	memcpy(bar_mem + off, &val, size);
}

static const struct host_mmio_ops mem_ops = { mem_read, mem_write };

static uint32_t table_word(unsigned entry, unsigned off)
{
	uint32_t v;
	memcpy(&v, bar_mem + 0x800 + 16 * entry + off, 4);
	return v;
}

static void nop_handler(void *arg __unused) {}

/* A function with a 4-entry MSI-X table at 0x800 in BAR1, and one whose table overruns BAR1. */
static int msix(void)
{
	virt_host(0x40000000);
	host_mmio_add(0x40000000, sizeof(bar_mem), &mem_ops, NULL);
	struct sim_fn *f = add_fn(1, 0, 0x1234, 0x0001, 0);
	add_bar(f, 1, 0x1000, 0);
	f->cfg[PCI_INTERRUPT_PIN] = 1;
	f->cfg[PCI_CAPABILITY_LIST] = 0x50;
	add_cap(f, 0x50, PCI_CAP_ID_MSIX, 0);
	put16(f, 0x52, 3 | 0x4000);            /* 4 entries, function masked by firmware */
	put32(f, 0x54, 0x800 | 1);             /* table: BAR1 + 0x800 */
	struct sim_fn *bad = add_fn(2, 0, 0x1234, 0x0002, 0);
	add_bar(bad, 0, 0x1000, 0);
	bad->cfg[PCI_CAPABILITY_LIST] = 0x50;
	add_cap(bad, 0x50, PCI_CAP_ID_MSIX, 0);
	put16(bad, 0x52, 7);                   /* 8 entries at 0xff8: past the BAR's end */
	put32(bad, 0x54, 0xff8);

	CHECK_EQ(pci_init(&host), 2);
	struct pci_dev *d = probed[0];
	CHECK_EQ(d->bar[1].pci_addr, 0x40000000);
	CHECK_EQ(pci_msix_enable(d, 2), -ENODEV);          /* the host has no msi-parent */
	d->msi = probed[1]->msi = &fake_imsic;
	cmdline.pci_msi = false;
	CHECK_EQ(pci_msix_enable(d, 2), -ENODEV);          /* pci_msi=off */
	cmdline.pci_msi = true;
	CHECK_EQ(pci_msix_enable(d, 5), -ENOSPC);
	CHECK_EQ(pci_msix_enable(probed[1], 1), -EINVAL);
	CHECK(log_has("MSI-X table (8 entries at 0xff8 in BAR0) is not inside"));
	memset(bar_mem + 0x800, 0, 64);
	CHECK_RC(pci_msix_enable(d, 2));
	CHECK_EQ(f->cfg[0x53] & 0xc0, 0x80);                /* enabled, function mask cleared */
	CHECK(get32(f, PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE);
	for (unsigned e = 0; e < 4; e++)
		CHECK_EQ(table_word(e, 12), 1);                /* every entry masked */
	CHECK_RC(pci_msix_set_vector(d, 1, nop_handler, NULL));
	CHECK_EQ(table_word(1, 0), 0x28002000);
	CHECK_EQ(table_word(1, 4), 0);
	CHECK_EQ(table_word(1, 8), 40);
	CHECK_EQ(table_word(1, 12), 0);                    /* unmasked */
	CHECK_EQ(table_word(0, 12), 1);
	CHECK_EQ(pci_msix_set_vector(d, 1, nop_handler, NULL), -EBUSY);
	CHECK_EQ(pci_msix_set_vector(d, 2, nop_handler, NULL), -EINVAL);
	CHECK_EQ(pci_msix_enable(d, 2), -EBUSY);
	pci_msix_disable(d);
	CHECK_EQ(table_word(1, 12), 1);
	CHECK_EQ(f->cfg[0x53] & 0x80, 0);
	CHECK(!(get32(f, PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE));
	CHECK(!d->msix.enabled);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
		CASE(scan_and_assign),
		CASE(bad_bar_skipped),
		CASE(window_too_small),
		CASE(capabilities),
		CASE(not_mine),
		CASE(msix),
	};
	return test_main("pci", cases, ARRAY_SIZE(cases), argc, argv);
}
