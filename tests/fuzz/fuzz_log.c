// SPDX-License-Identifier: MIT
/*
 * Host stand-ins for kernel/printk.c in the fuzz targets that do not boot the mm simulation
 * (fuzz_dt, fuzz_cmdline): every message is formatted (so a bad format argument is caught by the
 * sanitizers) into a small ring the crash report prints; RVMM_FUZZ_VERBOSE=1 echoes it. Also
 * fuzz_fail() for every target.
 *
 * Interface: printk, kprintf, panic, fuzz_fail, fuzz_log_tail, fuzz_log_text, fuzz_log_clear.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rvmm/printk.h>

#include "fuzz.h"

#define RING 16384
static char ring[RING];
static size_t ring_len;
static int verbose = -1;

void fuzz_log_clear(void)
{
	ring_len = 0;
	ring[0] = '\0';
}

const char *fuzz_log_text(void)
{
	return ring;
}

static void add(const char *prefix, const char *fmt, va_list ap, bool newline)
{
	char line[2048];
	int n = snprintf(line, sizeof(line), "%s", prefix);

	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	if (newline)
		strncat(line, "\n", sizeof(line) - strlen(line) - 1);
	size_t len = strlen(line);
	if (ring_len + len + 1 > RING)
		ring_len = 0;
	memcpy(ring + ring_len, line, len + 1);
	ring_len += len;
	if (verbose < 0)
		verbose = getenv("RVMM_FUZZ_VERBOSE") != NULL;
	if (verbose)
		fputs(line, stderr);
}

void printk(enum log_level level, const char *fmt, ...)
{
	static const char *const pfx[] = {"<err> ", "<warn> ", "", "<debug> ", ""};
	va_list ap;

	va_start(ap, fmt);
	add(pfx[level <= LOG_PLAIN ? level : LOG_PLAIN], fmt, ap, level != LOG_PLAIN);
	va_end(ap);
}

void kprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add("", fmt, ap, false);
	va_end(ap);
}

static void print_ring(void)
{
	fprintf(stderr, "---- kernel log (tail) ----\n%s\n----\n", ring);
}

void (*fuzz_log_tail)(void) = print_ring;

void panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add("PANIC: ", fmt, ap, true);
	va_end(ap);
	print_ring();
	abort();
}
