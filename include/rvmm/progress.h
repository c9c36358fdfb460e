/* SPDX-License-Identifier: MIT */
/*
 * Progress lines for long work (memtest, stress, large hot-plug steps): a timestamped log line
 * about once a second, the first after a second of work, so short work prints nothing, e.g.
 *   [   12.345678] memtest: pass 1/2 write 1024/2048 MiB (1.2 s)
 * They are log lines (pr_info), not command output: scripts that match a command's own lines
 * are not disturbed, and `dmesg` keeps them.
 *
 * Interface: struct progress, progress_start, progress_ns, progress_due, progress_print,
 * progress_report.
 */
#ifndef RVMM_PROGRESS_H
#define RVMM_PROGRESS_H

#include <rvmm/arch_cpu.h>
#include <rvmm/printk.h>
#include <rvmm/types.h>

#define PROGRESS_INTERVAL_NS 1000000000ULL

struct progress {
	uint64_t t0;   /* arch_time_ns() at progress_start */
	uint64_t next; /* no line before this time */
};

static inline void progress_start(struct progress *p)
{
	p->t0 = arch_time_ns();
	p->next = p->t0 + PROGRESS_INTERVAL_NS;
}

/* Nanoseconds since progress_start. */
static inline uint64_t progress_ns(const struct progress *p) { return arch_time_ns() - p->t0; }

/* True (and re-armed for a second later) when a line is due. */
static inline bool progress_due(struct progress *p)
{
	uint64_t now = arch_time_ns();
	if (now < p->next)
		return false;
	p->next = now + PROGRESS_INTERVAL_NS;
	return true;
}

/* Print "what done/total MiB (s.d s)" now (what ends with its own colon: "hotadd:"). */
static inline void progress_print(const struct progress *p, const char *what, uint64_t done,
				  uint64_t total)
{
	uint64_t ds = progress_ns(p) / 100000000ULL;
	pr_info("%s %llu/%llu MiB (%llu.%llu s)", what, (unsigned long long)(done >> 20),
		(unsigned long long)(total >> 20), (unsigned long long)(ds / 10),
		(unsigned long long)(ds % 10));
}

/* The same line, when one is due. */
static inline void progress_report(struct progress *p, const char *what, uint64_t done,
				   uint64_t total)
{
	if (progress_due(p))
		progress_print(p, what, done, total);
}

#endif
