/* SPDX-License-Identifier: MIT */
/*
 * QEMU virt's own device trees for the irqchip suites (dumped by irqchip.mk into
 * $IRQCHIP_DTB_DIR, default build/host/irqchip/dtb), and the phandle of a node by path.
 *
 * Interface: load_qemu_dtb, phandle_at.
 */
#ifndef IRQCHIP_TEST_QEMU_DTB_H
#define IRQCHIP_TEST_QEMU_DTB_H

#include <rvmm/types.h>

/* The tree in file name, checked, in a static buffer (the next call reuses it); NULL if absent. */
const void *load_qemu_dtb(const char *name);
/* The phandle of the node at path, 0 if there is none. */
uint32_t phandle_at(const void *fdt, const char *path);

#endif
