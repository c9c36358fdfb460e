// SPDX-License-Identifier: MIT
/*
 * Number parsing for the command line and the console: one strict parser, so `mem=4G` on the
 * kernel command line and `hotadd 0x100000000 1G` at the console accept exactly the same forms.
 *
 * Interface: parse_u64() (declared in rvmm/console.h).
 */
#include <rvmm/console.h>
#include <rvmm/errno.h>

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

// Binary-unit shift for a size suffix, or -1 if c is not one.
static int suffix_shift(char c)
{
	switch (c) {
	case 'k': case 'K': return 10;
	case 'm': case 'M': return 20;
	case 'g': case 'G': return 30;
	case 't': case 'T': return 40;
	default: return -1;
	}
}

/*
 * Accepts "123", "0x1f" (or 0X), each optionally followed by one of K/M/G/T (either case, powers
 * of 1024). No sign, no spaces, no octal: "010" is ten. Returns 0 and sets *out; -EINVAL for an
 * empty string, a missing digit ("0x", "K") or trailing garbage ("12x"); -ERANGE when the value,
 * scaled by its suffix, does not fit in 64 bits. *out is untouched on error.
 */
int parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	unsigned int base = 10;
	int ndigits = 0, shift, d;

	if (!s || !out)
		return -EINVAL;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	for (; (d = hex_digit(*s)) >= 0 && (unsigned int)d < base; s++, ndigits++) {
		if (v > (UINT64_MAX - (uint64_t)d) / base)
			return -ERANGE;
		v = v * base + (uint64_t)d;
	}
	if (ndigits == 0)
		return -EINVAL;
	if (*s != '\0') {
		shift = suffix_shift(*s);
		if (shift < 0 || s[1] != '\0')
			return -EINVAL;
		if (v > (UINT64_MAX >> shift))
			return -ERANGE;
		v <<= shift;
	}
	*out = v;
	return 0;
}
