// SPDX-License-Identifier: MIT
//
// Host stand-ins for kernel/printk.c and friends: every message goes into a capture buffer tests
// can inspect (and to stderr when RVMM_SIM_VERBOSE is set); panic prints and aborts the case.
//
// Interface: printk, kprintf, panic, sim_log, sim_log_clear, sim_log_has, sim_log_dump.

#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rvmm/printk.h>

#include "sim.h"

#define LOG_SIZE (4u << 20)
static char log_buf[LOG_SIZE];
static size_t log_len;

// A printk line gets its newline if it lacks one, as kernel/printk.c does; kprintf text is raw.
static void log_append(const char *prefix, const char *fmt, va_list ap, bool line_end)
{
	char line[4096];
	int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	if (n < 0)
		return;
	size_t len = strlen(line);
	if (line_end && (len == 0 || line[len - 1] != '\n')) {
		line[len++] = '\n';
		line[len] = 0;
	}
	size_t plen = strlen(prefix);
	if (log_len + plen + len + 2 >= LOG_SIZE)
		log_len = 0; // wrap: tests clear the log before what they check
	memcpy(log_buf + log_len, prefix, plen);
	memcpy(log_buf + log_len + plen, line, len);
	log_len += plen + len;
	log_buf[log_len] = 0;
	if (getenv("RVMM_SIM_VERBOSE"))
		fprintf(stderr, "%s%s", prefix, line);
}

void printk(enum log_level level, const char *fmt, ...)
{
	static const char *const pfx[] = { "<err> ", "<warn> ", "", "<debug> ", "" };
	va_list ap;
	va_start(ap, fmt);
	log_append(pfx[level <= LOG_PLAIN ? level : LOG_PLAIN], fmt, ap, level != LOG_PLAIN);
	va_end(ap);
}

void kprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_append("", fmt, ap, false);
	va_end(ap);
}

void panic(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_append("PANIC: ", fmt, ap, true);
	va_end(ap);
	sim_log_dump();
	abort();
}

const char *sim_log(void) { return log_buf; }
void sim_log_clear(void) { log_len = 0; log_buf[0] = 0; }
bool sim_log_has(const char *s) { return strstr(log_buf, s) != NULL; }

void sim_log_dump(void)
{
	fprintf(stderr, "---- captured kernel log ----\n%s\n----\n",
		log_len > 8192 ? log_buf + log_len - 8192 : log_buf);
}
