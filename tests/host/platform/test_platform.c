// SPDX-License-Identifier: MIT
/*
 * platform_parse() on real trees: QEMU virt's own DTBs (dumped at build time for several -m/-smp)
 * and the DTS fixtures in tests/fixtures/dts/ (compiled at build time), each checked field by
 * field and message by message. Also the DTBs tests/fixtures/make-bad-dtbs.sh makes for the
 * system tests, so the messages documented there are the ones printed.
 */
#include "harness.h"

#include <libfdt.h>
#include <rvmm/errno.h>
#include <rvmm/platform.h>
#include <rvmm/printk.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct platform plat;

static int parse_file(const char *name)
{
	return parse_dtb(&plat, name);
}

static uint64_t total_ram(void)
{
	uint64_t t = 0;

	for (int i = 0; i < plat.nr_mem; i++)
		t += plat.mem[i].size;
	return t;
}

// What every parse result must satisfy, good tree or not.
static int expect_invariants(void)
{
	CHECK_MSG(plat.nr_mem >= 1 && plat.nr_mem <= PLAT_MAX_MEM, "nr_mem %d", plat.nr_mem);
	for (int i = 0; i < plat.nr_mem; i++) {
		const struct plat_range *r = &plat.mem[i];

		CHECK_MSG(r->size > 0, "mem[%d] empty", i);
		CHECK_MSG(IS_ALIGNED(r->base, PAGE_SIZE) && IS_ALIGNED(r->size, PAGE_SIZE),
			  "mem[%d] [0x%lx, +0x%lx) not page aligned", i, r->base, r->size);
		CHECK_MSG(r->base + r->size <= PLAT_PHYS_LIMIT, "mem[%d] ends above 16 TiB", i);
		CHECK_MSG(i == 0 || plat.mem[i - 1].base + plat.mem[i - 1].size <= r->base,
			  "mem[%d] overlaps or is out of order", i);
		CHECK_MSG(memchr(r->name, '\0', sizeof(r->name)) != NULL,
			  "mem[%d] name unterminated", i);
	}
	CHECK_MSG(plat.nr_reserved >= 0 && plat.nr_reserved <= PLAT_MAX_RESERVED, "nr_reserved %d",
		  plat.nr_reserved);
	CHECK_MSG(plat.nr_harts >= 0 && plat.nr_harts <= PLAT_MAX_HARTS, "nr_harts %d",
		  plat.nr_harts);
	CHECK_MSG(memchr(plat.bootargs, '\0', sizeof(plat.bootargs)) != NULL,
		  "bootargs unterminated");
	return 0;
}

/* ---- QEMU virt ------------------------------------------------------------------------------ */

static const struct {
	const char *file;
	uint64_t ram;
	int smp;
} qemu[] = {
    {"qemu-1g-1.dtb", 1UL << 30, 1},
    {"qemu-3g-4.dtb", 3UL << 30, 4},
    {"qemu-16g-2.dtb", 16UL << 30, 2},
    {"qemu-256g-8.dtb", 256UL << 30, 8},
};

