// SPDX-License-Identifier: MIT
//
// Console commands of the memory model: meminfo [NODE], ptdump [START END], sections [-a | --map],
// memtest [SIZE]. Thin wrappers: argument parsing here, the work in meminfo.c, ptdump.c,
// section_map.c, memtest.c.
//
// Interface: the CONSOLE_COMMANDs meminfo, ptdump, sections, memtest.

#include <rvmm/console.h>
#include <rvmm/errno.h>
#include <rvmm/kpt.h>
#include <rvmm/memtest.h>
#include <rvmm/mm.h>
#include <rvmm/printk.h>
#include <rvmm/section_map.h>
#include <string.h>

static int cmd_meminfo(int argc, char **argv)
{
	uint64_t nid;
	if (argc == 1) {
		mm_print_meminfo();
		return 0;
	}
	if (argc != 2 || parse_u64(argv[1], &nid) || nid > INT32_MAX)
		return CMD_USAGE;
	return mm_print_node_meminfo((int)nid);
}

static int cmd_ptdump(int argc, char **argv)
{
	uint64_t start = 0, end = 0;
	if (argc == 3) {
		if (parse_u64(argv[1], &start) || parse_u64(argv[2], &end) || start >= end)
			return CMD_USAGE;
	} else if (argc != 1) {
		return CMD_USAGE;
	}
	ptdump((uintptr_t)start, (uintptr_t)end);
	return 0;
}

static int cmd_sections(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--map")) {
		mm_print_section_map();
		return 0;
	}
	if (argc > 2 || (argc == 2 && strcmp(argv[1], "-a")))
		return CMD_USAGE;
	mm_print_sections(argc == 2);
	return 0;
}

// memtest SIZE: at least a page, at most what rvmm can address; else a message and no test.
static int cmd_memtest(int argc, char **argv)
{
	uint64_t size = 0;
	if (argc > 2 || (argc == 2 && parse_u64(argv[1], &size)))
		return CMD_USAGE;
	if (argc == 2 && size < PAGE_SIZE) {
		kprintf("memtest: SIZE %llu bytes is less than a page (4 KiB): nothing to test "
			"(no SIZE: all free memory)\n", (unsigned long long)size);
		return -EINVAL;
	}
	if (size > mm_layout.max_phys) {
		kprintf("memtest: SIZE 0x%llx is more than rvmm can address (0x%llx) "
			"(no SIZE: all free memory)\n", (unsigned long long)size,
			(unsigned long long)mm_layout.max_phys);
		return -ERANGE;
	}
	return memtest(size);
}

CONSOLE_COMMAND(meminfo, .name = "meminfo", .usage = "meminfo [NODE]",
		.summary = "memory figures, /proc/meminfo style (NODE: that NUMA node's, as Linux's "
			   "nodeN/meminfo)", .run = cmd_meminfo);
CONSOLE_COMMAND(ptdump, .name = "ptdump", .usage = "ptdump [START END]",
		.summary = "dump the kernel page tables (optionally one VA range)", .run = cmd_ptdump);
CONSOLE_COMMAND(sections, .name = "sections", .usage = "sections [-a | --map]",
		.summary = "memory sections: state, zone, free pages (-a: every boot section too; "
			   "--map: one character each)",
		.run = cmd_sections);
CONSOLE_COMMAND(memtest, .name = "memtest", .usage = "memtest [SIZE]",
		.summary = "write and verify free memory (all of it by default)", .run = cmd_memtest);
