// SPDX-License-Identifier: MIT
/*
 * The `dt` and `bootargs` console commands, found the way the shell finds them: in the
 * rvmm_cmds section (GNU ld provides __start_/__stop_ symbols for it on the host too).
 */
#include "harness.h"

#include <rvmm/cmdline.h>
#include <rvmm/console.h>
#include <rvmm/platform.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const struct console_command __start_rvmm_cmds[], __stop_rvmm_cmds[];

static const struct console_command *find(const char *name)
{
	for (const struct console_command *c = __start_rvmm_cmds; c < __stop_rvmm_cmds; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

static int run(const char *line)
{
	char buf[128], *argv[8];
	int argc = 0;
	const struct console_command *c;

	snprintf(buf, sizeof(buf), "%s", line);
	for (char *t = strtok(buf, " "); t && argc < 8; t = strtok(NULL, " "))
		argv[argc++] = t;
	c = find(argv[0]);
	if (!c)
		return -9999;
	return c->run(argc, argv);
}

// The platform both commands print: the multi-mem fixture.
static int parse_multi_mem(void)
{
	char path[512];
	size_t size;

	snprintf(path, sizeof(path), "%s/fx/multi-mem.dtb", dtb_dir);
	void *fdt = load_file(path, &size);
	CHECK_MSG(fdt && platform_parse(&platform, fdt, size) == 0, "cannot parse %s", path);
	free(fdt);
	return 0;
}

static int cmds_dt(void)
{
	CHECK_RC(parse_multi_mem());
	CHECK_MSG(find("dt") && find("bootargs"), "commands not in rvmm_cmds");
	log_clear();
	CHECK_MSG(run("dt") == 0, "dt failed");
	CHECK_MSG(log_has("memory: 4 ranges, 1920 MiB") &&
		      log_has("[0x80000000, 0x90000000) 256 MiB  /memory@80000000") &&
		      log_has("hart 1: disabled riscv,sv48") &&
		      log_has("devices: 0 bound"),
		  "output:\n%s", log_text());
	CHECK_MSG(run("dt x") == CMD_USAGE, "dt x accepted");
	return 0;
}

static int cmds_bootargs(void)
{
	CHECK_RC(parse_multi_mem());
	cmdline_parse(platform.bootargs, &cmdline);
	log_clear();
	CHECK_MSG(run("bootargs") == 0, "bootargs failed");
	CHECK_MSG(log_has("bootargs: \"mem=1G loglevel=7 foo\"") && log_has("mem=0x40000000") &&
		      log_has("loglevel=7") && log_has("unknown, ignored: foo"),
		  "output:\n%s", log_text());
	CHECK_MSG(run("bootargs 1") == CMD_USAGE, "bootargs 1 accepted");
	return 0;
}

TEST_SUITE(cmds_suite, "cmds",
	   CASE(cmds_dt),
	   CASE(cmds_bootargs))
