/* SPDX-License-Identifier: MIT */
/*
 * Console ports: the serial lines the shell talks through (a 16550 from the device tree, QEMU's
 * pci-serial, ...). Input is read from every port, so whichever line holds QEMU's focus (with
 * `-chardev ...,mux=on` only the last front end attached receives keys) reaches the shell.
 * Output goes to one port, the active one: the first registered (the device tree's UART on QEMU
 * virt) until input arrives, then the port that delivered it. One port at a time, because
 * QEMU's mux joins several front ends to one terminal: writing to all would show every line
 * twice. Before any port registers, output goes to the firmware's console (SBI).
 *
 * Contract for a port driver: write() sends len bytes (a '\n' as "\r\n"), polling, and may be
 * called on any hart with interrupts masked, under printk's log lock (so it takes no lock of its
 * own that a printk could nest inside). getc() returns one received byte or -1, never waits; it
 * is called by the boot hart's shell only.
 *
 * Locking: ports register from probes on the boot hart; the list only grows and each port is
 * published with a release store after it is filled, so printk on any hart walks it unlocked.
 *
 * Interface: struct console_port, console_port_register, console_ports_write,
 * console_poll_input, console_port_input.
 */
#ifndef RVMM_CONSOLE_PORT_H
#define RVMM_CONSOLE_PORT_H

#include <rvmm/types.h>

struct console_port {
	const char *name;  /* "/soc/serial@10000000", "pci 00:02.0", for messages */
	void (*write)(struct console_port *port, const char *s, size_t len);
	int (*getc)(struct console_port *port);
	void *priv;        /* the driver's */
};

/* Add port: output goes to it from now on. 0, or -ENOSPC when the list is full. */
int console_port_register(struct console_port *port);
/* printk's sink once a port exists: s to every port. */
void console_ports_write(const char *s, size_t len);
/* A byte of input from any port, or -1 if none is waiting. */
int console_poll_input(void);
/*
 * For port drivers, after their receive interrupt put bytes in their ring: wake the shell's hart
 * if the interrupt came to another one (a socket's PLIC routes to a hart of that socket).
 */
void console_port_input(void);

#endif
