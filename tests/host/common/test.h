/* SPDX-License-Identifier: MIT */
/*
 * The host tests' one assertion dialect and case runner, shared by every suite of tests/host/
 * (mm over the simulation, virtio/PCI, virtio-mem, platform). A suite is a table of CASE(fn)
 * entries; each case is an int fn(void) returning 0 on success, and runs in a forked child, so
 * static state starts fresh and a crash fails that case only; the failure reason comes back
 * through a pipe. Prints exactly "PASS: suite/case" or "FAIL: suite/case: reason"; when a case
 * fails, the kernel messages it printed (common/printk.c) go to stderr. The suite's exit status
 * is non-zero if any case failed.
 *
 * Usage: binary [case | suite/case]   (RVMM_TEST_NOFORK=1 runs the cases in-process, for a
 * debugger)
 *
 * Interface: struct test_case, CASE, struct test_suite, SUITE, TEST_SUITE, CHECK, CHECK_MSG,
 * CHECK_EQ, CHECK_RC, test_fail, test_vfail, test_main, test_main_suites, test_rand.
 */
#ifndef RVMM_TESTS_HOST_COMMON_TEST_H
#define RVMM_TESTS_HOST_COMMON_TEST_H

#include <stdarg.h>
#include <stddef.h>

#include <rvmm/types.h>

struct test_case {
	int (*fn)(void); /* 0 = pass */
	const char *name;
};

/*
 * A table entry named after its function; a leading "test_" or "<suite>_" is left out of the
 * printed name.
 */
#define CASE(fn)                                                                                   \
	{                                                                                          \
		fn, #fn                                                                            \
	}

/* A binary may hold several suites, each a table of cases. */
struct test_suite {
	const char *name;
	const struct test_case *cases;
	size_t n;
};
#define SUITE(name, table)                                                                         \
	{                                                                                          \
		name, table, sizeof(table) / sizeof((table)[0])                                    \
	}

/*
 * Define `const struct test_suite *fn(void)`, returning the suite `name` of the CASE() entries
 * that follow: how a file that is one suite of a larger binary exports it.
 */
#define TEST_SUITE(fn, name, ...)                                                                  \
	const struct test_suite *fn(void)                                                          \
	{                                                                                          \
		static const struct test_case cases[] = { __VA_ARGS__ };                           \
		static const struct test_suite suite = SUITE(name, cases);                         \
		return &suite;                                                                     \
	}

/*
 * Record why the running case failed, as "file:line: message" (file without its directory). The
 * first reason of a case is the one reported. Fuzz targets provide their own (tests/fuzz/).
 */
__printf(3, 4) void test_fail(const char *file, int line, const char *fmt, ...);
void test_vfail(const char *file, int line, const char *fmt, va_list ap);

/* Each check fails the case and returns 1 from it when its condition does not hold. */
#define CHECK_MSG(cond, ...)                                                                       \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			test_fail(__FILE__, __LINE__, __VA_ARGS__);                                \
			return 1;                                                                  \
		}                                                                                  \
	} while (0)

#define CHECK(cond) CHECK_MSG(cond, "%s", #cond)

#define CHECK_EQ(a, b)                                                                             \
	do {                                                                                       \
		unsigned long long __a = (unsigned long long)(a), __b = (unsigned long long)(b);   \
		if (__a != __b) {                                                                  \
			test_fail(__FILE__, __LINE__, "%s == %s (%lld != %lld, 0x%llx != 0x%llx)", \
				  #a, #b, (long long)__a, (long long)__b, __a, __b);               \
			return 1;                                                                  \
		}                                                                                  \
	} while (0)

#define CHECK_RC(expr) CHECK_EQ((long long)(expr), 0)

/* Run the cases (all, or the one named in argv[1]); returns the exit status. */
int test_main(const char *suite, const struct test_case *cases, size_t n, int argc, char **argv);
int test_main_suites(const struct test_suite *suites, size_t n, int argc, char **argv);

/* Deterministic PRNG (xorshift64*) for randomized tests. */
static inline uint64_t test_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

#endif
