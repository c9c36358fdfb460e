// SPDX-License-Identifier: MIT
/*
 * The `pmem` console command (virtio_pmem.h): show every pmem device, read and write its region
 * through the devdax mapping, flush, and switch it between devdax and kmem.
 *
 *   pmem                               region, size, mode, flush results, memmap bytes
 *   pmem [N] write OFF LEN PATTERN     fill [OFF, OFF+LEN) of device N (default 0) with the
 *                                      pattern PATTERN (a number): each 8-byte word is a hash of
 *                                      PATTERN and its offset, so misplaced data is caught too
 *   pmem [N] verify OFF LEN PATTERN    check it; prints the checksum, or the first difference
 *   pmem [N] flush                     a FLUSH request: the host syncs the backing file
 *   pmem [N] hold OFF | release OFF    a devdax user taking / dropping a page reference
 *   pmem [N] memmap shared|full        redo the memmap with or without tail sharing
 *   pmem [N] kmem online [movable|normal] | kmem offline
 *
 * Offsets are from the start of the mapped (section-aligned) part; OFF and LEN multiples of 8.
 * Each write and verify holds a reference on the compound page it works in, as a devdax user.
 *
 * Interface: the `pmem` command.
 */
#include <rvmm/arch_mm.h>
#include <rvmm/console.h>
#include <rvmm/errno.h>
#include <rvmm/kernel.h>
#include <rvmm/page_alloc.h>
#include <rvmm/printk.h>
#include <string.h>

#include "virtio_pmem.h"

static struct virtio_pmem *pmem_get(int n)
{
	return n >= 0 && n < PMEM_MAX_DEVICES ? __atomic_load_n(&pmem_devices[n], __ATOMIC_ACQUIRE) : NULL;
}

static uint64_t region_size(const struct virtio_pmem *pm) { return pm->region.end - pm->region.start; }

// Parts per million as "P.PPPP %".
static void print_ratio(uint64_t part, uint64_t whole)
{
	uint64_t ppm = whole ? part * 1000000 / whole : 0;
	kprintf("%llu.%04llu %%", (unsigned long long)(ppm / 10000), (unsigned long long)(ppm % 10000));
}

static void pmem_show(const struct virtio_pmem *pm)
{
	const struct dev_pagemap *pg = &pm->pgmap;
	uint64_t size = region_size(pm), gib = size >> 30 ? size >> 30 : 1;
	unsigned nr_holds = 0;
	for (int i = 0; i < PMEM_MAX_HOLDS; i++)
		nr_holds += pm->holds[i] != NULL;
	kprintf("%s: %s region [0x%llx-0x%llx) %llu MiB", pm->name, pm->vdev->name,
		(unsigned long long)pm->start, (unsigned long long)(pm->start + pm->size),
		(unsigned long long)(pm->size >> 20));
	if (size != pm->size)
		kprintf(", mapped part [0x%llx-0x%llx) %llu MiB", (unsigned long long)pm->region.start,
			(unsigned long long)pm->region.end, (unsigned long long)(size >> 20));
	kprintf("\n  mode %s", pmem_mode_name(pm->mode));
	if (pm->mode == PMEM_KMEM)
		kprintf(" in zone %s", zone_name(pm->kmem_zone));
	if (pm->mode == PMEM_DEVDAX)
		kprintf(", direct map at 0x%lx, %lu x 1 GiB + %lu x 2 MiB compound pages, %u held",
			(unsigned long)__va(pm->region.start), pg->nr_1g, pg->nr_2m, nr_holds);
	kprintf("\n");
	if (pm->mode == PMEM_DEVDAX) {
		kprintf("  memmap %llu KiB (%s tails): %llu KiB per GiB, ",
			(unsigned long long)(pg->memmap_bytes >> 10), pg->share_tails ? "shared" : "full",
			(unsigned long long)(pg->memmap_bytes / gib >> 10));
		print_ratio(pg->memmap_bytes, size);
		kprintf(" of the region\n");
	}
	kprintf("  flushes %llu, failed %llu", (unsigned long long)pm->flushes,
		(unsigned long long)pm->flush_failures);
	if (pm->flushes)
		kprintf(", last %s in %llu us",
			pm->last_flush == 0 ? "ok" : pm->last_flush_device ? "FAILED by the device" : errname(pm->last_flush),
			(unsigned long long)(pm->last_flush_ns / 1000));
	kprintf("\n");
	if (pm->kmem_online_ns)
		kprintf("  kmem: last online %llu us, offline %llu us\n",
			(unsigned long long)(pm->kmem_online_ns / 1000),
			(unsigned long long)(pm->kmem_offline_ns / 1000));
}

