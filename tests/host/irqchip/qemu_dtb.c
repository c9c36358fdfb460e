// SPDX-License-Identifier: MIT
//
// Loading QEMU virt's own trees for the irqchip suites (see qemu_dtb.h).
//
// Interface: load_qemu_dtb, phandle_at.

#include <stdio.h>
#include <stdlib.h>

#include <libfdt.h>

#include "qemu_dtb.h"

static uint8_t qemu_dtb[1 << 16];

const void *load_qemu_dtb(const char *name)
{
	const char *dir = getenv("IRQCHIP_DTB_DIR");
	char path[256];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "build/host/irqchip/dtb", name);
	f = fopen(path, "rb");
	if (!f)
		return NULL;
	n = fread(qemu_dtb, 1, sizeof(qemu_dtb), f);
	fclose(f);
	return n > 0 && fdt_check_header(qemu_dtb) == 0 ? qemu_dtb : NULL;
}

uint32_t phandle_at(const void *fdt, const char *path)
{
	int node = fdt_path_offset(fdt, path);

	return node < 0 ? 0 : fdt_get_phandle(fdt, node);
}
