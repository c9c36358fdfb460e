// SPDX-License-Identifier: MIT
/*
 * The platform suites' file loader and DTB parser (see harness.h).
 */
#include "harness.h"

#include <rvmm/platform.h>

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

int parse_dtb(struct platform *plat, const char *name)
{
	static void *blob; /* plat->fdt points into it: kept until the next parse */
	char path[512];
	size_t size;
	void *fdt;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dtb_dir, name);
	fdt = load_file(path, &size);
	CHECK_MSG(fdt, "cannot read %s (make platform-tests generates it)", path);
	rc = platform_parse(plat, fdt, size);
	free(blob);
	blob = fdt;
	return rc;
}
