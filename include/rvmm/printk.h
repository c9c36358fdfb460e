/* SPDX-License-Identifier: MIT */
/*
 * Kernel messages. Every line printed goes into the log ring buffer (read by `dmesg` and by the
 * GDB extension) and to the console; boot lines carry a timestamp.
 *
 * Interface: pr_info/pr_warn/pr_err (timestamped log lines), kprintf (console output of shell
 * commands, also logged, without a timestamp), panic (stop: says why, halts this hart).
 */
#ifndef RVMM_PRINTK_H
#define RVMM_PRINTK_H

#include <rvmm/types.h>

enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG, LOG_PLAIN };

__printf(2, 3) void printk(enum log_level level, const char *fmt, ...);
__printf(1, 2) void kprintf(const char *fmt, ...);
#define pr_err(...) printk(LOG_ERR, __VA_ARGS__)
#define pr_warn(...) printk(LOG_WARN, __VA_ARGS__)
#define pr_info(...) printk(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) printk(LOG_DEBUG, __VA_ARGS__)

__printf(1, 2) __noreturn void panic(const char *fmt, ...);

/*
 * A step that cannot fail by construction (its memory was taken before anything changed): if it
 * ever does, say where and go on. Evaluates to cond.
 */
#define WARN_ON(cond)                                                                 \
	({                                                                            \
		bool __warn = (cond);                                                 \
		if (unlikely(__warn))                                                 \
			pr_err("WARNING: %s at %s:%d", #cond, __FILE__, __LINE__);    \
		__warn;                                                               \
	})

#define BUG_ON(cond)                                                                  \
	do {                                                                          \
		if (unlikely(cond))                                                   \
			panic("BUG: %s at %s:%d", #cond, __FILE__, __LINE__);         \
	} while (0)

#endif
