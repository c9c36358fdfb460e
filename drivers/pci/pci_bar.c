// SPDX-License-Identifier: MIT
/*
 * BARs: sizing (write all ones, read back which address bits stick) and placement in the host
 * bridge's windows, with nobody before us having done it (QEMU virt boots with BARs at 0).
 *
 * Placement policy, largest BAR first, each aligned to its size:
 *   I/O              the I/O window (from bus address 0x1000 up)
 *   32-bit memory    a 32-bit window, non-prefetchable unless the BAR is prefetchable
 *   64-bit, pref     a 64-bit prefetchable window, then 64-bit, then 32-bit
 *   64-bit, non-pref a 32-bit non-prefetchable window, then a 64-bit non-prefetchable one
 * A function is placed all or nothing: if one BAR makes no sense or does not fit, none is
 * programmed and the windows stay as they were.
 *
 * Interface: pci_windows_init, pci_assign_bars, pci_bar_kind (pci_internal.h).
 */
#include <rvmm/errno.h>
#include <rvmm/printk.h>
#include <stdio.h>

#include "pci_internal.h"

#define SPACE_IO 1
#define SPACE_MEM32 2
#define SPACE_MEM64 3
#define IO_MIN_ADDR 0x1000 /* keep I/O BARs off the legacy ISA range */

struct pci_window {
	uint32_t space;
	bool prefetch;
	uint64_t pci_base, size;
	phys_addr_t cpu_base;
	uint64_t next; /* first free bus address */
};

/* The windows and how far they are used. Boot hart only (pci_init). */
static struct pci_window windows[PCI_MAX_RANGES];
static int nr_windows;

struct bar_req {
	unsigned idx;
	uint64_t size;
	bool io, mem64, prefetch;
};

void pci_windows_init(const struct pci_host *host)
{
	nr_windows = 0;
	for (int i = 0; i < host->nr_ranges && i < PCI_MAX_RANGES; i++) {
		const struct pci_range *r = &host->ranges[i];
		struct pci_window *w = &windows[nr_windows++];
		*w = (struct pci_window){ r->space, r->prefetchable, r->pci_addr, r->size, r->cpu_addr,
					  r->pci_addr };
		if (w->space == SPACE_IO && w->pci_base < IO_MIN_ADDR && w->size > IO_MIN_ADDR)
			w->next = IO_MIN_ADDR;
	}
}

const char *pci_bar_kind(const struct pci_bar *bar)
{
	if (bar->io)
		return "io";
	if (bar->mem64)
		return bar->prefetch ? "mem64 pref" : "mem64";
	return bar->prefetch ? "mem32 pref" : "mem32";
}

/* Write all ones to the BAR at off, read it back, put the original back. */
static uint32_t probe_bar_reg(struct pci_dev *dev, unsigned off)
{
	uint32_t orig = pci_read_config32(dev, off), rb;

	pci_write_config32(dev, off, ~0u);
	rb = pci_read_config32(dev, off);
	pci_write_config32(dev, off, orig);
	return rb;
}

/* Size the BARs of a type 0 header into req[]; *n of them are implemented. */
static int size_bars(struct pci_dev *dev, struct bar_req *req, unsigned *n)
{
	*n = 0;
	for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
		unsigned off = PCI_BAR0 + 4 * i;
		uint32_t orig = pci_read_config32(dev, off);
		uint32_t rb = probe_bar_reg(dev, off);
		struct bar_req r = { .idx = i };
		uint64_t mask;

		if (rb == 0)
			continue; /* not implemented */
		if (orig & PCI_BAR_IO) {
			uint32_t m = rb & ~3u;
			if (!(m >> 16))
				m |= 0xffff0000u; /* a 16-bit decoder */
			r.io = true;
			mask = 0xffffffff00000000ULL | m;
		} else {
			uint32_t type = orig & PCI_BAR_MEM_TYPE_MASK;
			if (type != 0 && type != PCI_BAR_MEM_TYPE_64) {
				snprintf(dev->problem, sizeof(dev->problem),
					 "BAR%u has reserved memory type %u", i, type >> 1);
				return -EINVAL;
			}
			r.prefetch = orig & PCI_BAR_MEM_PREFETCH;
			r.mem64 = type == PCI_BAR_MEM_TYPE_64;
			mask = 0xffffffff00000000ULL | (rb & ~0xfu);
			if (r.mem64) {
				if (i == PCI_NUM_BARS - 1) {
					snprintf(dev->problem, sizeof(dev->problem),
						 "64-bit BAR%u has no upper half", i);
					return -EINVAL;
				}
				mask = (uint64_t)probe_bar_reg(dev, off + 4) << 32 | (rb & ~0xfu);
			}
		}
		r.size = ~mask + 1;
		if (r.size == 0 || (r.size & (r.size - 1))) {
			snprintf(dev->problem, sizeof(dev->problem),
				 "BAR%u size mask 0x%lx is not a power of two", i, (unsigned long)mask);
			return -EINVAL;
		}
		req[(*n)++] = r;
		if (r.mem64)
			i++;
	}
	return 0;
}

