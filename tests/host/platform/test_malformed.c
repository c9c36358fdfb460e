// SPDX-License-Identifier: MIT
/*
 * platform_parse() on broken blobs made here from a good QEMU DTB: bad magic, too small,
 * truncated, totalsize beyond the buffer, a misaligned pointer, garbage tags and name offsets in
 * the structure block; then a seeded fuzz loop (random byte flips and lengths) under ASan/UBSan
 * that only asks for rc 0 or -EINVAL, the struct's invariants, and no sanitizer report.
 */
#include "harness.h"

#include <rvmm/errno.h>
#include <rvmm/platform.h>
#include <rvmm/printk.h>

#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct platform plat;
static uint8_t *good;
static size_t good_size;

// The tree the cases break: QEMU's own, 3 GiB and 4 harts.
static int load_good(void)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/qemu-3g-4.dtb", dtb_dir);
	good = load_file(path, &good_size);
	CHECK_MSG(good, "cannot read %s", path);
	return 0;
}

// A fresh copy of the good tree, to break.
static uint8_t *copy_of_good(void)
{
	if (!good && load_good())
		return NULL;
	uint8_t *b = malloc(good_size);
	memcpy(b, good, good_size);
	return b;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

// Expect -EINVAL and exactly one error line containing msg.
static int expect_rejected(const void *fdt, size_t size, const char *msg)
{
	int rc = platform_parse(&plat, fdt, size);

	CHECK_MSG(rc == -EINVAL, "rc %d, want -EINVAL", rc);
	CHECK_MSG(log_find(LOG_ERR, msg) >= 0, "no error line containing \"%s\"", msg);
	CHECK_MSG(log_count("device tree:") == 1, "%d device tree lines, want 1",
		  log_count("device tree:"));
	return 0;
}

static int malformed_bad_magic(void)
{
	uint8_t *b;

	b = copy_of_good();
	CHECK(b);
	b[0] ^= 0xff;
	CHECK_RC(expect_rejected(b, good_size,
				 "device tree: header: not a valid device tree (FDT_ERR_BADMAGIC"));
	free(b);
	return 0;
}

static int malformed_smaller_than_header(void)
{
	uint8_t *b;

	CHECK_RC(load_good());
	b = malloc(20);
	memcpy(b, good, 20);
	CHECK_RC(expect_rejected(
	    b, 20, "device tree: header: blob is 20 bytes, smaller than a header (40)"));
	free(b);
	return 0;
}

static int malformed_null(void)
{
	CHECK_RC(expect_rejected(NULL, 0, "device tree: header: blob is 0 bytes"));
	return 0;
}

static int malformed_truncated(void)
{
	uint8_t *b;

	CHECK_RC(load_good());
	b = malloc(good_size / 2);
	memcpy(b, good, good_size / 2);
	{
		char msg[128];
		snprintf(msg, sizeof(msg),
			 "device tree: header: totalsize %lu is larger than the %lu "
			 "bytes available",
			 good_size, good_size / 2);
		CHECK_RC(expect_rejected(b, good_size / 2, msg));
	}
	free(b);
	return 0;
}

static int malformed_totalsize_beyond_buffer(void)
{
	uint8_t *b;

	b = copy_of_good();
	CHECK(b);
	put32(b + 4, (uint32_t)good_size + 4096);
	CHECK_RC(expect_rejected(b, good_size, "is larger than the"));
	free(b);
	return 0;
}

static int malformed_blocks_outside_totalsize(void)
{
	uint8_t *b;

	b = copy_of_good();
	CHECK(b);
	put32(b + 8, (uint32_t)good_size + 64); /* off_dt_struct */
	CHECK_RC(expect_rejected(b, good_size, "FDT_ERR_TRUNCATED"));
	free(b);
	return 0;
}

static int malformed_misaligned_struct_block(void)
{
	uint8_t *b;

	b = copy_of_good();
	CHECK(b);
	put32(b + 8, fdt_off_dt_struct(b) + 1);
	CHECK_RC(expect_rejected(b, good_size, "device tree: header: structure block at"));
	free(b);
	return 0;
}

static int malformed_misaligned(void)
{
	char *mis;

	CHECK_RC(load_good());
	mis = malloc(good_size + 8);
	memcpy(mis + 4, good, good_size);
	CHECK_RC(expect_rejected(mis + 4, good_size, "FDT_ERR_ALIGNMENT"));
	free(mis);
	return 0;
}

static int malformed_garbage_tag(void)
{
	uint8_t *b;

	b = copy_of_good();
	CHECK(b);
	/* Root: FDT_BEGIN_NODE, name "" padded to 4; the next tag is its first property. */
	put32(b + fdt_off_dt_struct(b) + 8, 0xdeadbeef);
	CHECK_RC(expect_rejected(b, good_size, "device tree: /: structure block is corrupt"));
	free(b);
	return 0;
}

static int malformed_garbage_in_middle(void)
{
	uint8_t *b;

	b = copy_of_good();
	CHECK(b);
	{
		/* Overwrite the first FDT_END_NODE tag past the middle of the block. */
		int off = 0, next, middle = (int)fdt_size_dt_struct(b) / 2;
		uint32_t tag;
		while ((tag = fdt_next_tag(b, off, &next)) != FDT_END &&
		       (tag != FDT_END_NODE || off < middle))
			off = next;
		CHECK_MSG(tag == FDT_END_NODE, "no FDT_END_NODE past the middle");
		put32(b + fdt_off_dt_struct(b) + off, 0x7f7f7f7f);
		CHECK_RC(expect_rejected(b, good_size, "structure block is corrupt"));
	}
	free(b);
	return 0;
}

static int malformed_bad_property_name_offset(void)
{
	uint8_t *b;

	b = copy_of_good();
	CHECK(b);
	/* First property of the root: tag, len, nameoff. */
	put32(b + fdt_off_dt_struct(b) + 16, 0x7ffffff0);
	CHECK_RC(expect_rejected(b, good_size, "structure block is corrupt (property at"));
	free(b);
	return 0;
}

static int malformed_struct_block_no_end(void)
{
	uint8_t *b;

	b = copy_of_good();
	CHECK(b);
	{
		/* The FDT_END tag becomes a NOP: the walk runs to the block's end and must stop
		 * there. */
		uint32_t end = fdt_off_dt_struct(b) + fdt_size_dt_struct(b) - 4;
		put32(b + end, FDT_NOP);
		CHECK_RC(expect_rejected(b, good_size,
					 "structure block does not end after the root node"));
	}
	free(b);
	return 0;
}

// A small deterministic PRNG (xorshift64*), so a failure reproduces.
static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dULL;
}