// The word at offset off of pattern pat (splitmix64 of both).
static uint64_t pattern_word(uint64_t pat, uint64_t off)
{
	uint64_t z = pat * 0x9e3779b97f4a7c15ULL + off;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

// Write or verify [off, off + len), one compound page at a time with a reference on it.
static int pmem_rw(struct virtio_pmem *pm, bool write, uint64_t off, uint64_t len, uint64_t pat)
{
	uint64_t sum = 0, bad = 0, first_bad = 0, got = 0, want = 0;
	for (uint64_t pos = off; pos < off + len;) {
		phys_addr_t pa = pm->region.start + pos;
		struct page *head = get_dev_page(PFN_DOWN(pa));
		if (!head)
			return -EINVAL; // mapped devdax: cannot happen
		uint64_t end = MIN(off + len, page_to_phys(head) + (PAGE_SIZE << head->order) - pm->region.start);
		uint64_t *w = __va(pa);
		for (; pos < end; pos += 8, w++) {
			uint64_t v = pattern_word(pat, pos);
			if (write) {
				*w = v;
				continue;
			}
			uint64_t r = READ_ONCE(*w);
			sum = (sum ^ r) * 0x100000001b3ULL;
			if (r != v && !bad++) {
				first_bad = pos;
				got = r;
				want = v;
			}
		}
		put_dev_page(head);
	}
	if (write) {
		kprintf("%s: wrote %llu bytes at 0x%llx (pattern %llu); `pmem flush` makes them durable\n",
			pm->name, (unsigned long long)len, (unsigned long long)off, (unsigned long long)pat);
		return 0;
	}
	if (bad) {
		kprintf("%s: verify FAILED: %llu of %llu words differ, first at offset 0x%llx: 0x%016llx, "
			"pattern 0x%016llx\n", pm->name, (unsigned long long)bad,
			(unsigned long long)(len / 8), (unsigned long long)first_bad,
			(unsigned long long)got, (unsigned long long)want);
		return -EIO;
	}
	kprintf("%s: verify ok: %llu bytes at 0x%llx match pattern %llu (checksum 0x%016llx)\n",
		pm->name, (unsigned long long)len, (unsigned long long)off, (unsigned long long)pat,
		(unsigned long long)sum);
	return 0;
}

static int pmem_cmd_rw(struct virtio_pmem *pm, bool write, int argc, char **argv)
{
	uint64_t off, len, pat;
	if (argc != 3 || parse_u64(argv[0], &off) || parse_u64(argv[1], &len) || parse_u64(argv[2], &pat))
		return CMD_USAGE;
	if (pm->mode != PMEM_DEVDAX) {
		kprintf("%s: the region is %s: reads and writes need devdax\n", pm->name,
			pmem_mode_name(pm->mode));
		return -EINVAL;
	}
	if (!len || (off | len) & 7 || off >= region_size(pm) || len > region_size(pm) - off) {
		kprintf("%s: [0x%llx, +0x%llx) refused: it must be inside the region [0, 0x%llx), "
			"non-empty, offset and length multiples of 8\n", pm->name,
			(unsigned long long)off, (unsigned long long)len,
			(unsigned long long)region_size(pm));
		return -EINVAL;
	}
	return pmem_rw(pm, write, off, len, pat);
}

static int pmem_cmd_flush(struct virtio_pmem *pm)
{
	int rc = pmem_flush(pm);
	if (rc == 0) {
		kprintf("%s: flush ok in %llu us\n", pm->name, (unsigned long long)(pm->last_flush_ns / 1000));
		return 0;
	}
	if (pm->last_flush_device)
		kprintf("%s: flush FAILED: the device answered 1 (its backend could not be synced; a RAM "
			"backend has no file); %llu of %llu flushes failed\n", pm->name,
			(unsigned long long)pm->flush_failures, (unsigned long long)pm->flushes);
	else
		kprintf("%s: flush failed: %s\n", pm->name, errname(rc));
	return rc;
}

static int pmem_cmd_hold(struct virtio_pmem *pm, bool hold, int argc, char **argv)
{
	uint64_t off;
	if (argc != 1 || parse_u64(argv[0], &off))
		return CMD_USAGE;
	if (pm->mode != PMEM_DEVDAX || off >= region_size(pm)) {
		kprintf("%s: offset 0x%llx refused: not in the devdax region\n", pm->name, (unsigned long long)off);
		return -EINVAL;
	}
	struct page *head = dev_page_head(PFN_DOWN(pm->region.start + off));
	for (int i = 0; i < PMEM_MAX_HOLDS; i++) {
		if (hold && !pm->holds[i]) {
			pm->holds[i] = get_dev_page(PFN_DOWN(pm->region.start + off));
			kprintf("%s: holding the compound page at pfn 0x%llx (refcount %d)\n", pm->name,
				(unsigned long long)page_to_pfn(head), head->refcount);
			return 0;
		}
		if (!hold && pm->holds[i] == head) {
			pm->holds[i] = NULL;
			put_dev_page(head);
			kprintf("%s: released pfn 0x%llx (refcount %d)\n", pm->name,
				(unsigned long long)page_to_pfn(head), head->refcount);
			return 0;
		}
	}
	if (hold)
		kprintf("%s: already %d holds\n", pm->name, PMEM_MAX_HOLDS);
	else
		kprintf("%s: nothing held at 0x%llx\n", pm->name, (unsigned long long)off);
	return -EINVAL;
}

static int pmem_cmd_kmem(struct virtio_pmem *pm, int argc, char **argv)
{
	if (argc >= 1 && argc <= 2 && !strcmp(argv[0], "online")) {
		enum zone_type zone = ZONE_MOVABLE;
		if (argc == 2 && !strcmp(argv[1], "normal"))
			zone = ZONE_NORMAL;
		else if (argc == 2 && strcmp(argv[1], "movable"))
			return CMD_USAGE;
		int rc = pmem_kmem_online(pm, zone);
		if (rc)
			return rc;
		kprintf("%s: [0x%llx-0x%llx) is System RAM (zone %s): %llu MiB in %llu us. Its data is "
			"treated as lost: the allocator hands its pages out (as Linux's dax/kmem)\n",
			pm->name, (unsigned long long)pm->region.start, (unsigned long long)pm->region.end,
			zone_name(zone), (unsigned long long)(region_size(pm) >> 20),
			(unsigned long long)(pm->kmem_online_ns / 1000));
		if (pm->region.start != pm->start || pm->region.end != pm->start + pm->size)
			kprintf("%s: only the section-aligned part was hot-added\n", pm->name);
		return 0;
	}
	if (argc == 1 && !strcmp(argv[0], "offline")) {
		int rc = pmem_kmem_offline(pm);
		if (rc)
			return rc;
		kprintf("%s: System RAM offlined and removed in %llu us; the region is %s again "
			"(its contents are whatever the allocator's users left)\n", pm->name,
			(unsigned long long)(pm->kmem_offline_ns / 1000), pmem_mode_name(pm->mode));
		return 0;
	}
	return CMD_USAGE;
}

static int cmd_pmem(int argc, char **argv)
{
	uint64_t n = 0;
	int found = 0;
	if (argc == 1) {
		for (int i = 0; i < PMEM_MAX_DEVICES; i++)
			if (pmem_get(i)) {
				pmem_show(pmem_get(i));
				found++;
			}
		if (!found)
			kprintf("pmem: no virtio-pmem device (QEMU: -device virtio-pmem-pci,memdev=...)\n");
		return 0;
	}
	argv++, argc--;
	if (!parse_u64(argv[0], &n))
		argv++, argc--;
	struct virtio_pmem *pm = pmem_get(n < PMEM_MAX_DEVICES ? (int)n : -1);
	if (!pm) {
		kprintf("pmem: no device pmem%llu\n", (unsigned long long)n);
		return -ENODEV;
	}
	if (argc == 0) {
		pmem_show(pm);
		return 0;
	}
	const char *op = argv[0];
	argv++, argc--;
	if (!strcmp(op, "write") || !strcmp(op, "verify"))
		return pmem_cmd_rw(pm, op[0] == 'w', argc, argv);
	if (!strcmp(op, "flush") && argc == 0)
		return pmem_cmd_flush(pm);
	if (!strcmp(op, "hold") || !strcmp(op, "release"))
		return pmem_cmd_hold(pm, op[0] == 'h', argc, argv);
	if (!strcmp(op, "memmap") && argc == 1 && (!strcmp(argv[0], "shared") || !strcmp(argv[0], "full"))) {
		int rc = pmem_set_memmap(pm, argv[0][0] == 's');
		if (!rc)
			pmem_show(pm);
		return rc;
	}
	if (!strcmp(op, "kmem"))
		return pmem_cmd_kmem(pm, argc, argv);
	return CMD_USAGE;
}

CONSOLE_COMMAND(pmem, .name = "pmem",
		.usage = "pmem [N] [write|verify OFF LEN PATTERN | flush | hold|release OFF | "
			 "memmap shared|full | kmem online [movable|normal] | kmem offline]",
		.summary = "virtio-pmem: show, read/write the devdax region, flush, kmem",
		.run = cmd_pmem);
