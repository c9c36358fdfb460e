// SPDX-License-Identifier: MIT
//
// Case runner of the virtio/PCI host tests (see host.h): one forked child per case, the failure
// reason sent back through a pipe, kernel messages dumped to stderr when a case fails.

#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host.h"

static int reason_fd = -1;
static char reason[1024];

void host_fail(const char *file, int line, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	const char *base = strrchr(file, '/');
	snprintf(reason, sizeof(reason), "%s:%d: %s", base ? base + 1 : file, line, msg);
	if (reason_fd >= 0) {
		ssize_t w = write(reason_fd, reason, strlen(reason));
		(void)w;
	}
}

static void dump_log(void)
{
	fprintf(stderr, "---- kernel messages ----\n%s-------------------------\n", host_log());
}

static int run_one(const char *suite, const struct host_case *c)
{
	char got_reason[1024] = "";
	int p[2], st;
	ssize_t n;
	size_t got = 0;

	if (getenv("RVMM_TEST_NOFORK")) {
		reason[0] = 0;
		int rc = c->fn();
		if (rc)
			dump_log();
		printf(rc ? "FAIL: %s/%s: %s\n" : "PASS: %s/%s\n", suite, c->name,
		       reason[0] ? reason : "failed");
		return rc != 0;
	}
	if (pipe(p))
		return 1;
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		reason_fd = p[1];
		alarm(60);
		int rc = c->fn();
		if (rc) {
			if (!reason[0])
				host_fail(__FILE__, __LINE__, "case returned %d", rc);
			dump_log();
		}
		fflush(stdout);
		fflush(stderr);
		_exit(rc ? 1 : 0);
	}
	close(p[1]);
	while ((n = read(p[0], got_reason + got, sizeof(got_reason) - 1 - got)) > 0)
		got += (size_t)n;
	got_reason[got] = 0;
	close(p[0]);
	waitpid(pid, &st, 0);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0 && !got) {
		printf("PASS: %s/%s\n", suite, c->name);
		return 0;
	}
	if (!got)
		snprintf(got_reason, sizeof(got_reason), WIFSIGNALED(st) ? "killed by signal %d" :
			 "exit status %d", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	printf("FAIL: %s/%s: %s\n", suite, c->name, got_reason);
	return 1;
}

int host_test_main(const char *suite, const struct host_case *cases, size_t n, int argc,
		   char **argv)
{
	int failed = 0, ran = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (size_t i = 0; i < n; i++) {
		if (argc > 1 && strcmp(argv[1], cases[i].name) != 0)
			continue;
		failed += run_one(suite, &cases[i]);
		ran++;
	}
	if (argc > 1 && ran == 0) {
		printf("FAIL: %s/%s: no such case\n", suite, argv[1]);
		return 1;
	}
	return failed ? 1 : 0;
}
