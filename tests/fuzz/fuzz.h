/* SPDX-License-Identifier: MIT */
/*
 * Shared by the libFuzzer targets in tests/fuzz/: the failure report every invariant check ends
 * in, and a cursor that takes bytes, numbers and choices from the fuzzer's input.
 *
 * A broken invariant is a crash for libFuzzer: fuzz_fail() prints the reason (and the captured
 * kernel log, where the target keeps one) and aborts, so the input lands in the crash directory
 * like an ASan report would.
 *
 * Interface: fuzz_fail, FUZZ_CHECK, struct fuzz_in with fin_u8/fin_u16/fin_u32/fin_u64/fin_bytes/
 * fin_pick.
 */
#ifndef RVMM_FUZZ_H
#define RVMM_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Print the log tail and "fuzz: invariant: <what>", then abort(). */
__attribute__((format(printf, 1, 2), noreturn)) void fuzz_fail(const char *fmt, ...);

#define FUZZ_CHECK(cond, ...)                                                                      \
	do {                                                                                       \
		if (!(cond))                                                                       \
			fuzz_fail(__FILE__ ":" FUZZ_STR(__LINE__) ": " __VA_ARGS__);               \
	} while (0)
#define FUZZ_STR(x)  FUZZ_STR_(x)
#define FUZZ_STR_(x) #x

/* The fuzzer's input, consumed front to back; reads past the end give zeros. */
struct fuzz_in {
	const uint8_t *p;
	size_t left;
};

static inline bool fin_empty(const struct fuzz_in *in)
{
	return in->left == 0;
}

static inline uint8_t fin_u8(struct fuzz_in *in)
{
	if (!in->left)
		return 0;
	in->left--;
	return *in->p++;
}

static inline uint16_t fin_u16(struct fuzz_in *in)
{
	return (uint16_t)(fin_u8(in) | fin_u8(in) << 8);
}

static inline uint32_t fin_u32(struct fuzz_in *in)
{
	return fin_u16(in) | (uint32_t)fin_u16(in) << 16;
}

static inline uint64_t fin_u64(struct fuzz_in *in)
{
	return fin_u32(in) | (uint64_t)fin_u32(in) << 32;
}

/* Up to n bytes into dst; returns how many were there. */
static inline size_t fin_bytes(struct fuzz_in *in, void *dst, size_t n)
{
	if (n > in->left)
		n = in->left;
	memcpy(dst, in->p, n);
	in->p += n;
	in->left -= n;
	return n;
}

/* A choice in [0, n). */
static inline unsigned fin_pick(struct fuzz_in *in, unsigned n)
{
	return n ? fin_u8(in) % n : 0;
}

#endif
