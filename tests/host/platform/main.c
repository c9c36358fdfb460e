// SPDX-License-Identifier: MIT
/*
 * Host tests for the platform layer: parse_u64, the command line, platform_parse on QEMU's and
 * hand-written DTBs, broken blobs and fuzzing, the dt/bootargs commands, and devices: interrupt
 * resolution, the PCI host's node, the driver walker.
 *
 *     PLATFORM_DTB_DIR=build/host/dtb platform-tests [case | suite/case]
 *
 * (`make platform-tests` makes the DTBs and runs it.) Prints PASS:/FAIL: lines; exits 1 if any
 * case failed.
 */
#include "harness.h"

#include <rvmm/platform.h>

#include <stdlib.h>

const char *dtb_dir = "build/host/dtb";

/* main.c's on the target. */
struct platform platform;

int main(int argc, char **argv)
{
	const struct test_suite suites[] = {
		*parse_u64_suite(), *cmdline_suite(),	*platform_suite(), *fixture_suite(),
		*bad_dtb_suite(),   *malformed_suite(), *cmds_suite(),	   *devices_suite(),
		*numa_suite(),
	};

	if (getenv("PLATFORM_DTB_DIR"))
		dtb_dir = getenv("PLATFORM_DTB_DIR");
	return test_main_suites(suites, ARRAY_SIZE(suites), argc, argv);
}
