/* SPDX-License-Identifier: MIT */
/*
 * A 16550-compatible UART as a console port, whatever bus it sits on: the device tree's
 * ns16550a (uart16550.c) and QEMU's pci-serial (serial_pci.c) fill in where its registers are
 * and hand it to uart16550_register().
 *
 * Interface: struct uart16550, uart16550_register, uart16550_interrupt.
 */
#ifndef DRIVERS_TTY_UART16550_H
#define DRIVERS_TTY_UART16550_H

#include <rvmm/console_port.h>
#include <rvmm/types.h>

#define UART16550_RX_SIZE 256

struct uart16550 {
	struct console_port port;
	uint8_t *base;       /* the register file, one byte per register */
	bool rx_irq;         /* receive interrupt on: uart16550_interrupt fills the ring */
	char rx_buf[UART16550_RX_SIZE];
	uint32_t rx_head, rx_tail;  /* head: the interrupt handler's; tail: the shell's */
	bool rx_paused;      /* ring was full: receive interrupt masked until the shell takes a byte */
	unsigned rx_lost;    /* receive overruns seen, not yet reported */
	char name[48];
};

/*
 * Set the UART at u->base up (8N1, FIFOs on, input typed before boot kept) and add it to the
 * console ports under u->name. Receive stays polled until the caller has its interrupt and calls
 * uart16550_enable_rx_irq(). 0, or console_port_register's error.
 */
int uart16550_register(struct uart16550 *u);
void uart16550_enable_rx_irq(struct uart16550 *u);
/* The receive interrupt handler (arg: the struct uart16550). */
void uart16550_interrupt(void *arg);

#endif
