// SPDX-License-Identifier: MIT
//
// Reporting tests: ptdump format and folding, meminfo figures, the sections table and map,
// memtest, and the console commands wrapping them.
//
// Interface: main() runs the "report" case table (one case by name: build/host/mm/test_report CASE).

#include <stdio.h>
#include <string.h>

#include <rvmm/console.h>
#include <rvmm/errno.h>
#include <rvmm/hotplug.h>
#include <rvmm/kpt.h>
#include <rvmm/memtest.h>
#include <rvmm/page_alloc.h>
#include <rvmm/section.h>
#include <rvmm/section_map.h>

#include "sim.h"
#include "test.h"

static int boot2g(void)
{
	struct sim_config cfg = { .ram_size = GiB(2) };
	return sim_boot(&cfg);
}

static int ptdump_folding(void)
{
	CHECK_RC(boot2g());
	uintptr_t io = mm_layout.io_base;
	CHECK_RC(kpt_map_range(io, 0x4000000000, 3 * SZ_2M, PROT_READ | PROT_WRITE | PROT_IO));
	CHECK_RC(kpt_map_range(io + 3 * SZ_2M, 0x4000600000, 2 * SZ_4K, PROT_READ));
	CHECK_RC(kpt_map_range(io + 3 * SZ_2M + 2 * SZ_4K, 0x4000602000, SZ_4K, PROT_READ | PROT_WRITE));
	log_clear();
	CHECK_EQ(ptdump(io, io + SZ_1G), 3);
	char want[512];
	snprintf(want, sizeof(want),
		 "---[ I/O ]---\n"
		 "0x%016lx-0x%016lx      6M  2M  RW- GAD IO\n"
		 "0x%016lx-0x%016lx      8K  4K  R-- GA.\n"
		 "0x%016lx-0x%016lx      4K  4K  RW- GAD\n",
		 io, io + 3 * SZ_2M, io + 3 * SZ_2M, io + 3 * SZ_2M + 2 * SZ_4K,
		 io + 3 * SZ_2M + 2 * SZ_4K, io + 3 * SZ_2M + 3 * SZ_4K);
	if (strcmp(log_text(), want)) {
		test_fail(__FILE__, __LINE__, "got:\n%s\nwant:\n%s", log_text(), want);
		return 1;
	}
	CHECK(!rw_is_held(&hotplug_lock));
	return 0;
}

static int ptdump_regions(void)
{
	CHECK_RC(boot2g());
	log_clear();
	CHECK_RC(sim_run("ptdump"));
	const char *log = log_text();
	const char *dm = strstr(log, "---[ Direct map ]---"), *vm = strstr(log, "---[ vmemmap ]---");
	const char *io = strstr(log, "---[ I/O ]---"), *ki = strstr(log, "---[ Kernel image ]---");
	CHECK(dm && vm && io && ki && dm < vm && vm < io && io < ki);
	// Direct map: the arch's 1 GiB early window cut back around OpenSBI's no-map 512 KiB, then
	// a 1G leaf.
	char want[320];
	uintptr_t po = mm_layout.page_offset;
	snprintf(want, sizeof(want),
		 "---[ Direct map ]---\n0x%016lx-0x%016lx   1536K  4K  RW- GAD\n"
		 "0x%016lx-0x%016lx   1022M  2M  RW- GAD\n"
		 "0x%016lx-0x%016lx      1G  1G  RW- GAD\n---[ vmemmap ]---\n",
		 po + 0x80080000, po + 0x80200000, po + 0x80200000, po + 0xc0000000, po + 0xc0000000,
		 po + 0x100000000);
	CHECK(strstr(log, want));
	// vmemmap: 16 sections = 8 shared 2 MiB leaves, one line.
	snprintf(want, sizeof(want), "0x%016lx-0x%016lx     16M  2M  RW- GAD\n",
		 (uintptr_t)pfn_to_page(0x80000), (uintptr_t)pfn_to_page(0x100000));
	CHECK(strstr(log, want));
	CHECK(strstr(log, "---[ Kernel image ]---\n") && strstr(ki, "2M  RWX GAD\n"));
	// A range: only what lies in it, with its header.
	log_clear();
	char cmd[96];
	snprintf(cmd, sizeof(cmd), "ptdump 0x%lx 0x%lx", po + 0xc0000000, po + 0xc0200000);
	CHECK_RC(sim_run(cmd));
	snprintf(want, sizeof(want), "---[ Direct map ]---\n0x%016lx-0x%016lx      2M  1G  RW- GAD\n",
		 po + 0xc0000000, po + 0xc0200000);
	CHECK(!strcmp(log_text(), want));
	CHECK_EQ(sim_run("ptdump 5"), CMD_USAGE);
	CHECK_EQ(sim_run("ptdump 9 3"), CMD_USAGE);
	CHECK_EQ(sim_run("ptdump x y"), CMD_USAGE);
	return 0;
}

