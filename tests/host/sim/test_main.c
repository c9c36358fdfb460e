// SPDX-License-Identifier: MIT
//
// The sim suites' side of the shared case runner (tests/host/common/runner.h): the simulated
// kernel's log is dumped when a case fails; a case may run 300 s. See test.h.
//
// Interface: test_main, test_fail.

#include <stdarg.h>

#include "sim.h"
#include "test.h"

void test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	runner_vfail(file, line, fmt, ap);
	va_end(ap);
}

int test_main(const char *suite, const struct test_case *cases, size_t n, int argc, char **argv)
{
	static const struct runner_hooks hooks = { .dump_log = sim_log_dump, .timeout = 300 };

	return runner_main(suite, cases, n, &hooks, argc, argv);
}
