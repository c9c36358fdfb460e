/* SPDX-License-Identifier: MIT */
/*
 * What the platform-layer suites (kernel/platform*.c, cmdline.c, parse.c, dt_cmds.c) share beyond
 * the common case runner (tests/host/common/test.h) and printk stand-in (log.h): the DTB
 * directory and a file loader. Each test_*.c file is one suite, run by main.c.
 *
 * Interface: dtb_dir, load_file, parse_dtb, the suites (parse_u64_suite, cmdline_suite, platform_suite,
 * fixture_suite, bad_dtb_suite, malformed_suite, cmds_suite, devices_suite, numa_suite), and the device checks
 * of test_devices.c.
 */
#ifndef PLATFORM_TEST_HARNESS_H
#define PLATFORM_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "test.h"

/* Where the DTBs are: $PLATFORM_DTB_DIR, or build/host/dtb. */
extern const char *dtb_dir;

/* A whole file in a malloc()ed buffer of exactly its size (16-byte aligned); NULL if absent. */
void *load_file(const char *path, size_t *size);

/*
 * platform_parse() the DTB name (under dtb_dir) into *plat; the blob stays loaded until the next
 * call. Returns the rc, or 1 (after a failure) if the file is missing.
 */
struct platform;
int parse_dtb(struct platform *plat, const char *name);

/* The suites, one per test_*.c file (test_platform.c has three). */
const struct test_suite *parse_u64_suite(void);
const struct test_suite *cmdline_suite(void);
const struct test_suite *platform_suite(void);
const struct test_suite *fixture_suite(void);
const struct test_suite *bad_dtb_suite(void);
const struct test_suite *malformed_suite(void);
const struct test_suite *cmds_suite(void);
const struct test_suite *devices_suite(void);
const struct test_suite *numa_suite(void);

/* test_devices.c: device checks the platform and fixture cases run on their trees (0 = pass). */
struct platform;
int check_qemu_devices(struct platform *plat, uint64_t ram);
int check_cells1_uarts(struct platform *plat);
int check_pci_imap_fixture(struct platform *plat);

#endif
