// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: number parsing (kernel/parse.c) and the kernel command line
 * (kernel/cmdline.c), each checked against a small reference model written from the contracts
 * in rvmm/console.h and rvmm/cmdline.h, not from the code.
 *
 * The input is the bootargs string (up to its first NUL). parse_u64 runs on every word of it and
 * on every value after an '='. An input longer than the command line's 4096-character bound and
 * without a NUL is handed over unterminated, in a buffer of exactly its size: ASan then catches
 * any read past the bound cmdline_parse promises to keep.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rvmm/cmdline.h>
#include <rvmm/console.h>
#include <rvmm/errno.h>

#include "fuzz.h"
#include "log.h"


#define MAX_LEN	 4096 /* CMDLINE_MAX_LEN */
#define WORD_LEN 128  /* CMDLINE_WORD_LEN */

/* ---- parse_u64 ------------------------------------------------------------------------------- */

// The reference: "123" or "0x1f", then at most one of kKmMgGtT, binary units, 64 bits.
static int ref_parse_u64(const char *s, uint64_t *out)
{
	unsigned __int128 v = 0;
	unsigned base = 10, shift = 0;
	bool big = false;
	size_t n = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	for (;; s++, n++) {
		unsigned d;

		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else
			break;
		v = v * base + d;
		if (v > UINT64_MAX)
			big = true; /* overflow is reported before anything after the digits */
		if (big)
			return -ERANGE;
	}
	if (n == 0)
		return -EINVAL;
	if (*s) {
		const char *u = strchr("kKmMgGtT", *s);

		if (!u || s[1])
			return -EINVAL;
		shift = 10 * (unsigned)(1 + (u - "kKmMgGtT") / 2);
	}
	if ((v << shift) > UINT64_MAX)
		return -ERANGE;
	*out = (uint64_t)(v << shift);
	return 0;
}

static void check_parse_u64(const char *s)
{
	const uint64_t untouched = 0x5a5a5a5a5a5a5a5aull;
	uint64_t got = untouched, want = untouched;
	int rc = parse_u64(s, &got), wrc = ref_parse_u64(s, &want);

	FUZZ_CHECK(rc == wrc, "parse_u64(\"%s\") returned %d, the reference %d", s, rc, wrc);
	FUZZ_CHECK(got == want, "parse_u64(\"%s\") gave 0x%lx, the reference 0x%lx", s, got, want);
}

/* ---- cmdline_parse --------------------------------------------------------------------------- */

// Reference model: what struct cmdline must hold after bootargs.
static void ref_cmdline(const char *s, size_t len, struct cmdline *m)
{
	char word[MAX_LEN + 1];
	size_t i = 0, n;

	memset(m, 0, sizeof(*m));
	m->loglevel = -1;
	m->deferred_init = true;
	m->pci_msi = true;
	m->pci_intx = true;
	while (i < len && i < MAX_LEN && s[i]) {
		if (s[i] == ' ' || s[i] == '\t' || s[i] == '\n') {
			i++;
			continue;
		}
		for (n = 0; i < len && i < MAX_LEN && s[i] && !strchr(" \t\n", s[i]); i++)
			word[n++] = s[i];
		word[n] = '\0';
		if (n >= WORD_LEN) {
			m->nr_bad++;
			continue;
		}
		char *eq = strchr(word, '=');
		const char *val = eq ? eq + 1 : NULL;
		uint64_t v;
		if (eq)
			*eq = '\0';
		if (!strcmp(word, "mem") || !strcmp(word, "failalloc") ||
		    !strcmp(word, "loglevel")) {
			if (!val || ref_parse_u64(val, &v) || (!strcmp(word, "loglevel") && v > 7))
				m->nr_bad++;
			else if (!strcmp(word, "mem"))
				m->mem = v;
			else if (!strcmp(word, "failalloc"))
				m->failalloc = v;
			else
				m->loglevel = (int)v;
		} else if (!strcmp(word, "nosmp")) {
			if (val)
				m->nr_bad++;
			else
				m->nosmp = true;
		} else if (!strcmp(word, "deferred_init") || !strcmp(word, "pci_msi") ||
			   !strcmp(word, "pci_intx")) {
			bool *flag = !strcmp(word, "deferred_init") ? &m->deferred_init
				     : !strcmp(word, "pci_msi")     ? &m->pci_msi
								    : &m->pci_intx;
			if (val && !strcmp(val, "on"))
				*flag = true;
			else if (val && !strcmp(val, "off"))
				*flag = false;
			else
				m->nr_bad++;
		} else {
			bool seen = false;
			int kept = MIN(m->nr_unknown, CMDLINE_MAX_UNKNOWN);

			for (int k = 0; k < kept; k++)
				seen |= !strcmp(m->unknown[k], word); /* kept names are cut */
			if (seen)
				continue;
			if (kept < CMDLINE_MAX_UNKNOWN)
				snprintf(m->unknown[kept], CMDLINE_NAME_LEN, "%s", word);
			m->nr_unknown++;
		}
	}
}

