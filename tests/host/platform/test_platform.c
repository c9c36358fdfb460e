// SPDX-License-Identifier: MIT
/*
 * platform_parse() on real trees: QEMU virt's own DTBs (dumped at build time for several -m/-smp)
 * and the DTS fixtures in tests/fixtures/dts/ (compiled at build time), each checked field by
 * field and message by message. Also the DTBs tests/fixtures/make-bad-dtbs.sh makes for the
 * system tests, so the messages documented there are the ones printed.
 */
#include "harness.h"

#include <rvmm/errno.h>
#include <rvmm/platform.h>
#include <rvmm/printk.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct platform plat;
static void *blob;

// Parse dir/name into plat. Returns the rc, or 1 (after a failure) if the file is missing.
static int parse_file(const char *dir, const char *name)
{
	char path[512];
	size_t size;
	void *fdt;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fdt = load_file(path, &size);
	if (!fdt) {
		EXPECT(0, "cannot read %s (make platform-tests generates it)", path);
		return 1;
	}
	rc = platform_parse(&plat, fdt, size);
	free(blob);  /* plat.fdt points into the blob: keep it until the next parse */
	blob = fdt;
	return rc;
}

static uint64_t total_ram(void)
{
	uint64_t t = 0;

	for (int i = 0; i < plat.nr_mem; i++)
		t += plat.mem[i].size;
	return t;
}

// What every parse result must satisfy, good tree or not.
static void expect_invariants(void)
{
	EXPECT(plat.nr_mem >= 1 && plat.nr_mem <= PLAT_MAX_MEM, "nr_mem %d", plat.nr_mem);
	for (int i = 0; i < plat.nr_mem; i++) {
		const struct plat_range *r = &plat.mem[i];

		EXPECT(r->size > 0, "mem[%d] empty", i);
		EXPECT(IS_ALIGNED(r->base, PAGE_SIZE) && IS_ALIGNED(r->size, PAGE_SIZE),
		       "mem[%d] [0x%lx, +0x%lx) not page aligned", i, r->base, r->size);
		EXPECT(r->base + r->size <= PLAT_PHYS_LIMIT, "mem[%d] ends above 16 TiB", i);
		EXPECT(i == 0 || plat.mem[i - 1].base + plat.mem[i - 1].size <= r->base,
		       "mem[%d] overlaps or is out of order", i);
		EXPECT(memchr(r->name, '\0', sizeof(r->name)) != NULL, "mem[%d] name unterminated", i);
	}
	EXPECT(plat.nr_reserved >= 0 && plat.nr_reserved <= PLAT_MAX_RESERVED, "nr_reserved %d",
	       plat.nr_reserved);
	EXPECT(plat.nr_harts >= 0 && plat.nr_harts <= PLAT_MAX_HARTS, "nr_harts %d", plat.nr_harts);
	EXPECT(memchr(plat.bootargs, '\0', sizeof(plat.bootargs)) != NULL, "bootargs unterminated");
}

/* ---- QEMU virt ------------------------------------------------------------------------------ */

static const struct {
	const char *file;
	uint64_t ram;
	int smp;
} qemu[] = {
	{ "qemu-1g-1.dtb", 1UL << 30, 1 },
	{ "qemu-3g-4.dtb", 3UL << 30, 4 },
	{ "qemu-16g-2.dtb", 16UL << 30, 2 },
	{ "qemu-256g-8.dtb", 256UL << 30, 8 },
};

