// SPDX-License-Identifier: MIT
/*
 * 16550 UART (QEMU virt's ns16550a): the console. Output is polled; input arrives by interrupt
 * (or polling) into the console's input ring (kernel/console.c). When the ring is full the byte
 * read is held here and the receive interrupt masked, so the rest waits in the UART and in QEMU
 * until the shell has read the ring empty and calls uart_refill. Until the UART is up, printk goes
 * through SBI.
 *
 * Interface: uart_init.
 */
#include <asm/csr.h>
#include <rvmm/errno.h>
#include <rvmm/io.h>
#include <rvmm/irq.h>
#include <rvmm/kernel.h>
#include <rvmm/printk.h>
#include <rvmm/spinlock.h>

#define RBR 0 /* receive buffer (read) */
#define THR 0 /* transmit holding (write) */
#define IER 1
#define FCR 2
#define LCR 3
#define LSR 5
#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_THRE 0x20
#define IER_RDI 0x01

static uint8_t *uart;
static bool rx_irq;
/* A byte read while the console's ring was full, or -1. Set by the receive path (interrupt handler
 * or poll), cleared by uart_refill; the receive interrupt stays masked while it is set. */
static int rx_held = -1;

static void uart_putc(char c)
{
	while (!(readb(uart + LSR) & LSR_THRE))
		;
	writeb(c, uart + THR);
}

static void uart_write(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n')
			uart_putc('\r');
		uart_putc(s[i]);
	}
}

/*
 * Move received bytes into the console's ring until it is full (then hold one and stop). Nothing
 * more is read while a byte is held: an interrupt already pending when the receive interrupt was
 * masked must not read past it.
 */
static void uart_drain_rx(void)
{
	uint8_t lsr;
	if (__atomic_load_n(&rx_held, __ATOMIC_ACQUIRE) >= 0)
		return;
	while ((lsr = readb(uart + LSR)) & LSR_DR) {
		if (lsr & LSR_OE)
			console_input_lost(1);
		char c = readb(uart + RBR);
		if (!console_input_put(c)) {
			__atomic_store_n(&rx_held, (unsigned char)c, __ATOMIC_RELEASE);
			if (rx_irq)
				writeb(0, uart + IER);
			return;
		}
	}
}

/* The shell read the ring empty: hand over the held byte and take input again. */
static void uart_refill(void)
{
	int c = __atomic_load_n(&rx_held, __ATOMIC_ACQUIRE);
	if (c >= 0) {
		if (!console_input_put((char)c))
			return;
		rx_held = -1;
		if (rx_irq)
			writeb(IER_RDI, uart + IER);
	}
	if (!rx_irq)
		uart_drain_rx();
}

static void uart_irq(void *arg)
{
	(void)arg;
	uart_drain_rx();
}

int uart_init(const struct plat_device *dev)
{
	if (!dev->present) {
		pr_warn("uart: no ns16550a in the device tree; console stays on SBI");
		return -ENODEV;
	}
	uart = ioremap(dev->base, MAX(dev->size, (uint64_t)PAGE_SIZE));
	if (!uart)
		return -ENOMEM;
	writeb(0x03, uart + LCR); /* 8N1; QEMU ignores the divisor */
	/* Input typed (or piped) before boot waits in the receive register; turning the FIFOs on
	 * resets them, so take it first. */
	uart_drain_rx();
	writeb(0x01, uart + FCR);
	console_set_sink(uart_write);
	int rc = console_input_register(uart_refill);
	if (rc)
		return rc;
	if (dev->irq && irq_register(dev->irq, uart_irq, NULL) == 0) {
		writeb(IER_RDI, uart + IER);
		rx_irq = true;
	}
	pr_info("uart: %s at 0x%lx irq %u (%s receive)", dev->name, (unsigned long)dev->base, dev->irq,
		rx_irq ? "interrupt-driven" : "polled");
	return 0;
}