static int check_qemu(uint64_t ram, int smp)
{
	CHECK_RC(expect_invariants());
	CHECK_MSG(plat.nr_warnings == 0, "%d warnings", plat.nr_warnings);
	CHECK_MSG(log_count("device tree:") == 0, "printed a device tree problem");
	CHECK_MSG(plat.nr_mem == 1 && plat.mem[0].base == 0x80000000UL && plat.mem[0].size == ram,
		  "RAM [0x%lx, +0x%lx) x%d, want [0x80000000, +0x%lx)", plat.mem[0].base,
		  plat.mem[0].size, plat.nr_mem, ram);
	CHECK_MSG(strcmp(plat.mem[0].name, "/memory@80000000") == 0, "name '%s'", plat.mem[0].name);
	CHECK_MSG(plat.nr_reserved == 0, "%d reserved", plat.nr_reserved);
	CHECK_MSG(plat.timebase_hz == 10000000, "timebase %lu", plat.timebase_hz);

	CHECK_MSG(plat.nr_harts == smp, "%d harts, want %d", plat.nr_harts, smp);
	for (int i = 0; i < plat.nr_harts; i++) {
		const struct plat_hart *h = &plat.harts[i];

		CHECK_MSG(h->hartid == (uint32_t)i && h->enabled, "hart[%d]: id %u enabled %d", i,
			  h->hartid, h->enabled);
		CHECK_MSG(strcmp(h->mmu, "riscv,sv57") == 0, "hart %d mmu '%s'", i, h->mmu);
		CHECK_MSG(strncmp(h->isa, "rv64imafdc", 10) == 0 && strstr(h->isa, "_sstc"),
			  "hart %d isa '%s' (want rv64imafdc..._sstc..., whole)", i, h->isa);
	}

	CHECK_MSG(plat.dtb_size > 0 && plat.dtb_pa == 0, "dtb_size %u dtb_pa 0x%lx", plat.dtb_size,
		  plat.dtb_pa);
	CHECK_MSG(plat.bootargs[0] == '\0', "bootargs '%s'", plat.bootargs);

	CHECK_MSG(platform_check_reserved(&plat, 0x80200000, 0x80400000) == 0,
		  "kernel at 0x80200000 rejected");
	CHECK_MSG(platform_check_reserved(&plat, 0x1000, 0x2000) == -EINVAL &&
		      log_find(LOG_ERR,
			       "device tree: /: no memory range holds the kernel image [0x1000, "
			       "0x2000)") >= 0,
		  "kernel outside RAM accepted");

	log_clear();
	platform_print(&plat);
	CHECK_MSG(log_has("hart 0: enabled") && log_has("timebase 10000000"),
		  "platform_print output:\n%s", log_text());
	return check_qemu_devices(&plat, ram);
}

static int qemu_case(size_t i)
{
	CHECK_MSG(parse_file(qemu[i].file) == 0, "platform_parse failed");
	return check_qemu(qemu[i].ram, qemu[i].smp);
}

static int qemu_1g_1(void)
{
	return qemu_case(0);
}
static int qemu_3g_4(void)
{
	return qemu_case(1);
}
static int qemu_16g_2(void)
{
	return qemu_case(2);
}
static int qemu_256g_8(void)
{
	return qemu_case(3);
}

/* ---- Fixtures ------------------------------------------------------------------------------- */

static bool mem_is(int i, uint64_t base, uint64_t size)
{
	return i < plat.nr_mem && plat.mem[i].base == base && plat.mem[i].size == size;
}

static int fixture_multi_mem(void)
{
	int rc;

	rc = parse_file("fx/multi-mem.dtb");
	CHECK_MSG(rc == 0, "rc %d", rc);
	CHECK_RC(expect_invariants());
	CHECK_MSG(plat.nr_mem == 4 && mem_is(0, 0x80000000, 0x10000000) &&
		      mem_is(1, 0xc0000000, 0x20000000) && mem_is(2, 0x100000000, 0x40000000) &&
		      mem_is(3, 0x200000000, 0x8000000),
		  "RAM not the 4 sorted ranges (%d)", plat.nr_mem);
	CHECK_MSG(strcmp(plat.mem[0].name, "/memory@80000000") == 0 &&
		      strcmp(plat.mem[2].name, "/memory@100000000") == 0,
		  "names");
	CHECK_MSG(plat.nr_warnings == 0, "%d warnings", plat.nr_warnings);
	CHECK_MSG(strcmp(plat.bootargs, "mem=1G loglevel=7 foo") == 0, "bootargs '%s'",
		  plat.bootargs);
	CHECK_MSG(plat.nr_harts == 3 && plat.harts[0].enabled && !plat.harts[1].enabled &&
		      !plat.harts[2].enabled,
		  "harts %d: %d %d %d", plat.nr_harts, plat.harts[0].enabled, plat.harts[1].enabled,
		  plat.harts[2].enabled);
	CHECK_MSG(strcmp(plat.harts[0].isa, "rv64imafdc_sstc") == 0, "isa '%s'", plat.harts[0].isa);
	CHECK_MSG(plat.timebase_hz == 1000000, "timebase %lu (from cpu@0)", plat.timebase_hz);
	return 0;
}

