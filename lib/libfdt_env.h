/* SPDX-License-Identifier: MIT */
/*
 * The environment libfdt expects (libfdt.h includes "libfdt_env.h"): the C headers it uses and the
 * big-endian fdt16/32/64_t types with their byte swaps. The same file serves the target
 * (riscv64-unknown-elf-gcc with picolibc) and host builds (glibc); both are little-endian, but a
 * big-endian host is handled too.
 *
 * libfdt itself is not in the tree: tools/libfdt.sh fetches it and lib/libfdt.mk builds it. Only
 * kernel/platform*.c includes libfdt.h; everything else reads struct platform.
 *
 * Interface: fdt16_t/fdt32_t/fdt64_t, fdt16/32/64_to_cpu(), cpu_to_fdt16/32/64().
 */
#ifndef RVMM_LIBFDT_ENV_H
#define RVMM_LIBFDT_ENV_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* sparse annotations, as in upstream's libfdt_env.h; plain types for the compiler. */
#define FDT_BITWISE
#define FDT_FORCE

typedef uint16_t FDT_BITWISE fdt16_t;
typedef uint32_t FDT_BITWISE fdt32_t;
typedef uint64_t FDT_BITWISE fdt64_t;

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define FDT_SWAP16(x) (x)
#define FDT_SWAP32(x) (x)
#define FDT_SWAP64(x) (x)
#else
#define FDT_SWAP16(x) __builtin_bswap16(x)
#define FDT_SWAP32(x) __builtin_bswap32(x)
#define FDT_SWAP64(x) __builtin_bswap64(x)
#endif

static inline uint16_t fdt16_to_cpu(fdt16_t x) { return (FDT_FORCE uint16_t)FDT_SWAP16(x); }
static inline fdt16_t cpu_to_fdt16(uint16_t x) { return (FDT_FORCE fdt16_t)FDT_SWAP16(x); }
static inline uint32_t fdt32_to_cpu(fdt32_t x) { return (FDT_FORCE uint32_t)FDT_SWAP32(x); }
static inline fdt32_t cpu_to_fdt32(uint32_t x) { return (FDT_FORCE fdt32_t)FDT_SWAP32(x); }
static inline uint64_t fdt64_to_cpu(fdt64_t x) { return (FDT_FORCE uint64_t)FDT_SWAP64(x); }
static inline fdt64_t cpu_to_fdt64(uint64_t x) { return (FDT_FORCE fdt64_t)FDT_SWAP64(x); }

#endif
