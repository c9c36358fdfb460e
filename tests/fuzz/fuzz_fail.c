// SPDX-License-Identifier: MIT
/*
 * fuzz_fail(): the end of every broken invariant in the fuzz targets (see fuzz.h), and the fuzz
 * targets' test_fail (tests/host/common/test.h), through which the shared stand-ins and checks
 * report: in a fuzzer every failure is a crash, so the input is kept.
 *
 * Interface: fuzz_fail, test_fail.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"
#include "log.h"
#include "test.h"

void fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	log_dump();
	fprintf(stderr, "fuzz: invariant: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	abort();
}

void test_fail(const char *file, int line, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fuzz_fail("%s:%d: %s", file, line, msg);
}
