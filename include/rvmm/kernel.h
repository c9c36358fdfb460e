/* SPDX-License-Identifier: MIT */
/*
 * Generic kernel entry points that boot code and drivers call across directories.
 */
#ifndef RVMM_KERNEL_H
#define RVMM_KERNEL_H

#include <rvmm/platform.h>
#include <rvmm/types.h>

/* `git describe` of the tree the kernel was built from (build/target/version.c, rewritten by
 * mk/build.mk only when it changes, so every object agrees on it without rebuilding them all). */
extern const char rvmm_version[];

/* kernel/console.c: the shell; never returns. */
__noreturn void console_loop(void);
/* kernel/idle.c: wait for input or work (an interrupt), doing background work (deferred init) first. */
void console_idle(void);

/*
 * kernel/background.c: work drivers leave to idle harts (virtio-mem resizing). Idle harts (the
 * boot hart's console wait, the other harts' idle loop) call background_work() with interrupts
 * enabled, where a function may spin for long; it returns true if it did something (the hart
 * then looks again before sleeping). A function may run on several harts at once and must
 * serialise itself. Registration (probe time): 0, or -ENOSPC when the table is full.
 */
int background_work_register(bool (*fn)(void));
bool background_work(void);
/* kernel/printk.c: where console output goes (SBI first, then the console ports). */
void console_set_sink(void (*sink)(const char *s, size_t len));
void dmesg_print(size_t bytes);
/* loglevel=N: show messages below Linux level N on the console (all are logged). */
void console_loglevel_set_linux(int n);

/* When the boot reached the prompt (ns of arch_time_ns), and where it started (timer ticks). */
extern uint64_t boot_start_ticks, boot_done_ns;

#endif
