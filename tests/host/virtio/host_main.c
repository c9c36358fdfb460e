// SPDX-License-Identifier: MIT
//
// The virtio/PCI/virtio-mem suites' side of the shared case runner
// (tests/host/common/runner.h): kernel messages dumped to stderr when a case fails; a case may
// run 60 s. See host.h.

#include <stdarg.h>
#include <stdio.h>

#include "host.h"

void host_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	runner_vfail(file, line, fmt, ap);
	va_end(ap);
}

static void dump_log(void)
{
	fprintf(stderr, "---- kernel messages ----\n%s-------------------------\n", host_log());
}

int host_test_main(const char *suite, const struct host_case *cases, size_t n, int argc,
		   char **argv)
{
	static const struct runner_hooks hooks = { .dump_log = dump_log, .timeout = 60 };

	return runner_main(suite, cases, n, &hooks, argc, argv);
}
