// SPDX-License-Identifier: MIT
/*
 * The harness behind harness.h: case bookkeeping, and printk/kprintf/panic for the host build,
 * capturing every line so tests can check "the right message was printed".
 */
#include "harness.h"
#include "../common/runner.h"

#include <rvmm/printk.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_MAX_LINES 4096
#define LOG_LINE_LEN 512
#define OUT_LEN (256 * 1024)

static struct {
	int level;
	char text[LOG_LINE_LEN];
} log_line[LOG_MAX_LINES];
static int nr_log;
static char out_buf[OUT_LEN];
static size_t out_len;

static const char *t_suite, *t_name;
static char t_reason[512];
static bool t_failed;
int t_nr_failed, t_nr_passed;
static bool verbose;

void t_start(const char *suite, const char *name)
{
	t_suite = suite;
	t_name = name;
	t_failed = false;
	t_reason[0] = '\0';
	log_clear();
	out_clear();
	verbose = getenv("PLATFORM_TEST_VERBOSE") != NULL;
}

void t_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t_failed)
		return;
	t_failed = true;
	if (strrchr(file, '/'))
		file = strrchr(file, '/') + 1;
	n = snprintf(t_reason, sizeof(t_reason), "%s:%d: ", file, line);
	va_start(ap, fmt);
	vsnprintf(t_reason + n, sizeof(t_reason) - n, fmt, ap);
	va_end(ap);
}

bool t_finish(void)
{
	runner_report(t_suite, t_name, t_failed ? t_reason : NULL);
	if (t_failed) {
		fprintf(stderr, "---- %s/%s: captured log\n", t_suite, t_name);
		log_dump();
		t_nr_failed++;
	} else {
		t_nr_passed++;
	}
	fflush(stdout);
	return !t_failed;
}

void log_clear(void) { nr_log = 0; }
int log_lines(void) { return nr_log; }

int log_find(int level, const char *text)
{
	for (int i = 0; i < nr_log; i++)
		if ((level < 0 || log_line[i].level == level) && strstr(log_line[i].text, text))
			return i;
	return -1;
}

int log_count(const char *text)
{
	int n = 0;

	for (int i = 0; i < nr_log; i++)
		n += strstr(log_line[i].text, text) != NULL;
	return n;
}

void log_dump(void)
{
	static const char *const name[] = { "err", "warn", "info", "debug", "plain" };

	for (int i = 0; i < nr_log; i++)
		fprintf(stderr, "  [%s] %s\n", name[log_line[i].level], log_line[i].text);
}

void out_clear(void)
{
	out_len = 0;
	out_buf[0] = '\0';
}

const char *out_text(void) { return out_buf; }

void *load_file(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	void *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc(n ? (size_t)n : 1)  /* malloc: 16-byte aligned */;
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*size = (size_t)n;
	return buf;
}

/* ---- Host stand-ins for kernel/printk.c ---------------------------------------------------- */

void printk(enum log_level level, const char *fmt, ...)
{
	va_list ap;
	char *t;
	size_t n;

	if (nr_log == LOG_MAX_LINES)
		return;
	t = log_line[nr_log].text;
	va_start(ap, fmt);
	vsnprintf(t, LOG_LINE_LEN, fmt, ap);
	va_end(ap);
	n = strlen(t);
	if (n && t[n - 1] == '\n')
		t[n - 1] = '\0';
	EXPECT(strchr(t, '\n') == NULL, "printk line has an inner newline: %s", t);
	log_line[nr_log++].level = level;
	if (verbose)
		fprintf(stderr, "  printk(%d): %s\n", level, t);
}

void kprintf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out_buf + out_len, OUT_LEN - out_len, fmt, ap);
	va_end(ap);
	if (n > 0)
		out_len = out_len + (size_t)n < OUT_LEN ? out_len + (size_t)n : OUT_LEN - 1;
}

void panic(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "panic: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	abort();
}