static int line_value(const char *name, unsigned long long *v)
{
	const char *p = strstr(log_text(), name);
	return p && sscanf(p + strlen(name), "%llu", v) == 1 ? 0 : -1;
}

static int meminfo_figures(void)
{
	CHECK_RC(boot2g());
	struct page *p = alloc_pages(4, GFP_KERNEL);
	CHECK(p);
	log_clear();
	CHECK_RC(sim_run("meminfo"));
	char want[64];
	snprintf(want, sizeof(want), "%-16s%8llu kB\n", "MemTotal:",
		 (unsigned long long)total_managed_pages() * 4);
	CHECK(strstr(log_text(), want));
	unsigned long long v;
	CHECK_RC(line_value("MemFree:", &v));
	CHECK_EQ(v, total_free_pages() * 4);
	CHECK_RC(line_value("MemFreeNormal:", &v));
	CHECK_EQ(v, zone_free_pages(ZONE_NORMAL) * 4);
	CHECK_RC(line_value("MemFreeMovable:", &v));
	CHECK_EQ(v, 0);
	CHECK_RC(line_value("PageTables:", &v));
	CHECK_EQ(v, kpt_pgtable_pages() * 4);
	CHECK_RC(line_value("Memmap:", &v));
	CHECK_EQ(v, 16 * 1024); // 16 sections, 1 MiB each
	CHECK(log_has("Page descriptor: 32 bytes\n"));
	CHECK(log_has("Paging mode: sv48\n"));
	CHECK(log_has("Deferred init: 15 sections pending\n"));
	struct meminfo mi;
	mm_meminfo(&mi);
	CHECK_EQ(mi.total_kb - mi.free_kb, 64); // the order-4 block
	CHECK_EQ(sim_run("meminfo extra"), CMD_USAGE);
	return 0;
}

static int sections_table(void)
{
	struct sim_config cfg = { .ram_size = GiB(2), .mem_limit = GiB(1) };
	CHECK_RC(sim_boot(&cfg));
	log_clear();
	CHECK_RC(sim_run("sections"));
	CHECK(log_has("sections of 128 MiB: 8 online, 0 present,"));
	CHECK(log_has("         0-15  0x000000000000-0x000080000000  absent   (16 sections)\n"));
	CHECK(log_has("           16  0x000080000000-0x000088000000  online   Normal       32112  boot\n"));
	CHECK(log_has("        17-23  0x000088000000-0x0000c0000000  online   Normal      227305  boot deferred\n"));
	CHECK(log_has("     24-16383  0x0000c0000000-0x020000000000  absent   (16360 sections)\n"));
	CHECK(log_has("0x0000c0000000-0x000100000000  RAM above mem= (hot-add can add it)"));
	// -a: a line per boot section too.
	log_clear();
	CHECK_RC(sim_run("sections -a"));
	CHECK(log_has("           18  0x000090000000-0x000098000000  online   Normal       32768  boot deferred\n"));
	CHECK_EQ(sim_run("sections -x"), CMD_USAGE);
	return 0;
}

// A device region of 1 TiB above 4 GiB whose driver gave up on its sixth section.
static bool region_failed(const struct mem_region *r, unsigned long nr)
{
	return nr == (r->start >> SECTION_SHIFT) + 5;
}

