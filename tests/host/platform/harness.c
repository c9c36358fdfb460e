// SPDX-License-Identifier: MIT
/*
 * The platform suites' file loader (see harness.h).
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>

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
	buf = malloc(n ? (size_t)n : 1) /* malloc: 16-byte aligned */;
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*size = (size_t)n;
	return buf;
}
