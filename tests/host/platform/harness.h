/* SPDX-License-Identifier: MIT */
/*
 * Host test harness for kernel/platform*.c, cmdline.c, parse.c and dt_cmds.c: a case runner with
 * the `PASS: suite/case` / `FAIL: suite/case: reason` protocol, and host stand-ins for printk,
 * kprintf and panic that capture what the code under test printed.
 *
 * Interface: t_start/t_finish/EXPECT, log_clear/log_find/log_count/log_dump, out_clear/out_text,
 * load_file, the suites run_*_tests().
 */
#ifndef PLATFORM_TEST_HARNESS_H
#define PLATFORM_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Begin a case; clears the captured log and output. */
void t_start(const char *suite, const char *name);
/* Record a failure (the first one's reason is printed). */
void t_fail(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Print PASS or FAIL (with the captured log on stderr for a failure). Returns true on PASS. */
bool t_finish(void);
extern int t_nr_failed, t_nr_passed;

#define EXPECT(cond, ...)                                                                   \
	do {                                                                                \
		if (!(cond))                                                                \
			t_fail(__FILE__, __LINE__, __VA_ARGS__);                            \
	} while (0)

/* Captured printk lines (trailing newline removed), with their level. */
void log_clear(void);
/* Index of the first line at level (or any level if level < 0) containing text, or -1. */
int log_find(int level, const char *text);
/* Number of lines containing text (any level). */
int log_count(const char *text);
int log_lines(void);
void log_dump(void);

/* Captured kprintf output. */
void out_clear(void);
const char *out_text(void);

/* A whole file in a malloc()ed buffer of exactly its size (16-byte aligned); NULL if absent. */
void *load_file(const char *path, size_t *size);

/* Where the DTBs are (argv[1] or build/host/dtb). */
extern const char *dtb_dir;

void run_parse_tests(void);
void run_cmdline_tests(void);
void run_platform_tests(void);
void run_malformed_tests(void);
void run_cmds_tests(void);
void run_devices_tests(void);

/* test_devices.c: device checks test_platform.c runs on its trees. */
struct platform;
void check_qemu_devices(struct platform *plat, uint64_t ram);
void check_cells1_uarts(struct platform *plat);
void check_pci_imap_fixture(struct platform *plat);

#endif
