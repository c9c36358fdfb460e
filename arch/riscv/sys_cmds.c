// SPDX-License-Identifier: MIT
/*
 * Console commands about the machine itself: version, poweroff.
 */
#include <asm/sbi.h>
#include <rvmm/arch_mm.h>
#include <rvmm/console.h>
#include <rvmm/kernel.h>
#include <rvmm/printk.h>

static int cmd_version(int argc, char **argv)
{
	(void)argv;
	if (argc != 1)
		return CMD_USAGE;
	kprintf("rvmm %s (riscv64, %s paging), %s %lu.%lu (SBI spec %lu.%lu)\n", rvmm_version,
		arch_paging_mode(), sbi_impl_name(), sbi_impl_version() >> 16,
		sbi_impl_version() & 0xffff, (sbi_spec_version() >> 24) & 0x7f,
		sbi_spec_version() & 0xffffff);
	return 0;
}
CONSOLE_COMMAND(version, .name = "version", .usage = "version",
		.summary = "kernel and firmware versions", .run = cmd_version);

static int cmd_poweroff(int argc, char **argv)
{
	(void)argv;
	if (argc != 1)
		return CMD_USAGE;
	kprintf("poweroff\n");
	sbi_shutdown();
}
CONSOLE_COMMAND(poweroff, .name = "poweroff", .usage = "poweroff",
		.summary = "power the machine off (SBI system reset)", .run = cmd_poweroff);
