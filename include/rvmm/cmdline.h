/* SPDX-License-Identifier: MIT */
/*
 * The kernel command line (/chosen/bootargs), parsed once at boot into struct cmdline by
 * kernel/cmdline.c. Options are space-separated words, "name" or "name=value"; the table of known
 * options is in cmdline.c. A bad or unknown option is reported and ignored, never fatal.
 *
 * Interface: cmdline_parse(), the global `cmdline`.
 */
#ifndef RVMM_CMDLINE_H
#define RVMM_CMDLINE_H

#include <rvmm/types.h>

#define CMDLINE_MAX_UNKNOWN 8
#define CMDLINE_NAME_LEN 32

struct cmdline {
	uint64_t mem;           /* mem=SIZE: use no RAM above this much; 0 = not given */
	uint64_t failalloc;     /* failalloc=N: fault injection (fail the Nth allocation); 0 = off */
	int loglevel;           /* loglevel=N, 0..7 as given (Linux numbering); -1 = not given */
	bool nosmp;             /* nosmp: bring up the boot hart only */
	bool deferred_init;     /* false after deferred_init=off; true by default */
	bool pci_msi;           /* false after pci_msi=off: PCI functions use INTx, not MSI-X */
	bool pci_intx;          /* false after pci_intx=off: no INTx (without MSI-X: polled) */

	/* Options that were ignored (each reported once when parsed). */
	char unknown[CMDLINE_MAX_UNKNOWN][CMDLINE_NAME_LEN]; /* names, without "=value" */
	int nr_unknown;         /* may exceed CMDLINE_MAX_UNKNOWN; only that many names are kept */
	int nr_bad;             /* known options whose value was rejected */
};

/*
 * Parse bootargs (NULL or "" means no options) into *out, which is fully reset first to the
 * defaults above. Prints one pr_warn line per bad value ("cmdline: mem=12x: not a size, ignored")
 * and per distinct unknown option ("cmdline: unknown option 'foo' ignored"). Returns the number
 * of options ignored (nr_unknown + nr_bad): 0 when every option was understood.
 */
int cmdline_parse(const char *bootargs, struct cmdline *out);

/* The options rvmm booted with: main.c fills it from platform.bootargs. */
extern struct cmdline cmdline;

#endif