static int fixture_reserved(void)
{
	int rc;

	rc = parse_file("fx/reserved.dtb");
	CHECK_MSG(rc == 0, "rc %d", rc);
	CHECK_RC(expect_invariants());
	CHECK_MSG(plat.nr_reserved == 5, "%d reserved, want 5", plat.nr_reserved);
	if (plat.nr_reserved == 5) {
		const struct plat_range *r = plat.reserved;

		CHECK_MSG(r[0].base == 0x80000000 && r[0].size == 0x40000 && r[0].nomap &&
			      strcmp(r[0].name, "/reserved-memory/mmode_resv0@80000000") == 0,
			  "reserved[0] 0x%lx +0x%lx %s nomap %d", r[0].base, r[0].size, r[0].name,
			  r[0].nomap);
		CHECK_MSG(r[1].base == 0x80000000 && r[1].size == 0x80000 && !r[1].nomap &&
			      strcmp(r[1].name, "/memreserve/") == 0,
			  "reserved[1] %s", r[1].name);
		CHECK_MSG(r[2].base == 0x87000000 && r[2].size == 0x1000, "reserved[2]");
		CHECK_MSG(r[3].base == 0x90000000 && r[4].base == 0x90200000 &&
			      r[4].size == 0x100000 &&
			      strcmp(r[4].name, "/reserved-memory/fw@90000000") == 0,
			  "fw entries");
	}
	CHECK_MSG(plat.nr_warnings == 1 &&
		      log_find(LOG_WARN,
			       "device tree: /reserved-memory/empty@b0000000: reserved range at "
			       "0xb0000000 size 0x0 is empty, dropped") >= 0,
		  "%d warnings", plat.nr_warnings);
	CHECK_MSG(log_find(LOG_INFO, "device tree: /reserved-memory/dynamic: no reg") >= 0,
		  "dynamic reservation not noted");
	CHECK_MSG(platform_check_reserved(&plat, 0x80200000, 0x80400000) == 0, "kernel clash");
	log_clear();
	CHECK_MSG(platform_check_reserved(&plat, 0x90100000, 0x90300000) == -EINVAL,
		  "no clash found");
	CHECK_MSG(log_find(LOG_ERR,
			   "device tree: /reserved-memory/fw@90000000: reserved [0x90200000, "
			   "0x90300000) overlaps the kernel image [0x90100000, 0x90300000)") >= 0,
		  "clash message");
	CHECK_MSG(log_lines() == 1, "%d lines, want 1 ([0x90000000, +1M) ends at the kernel start)",
		  log_lines());
	return 0;
}

static int fixture_no_memory(void)
{
	int rc;

	rc = parse_file("fx/no-memory.dtb");
	CHECK_MSG(rc == -EINVAL, "rc %d", rc);
	CHECK_MSG(log_find(LOG_ERR, "device tree: /: no memory node") >= 0, "message");
	return 0;
}

static int fixture_reg_length(void)
{
	int rc;

	rc = parse_file("fx/reg-length.dtb");
	CHECK_MSG(rc == 0, "rc %d", rc);
	CHECK_MSG(log_find(LOG_WARN,
			   "device tree: /memory@80000000: reg length 12 is not a multiple "
			   "of 16") >= 0,
		  "message");
	CHECK_MSG(plat.nr_warnings == 1 && plat.nr_mem == 1 && mem_is(0, 0x100000000, 0x40000000),
		  "%d warnings, %d ranges", plat.nr_warnings, plat.nr_mem);
	return 0;
}

