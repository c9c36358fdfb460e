// SPDX-License-Identifier: MIT
//
// Host tests of drivers/pci (scan, BAR sizing and placement, capability walks, INTx routing,
// driver binding) against a simulated ECAM: one bus of functions whose config space answers
// BAR sizing like hardware (address bits below the size read back as zero). Bad functions (BAR
// sizes that are not powers of two, windows too small) must be skipped with a message and leave
// everything else as it would have been without them.

#include <string.h>

#include <rvmm/errno.h>
#include <rvmm/pci.h>
#include <rvmm/platform.h>

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

/* QEMU virt's host: I/O, 32-bit and 64-bit windows; INTx of slot s pin p -> 32 + (s + p - 1) % 4. */
static struct platform plat;

static void virt_host(uint64_t mem32_size)
{
	struct plat_pci_host *h = &plat.pci;
	h->present = true;
	h->ecam_base = ECAM_PA;
	h->ecam_size = 1 << 20;
	h->bus_start = h->bus_end = 0;
	h->ranges[0] = (struct plat_pci_range){ 1, false, 0, 0x3000000, 0x10000 };
	h->ranges[1] = (struct plat_pci_range){ 2, false, 0x40000000, 0x40000000, mem32_size };
	h->ranges[2] = (struct plat_pci_range){ 3, false, 0x400000000ULL, 0x400000000ULL,
						 0x400000000ULL };
	h->nr_ranges = 3;
	h->imap_mask_devfn = 0x18; /* slot bits 0..1 only, as QEMU's 0x1800 */
	h->imap_mask_pin = 7;
	for (unsigned s = 0; s < 4; s++)
		for (unsigned p = 1; p <= 4; p++)
			h->imap[h->nr_imap++] = (struct plat_pci_imap){ s << 3, p, 32 + (s + p - 1) % 4 };
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

	CHECK_EQ(pci_init(&plat), 4);
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
	CHECK_EQ(d->irq, 33);                   /* slot 1, INTA */
	CHECK_EQ(a->cfg[PCI_INTERRUPT_LINE], 33);
	d = probed[1];
	CHECK(strcmp(d->name, "00:02.0") == 0 && d->bar[0].io);
	CHECK_EQ(d->bar[0].pci_addr, 0x1000);   /* I/O above the legacy range */
	CHECK_EQ(d->bar[0].cpu_addr, 0x3001000);
	CHECK_EQ(m0->cfg[PCI_COMMAND] & 7, PCI_COMMAND_IO | PCI_COMMAND_MASTER);
	CHECK_EQ(d->irq, 35);                   /* slot 2, INTB */
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

	CHECK_EQ(pci_init(&plat), 3);
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
	plat.pci.nr_ranges = 2; /* and no 64-bit window */
	struct sim_fn *big = add_fn(1, 0, 0x1234, 0x0001, 0);
	add_bar(big, 0, 0x1000, 0);
	add_bar(big, 1, 0x100000, 0); /* 1 MiB: cannot fit */
	struct sim_fn *small = add_fn(2, 0, 0x1234, 0x0002, 0);
	add_bar(small, 0, 0x8000, 0);

	CHECK_EQ(pci_init(&plat), 2);
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

	CHECK_EQ(pci_init(&plat), 3);
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

static int not_mine_and_no_host(void)
{
	CHECK_EQ(pci_init(&plat), 0); /* no host: nothing to do */
	virt_host(0x40000000);
	add_fn(1, 0, 0x1234, 0x000f, 0);  /* the driver says -ENODEV */
	add_fn(2, 0, 0x5678, 0x0001, 0);  /* nobody's */
	struct sim_fn *br = add_fn(3, 0, 0x1b36, 0x000c, 0x060400);
	br->cfg[PCI_HEADER_TYPE] = 1;
	CHECK_EQ(pci_init(&plat), 3);
	CHECK_EQ(nr_probed, 0);
	CHECK(log_has("header type 1 (PCI bridge) not configured"));
	return 0;
}

static const struct test_case cases[] = {
	CASE(scan_and_assign),
	CASE(bad_bar_skipped),
	CASE(window_too_small),
	CASE(capabilities),
	CASE(not_mine_and_no_host),
};

int main(int argc, char **argv)
{
	return test_main("pci", cases, ARRAY_SIZE(cases), argc, argv);
}
