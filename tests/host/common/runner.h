/* SPDX-License-Identifier: MIT */
/*
 * The host tests' case runner, shared by the suites of tests/host/ (sim/test.h, virtio/host.h,
 * platform/harness.h). A suite is a table of {fn, "name"} cases; each runs in a forked child, so
 * static state starts fresh and a crash fails that case only; the failure reason comes back
 * through a pipe. Prints exactly "PASS: suite/case" or "FAIL: suite/case: reason"; the suite's
 * exit status is non-zero if any case failed.
 * Usage: binary [case]   (RVMM_TEST_NOFORK=1 runs the cases in-process, for a debugger)
 *
 * What differs between suites comes in struct runner_hooks.
 *
 * Interface: struct runner_case, struct runner_hooks, runner_fail, runner_vfail, runner_main,
 * runner_report.
 */
#ifndef RVMM_TESTS_HOST_COMMON_RUNNER_H
#define RVMM_TESTS_HOST_COMMON_RUNNER_H

#include <stdarg.h>
#include <stddef.h>

struct runner_case {
	int (*fn)(void); /* 0 = pass */
	const char *name;
};

struct runner_hooks {
	void (*dump_log)(void); /* on a failure, the kernel messages to stderr; may be NULL */
	void (*setup)(void);	/* before each case, in the child; may be NULL */
	void (*teardown)(void); /* after each case, in the child; may be NULL */
	unsigned timeout;	/* seconds a forked case may run (alarm); 0 = no limit */
};

/* Record why the running case failed, as "file:line: message" (file without its directory). */
__attribute__((format(printf, 3, 4))) void runner_fail(const char *file, int line,
							const char *fmt, ...);
void runner_vfail(const char *file, int line, const char *fmt, va_list ap);

/* Run the cases (all, or the one named in argv[1]); returns the exit status. */
int runner_main(const char *suite, const struct runner_case *cases, size_t n,
		const struct runner_hooks *hooks, int argc, char **argv);

/* Print the protocol line of one case: PASS if reason is NULL, else FAIL with the reason. */
void runner_report(const char *suite, const char *name, const char *reason);

#endif
