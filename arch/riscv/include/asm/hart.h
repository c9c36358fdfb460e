/* SPDX-License-Identifier: MIT */
/*
 * Per-hart data. Each hart's tp points to its own copy of the image's TLS block, so a __thread
 * variable is per hart (and picolibc's errno with it). this_hart is the hart's descriptor.
 */
#ifndef ASM_HART_H
#define ASM_HART_H

#include <rvmm/types.h>

enum hart_state { HART_OFF, HART_STARTING, HART_IDLE, HART_BUSY, HART_HALTED };

struct hart {
	unsigned index;        /* 0..nr_harts_online-1; the boot hart is 0 */
	unsigned long hartid;  /* the platform's id (mhartid) */
	enum hart_state state;
	const char *doing;     /* what it runs now, for `harts` and the GDB extension */
	uint64_t ticks;
	uintptr_t stack_top;
};

extern struct hart harts[MAX_HARTS];
/* Entries of harts[] in use: harts that started, and harts given up on (HART_OFF). */
extern unsigned nr_harts_online;
extern __thread struct hart *this_hart;

/* Size of the per-hart TLS block, and its initialisation at tls. */
size_t hart_tls_size(void);
void hart_tls_init(void *tls);

struct platform;
void smp_boot_secondaries(const struct platform *plat, bool nosmp);
/* Run fn(arg) on every other online hart and wait for them (IPI). */
void smp_call_others(void (*fn)(void *), void *arg);
/* True for harts[i] when it is another hart that runs (neither off nor halted). */
bool smp_hart_is_other(unsigned i);
/*
 * Make an SBI hart-mask call (IPI, remote fence) to every harts[i] with want(i): call(hart_mask,
 * hart_mask_base, arg) once per window of BITS_PER_LONG hart ids. 0 or the first error.
 */
int smp_sbi_for_harts(bool (*want)(unsigned i),
		      int (*call)(unsigned long mask, unsigned long base, void *arg), void *arg);

#endif