// Flip bytes of blob (and sometimes cut it short), parse, check; counts what was accepted and
// what was rejected.
static int fuzz_one(const uint8_t *blob, size_t blob_size, int iters, int *accepted, int *rejected)
{
	for (int iter = 0; iter < iters; iter++) {
		uint8_t *b = malloc(blob_size);
		size_t size = blob_size,
		       structural = MIN(blob_size, (size_t)fdt_off_dt_strings(blob));
		int flips = 1 + (int)(rnd() % 8), rc;

		memcpy(b, blob, blob_size);
		for (int i = 0; i < flips; i++) {
			/* Favour the header and structure block, where bytes are structural. */
			size_t at = (rnd() % 2) ? rnd() % structural : rnd() % blob_size;
			b[at] =
			    (rnd() % 3) ? (uint8_t)rnd() : (uint8_t)(b[at] ^ (1u << (rnd() % 8)));
		}
		if (rnd() % 8 == 0)
			size = rnd() % blob_size;
		log_clear();
		rc = platform_parse(&plat, b, size);
		free(b);
		if (rc == 0) {
			(*accepted)++;
			CHECK_MSG(plat.nr_mem >= 1 && plat.nr_mem <= PLAT_MAX_MEM,
				  "iter %d: nr_mem %d", iter, plat.nr_mem);
			for (int i = 1; i < plat.nr_mem; i++)
				CHECK_MSG(plat.mem[i - 1].base + plat.mem[i - 1].size <=
					      plat.mem[i].base,
					  "iter %d: overlap", iter);
			platform_print(&plat);
		} else {
			(*rejected)++;
			CHECK_MSG(rc == -EINVAL, "iter %d: rc %d", iter, rc);
			CHECK_MSG(log_count("device tree:") >= 1, "iter %d: rejected silently",
				  iter);
		}
	}
	return 0;
}

/*
 * PLATFORM_FUZZ_ITERS (per blob, default 1500) and PLATFORM_FUZZ_SEED change the run; the
 * default is fixed so a failure reproduces.
 */
static int malformed_fuzz_byte_flips(void)
{
	static const char *const blobs[] = {"qemu-3g-4.dtb", "fx/pci-imap.dtb", "fx/reserved.dtb",
					    "fx/multi-mem.dtb", "fx/cells1.dtb"};
	const char *env = getenv("PLATFORM_FUZZ_ITERS");
	int iters = env ? atoi(env) : 1500, accepted = 0, rejected = 0;
	char path[512];

	if (getenv("PLATFORM_FUZZ_SEED"))
		rng = strtoull(getenv("PLATFORM_FUZZ_SEED"), NULL, 0) | 1;
	for (size_t i = 0; i < ARRAY_SIZE(blobs); i++) {
		size_t size;
		uint8_t *blob;

		snprintf(path, sizeof(path), "%s/%s", dtb_dir, blobs[i]);
		blob = load_file(path, &size);
		CHECK_MSG(blob, "cannot read %s", path);
		int rc = fuzz_one(blob, size, iters, &accepted, &rejected);
		free(blob);
		CHECK_RC(rc);
	}
	CHECK_MSG(accepted > iters / 10 && rejected > iters / 10,
		  "accepted %d, rejected %d: fuzz not reaching both", accepted, rejected);
	return 0;
}

TEST_SUITE(malformed_suite, "malformed",
	   CASE(malformed_bad_magic),
	   CASE(malformed_smaller_than_header),
	   CASE(malformed_null),
	   CASE(malformed_truncated),
	   CASE(malformed_totalsize_beyond_buffer),
	   CASE(malformed_blocks_outside_totalsize),
	   CASE(malformed_misaligned_struct_block),
	   CASE(malformed_misaligned),
	   CASE(malformed_garbage_tag),
	   CASE(malformed_garbage_in_middle),
	   CASE(malformed_bad_property_name_offset),
	   CASE(malformed_struct_block_no_end),
	   CASE(malformed_fuzz_byte_flips))