static int fixture_reg_length_only(void)
{
	int rc;

	rc = parse_file("fx/reg-length-only.dtb");
	CHECK_MSG(rc == -EINVAL, "rc %d", rc);
	CHECK_MSG(log_find(LOG_WARN,
			   "device tree: /memory@80000000: reg length 12 is not a multiple "
			   "of 16") == 0,
		  "first message");
	CHECK_MSG(log_find(LOG_ERR, "device tree: /: no usable memory left") == 1,
		  "second message");
	return 0;
}

static int fixture_overlap(void)
{
	int rc;

	rc = parse_file("fx/overlap.dtb");
	CHECK_MSG(rc == 0, "rc %d", rc);
	CHECK_RC(expect_invariants());
	CHECK_MSG(plat.nr_mem == 2 && mem_is(0, 0x80000000, 0x40000000) &&
		      mem_is(1, 0xc0000000, 0x20000000),
		  "%d ranges", plat.nr_mem);
	CHECK_MSG(log_find(LOG_WARN,
			   "device tree: /memory@90000000: [0x90000000, 0xa0000000) overlaps "
			   "/memory@80000000 [0x80000000, 0xc0000000), dropped") >= 0,
		  "inside message");
	CHECK_MSG(log_find(LOG_WARN,
			   "device tree: /memory@a0000000: [0xa0000000, 0xe0000000) overlaps "
			   "/memory@80000000 [0x80000000, 0xc0000000), trimmed") >= 0,
		  "trim message");
	CHECK_MSG(plat.nr_warnings == 2, "%d warnings", plat.nr_warnings);
	return 0;
}

static int fixture_zero_size(void)
{
	int rc;

	rc = parse_file("fx/zero-size.dtb");
	CHECK_MSG(rc == 0 && plat.nr_mem == 1 && mem_is(0, 0x90000000, 0x10000000), "rc %d", rc);
	CHECK_MSG(log_find(LOG_WARN, "device tree: /memory@80000000: reg entry 0 at 0x80000000 has "
				     "size 0, dropped") >= 0 &&
		      plat.nr_warnings == 1,
		  "message");
	return 0;
}

static int fixture_cells3(void)
{
	int rc;

	rc = parse_file("fx/cells3.dtb");
	CHECK_MSG(rc == -EINVAL, "rc %d", rc);
	CHECK_MSG(log_find(LOG_ERR,
			   "device tree: /: #address-cells 3 / #size-cells 2 not supported "
			   "for memory") >= 0,
		  "message");
	return 0;
}

static int fixture_cells1(void)
{
	int rc;

	rc = parse_file("fx/cells1.dtb");
	CHECK_MSG(rc == 0 && plat.nr_mem == 1 && mem_is(0, 0x80000000, 0x10000000), "rc %d", rc);
	CHECK_MSG(plat.nr_harts == 1 && plat.harts[0].enabled, "sv39 hart not enabled");
	return check_cells1_uarts(&plat);
}

static int fixture_beyond_16t(void)
{
	int rc;

	rc = parse_file("fx/beyond-16t.dtb");
	CHECK_MSG(rc == 0, "rc %d", rc);
	CHECK_RC(expect_invariants());
	CHECK_MSG(plat.nr_mem == 3 && mem_is(0, 0x80000000, 0x40000000) &&
		      mem_is(1, 0x100001000, 0xf000) && mem_is(2, 0xfffc0000000, 0x40000000),
		  "%d ranges", plat.nr_mem);
	CHECK_MSG(log_find(LOG_WARN,
			   "reg entry 1 [0xfffc0000000, 0x100040000000) clipped at 16 TiB") >= 0,
		  "clip message");
	CHECK_MSG(log_find(LOG_WARN,
			   "reg entry 2 [0x200000000000, 0x200040000000) is above the 16 TiB "
			   "rvmm supports, dropped") >= 0,
		  "drop message");
	CHECK_MSG(log_find(LOG_WARN, "reg entry 3 [0x100000800, 0x100010800) is not page aligned, "
				     "trimmed to [0x100001000, 0x100010000)") >= 0,
		  "align message");
	CHECK_MSG(plat.nr_warnings == 3, "%d warnings", plat.nr_warnings);
	return 0;
}