static void check_cmdline(const char *s, size_t len)
{
	static struct cmdline cl, m;
	int rc = cmdline_parse(s, &cl);

	ref_cmdline(s, len, &m);
	FUZZ_CHECK(rc >= 0 && rc == cl.nr_unknown + cl.nr_bad, "returned %d, %d unknown %d bad", rc,
		   cl.nr_unknown, cl.nr_bad);
	FUZZ_CHECK(cl.mem == m.mem && cl.failalloc == m.failalloc && cl.loglevel == m.loglevel &&
		       cl.nosmp == m.nosmp && cl.deferred_init == m.deferred_init &&
		       cl.pci_msi == m.pci_msi && cl.pci_intx == m.pci_intx,
		   "options differ from the reference: mem 0x%lx/0x%lx failalloc %lu/%lu loglevel "
		   "%d/%d nosmp %d/%d deferred_init %d/%d pci_msi %d/%d pci_intx %d/%d",
		   cl.mem, m.mem, cl.failalloc, m.failalloc, cl.loglevel, m.loglevel, cl.nosmp,
		   m.nosmp, cl.deferred_init, m.deferred_init, cl.pci_msi, m.pci_msi, cl.pci_intx,
		   m.pci_intx);
	FUZZ_CHECK(cl.nr_bad == m.nr_bad, "nr_bad %d, the reference %d", cl.nr_bad, m.nr_bad);
	for (int i = 0; i < MIN(cl.nr_unknown, CMDLINE_MAX_UNKNOWN); i++)
		FUZZ_CHECK(memchr(cl.unknown[i], '\0', CMDLINE_NAME_LEN),
			   "unknown[%d] unterminated", i);
	FUZZ_CHECK(cl.nr_unknown == m.nr_unknown, "nr_unknown %d, the reference %d", cl.nr_unknown,
		   m.nr_unknown);
	for (int i = 0; i < MIN(m.nr_unknown, CMDLINE_MAX_UNKNOWN); i++)
		FUZZ_CHECK(!strcmp(cl.unknown[i], m.unknown[i]),
			   "unknown[%d] '%s', the reference '%s'", i, cl.unknown[i], m.unknown[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bool terminated = memchr(data, '\0', size) != NULL;
	char *s;

	log_clear();
	if (size > MAX_LEN && !terminated) {
		s = malloc(size);
		memcpy(s, data, size);
		check_cmdline(s, size);
		free(s);
		return 0;
	}
	s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	check_cmdline(s, size);
	check_parse_u64(s);
	for (char *w = strtok(s, " \t\n"); w; w = strtok(NULL, " \t\n")) {
		check_parse_u64(w);
		if (strchr(w, '='))
			check_parse_u64(strchr(w, '=') + 1);
	}
	free(s);
	return 0;
}
