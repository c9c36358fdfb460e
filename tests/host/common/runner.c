// SPDX-License-Identifier: MIT
//
// The host tests' case runner (see runner.h): one forked child per case, the failure reason sent
// back through a pipe, the suite's log dumped when a case fails, PASS/FAIL protocol lines.

#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runner.h"

static int reason_fd = -1;
static char reason_buf[1024];

void runner_vfail(const char *file, int line, const char *fmt, va_list ap)
{
	char msg[768];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	const char *base = strrchr(file, '/');
	snprintf(reason_buf, sizeof(reason_buf), "%s:%d: %s", base ? base + 1 : file, line, msg);
	if (reason_fd >= 0) {
		ssize_t w = write(reason_fd, reason_buf, strlen(reason_buf));
		(void)w;
	}
}

void runner_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	runner_vfail(file, line, fmt, ap);
	va_end(ap);
}

void runner_report(const char *suite, const char *name, const char *reason)
{
	if (reason)
		printf("FAIL: %s/%s: %s\n", suite, name, reason);
	else
		printf("PASS: %s/%s\n", suite, name);
}

static int run_case(const struct runner_case *c, const struct runner_hooks *h)
{
	if (h->setup)
		h->setup();
	int rc = c->fn();
	if (h->teardown)
		h->teardown();
	return rc;
}

static int run_one(const char *suite, const struct runner_case *c, const struct runner_hooks *h)
{
	if (getenv("RVMM_TEST_NOFORK")) {
		reason_buf[0] = 0;
		int rc = run_case(c, h);
		if (rc && h->dump_log)
			h->dump_log();
		runner_report(suite, c->name, rc ? (reason_buf[0] ? reason_buf : "failed") : NULL);
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
		if (h->timeout)
			alarm(h->timeout);
		int rc = run_case(c, h);
		if (rc) {
			if (!reason_buf[0])
				runner_fail(__FILE__, __LINE__, "case returned %d", rc);
			if (h->dump_log)
				h->dump_log();
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
		runner_report(suite, c->name, NULL);
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
	runner_report(suite, c->name, reason);
	return 1;
}

int runner_main(const char *suite, const struct runner_case *cases, size_t n,
		const struct runner_hooks *hooks, int argc, char **argv)
{
	int failed = 0, ran = 0;
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (size_t i = 0; i < n; i++) {
		if (argc > 1 && strcmp(argv[1], cases[i].name) != 0)
			continue;
		failed += run_one(suite, &cases[i], hooks);
		ran++;
	}
	if (argc > 1 && !ran) {
		printf("FAIL: %s/%s: no such case\n", suite, argv[1]);
		return 1;
	}
	return failed ? 1 : 0;
}
