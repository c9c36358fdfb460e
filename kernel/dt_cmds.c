// SPDX-License-Identifier: MIT
/*
 * Console commands that show what rvmm learned at boot from the device tree and the command line.
 *
 * Interface: the `dt` and `bootargs` shell commands.
 */
#include <rvmm/cmdline.h>
#include <rvmm/console.h>
#include <rvmm/device.h>
#include <rvmm/platform.h>
#include <rvmm/printk.h>

static int cmd_dt(int argc, char **argv)
{
	(void)argv;
	if (argc != 1)
		return CMD_USAGE;
	platform_print(&platform);
	if (platform.fdt)
		dt_print_devices(platform.fdt);
	return 0;
}

CONSOLE_COMMAND(dt, .name = "dt", .usage = "dt",
		.summary = "show the machine as the device tree described it", .run = cmd_dt);

static int cmd_bootargs(int argc, char **argv)
{
	const struct cmdline *cl = &cmdline;

	(void)argv;
	if (argc != 1)
		return CMD_USAGE;
	kprintf("bootargs: \"%s\"\n", platform.bootargs);
	if (cl->mem)
		kprintf("  mem=0x%lx\n", cl->mem);
	else
		kprintf("  mem: not given (all RAM)\n");
	kprintf("  failalloc=%lu%s\n", cl->failalloc, cl->failalloc ? "" : " (off)");
	if (cl->loglevel >= 0)
		kprintf("  loglevel=%d\n", cl->loglevel);
	else
		kprintf("  loglevel: not given\n");
	kprintf("  nosmp: %s\n", cl->nosmp ? "yes" : "no");
	kprintf("  deferred_init: %s\n", cl->deferred_init ? "on" : "off");
	for (int i = 0; i < cl->nr_unknown && i < CMDLINE_MAX_UNKNOWN; i++)
		kprintf("  unknown, ignored: %s\n", cl->unknown[i]);
	if (cl->nr_bad)
		kprintf("  %d option(s) with bad values ignored\n", cl->nr_bad);
	return 0;
}

CONSOLE_COMMAND(bootargs, .name = "bootargs", .usage = "bootargs",
		.summary = "show the kernel command line and what was made of it", .run = cmd_bootargs);
