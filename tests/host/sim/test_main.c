// SPDX-License-Identifier: MIT
//
// Host test runner: runs a suite's case table, one forked child per case, and prints the
// PASS/FAIL protocol lines the top-level runner parses. See test.h.
//
// Interface: test_main, test_fail.

#define _GNU_SOURCE
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sim.h"
#include "test.h"

static int reason_fd = -1;
static char reason_buf[1024];

void test_fail(const char *file, int line, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	const char *base = strrchr(file, '/');
	snprintf(reason_buf, sizeof(reason_buf), "%s:%d: %s", base ? base + 1 : file, line, msg);
	if (reason_fd >= 0) {
		ssize_t w = write(reason_fd, reason_buf, strlen(reason_buf));
		(void)w;
	}
}

static int run_one(const char *suite, const struct test_case *c)
{
	if (getenv("RVMM_TEST_NOFORK")) {
		reason_buf[0] = 0;
		int rc = c->fn();
		if (rc) {
			sim_log_dump();
			printf("FAIL: %s/%s: %s\n", suite, c->name, reason_buf[0] ? reason_buf : "failed");
		} else {
			printf("PASS: %s/%s\n", suite, c->name);
		}
		return rc != 0;
	}
	int p[2];
	if (pipe(p))
		return 1;
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		reason_fd = p[1];
		alarm(300);
		int rc = c->fn();
		if (rc) {
			if (!reason_buf[0])
				test_fail(__FILE__, __LINE__, "case returned %d", rc);
			sim_log_dump();
		}
		fflush(stdout);
		fflush(stderr);
		_exit(rc ? 1 : 0);
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
		printf("PASS: %s/%s\n", suite, c->name);
		return 0;
	}
	if (!got) {
		if (WIFSIGNALED(st))
			snprintf(reason, sizeof(reason), "killed by signal %d", WTERMSIG(st));
		else
			snprintf(reason, sizeof(reason), "exit status %d", WEXITSTATUS(st));
	}
	for (char *q = reason; *q; q++)
		if (*q == '\n')
			*q = ' ';
	printf("FAIL: %s/%s: %s\n", suite, c->name, reason);
	return 1;
}

int test_main(const char *suite, const struct test_case *cases, size_t n, int argc, char **argv)
{
	int failed = 0, ran = 0;
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (size_t i = 0; i < n; i++) {
		if (argc > 1 && strcmp(argv[1], cases[i].name) != 0)
			continue;
		failed += run_one(suite, &cases[i]);
		ran++;
	}
	if (argc > 1 && !ran) {
		printf("FAIL: %s/%s: no such case\n", suite, argv[1]);
		return 1;
	}
	return failed ? 1 : 0;
}