static void check_qemu(uint64_t ram, int smp)
{
	expect_invariants();
	EXPECT(plat.nr_warnings == 0, "%d warnings", plat.nr_warnings);
	EXPECT(log_count("device tree:") == 0, "printed a device tree problem");
	EXPECT(plat.nr_mem == 1 && plat.mem[0].base == 0x80000000UL && plat.mem[0].size == ram,
	       "RAM [0x%lx, +0x%lx) x%d, want [0x80000000, +0x%lx)", plat.mem[0].base,
	       plat.mem[0].size, plat.nr_mem, ram);
	EXPECT(strcmp(plat.mem[0].name, "/memory@80000000") == 0, "name '%s'", plat.mem[0].name);
	EXPECT(plat.nr_reserved == 0, "%d reserved", plat.nr_reserved);
	EXPECT(plat.timebase_hz == 10000000, "timebase %lu", plat.timebase_hz);

	EXPECT(plat.nr_harts == smp, "%d harts, want %d", plat.nr_harts, smp);
	for (int i = 0; i < plat.nr_harts; i++) {
		const struct plat_hart *h = &plat.harts[i];

		EXPECT(h->hartid == (uint32_t)i && h->enabled, "hart[%d]: id %u enabled %d", i,
		       h->hartid, h->enabled);
		EXPECT(strcmp(h->mmu, "riscv,sv57") == 0, "hart %d mmu '%s'", i, h->mmu);
		EXPECT(strncmp(h->isa, "rv64imafdc", 10) == 0 && strstr(h->isa, "_sstc"),
		       "hart %d isa '%s' (want rv64imafdc..._sstc..., whole)", i, h->isa);
	}

	EXPECT(plat.dtb_size > 0 && plat.dtb_pa == 0, "dtb_size %u dtb_pa 0x%lx", plat.dtb_size,
	       plat.dtb_pa);
	EXPECT(plat.bootargs[0] == '\0', "bootargs '%s'", plat.bootargs);

	EXPECT(platform_check_reserved(&plat, 0x80200000, 0x80400000) == 0,
	       "kernel at 0x80200000 rejected");
	EXPECT(platform_check_reserved(&plat, 0x1000, 0x2000) == -EINVAL &&
	       log_find(LOG_ERR, "device tree: /: no memory range holds the kernel image [0x1000, "
			"0x2000)") >= 0, "kernel outside RAM accepted");

	out_clear();
	platform_print(&plat);
	EXPECT(strstr(out_text(), "hart 0: enabled") && strstr(out_text(), "timebase 10000000"),
	       "platform_print output:\n%s", out_text());
	check_qemu_devices(&plat, ram);
}

static void qemu_tests(void)
{
	char name[64];

	for (size_t i = 0; i < sizeof(qemu) / sizeof(qemu[0]); i++) {
		snprintf(name, sizeof(name), "%.*s", (int)(strlen(qemu[i].file) - 4), qemu[i].file);
		t_start("platform", name);
		if (parse_file(dtb_dir, qemu[i].file) == 0)
			check_qemu(qemu[i].ram, qemu[i].smp);
		else
			EXPECT(0, "platform_parse failed");
		t_finish();
	}
}

/* ---- Fixtures ------------------------------------------------------------------------------- */

static char fx_dir[512];

static bool mem_is(int i, uint64_t base, uint64_t size)
{
	return i < plat.nr_mem && plat.mem[i].base == base && plat.mem[i].size == size;
}