static int fixture_cpus_bad(void)
{
	int rc;

	rc = parse_file("fx/cpus-bad.dtb");
	CHECK_MSG(rc == 0, "rc %d", rc);
	CHECK_MSG(plat.nr_harts == 1 && plat.harts[0].hartid == 0 && plat.harts[0].enabled,
		  "%d harts", plat.nr_harts);
	CHECK_MSG(log_find(LOG_WARN,
			   "device tree: /cpus/cpu@1: reg length 0 is not one hart id of 1 "
			   "cells, dropped") >= 0,
		  "no-reg message");
	CHECK_MSG(
	    log_find(LOG_WARN, "device tree: /cpus/cpu@2: hart id 0 appears twice, dropped") >= 0,
	    "duplicate message");
	CHECK_MSG(log_find(LOG_WARN, "device tree: /cpus/cpu@3: reg length 8") >= 0,
		  "2-cell message");
	CHECK_MSG(log_find(LOG_WARN, "device tree: /cpus: no timebase-frequency") >= 0, "timebase");
	CHECK_MSG(plat.nr_warnings == 4, "%d warnings", plat.nr_warnings);
	return 0;
}

// A tree with more cpus than PLAT_MAX_HARTS: the first 40 disabled, then 500 usable ones. Built
// here with libfdt's sequential writer (a DTS of 540 nodes would be a fixture of 3000 lines).
static void *many_cpus_dtb(void)
{
	size_t size = 256 * 1024;
	void *fdt = malloc(size);
	char name[32];
	if (!fdt || fdt_create(fdt, (int)size) || fdt_finish_reservemap(fdt) ||
	    fdt_begin_node(fdt, "") || fdt_property_u32(fdt, "#address-cells", 2) ||
	    fdt_property_u32(fdt, "#size-cells", 2) || fdt_begin_node(fdt, "memory@80000000") ||
	    fdt_property_string(fdt, "device_type", "memory"))
		goto fail;
	fdt64_t reg[2] = { cpu_to_fdt64(0x80000000), cpu_to_fdt64(0x40000000) };
	if (fdt_property(fdt, "reg", reg, sizeof(reg)) || fdt_end_node(fdt) ||
	    fdt_begin_node(fdt, "cpus") || fdt_property_u32(fdt, "#address-cells", 1) ||
	    fdt_property_u32(fdt, "#size-cells", 0) ||
	    fdt_property_u32(fdt, "timebase-frequency", 10000000))
		goto fail;
	for (int i = 0; i < 540; i++) {
		snprintf(name, sizeof(name), "cpu@%d", i);
		if (fdt_begin_node(fdt, name) || fdt_property_string(fdt, "device_type", "cpu") ||
		    fdt_property_u32(fdt, "reg", (uint32_t)i) ||
		    fdt_property_string(fdt, "status", i < 40 ? "disabled" : "okay") ||
		    fdt_property_string(fdt, "mmu-type", "riscv,sv48") ||
		    fdt_property_string(fdt, "riscv,isa", "rv64imac") || fdt_end_node(fdt))
			goto fail;
	}
	if (fdt_end_node(fdt) || fdt_end_node(fdt) || fdt_finish(fdt))
		goto fail;
	return fdt;
fail:
	free(fdt);
	return NULL;
}

// Disabled cpus never take a place a usable one needs: all 500 usable harts are kept.
static int many_cpus_disabled_first(void)
{
	void *fdt = many_cpus_dtb();
	CHECK_MSG(fdt, "could not build the tree");
	int rc = platform_parse(&plat, fdt, fdt_totalsize(fdt));
	free(fdt);
	CHECK_MSG(rc == 0, "rc %d", rc);
	int usable = 0;
	for (int i = 0; i < plat.nr_harts; i++)
		usable += plat.harts[i].enabled;
	CHECK_MSG(plat.nr_harts == PLAT_MAX_HARTS && usable == 500, "%d harts, %d usable",
		  plat.nr_harts, usable);
	CHECK_MSG(log_find(LOG_WARN, "more than 512 harts: disabled hart 39 dropped for hart 512") >= 0,
		  "replacement message");
	return 0;
}

