/* SPDX-License-Identifier: MIT */
/*
 * What drivers/pci/ files share and nobody else needs: BAR sizing and assignment (pci_bar.c),
 * used by the scan in pci.c.
 */
#ifndef RVMM_DRIVERS_PCI_INTERNAL_H
#define RVMM_DRIVERS_PCI_INTERNAL_H

#include <rvmm/pci.h>

/* Take the host bridge's windows (its `ranges`) as the space BARs are placed in. */
void pci_windows_init(const struct pci_host *host);

/*
 * Size every BAR of dev (memory and I/O decoding off meanwhile) and place them in the windows.
 * On success the BARs are programmed, dev->bar[] filled, and memory/I/O decoding plus bus
 * mastering enabled. On failure (-EINVAL: a BAR makes no sense; -ENOSPC: no room) dev->problem
 * says why, and the function's BARs and COMMAND, and the windows, are as they were.
 */
int pci_assign_bars(struct pci_dev *dev);

/* "mem32", "mem64 pref", "io" for lspci. */
const char *pci_bar_kind(const struct pci_bar *bar);

#endif
