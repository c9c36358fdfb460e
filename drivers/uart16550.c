// SPDX-License-Identifier: MIT
/*
 * 16550 UART (QEMU virt's ns16550a): the console. Output is polled; input arrives by interrupt
 * into a small ring that console_getc() drains. Until the UART is up, printk goes through SBI.
 *
 * Interface: uart_init, console_getc, console_poll_input.
 */
#include <asm/csr.h>
#include <rvmm/errno.h>
#include <rvmm/io.h>
#include <rvmm/irq.h>
#include <rvmm/printk.h>
#include <rvmm/spinlock.h>

#define RBR 0 /* receive buffer (read) */
#define THR 0 /* transmit holding (write) */
#define IER 1
#define FCR 2
#define LCR 3
#define LSR 5
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define IER_RDI 0x01

static uint8_t *uart;
static bool rx_irq;

#define RX_SIZE 256
static char rx_buf[RX_SIZE];
static volatile uint32_t rx_head, rx_tail;

void console_set_sink(void (*sink)(const char *s, size_t len));

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

/* Move received bytes into the ring; a full ring drops input (never blocks the handler). */
static void uart_drain_rx(void)
{
	while (readb(uart + LSR) & LSR_DR) {
		char c = readb(uart + RBR);
		if (rx_head - rx_tail < RX_SIZE) {
			rx_buf[rx_head % RX_SIZE] = c;
			__atomic_store_n(&rx_head, rx_head + 1, __ATOMIC_RELEASE);
		}
	}
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
	if (dev->irq && irq_register(dev->irq, uart_irq, NULL) == 0) {
		writeb(IER_RDI, uart + IER);
		rx_irq = true;
	}
	pr_info("uart: %s at 0x%lx irq %u (%s receive)", dev->name, (unsigned long)dev->base, dev->irq,
		rx_irq ? "interrupt-driven" : "polled");
	return 0;
}

/* A byte of input if one is waiting, else -1. */
int console_poll_input(void)
{
	if (!uart)
		return -1;
	if (!rx_irq)
		uart_drain_rx();
	if (rx_tail == __atomic_load_n(&rx_head, __ATOMIC_ACQUIRE))
		return -1;
	char c = rx_buf[rx_tail % RX_SIZE];
	rx_tail++;
	return (unsigned char)c;
}
