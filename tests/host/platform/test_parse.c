// SPDX-License-Identifier: MIT
/*
 * parse_u64() on a table of inputs, and on NULL. Errors must leave *out untouched.
 */
#include "harness.h"

#include <rvmm/console.h>
#include <rvmm/errno.h>

static const struct {
	const char *name;
	const char *in;
	int rc;
	uint64_t want;
} cases[] = {
    {"zero", "0", 0, 0},
    {"decimal", "4096", 0, 4096},
    {"decimal_leading_zero", "010", 0, 10},
    {"hex", "0x10", 0, 16},
    {"hex_upper", "0XfF", 0, 255},
    {"suffix_4K", "4K", 0, 4096},
    {"suffix_lower_k", "4k", 0, 4096},
    {"suffix_1G", "1G", 0, 1UL << 30},
    {"suffix_512M", "512M", 0, 512UL << 20},
    {"suffix_16T", "16T", 0, 1UL << 44},
    {"hex_suffix", "0x10M", 0, 16UL << 20},
    {"max", "18446744073709551615", 0, UINT64_MAX},
    {"max_hex", "0xffffffffffffffff", 0, UINT64_MAX},
    {"suffix_at_limit", "16777215T", 0, 16777215UL << 40},
    {"overflow_decimal", "99999999999999999999", -ERANGE, 0},
    {"overflow_by_one", "18446744073709551616", -ERANGE, 0},
    {"overflow_hex", "0x10000000000000000", -ERANGE, 0},
    {"overflow_suffix", "16777216T", -ERANGE, 0},
    {"garbage_12x", "12x", -EINVAL, 0},
    {"empty", "", -EINVAL, 0},
    {"hex_no_digits", "0x", -EINVAL, 0},
    {"suffix_only", "K", -EINVAL, 0},
    {"negative", "-1", -EINVAL, 0},
    {"plus", "+1", -EINVAL, 0},
    {"leading_space", " 1", -EINVAL, 0},
    {"trailing_space", "1 ", -EINVAL, 0},
    {"double_suffix", "1KK", -EINVAL, 0},
    {"suffix_then_garbage", "1Kb", -EINVAL, 0},
    {"bad_hex_digit", "0xg", -EINVAL, 0},
    {"fraction", "1.5G", -EINVAL, 0},
    {"hex_digit_in_decimal", "12a", -EINVAL, 0},
};

static int parse_u64_table(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint64_t v = 0x5a5a5a5a;
		int rc = parse_u64(cases[i].in, &v);

		CHECK_MSG(rc == cases[i].rc, "%s \"%s\": rc %d, want %d", cases[i].name,
			  cases[i].in, rc, cases[i].rc);
		if (cases[i].rc == 0)
			CHECK_MSG(v == cases[i].want, "%s \"%s\": got 0x%lx, want 0x%lx",
				  cases[i].name, cases[i].in, v, cases[i].want);
		else
			CHECK_MSG(v == 0x5a5a5a5a, "%s \"%s\": *out changed on error",
				  cases[i].name, cases[i].in);
	}
	return 0;
}

static int parse_u64_null(void)
{
	uint64_t v = 7;
	CHECK_MSG(parse_u64(NULL, &v) == -EINVAL && v == 7, "NULL string accepted");
	return 0;
}

TEST_SUITE(parse_u64_suite, "parse_u64",
	   CASE(parse_u64_table),
	   CASE(parse_u64_null))
