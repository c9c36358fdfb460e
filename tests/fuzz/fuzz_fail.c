// SPDX-License-Identifier: MIT
/*
 * fuzz_fail(): the end of every broken invariant in the fuzz targets (see fuzz.h).
 *
 * Interface: fuzz_fail.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"

void fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	if (fuzz_log_tail)
		fuzz_log_tail();
	fprintf(stderr, "fuzz: invariant: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	abort();
}