static int section_map_folded(void)
{
	struct sim_config cfg = { .ram_size = GiB(2), .mem_limit = GiB(1) };
	CHECK_RC(sim_boot(&cfg));
	static const struct mem_region region = { .name = "test", .start = GiB(4),
						  .end = GiB(4) + GiB(1024),
						  .section_failed = region_failed };
	CHECK_RC(mem_region_register(&region));
	CHECK_RC(sim_run("hotadd 0xc0000000 128M"));
	CHECK_RC(sim_run("plug 0xc8000000 128M memmap_on_memory"));
	CHECK_RC(sim_run("hotadd 0xd0000000 128M"));
	CHECK_RC(sim_run("online 0xd0000000 2M normal"));
	log_clear();
	CHECK_RC(sim_run("sections --map"));
	// Sections 16-23 boot RAM, 24 offline, 25 its own memmap, 26 partly online, 27-31 hidden
	// RAM, 32-8223 the region (37 given up on); lines of 64 from 0, 126 all-absent ones folded.
	CHECK(log_has("section map: 0x000080000000-0x010100000000, 8208 sections of 128 MiB, "
			  "64 a line (8 GiB)\n"
			  "                0       1G      2G      3G      4G      5G      6G      7G\n"
			  "0x000000000000                  NNNNNNNNovn..........!..........................\n"
			  "0x000200000000  ................................................................\n"
			  "                ... 126 more lines like this one, up to 0x010000000000\n"
			  "0x010000000000  ................................\n"
			  "  .  absent (RAM can be added)     8196    -  absent (nothing to add)          0\n"
			  "  o  present, offline                 1    v  memmap on its own memory         1\n"
			  "  N  online, Normal                   8    M  online, Movable                  0\n"
			  "  n  partly online, Normal            1    m  partly online, Movable           0\n"
			  "  !  given up on by its driver        1\n"));
	CHECK(log_has("device region test: 0x000100000000-0x010100000000 (sections 32-8223)\n"));
	char want[128];
	snprintf(want, sizeof(want), "MemTotal %llu kB\n",
		 (unsigned long long)total_managed_pages() << (PAGE_SHIFT - 10));
	CHECK(log_has(want));
	CHECK(log_has("online 1154 MiB (Normal 1026, Movable 128), added but offline 254 MiB;"));
	// Every character agrees with section_map_char; the map is a screenful.
	CHECK_EQ(section_map_char(16), 'N');
	CHECK_EQ(section_map_char(37), '!');
	CHECK_EQ(section_map_char(8224), '-');
	unsigned lines = 0;
	for (const char *p = log_text(); *p; p++)
		lines += *p == '\n';
	CHECK(lines <= 16);
	mem_region_unregister(&region);
	CHECK_EQ(section_map_char(30), '.'); // hidden RAM
	CHECK_EQ(section_map_char(37), '-'); // nothing can come there any more
	CHECK_EQ(sim_run("sections --map x"), CMD_USAGE);
	return 0;
}

static phys_addr_t corrupt_pa;
static void corrupt(phys_addr_t pa, uint64_t size __unused)
{
	corrupt_pa = pa + 128;
	*(uint64_t *)__va(corrupt_pa) ^= 4;
}

static int memtest_cmd(void)
{
	struct sim_config cfg = { .ram_size = MiB(256) };
	CHECK_RC(sim_boot(&cfg));
	uint64_t free0 = total_free_pages();
	log_clear();
	CHECK_RC(sim_run("memtest 16M"));
	CHECK(log_has("memtest: ok (16 MiB)\n"));
	page_alloc_drain_local();
	CHECK_EQ(total_free_pages(), free0);
	// All of it.
	log_clear();
	CHECK_RC(sim_run("memtest"));
	char want[64];
	snprintf(want, sizeof(want), "memtest: ok (%llu MiB)\n", (unsigned long long)(free0 >> 8));
	CHECK(log_has(want));
	page_alloc_drain_local();
	CHECK_EQ(total_free_pages(), free0);
	// A flipped bit is reported with its address; memory still returned.
	memtest_hook = corrupt;
	log_clear();
	CHECK_EQ(memtest(MiB(8)), -EIO);
	snprintf(want, sizeof(want), "memtest: FAILED at pa 0x%llx", (unsigned long long)corrupt_pa);
	CHECK(log_has(want));
	memtest_hook = NULL;
	page_alloc_drain_local();
	CHECK_EQ(total_free_pages(), free0);
	CHECK_EQ(sim_run("memtest lots"), CMD_USAGE);
	return sim_check_buddy(NULL, 0, 0);
}

static int commands_listed(void)
{
	const char *names[] = { "meminfo", "ptdump", "sections", "memtest" };
	for (unsigned i = 0; i < ARRAY_SIZE(names); i++) {
		bool found = false;
		for (const struct console_command *c = console_commands_begin(); c < console_commands_end(); c++)
			if (!strcmp(c->name, names[i]) && c->usage && c->summary && c->run)
				found = true;
		CHECK(found);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
		CASE(ptdump_folding),
		CASE(ptdump_regions),
		CASE(meminfo_figures),
		CASE(sections_table),
		CASE(section_map_folded),
		CASE(memtest_cmd),
		CASE(commands_listed),
	};
	return test_main("report", cases, ARRAY_SIZE(cases), argc, argv);
}