static void fixture_tests(void)
{
	int rc;

	snprintf(fx_dir, sizeof(fx_dir), "%s/fx", dtb_dir);

	t_start("fixture", "multi-mem");
	rc = parse_file(fx_dir, "multi-mem.dtb");
	EXPECT(rc == 0, "rc %d", rc);
	expect_invariants();
	EXPECT(plat.nr_mem == 4 && mem_is(0, 0x80000000, 0x10000000) &&
	       mem_is(1, 0xc0000000, 0x20000000) && mem_is(2, 0x100000000, 0x40000000) &&
	       mem_is(3, 0x200000000, 0x8000000), "RAM not the 4 sorted ranges (%d)", plat.nr_mem);
	EXPECT(strcmp(plat.mem[0].name, "/memory@80000000") == 0 &&
	       strcmp(plat.mem[2].name, "/memory@100000000") == 0, "names");
	EXPECT(plat.nr_warnings == 0, "%d warnings", plat.nr_warnings);
	EXPECT(strcmp(plat.bootargs, "mem=1G loglevel=7 foo") == 0, "bootargs '%s'", plat.bootargs);
	EXPECT(plat.nr_harts == 3 && plat.harts[0].enabled && !plat.harts[1].enabled &&
	       !plat.harts[2].enabled, "harts %d: %d %d %d", plat.nr_harts, plat.harts[0].enabled,
	       plat.harts[1].enabled, plat.harts[2].enabled);
	EXPECT(strcmp(plat.harts[0].isa, "rv64imafdc_sstc") == 0, "isa '%s'", plat.harts[0].isa);
	EXPECT(plat.timebase_hz == 1000000, "timebase %lu (from cpu@0)", plat.timebase_hz);
	t_finish();

	t_start("fixture", "reserved");
	rc = parse_file(fx_dir, "reserved.dtb");
	EXPECT(rc == 0, "rc %d", rc);
	expect_invariants();
	EXPECT(plat.nr_reserved == 5, "%d reserved, want 5", plat.nr_reserved);
	if (plat.nr_reserved == 5) {
		const struct plat_range *r = plat.reserved;

		EXPECT(r[0].base == 0x80000000 && r[0].size == 0x40000 && r[0].nomap &&
		       strcmp(r[0].name, "/reserved-memory/mmode_resv0@80000000") == 0,
		       "reserved[0] 0x%lx +0x%lx %s nomap %d", r[0].base, r[0].size, r[0].name, r[0].nomap);
		EXPECT(r[1].base == 0x80000000 && r[1].size == 0x80000 && !r[1].nomap &&
		       strcmp(r[1].name, "/memreserve/") == 0, "reserved[1] %s", r[1].name);
		EXPECT(r[2].base == 0x87000000 && r[2].size == 0x1000, "reserved[2]");
		EXPECT(r[3].base == 0x90000000 && r[4].base == 0x90200000 && r[4].size == 0x100000 &&
		       strcmp(r[4].name, "/reserved-memory/fw@90000000") == 0, "fw entries");
	}
	EXPECT(plat.nr_warnings == 1 &&
	       log_find(LOG_WARN, "device tree: /reserved-memory/empty@b0000000: reserved range at "
			"0xb0000000 size 0x0 is empty, dropped") >= 0, "%d warnings", plat.nr_warnings);
	EXPECT(log_find(LOG_INFO, "device tree: /reserved-memory/dynamic: no reg") >= 0,
	       "dynamic reservation not noted");
	EXPECT(platform_check_reserved(&plat, 0x80200000, 0x80400000) == 0, "kernel clash");
	log_clear();
	EXPECT(platform_check_reserved(&plat, 0x90100000, 0x90300000) == -EINVAL, "no clash found");
	EXPECT(log_find(LOG_ERR, "device tree: /reserved-memory/fw@90000000: reserved [0x90200000, "
			"0x90300000) overlaps the kernel image [0x90100000, 0x90300000)") >= 0,
	       "clash message");
	EXPECT(log_lines() == 1, "%d lines, want 1 ([0x90000000, +1M) ends at the kernel start)",
	       log_lines());
	t_finish();

	t_start("fixture", "no-memory");
	rc = parse_file(fx_dir, "no-memory.dtb");
	EXPECT(rc == -EINVAL, "rc %d", rc);
	EXPECT(log_find(LOG_ERR, "device tree: /: no memory node") >= 0, "message");
	t_finish();

	t_start("fixture", "reg-length");
	rc = parse_file(fx_dir, "reg-length.dtb");
	EXPECT(rc == 0, "rc %d", rc);
	EXPECT(log_find(LOG_WARN, "device tree: /memory@80000000: reg length 12 is not a multiple "
			"of 16") >= 0, "message");
	EXPECT(plat.nr_warnings == 1 && plat.nr_mem == 1 && mem_is(0, 0x100000000, 0x40000000),
	       "%d warnings, %d ranges", plat.nr_warnings, plat.nr_mem);
	t_finish();

	t_start("fixture", "reg-length-only");
	rc = parse_file(fx_dir, "reg-length-only.dtb");
	EXPECT(rc == -EINVAL, "rc %d", rc);
	EXPECT(log_find(LOG_WARN, "device tree: /memory@80000000: reg length 12 is not a multiple "
			"of 16") == 0, "first message");
	EXPECT(log_find(LOG_ERR, "device tree: /: no usable memory left") == 1, "second message");
	t_finish();

	t_start("fixture", "overlap");
	rc = parse_file(fx_dir, "overlap.dtb");
	EXPECT(rc == 0, "rc %d", rc);
	expect_invariants();
	EXPECT(plat.nr_mem == 2 && mem_is(0, 0x80000000, 0x40000000) &&
	       mem_is(1, 0xc0000000, 0x20000000), "%d ranges", plat.nr_mem);
	EXPECT(log_find(LOG_WARN, "device tree: /memory@90000000: [0x90000000, 0xa0000000) overlaps "
			"/memory@80000000 [0x80000000, 0xc0000000), dropped") >= 0, "inside message");
	EXPECT(log_find(LOG_WARN, "device tree: /memory@a0000000: [0xa0000000, 0xe0000000) overlaps "
			"/memory@80000000 [0x80000000, 0xc0000000), trimmed") >= 0, "trim message");
	EXPECT(plat.nr_warnings == 2, "%d warnings", plat.nr_warnings);
	t_finish();

	t_start("fixture", "zero-size");
	rc = parse_file(fx_dir, "zero-size.dtb");
	EXPECT(rc == 0 && plat.nr_mem == 1 && mem_is(0, 0x90000000, 0x10000000), "rc %d", rc);
	EXPECT(log_find(LOG_WARN, "device tree: /memory@80000000: reg entry 0 at 0x80000000 has "
			"size 0, dropped") >= 0 && plat.nr_warnings == 1, "message");
	t_finish();

	t_start("fixture", "cells3");
	rc = parse_file(fx_dir, "cells3.dtb");
	EXPECT(rc == -EINVAL, "rc %d", rc);
	EXPECT(log_find(LOG_ERR, "device tree: /: #address-cells 3 / #size-cells 2 not supported "
			"for memory") >= 0, "message");
	t_finish();

	t_start("fixture", "cells1");
	rc = parse_file(fx_dir, "cells1.dtb");
	EXPECT(rc == 0 && plat.nr_mem == 1 && mem_is(0, 0x80000000, 0x10000000), "rc %d", rc);
	check_cells1_uarts(&plat);
	EXPECT(plat.nr_harts == 1 && plat.harts[0].enabled, "sv39 hart not enabled");
	t_finish();

	t_start("fixture", "beyond-16t");
	rc = parse_file(fx_dir, "beyond-16t.dtb");
	EXPECT(rc == 0, "rc %d", rc);
	expect_invariants();
	EXPECT(plat.nr_mem == 3 && mem_is(0, 0x80000000, 0x40000000) &&
	       mem_is(1, 0x100001000, 0xf000) && mem_is(2, 0xfffc0000000, 0x40000000),
	       "%d ranges", plat.nr_mem);
	EXPECT(log_find(LOG_WARN, "reg entry 1 [0xfffc0000000, 0x100040000000) clipped at 16 TiB") >= 0,
	       "clip message");
	EXPECT(log_find(LOG_WARN, "reg entry 2 [0x200000000000, 0x200040000000) is above the 16 TiB "
			"rvmm supports, dropped") >= 0, "drop message");
	EXPECT(log_find(LOG_WARN, "reg entry 3 [0x100000800, 0x100010800) is not page aligned, "
			"trimmed to [0x100001000, 0x100010000)") >= 0, "align message");
	EXPECT(plat.nr_warnings == 3, "%d warnings", plat.nr_warnings);
	t_finish();

	t_start("fixture", "cpus-bad");
	rc = parse_file(fx_dir, "cpus-bad.dtb");
	EXPECT(rc == 0, "rc %d", rc);
	EXPECT(plat.nr_harts == 1 && plat.harts[0].hartid == 0 && plat.harts[0].enabled,
	       "%d harts", plat.nr_harts);
	EXPECT(log_find(LOG_WARN, "device tree: /cpus/cpu@1: reg length 0 is not one hart id of 1 "
			"cells, dropped") >= 0, "no-reg message");
	EXPECT(log_find(LOG_WARN, "device tree: /cpus/cpu@2: hart id 0 appears twice, dropped") >= 0,
	       "duplicate message");
	EXPECT(log_find(LOG_WARN, "device tree: /cpus/cpu@3: reg length 8") >= 0, "2-cell message");
	EXPECT(log_find(LOG_WARN, "device tree: /cpus: no timebase-frequency") >= 0, "timebase");
	EXPECT(plat.nr_warnings == 4, "%d warnings", plat.nr_warnings);
	t_finish();

	t_start("fixture", "pci-imap");
	rc = parse_file(fx_dir, "pci-imap.dtb");
	EXPECT(rc == 0 && plat.nr_warnings == 0, "rc %d, %d warnings", rc, plat.nr_warnings);
	check_pci_imap_fixture(&plat);
	t_finish();
}

