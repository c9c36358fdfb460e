// SPDX-License-Identifier: MIT
/*
 * Host tests for the platform layer: parse_u64, the command line, platform_parse on QEMU's and
 * hand-written DTBs, broken blobs and fuzzing, the dt/bootargs commands, and devices: interrupt
 * resolution, the PCI host's node, the driver walker.
 *
 *     platform-tests [DTB_DIR]     (default build/host/dtb; `make platform-tests` fills it)
 *
 * Prints PASS:/FAIL: lines; exits 1 if any case failed.
 */
#include "harness.h"

#include <rvmm/platform.h>

#include <stdio.h>

const char *dtb_dir = "build/host/dtb";

/* main.c's on the target. */
struct platform platform;

int main(int argc, char **argv)
{
	if (argc > 1)
		dtb_dir = argv[1];
	run_parse_tests();
	run_cmdline_tests();
	run_platform_tests();
	run_malformed_tests();
	run_cmds_tests();
	run_devices_tests();
	printf("platform-tests: %d passed, %d failed\n", t_nr_passed, t_nr_failed);
	return t_nr_failed ? 1 : 0;
}
