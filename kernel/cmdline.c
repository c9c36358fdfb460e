// SPDX-License-Identifier: MIT
/*
 * Kernel command line: splits /chosen/bootargs into words and applies the known options from one
 * table. Values go through parse_u64(), so sizes read as at the console ("mem=2G",
 * "mem=0x80000000").
 * Nothing here is fatal: a bad value or an unknown option is printed once and ignored.
 *
 * Interface: cmdline_parse(), the global `cmdline`.
 */
#include <rvmm/cmdline.h>
#include <rvmm/console.h>
#include <rvmm/errno.h>
#include <rvmm/printk.h>

#include <string.h>

#define CMDLINE_MAX_LEN 4096   /* longest bootargs read: bounds the walk over a bad string */
#define CMDLINE_WORD_LEN 128   /* longest single option */

struct cmdline cmdline;

enum opt_kind { OPT_FLAG, OPT_NUMBER, OPT_SIZE, OPT_ONOFF };

struct cmdline_option {
	const char *name;
	enum opt_kind kind;
	uint64_t max;           /* largest value accepted (OPT_NUMBER, OPT_SIZE) */
	// Store a value already parsed and range-checked (0/1 for flags and on/off).
	void (*set)(struct cmdline *cl, uint64_t v);
};

static void set_mem(struct cmdline *cl, uint64_t v) { cl->mem = v; }
static void set_failalloc(struct cmdline *cl, uint64_t v) { cl->failalloc = v; }
static void set_loglevel(struct cmdline *cl, uint64_t v) { cl->loglevel = (int)v; }
static void set_nosmp(struct cmdline *cl, uint64_t v) { cl->nosmp = v; }
static void set_deferred_init(struct cmdline *cl, uint64_t v) { cl->deferred_init = v; }
static void set_pci_msi(struct cmdline *cl, uint64_t v) { cl->pci_msi = v; }
static void set_pci_intx(struct cmdline *cl, uint64_t v) { cl->pci_intx = v; }

static const struct cmdline_option options[] = {
	{ "mem", OPT_SIZE, UINT64_MAX, set_mem },
	{ "failalloc", OPT_NUMBER, UINT64_MAX, set_failalloc },
	{ "loglevel", OPT_NUMBER, 7, set_loglevel },
	{ "nosmp", OPT_FLAG, 1, set_nosmp },
	{ "deferred_init", OPT_ONOFF, 1, set_deferred_init },
	{ "pci_msi", OPT_ONOFF, 1, set_pci_msi },
	{ "pci_intx", OPT_ONOFF, 1, set_pci_intx },
};

static void defaults(struct cmdline *cl)
{
	memset(cl, 0, sizeof(*cl));
	cl->loglevel = -1;
	cl->deferred_init = true;
	cl->pci_msi = true;
	cl->pci_intx = true;
}

// Remember an unknown option and report it, unless it was already seen.
static void note_unknown(struct cmdline *cl, const char *name)
{
	int kept = MIN(cl->nr_unknown, CMDLINE_MAX_UNKNOWN);

	for (int i = 0; i < kept; i++)
		if (strcmp(cl->unknown[i], name) == 0)
			return;
	if (kept < CMDLINE_MAX_UNKNOWN) {
		strncpy(cl->unknown[kept], name, CMDLINE_NAME_LEN - 1);
		cl->unknown[kept][CMDLINE_NAME_LEN - 1] = '\0';
	}
	cl->nr_unknown++;
	pr_warn("cmdline: unknown option '%s' ignored", name);
}

static void bad_value(struct cmdline *cl, const char *word, const char *why)
{
	cl->nr_bad++;
	pr_warn("cmdline: %s: %s, ignored", word, why);
}

// Apply one word, "name" or "name=value".
static void apply(struct cmdline *cl, char *word)
{
	const struct cmdline_option *opt = NULL;
	char *value = strchr(word, '=');
	uint64_t v;
	int rc;

	if (value)
		*value++ = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(options); i++)
		if (strcmp(options[i].name, word) == 0)
			opt = &options[i];
	if (!opt) {
		note_unknown(cl, word);
		return;
	}
	if (value)
		value[-1] = '=';  /* whole word again, for messages */

	switch (opt->kind) {
	case OPT_FLAG:
		if (value) {
			bad_value(cl, word, "takes no value");
			return;
		}
		v = 1;
		break;
	case OPT_ONOFF:
		if (value && strcmp(value, "on") == 0) {
			v = 1;
		} else if (value && strcmp(value, "off") == 0) {
			v = 0;
		} else {
			bad_value(cl, word, "not on or off");
			return;
		}
		break;
	case OPT_NUMBER:
	case OPT_SIZE:
		rc = value ? parse_u64(value, &v) : -EINVAL;
		if (rc == -ERANGE || (rc == 0 && v > opt->max)) {
			bad_value(cl, word, "out of range");
			return;
		}
		if (rc) {
			bad_value(cl, word, opt->kind == OPT_SIZE ? "not a size" : "not a number");
			return;
		}
		break;
	}
	opt->set(cl, v);
}

int cmdline_parse(const char *bootargs, struct cmdline *out)
{
	char word[CMDLINE_WORD_LEN];
	size_t i = 0, n;

	defaults(out);
	if (!bootargs)
		return 0;
	while (i < CMDLINE_MAX_LEN && bootargs[i]) {
		if (bootargs[i] == ' ' || bootargs[i] == '\t' || bootargs[i] == '\n') {
			i++;
			continue;
		}
		for (n = 0; i < CMDLINE_MAX_LEN && bootargs[i] && bootargs[i] != ' ' &&
			    bootargs[i] != '\t' && bootargs[i] != '\n'; i++, n++)
			if (n < sizeof(word) - 1)
				word[n] = bootargs[i];
		if (n >= sizeof(word)) {
			word[sizeof(word) - 1] = '\0';
			bad_value(out, word, "option too long");
			continue;
		}
		word[n] = '\0';
		apply(out, word);
	}
	if (i >= CMDLINE_MAX_LEN)
		pr_warn("cmdline: longer than %d characters, the rest ignored", CMDLINE_MAX_LEN);
	return out->nr_unknown + out->nr_bad;
}