/* ---- The DTBs made for the system tests (tests/fixtures/make-bad-dtbs.sh) ------------------ */

static void bad_dtb_tests(void)
{
	char dir[512];
	int rc;

	snprintf(dir, sizeof(dir), "%s/bad", dtb_dir);

	t_start("bad-dtb", "memreg12");
	rc = parse_file(dir, "memreg12.dtb");
	EXPECT(rc == -EINVAL, "rc %d", rc);
	EXPECT(log_find(LOG_WARN, "device tree: /memory@80000000: reg length 12 is not a multiple of "
			"16") >= 0, "reg message");
	EXPECT(log_find(LOG_ERR, "device tree: /: no usable memory left") >= 0, "fatal message");
	t_finish();

	t_start("bad-dtb", "nomem");
	rc = parse_file(dir, "nomem.dtb");
	EXPECT(rc == -EINVAL && log_find(LOG_ERR, "device tree: /: no memory node") >= 0, "rc %d", rc);
	t_finish();

	t_start("bad-dtb", "overlap");
	rc = parse_file(dir, "overlap.dtb");
	EXPECT(rc == 0, "rc %d", rc);
	EXPECT(plat.nr_mem == 2 && total_ram() == 2UL << 30, "%d ranges, 0x%lx bytes", plat.nr_mem,
	       total_ram());
	EXPECT(log_find(LOG_WARN, "device tree: /memory@c0000000: [0xc0000000, 0x100000000) overlaps "
			"/memory@80000000 [0x80000000, 0xe0000000), trimmed") >= 0, "message");
	EXPECT(plat.nr_warnings == 1, "%d warnings", plat.nr_warnings);
	t_finish();

	t_start("bad-dtb", "resv-kernel");
	rc = parse_file(dir, "resv-kernel.dtb");
	EXPECT(rc == 0 && plat.nr_warnings == 0, "rc %d, %d warnings", rc, plat.nr_warnings);
	rc = platform_check_reserved(&plat, 0x80200000, 0x80400000);
	EXPECT(rc == -EINVAL, "rc %d", rc);
	EXPECT(log_find(LOG_ERR, "device tree: /reserved-memory/rvmm-test@80200000: reserved "
			"[0x80200000, 0x80400000) overlaps the kernel image [0x80200000, "
			"0x80400000)") >= 0, "message");
	t_finish();
}

void run_platform_tests(void)
{
	qemu_tests();
	fixture_tests();
	bad_dtb_tests();
}
