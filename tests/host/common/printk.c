// SPDX-License-Identifier: MIT
//
// Host stand-in for kernel/printk.c, for every host test suite and fuzz target (see log.h): one
// capture buffer tests inspect; panic prints the log and aborts the case.
//
// Interface: printk, kprintf, panic, log_text, log_clear, log_has, log_lines, log_count, log_find,
// log_dump.

#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rvmm/printk.h>

#include "log.h"
#include "test.h"

#define LOG_SIZE (4u << 20)
static char log_buf[LOG_SIZE];
static size_t log_len;
static int verbose = -1;

static const char *const level_prefix[] = {"<err> ", "<warn> ", "", "<debug> ", ""};

// A printk line gets its newline if it lacks one, as kernel/printk.c does; kprintf text is raw.
static void log_append(const char *prefix, const char *fmt, va_list ap, bool line_end)
{
	char line[4096];
	int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	if (n < 0)
		return;
	size_t len = strlen(line);
	if (line_end) {
		if (len && line[len - 1] == '\n')
			len--;
		line[len] = 0;
		if (memchr(line, '\n', len))
			test_fail(__FILE__, __LINE__, "a printk message holds a newline: %.200s",
				  line);
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
	if (verbose < 0)
		verbose = getenv("RVMM_TEST_VERBOSE") != NULL;
	if (verbose)
		fprintf(stderr, "%s%s", prefix, line);
}

void printk(enum log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_append(level_prefix[level <= LOG_PLAIN ? level : LOG_PLAIN], fmt, ap,
		   level != LOG_PLAIN);
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
	log_dump();
	abort();
}

const char *log_text(void)
{
	return log_buf;
}
void log_clear(void)
{
	log_len = 0;
	log_buf[0] = 0;
}
bool log_has(const char *s)
{
	return strstr(log_buf, s) != NULL;
}

// The level a line was printed at, from its prefix; info and kprintf text have none.
static int line_level(const char *line)
{
	for (int l = LOG_ERR; l <= LOG_DEBUG; l++)
		if (level_prefix[l][0] && !strncmp(line, level_prefix[l], strlen(level_prefix[l])))
			return l;
	return LOG_INFO;
}

static bool line_holds(const char *line, size_t len, int level, const char *s)
{
	if (level >= 0 && line_level(line) != level)
		return false;
	return memmem(line, len, s, strlen(s)) != NULL;
}

// The length of the line at p, without its newline.
static size_t line_len(const char *p)
{
	const char *nl = strchr(p, '\n');
	return nl ? (size_t)(nl - p) : strlen(p);
}

int log_lines(void)
{
	int n = 0;
	for (const char *p = log_buf; *p; p += line_len(p) + (p[line_len(p)] == '\n'))
		n++;
	return n;
}

int log_count(const char *s)
{
	int n = 0;
	for (const char *p = log_buf; *p; p += line_len(p) + (p[line_len(p)] == '\n'))
		n += line_holds(p, line_len(p), -1, s);
	return n;
}

int log_find(int level, const char *s)
{
	int i = 0;
	for (const char *p = log_buf; *p; p += line_len(p) + (p[line_len(p)] == '\n'), i++)
		if (line_holds(p, line_len(p), level, s))
			return i;
	return -1;
}

void log_dump(void)
{
	fprintf(stderr, "---- captured kernel log ----\n%s\n----\n",
		log_len > 8192 ? log_buf + log_len - 8192 : log_buf);
}
