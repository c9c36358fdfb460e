/* SPDX-License-Identifier: MIT */
/*
 * The host builds' stand-in for kernel/printk.c (common/printk.c), shared by every host test
 * suite and fuzz target: printk, kprintf and panic write into one capture buffer that tests read.
 * A printk line starts with its level ("<err> ", "<warn> ", "<debug> "; nothing for info) and
 * ends in a newline; kprintf text is kept raw. RVMM_TEST_VERBOSE=1 echoes every line to stderr.
 * A printk message with a newline inside it fails the running case (test_fail): the kernel's
 * log is one message per line.
 *
 * Interface: log_text, log_clear, log_has, log_lines, log_count, log_find, log_dump.
 */
#ifndef RVMM_TESTS_HOST_COMMON_LOG_H
#define RVMM_TESTS_HOST_COMMON_LOG_H

#include <rvmm/types.h>

/* Everything printed since the last log_clear (the oldest text is dropped past 4 MiB). */
const char *log_text(void);
void log_clear(void);
bool log_has(const char *s);
/* Lines in the log. */
int log_lines(void);
/* Lines holding s. */
int log_count(const char *s);
/* Index of the first line holding s whose level is level (enum log_level; -1: any), or -1. */
int log_find(int level, const char *s);
/* The log's last 8 KiB to stderr (the runner calls it when a case fails). */
void log_dump(void);

#endif