static int fixture_pci_imap(void)
{
	int rc;

	rc = parse_file("fx/pci-imap.dtb");
	CHECK_MSG(rc == 0 && plat.nr_warnings == 0, "rc %d, %d warnings", rc, plat.nr_warnings);
	return check_pci_imap_fixture(&plat);
}

/* ---- The DTBs made for the system tests (tests/fixtures/make-bad-dtbs.sh) ------------------ */

static int bad_dtb_memreg12(void)
{
	int rc;

	rc = parse_file("bad/memreg12.dtb");
	CHECK_MSG(rc == -EINVAL, "rc %d", rc);
	CHECK_MSG(log_find(LOG_WARN,
			   "device tree: /memory@80000000: reg length 12 is not a multiple of "
			   "16") >= 0,
		  "reg message");
	CHECK_MSG(log_find(LOG_ERR, "device tree: /: no usable memory left") >= 0, "fatal message");
	return 0;
}

static int bad_dtb_nomem(void)
{
	int rc;

	rc = parse_file("bad/nomem.dtb");
	CHECK_MSG(rc == -EINVAL && log_find(LOG_ERR, "device tree: /: no memory node") >= 0,
		  "rc %d", rc);
	return 0;
}

static int bad_dtb_overlap(void)
{
	int rc;

	rc = parse_file("bad/overlap.dtb");
	CHECK_MSG(rc == 0, "rc %d", rc);
	CHECK_MSG(plat.nr_mem == 2 && total_ram() == 2UL << 30, "%d ranges, 0x%lx bytes",
		  plat.nr_mem, total_ram());
	CHECK_MSG(log_find(LOG_WARN,
			   "device tree: /memory@c0000000: [0xc0000000, 0x100000000) overlaps "
			   "/memory@80000000 [0x80000000, 0xe0000000), trimmed") >= 0,
		  "message");
	CHECK_MSG(plat.nr_warnings == 1, "%d warnings", plat.nr_warnings);
	return 0;
}

static int bad_dtb_resv_kernel(void)
{
	int rc;

	rc = parse_file("bad/resv-kernel.dtb");
	CHECK_MSG(rc == 0 && plat.nr_warnings == 0, "rc %d, %d warnings", rc, plat.nr_warnings);
	rc = platform_check_reserved(&plat, 0x80200000, 0x80400000);
	CHECK_MSG(rc == -EINVAL, "rc %d", rc);
	CHECK_MSG(log_find(LOG_ERR,
			   "device tree: /reserved-memory/rvmm-test@80200000: reserved "
			   "[0x80200000, 0x80400000) overlaps the kernel image [0x80200000, "
			   "0x80400000)") >= 0,
		  "message");
	return 0;
}

TEST_SUITE(platform_suite, "platform",
	   CASE(qemu_1g_1),
	   CASE(qemu_3g_4),
	   CASE(qemu_16g_2),
	   CASE(qemu_256g_8))

TEST_SUITE(fixture_suite, "fixture",
	   CASE(fixture_multi_mem),
	   CASE(fixture_reserved),
	   CASE(fixture_no_memory),
	   CASE(fixture_reg_length),
	   CASE(fixture_reg_length_only),
	   CASE(fixture_overlap),
	   CASE(fixture_zero_size),
	   CASE(fixture_cells3),
	   CASE(fixture_cells1),
	   CASE(fixture_beyond_16t),
	   CASE(fixture_cpus_bad),
	   CASE(fixture_pci_imap),
	   CASE(many_cpus_disabled_first))

TEST_SUITE(bad_dtb_suite, "bad_dtb",
	   CASE(bad_dtb_memreg12),
	   CASE(bad_dtb_nomem),
	   CASE(bad_dtb_overlap),
	   CASE(bad_dtb_resv_kernel))
