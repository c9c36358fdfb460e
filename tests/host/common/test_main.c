// SPDX-License-Identifier: MIT
//
// The host tests' case runner (see test.h): one forked child per case, the failure reason sent
// back through a pipe, the kernel log dumped when a case fails, PASS/FAIL protocol lines.
//
// Interface: test_fail, test_vfail, test_main, test_main_suites.

#define _GNU_SOURCE
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "test.h"

// Seconds a forked case may run: ASan on a loaded machine is slow, a hung case is not.
#define CASE_TIMEOUT 300

static int reason_fd = -1;
static char reason_buf[1024];

void test_vfail(const char *file, int line, const char *fmt, va_list ap)
{
	char msg[768];
	if (reason_buf[0])
		return; // the first failure is the one that explains the case
	vsnprintf(msg, sizeof(msg), fmt, ap);
	const char *base = strrchr(file, '/');
	snprintf(reason_buf, sizeof(reason_buf), "%s:%d: %s", base ? base + 1 : file, line, msg);
	if (reason_fd >= 0) {
		ssize_t w = write(reason_fd, reason_buf, strlen(reason_buf));
		(void)w;
	}
}

void test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	test_vfail(file, line, fmt, ap);
	va_end(ap);
}

// A case's printed name: its function's, without a leading "test_" or "<suite>_".
static const char *case_name(const char *suite, const struct test_case *c)
{
	size_t len = strlen(suite);
	if (!strncmp(c->name, "test_", 5))
		return c->name + 5;
	if (!strncmp(c->name, suite, len) && c->name[len] == '_')
		return c->name + len + 1;
	return c->name;
}

static void report(const char *suite, const struct test_case *c, const char *reason)
{
	if (reason)
		printf("FAIL: %s/%s: %s\n", suite, case_name(suite, c), reason);
	else
		printf("PASS: %s/%s\n", suite, case_name(suite, c));
}

// A case fails if it returns non-zero or records a reason (a stand-in may, behind its back).
static int run_in_process(const char *suite, const struct test_case *c)
{
	reason_buf[0] = 0;
	int rc = c->fn();
	if (rc && !reason_buf[0])
		test_fail(__FILE__, __LINE__, "case returned %d", rc);
	if (reason_buf[0])
		log_dump();
	report(suite, c, reason_buf[0] ? reason_buf : NULL);
	return reason_buf[0] != 0;
}

static int run_forked(const char *suite, const struct test_case *c)
{
	int p[2];
	if (pipe(p)) {
		report(suite, c, "pipe failed");
		return 1;
	}
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		reason_fd = p[1];
		alarm(CASE_TIMEOUT);
		int rc = c->fn();
		if (rc && !reason_buf[0])
			test_fail(__FILE__, __LINE__, "case returned %d", rc);
		if (reason_buf[0])
			log_dump();
		fflush(stdout);
		fflush(stderr);
		_exit(reason_buf[0] ? 1 : 0);
	}
	close(p[1]);
	char reason[1024] = "";
	size_t got = 0;
	ssize_t n;
	while ((n = read(p[0], reason + got, sizeof(reason) - 1 - got)) > 0)
		got += (size_t)n;
	reason[got] = 0;
	close(p[0]);
	int st;
	waitpid(pid, &st, 0);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0 && !got) {
		report(suite, c, NULL);
		return 0;
	}
	if (!got) {
		if (WIFSIGNALED(st))
			snprintf(reason, sizeof(reason), "killed by signal %d%s", WTERMSIG(st),
				 WTERMSIG(st) == SIGALRM ? " (timeout)" : "");
		else
			snprintf(reason, sizeof(reason), "exit status %d", WEXITSTATUS(st));
	}
	for (char *q = reason; *q; q++)
		if (*q == '\n')
			*q = ' ';
	report(suite, c, reason);
	return 1;
}

// argv[1], if given, names one case: "case" or "suite/case".
static bool selected(const char *suite, const struct test_case *c, int argc, char **argv)
{
	if (argc < 2)
		return true;
	size_t len = strlen(suite);
	const char *want = argv[1];
	if (!strncmp(want, suite, len) && want[len] == '/')
		want += len + 1;
	return !strcmp(want, case_name(suite, c));
}

int test_main_suites(const struct test_suite *suites, size_t n, int argc, char **argv)
{
	bool nofork = getenv("RVMM_TEST_NOFORK") != NULL;
	int failed = 0, ran = 0;
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (const struct test_suite *s = suites; s < suites + n; s++)
		for (const struct test_case *c = s->cases; c < s->cases + s->n; c++) {
			if (!selected(s->name, c, argc, argv))
				continue;
			failed += nofork ? run_in_process(s->name, c) : run_forked(s->name, c);
			ran++;
		}
	if (argc > 1 && !ran) {
		printf("FAIL: %s/%s: no such case\n", suites[0].name, argv[1]);
		return 1;
	}
	return failed ? 1 : 0;
}

int test_main(const char *suite, const struct test_case *cases, size_t n, int argc, char **argv)
{
	const struct test_suite s = {suite, cases, n};
	return test_main_suites(&s, 1, argc, argv);
}
