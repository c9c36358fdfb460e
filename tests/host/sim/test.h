/* SPDX-License-Identifier: MIT */
/*
 * Minimal host test harness, on the shared runner of tests/host/common/runner.h. A suite is a
 * table of {fn, "name"} cases; each runs in a forked child so a crash (a touched unpopulated
 * descriptor) fails that case only. Prints exactly
 * "PASS: suite/case" or "FAIL: suite/case: reason"; exits non-zero if any case failed.
 * Usage: test_x [case]   (RVMM_TEST_NOFORK=1 runs in-process, for a debugger)
 *
 * Interface: struct test_case, CHECK, CHECK_EQ, CHECK_RC, test_fail, test_main, test_rand.
 */
#ifndef RVMM_TEST_H
#define RVMM_TEST_H

#include <rvmm/types.h>

#include "../common/runner.h"

/* The case table entry of the shared runner. */
#define test_case runner_case

__printf(3, 4) void test_fail(const char *file, int line, const char *fmt, ...);

#define CHECK(cond)                                                          \
	do {                                                                 \
		if (!(cond)) {                                               \
			test_fail(__FILE__, __LINE__, "%s", #cond);          \
			return 1;                                            \
		}                                                            \
	} while (0)

#define CHECK_EQ(a, b)                                                                     \
	do {                                                                               \
		unsigned long long __a = (unsigned long long)(a), __b = (unsigned long long)(b); \
		if (__a != __b) {                                                          \
			test_fail(__FILE__, __LINE__, "%s == %s (0x%llx != 0x%llx)", #a, #b, \
				  __a, __b);                                               \
			return 1;                                                          \
		}                                                                          \
	} while (0)

#define CHECK_RC(expr) CHECK_EQ((long long)(expr), 0)

int test_main(const char *suite, const struct test_case *cases, size_t n, int argc, char **argv);

/* Deterministic PRNG (xorshift64*) for randomized tests. */
static inline uint64_t test_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

#endif
