/* SPDX-License-Identifier: MIT */
/*
 * Generic kernel entry points that boot code and drivers call across directories.
 */
#ifndef RVMM_KERNEL_H
#define RVMM_KERNEL_H

#include <rvmm/platform.h>
#include <rvmm/types.h>

#ifndef RVMM_VERSION
#define RVMM_VERSION "0.1"
#endif

/* kernel/console.c: the shell; never returns. */
__noreturn void console_loop(void);
/* arch: wait for input or work (an interrupt), doing background work (deferred init) first. */
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
/* kernel/printk.c: where console output goes (SBI first, then the UART). */
void console_set_sink(void (*sink)(const char *s, size_t len));
void dmesg_print(size_t bytes);
/* loglevel=N: show messages below Linux level N on the console (all are logged). */
void console_loglevel_set_linux(int n);

/*
 * kernel/console.c: console input. A port hands each received byte to console_input_put (from
 * its interrupt handler or when polled); false means the ring is full: the port keeps that byte,
 * stops taking input (masks its receive interrupt) and waits for its refill function, which the
 * shell calls each time it has read the ring empty. So no byte is dropped by software; bytes the
 * hardware lost (receive overrun) are counted with console_input_lost and reported by the shell.
 * console_input_register: 0, or -ENOSPC when every port slot is taken.
 */
bool console_input_put(char c);
void console_input_lost(unsigned n);
int console_input_register(void (*refill)(void));

/* drivers/uart16550.c */
int uart_init(const struct plat_device *dev);

/* kernel/mm: the boot-time memory set-up the arch calls with what it has mapped so far. */
int mm_boot_init(void);

/* When the boot reached the prompt (ns of arch_time_ns), and where it started (timer ticks). */
extern uint64_t boot_start_ticks, boot_done_ns;

#endif
