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

void run_cmds_tests(void)
{
	char path[512];
	size_t size;
	void *fdt;

	snprintf(path, sizeof(path), "%s/fx/multi-mem.dtb", dtb_dir);
	fdt = load_file(path, &size);

	t_start("cmds", "dt");
	EXPECT(fdt && platform_parse(&platform, fdt, size) == 0, "cannot parse %s", path);
	EXPECT(find("dt") && find("bootargs"), "commands not in rvmm_cmds");
	EXPECT(run("dt") == 0, "dt failed");
	EXPECT(strstr(out_text(), "memory: 4 ranges, 1920 MiB") &&
	       strstr(out_text(), "[0x80000000, 0x90000000) 256 MiB  /memory@80000000") &&
	       strstr(out_text(), "hart 1: disabled riscv,sv48") &&
	       strstr(out_text(), "devices: 0 bound"), "output:\n%s", out_text());
	EXPECT(run("dt x") == CMD_USAGE, "dt x accepted");
	t_finish();

	t_start("cmds", "bootargs");
	cmdline_parse(platform.bootargs, &cmdline);
	out_clear();
	EXPECT(run("bootargs") == 0, "bootargs failed");
	EXPECT(strstr(out_text(), "bootargs: \"mem=1G loglevel=7 foo\"") &&
	       strstr(out_text(), "mem=0x40000000") && strstr(out_text(), "loglevel=7") &&
	       strstr(out_text(), "unknown, ignored: foo"), "output:\n%s", out_text());
	EXPECT(run("bootargs 1") == CMD_USAGE, "bootargs 1 accepted");
	t_finish();
	free(fdt);
}