/* Windows a BAR may go in, best first, as (space, prefetchable) pairs; 0 ends the list. */
static void window_prefs(const struct bar_req *r, uint32_t space[3], bool pref[3])
{
	space[1] = space[2] = 0;
	pref[0] = pref[1] = pref[2] = false;
	if (r->io) {
		space[0] = SPACE_IO;
	} else if (!r->mem64) {
		space[0] = SPACE_MEM32;
		pref[0] = r->prefetch;
		if (r->prefetch)
			space[1] = SPACE_MEM32;
	} else if (r->prefetch) {
		space[0] = SPACE_MEM64, pref[0] = true;
		space[1] = SPACE_MEM64;
		space[2] = SPACE_MEM32;
	} else {
		space[0] = SPACE_MEM32;
		space[1] = SPACE_MEM64;
	}
}

/* Find room for r given the cursors next[]: 0 with *win and *addr (bus address) set, or -ENOSPC. */
static int place(const struct bar_req *r, uint64_t next[], int *win, uint64_t *addr)
{
	uint32_t space[3];
	bool pref[3];

	window_prefs(r, space, pref);
	for (int p = 0; p < 3 && space[p]; p++) {
		for (int i = 0; i < nr_windows; i++) {
			const struct pci_window *w = &windows[i];
			uint64_t a = ALIGN_UP(next[i], r->size), end = w->pci_base + w->size;
			if (w->space != space[p] || w->prefetch != pref[p])
				continue;
			if (a < next[i] || a + r->size < a || a + r->size > end)
				continue; /* too small (or wraps) */
			if (!r->mem64 && !r->io && a + r->size > (1ULL << 32))
				continue; /* a 32-bit BAR must stay below 4 GiB */
			*win = i;
			*addr = a;
			return 0;
		}
	}
	return -ENOSPC;
}

int pci_assign_bars(struct pci_dev *dev)
{
	struct bar_req req[PCI_NUM_BARS];
	uint64_t next[PCI_MAX_RANGES], addr[PCI_NUM_BARS];
	int win[PCI_NUM_BARS];
	uint16_t cmd = pci_read_config16(dev, PCI_COMMAND), enable = PCI_COMMAND_MASTER;
	unsigned n;
	int rc;

	/* No decoding while BARs hold all ones. */
	pci_write_config16(dev, PCI_COMMAND, cmd & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
	rc = size_bars(dev, req, &n);
	if (rc)
		goto err_restore;

	/* Largest first: every BAR is aligned to its size, so this packs without holes. */
	for (unsigned i = 1; i < n; i++)
		for (unsigned j = i; j > 0 && req[j].size > req[j - 1].size; j--) {
			struct bar_req t = req[j];
			req[j] = req[j - 1];
			req[j - 1] = t;
		}
	for (int i = 0; i < nr_windows; i++)
		next[i] = windows[i].next;
	for (unsigned i = 0; i < n; i++) {
		rc = place(&req[i], next, &win[i], &addr[i]);
		if (rc) {
			snprintf(dev->problem, sizeof(dev->problem),
				 "BAR%u (%s, 0x%lx bytes) fits in no window", req[i].idx,
				 req[i].io ? "io" : req[i].mem64 ? "mem64" : "mem32",
				 (unsigned long)req[i].size);
			goto err_restore;
		}
		next[win[i]] = addr[i] + req[i].size;
	}

	/* Commit: program the BARs, record them, advance the windows. */
	for (unsigned i = 0; i < n; i++) {
		const struct pci_window *w = &windows[win[i]];
		struct pci_bar *b = &dev->bar[req[i].idx];
		unsigned off = PCI_BAR0 + 4 * req[i].idx;

		pci_write_config32(dev, off, (uint32_t)addr[i]);
		if (req[i].mem64)
			pci_write_config32(dev, off + 4, (uint32_t)(addr[i] >> 32));
		*b = (struct pci_bar){
			.pci_addr = addr[i],
			.cpu_addr = w->cpu_base + (addr[i] - w->pci_base),
			.size = req[i].size,
			.io = req[i].io,
			.mem64 = req[i].mem64,
			.prefetch = req[i].prefetch,
		};
		enable |= req[i].io ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY;
	}
	for (int i = 0; i < nr_windows; i++)
		windows[i].next = next[i];
	pci_write_config16(dev, PCI_COMMAND, (cmd & ~PCI_COMMAND_INTX_DISABLE) | enable);
	return 0;

err_restore:
	pci_write_config16(dev, PCI_COMMAND, cmd);
	return rc;
}
