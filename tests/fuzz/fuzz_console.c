// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the console shell (kernel/console.c's console_run_line, the real word
 * splitting and command lookup) over the real command table of the host build: the memory
 * model's commands (meminfo, sections, ptdump, memtest), the hot-plug ones (hotadd, online,
 * offline, hotremove, plug, unplug, and whatever else kernel/mm adds to HOST_MM_SRCS), dt,
 * bootargs, help. The mm simulation (tests/host/sim) is booted once: 1 GiB of RAM of which
 * mem=256M is used at boot, the rest left for hotadd, so every command does its real work; the
 * machine is small so that the walks over it (checks, reset) keep an input near a millisecond.
 *
 * The input is up to MAX_LINES lines separated by '\n', each cut to what the shell's line editor
 * keeps (LINE_MAX - 1 bytes). After every line:
 *   - the `mmcheck` command never fails;
 *   - no lock is left held (hotplug_lock, kpt_lock, the zone locks), no page left isolated;
 *   - a command that only reads or borrows memory (meminfo, sections, ptdump, memtest, dt,
 *     bootargs, help, an unknown or malformed line) leaves MemTotal and MemFree as they were.
 * After the input the allocator's invariants hold (the kernel's mm_check: lists, flags, counts,
 * coalescing, sections, tables), and fz_reset (fuzz_sim.c) takes the machine back to its boot
 * state through the hot-plug API and checks that every figure is as at boot: nothing leaked.
 *
 * Filtered, to keep each input bounded and the reset possible: memtest runs only with a size
 * from 1 to MEMTEST_MAX (without one, or with 0, it writes all free memory: seconds under
 * ASan); `stress SECONDS` and `stress start` are skipped (they run for seconds, or leave workers
 * behind); hotremove/unplug of memory present since boot are skipped (offline of it is not).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rvmm/console.h>
#include <rvmm/hotplug.h>
#include <rvmm/kpt.h>
#include <rvmm/page_alloc.h>

#include "fuzz.h"
#include "fuzz_sim.h"

#define LINE_MAX    256 /* kernel/console.c's line editor */
#define MAX_LINES   16
#define MEMTEST_MAX MiB(1)

static const char *const pure_cmds[] = {
    "meminfo", "sections", "ptdump", "memtest", "dt", "bootargs", "help", "mmcheck",
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* 256 MiB at boot (mem=); the other 768 MiB is RAM the device tree knows, for hotadd. */
	struct sim_config cfg = {.ram_size = GiB(1), .mem_limit = MiB(256)};

	(void)argc;
	(void)argv;
	fz_boot(&cfg);
	return 0;
}

// The first word of line and the number of words (as the shell splits: spaces and tabs).
static int words(const char *line, char *first, size_t len, char *second, size_t len2)
{
	char buf[LINE_MAX];
	int n = 0;

	snprintf(buf, sizeof(buf), "%s", line);
	first[0] = second[0] = '\0';
	for (char *w = strtok(buf, " \t"); w; w = strtok(NULL, " \t"), n++) {
		if (n == 0)
			snprintf(first, len, "%s", w);
		else if (n == 1)
			snprintf(second, len2, "%s", w);
	}
	return n;
}

static bool is_pure(const char *cmd)
{
	const struct console_command *c;

	for (size_t i = 0; i < ARRAY_SIZE(pure_cmds); i++)
		if (!strcmp(cmd, pure_cmds[i]))
			return true;
	for (c = console_commands_begin(); c < console_commands_end(); c++)
		if (!strcmp(c->name, cmd))
			return false;
	return true; /* unknown: the shell only complains */
}

// hotremove/unplug of memory present since boot: fz_reset could not bring it back.
static bool removes_boot_memory(const char *cmd, const char *line)
{
	char buf[LINE_MAX], *w[3] = {0};
	uint64_t a, n;
	int i = 0;

	if (strcmp(cmd, "hotremove") && strcmp(cmd, "unplug"))
		return false;
	snprintf(buf, sizeof(buf), "%s", line);
	for (char *t = strtok(buf, " \t"); t && i < 3; t = strtok(NULL, " \t"))
		w[i++] = t;
	if (i < 3 || parse_u64(w[1], &a) || parse_u64(w[2], &n))
		return false;
	for (uint64_t pa = ALIGN_DOWN(a, SECTION_SIZE);
	     pa < a + n && pa >= ALIGN_DOWN(a, SECTION_SIZE); pa += SECTION_SIZE)
		for (pfn_t p = PFN_DOWN(pa); p < PFN_DOWN(pa + SECTION_SIZE); p += FZ_PIECE_PAGES)
			if (fz_boot_piece_zone(p) >= 0)
				return true;
	return false;
}

static void run_line(const char *text, size_t len)
{
	char line[LINE_MAX], shown[LINE_MAX], cmd[LINE_MAX], arg[LINE_MAX];
	uint64_t total, free_pages, size;
	int n, rc;

	len = MIN(len, LINE_MAX - 1);
	memcpy(line, text, len);
	line[len] = '\0';
	snprintf(shown, sizeof(shown), "%s", line);
	n = words(line, cmd, sizeof(cmd), arg, sizeof(arg));
	/* memtest SIZE, where 0 means all as no SIZE does */
	if (!strcmp(cmd, "memtest") &&
	    (n < 2 || (parse_u64(arg, &size) == 0 && (size == 0 || size > MEMTEST_MAX))))
		return;
	if (removes_boot_memory(cmd, line))
		return;
	/* stress SECONDS runs for that long; stress start leaves workers running on other harts */
	if (!strcmp(cmd, "stress") && n >= 2 && (!strcmp(arg, "start") || !parse_u64(arg, &size)))
		return;

	total = total_managed_pages();
	free_pages = total_free_pages();
	rc = console_run_line(line);
	FUZZ_CHECK(strcmp(cmd, "mmcheck") || n > 1 || rc == 0,
		   "'%s' found the memory model broken "
		   "(rc %d; its lines are in the log)",
		   shown, rc);
	snprintf(arg, sizeof(arg), "'%s'", shown);
	fz_check_locks(arg);
	if (is_pure(cmd)) {
		FUZZ_CHECK(total_managed_pages() == total, "'%s' changed managed pages %lu -> %lu",
			   shown, total, total_managed_pages());
		FUZZ_CHECK(total_free_pages() == free_pages, "'%s' changed free pages %lu -> %lu",
			   shown, free_pages, total_free_pages());
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;

	log_clear();
	for (int i = 0; i < MAX_LINES && p < end; i++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((nl ? nl : end) - p);

		run_line(p, len);
		p += len + 1;
	}
	fz_check_mm("the input");
	fz_reset();
	return 0;
}
