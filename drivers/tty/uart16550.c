// SPDX-License-Identifier: MIT
/*
 * 16550 UART as a console port (drivers/tty/uart16550.h), and its device tree binding (QEMU
 * virt's ns16550a). Output is polled; input arrives by interrupt into a small ring per UART that
 * the shell drains through console_poll_input(), or is polled when there is no interrupt.
 *
 * No input is dropped: while the ring is full the UART is not read (its receive interrupt is
 * masked), so bytes wait in its FIFO and in QEMU's character device, which stops reading the host
 * side; the shell unmasks it as soon as it has taken a byte. A pasted script of any length runs
 * every line. Bytes the hardware itself lost (receive overrun) are counted and reported.
 *
 * Interface: uart16550_register, uart16550_enable_rx_irq, uart16550_interrupt; the DT driver.
 */
#include <rvmm/device.h>
#include <rvmm/dt.h>
#include <rvmm/errno.h>
#include <rvmm/io.h>
#include <rvmm/irq.h>
#include <rvmm/printk.h>

#include "uart16550.h"

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

#define UART_DT_MAX 4

static void uart_putc(struct uart16550 *u, char c)
{
	while (!(readb(u->base + LSR) & LSR_THRE))
		;
	writeb(c, u->base + THR);
}

static void uart_write(struct console_port *port, const char *s, size_t len)
{
	struct uart16550 *u = port->priv;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n')
			uart_putc(u, '\r');
		uart_putc(u, s[i]);
	}
}

/*
 * Move received bytes into the ring while it has room. The ring has one producer at a time (the
 * interrupt handler: the controller does not deliver a source again before it is completed; or
 * the shell when polled), so room seen here only grows. Full: mask the receive interrupt and
 * leave the rest in the UART (rx_paused, undone by uart_getc).
 */
static void uart_drain_rx(struct uart16550 *u)
{
	uint8_t lsr;
	while ((lsr = readb(u->base + LSR)) & LSR_DR) {
		if (lsr & LSR_OE)
			__atomic_fetch_add(&u->rx_lost, 1, __ATOMIC_RELAXED);
		if (u->rx_head - __atomic_load_n(&u->rx_tail, __ATOMIC_ACQUIRE) == UART16550_RX_SIZE) {
			if (u->rx_irq)
				writeb(0, u->base + IER);
			__atomic_store_n(&u->rx_paused, true, __ATOMIC_RELEASE);
			return;
		}
		u->rx_buf[u->rx_head % UART16550_RX_SIZE] = readb(u->base + RBR);
		__atomic_store_n(&u->rx_head, u->rx_head + 1, __ATOMIC_RELEASE);
	}
}

void uart16550_interrupt(void *arg)
{
	uart_drain_rx(arg);
	console_port_input();
}

static int uart_getc(struct console_port *port)
{
	struct uart16550 *u = port->priv;
	unsigned lost = __atomic_exchange_n(&u->rx_lost, 0, __ATOMIC_RELAXED);

	if (lost)
		pr_warn("uart: %s: input lost by the UART (receive overrun, %u time%s)", u->name, lost,
			lost > 1 ? "s" : "");
	if (!u->rx_irq)
		uart_drain_rx(u);
	int c = -1;
	if (u->rx_tail != __atomic_load_n(&u->rx_head, __ATOMIC_ACQUIRE)) {
		c = (unsigned char)u->rx_buf[u->rx_tail % UART16550_RX_SIZE];
		__atomic_store_n(&u->rx_tail, u->rx_tail + 1, __ATOMIC_RELEASE);
	}
	/* Room again: take input again. Checked on every call, so a pause the handler sets while
	 * this runs is undone on the next one. */
	if (__atomic_load_n(&u->rx_paused, __ATOMIC_ACQUIRE) &&
	    u->rx_head - u->rx_tail < UART16550_RX_SIZE) {
		__atomic_store_n(&u->rx_paused, false, __ATOMIC_RELAXED);
		if (u->rx_irq)
			writeb(IER_RDI, u->base + IER);
	}
	return c;
}

int uart16550_register(struct uart16550 *u)
{
	writeb(0x03, u->base + LCR); /* 8N1; QEMU ignores the divisor */
	/* Input typed (or piped) before boot waits in the receive register; turning the FIFOs on
	 * resets them, so take it first. */
	uart_drain_rx(u);
	writeb(0x01, u->base + FCR);
	u->port = (struct console_port){ .name = u->name, .write = uart_write, .getc = uart_getc,
					 .priv = u };
	return console_port_register(&u->port);
}

void uart16550_enable_rx_irq(struct uart16550 *u)
{
	u->rx_irq = true;
	writeb(IER_RDI, u->base + IER);
}

/* ---- Device tree binding -------------------------------------------------------------------- */

static struct uart16550 dt_uarts[UART_DT_MAX];
static unsigned nr_dt_uarts;

static int uart_dt_probe(const struct dt_device *dev)
{
	struct uart16550 *u = &dt_uarts[nr_dt_uarts];
	uint64_t base, size;
	int rc;

	if (nr_dt_uarts == UART_DT_MAX) {
		pr_warn("uart: %s: more than %d UARTs in the device tree, not used", dev->name,
			UART_DT_MAX);
		return -ENOSPC;
	}
	rc = dt_reg_phys(dev->plat, dev->fdt, dev->node, 0, &base, &size);
	if (rc)
		return rc == -ENOENT ? -EINVAL : rc;
	u->base = ioremap(base, MAX(size, (uint64_t)PAGE_SIZE));
	if (!u->base)
		return -ENOMEM;
	dt_copy(u->name, sizeof(u->name), dev->name);
	rc = uart16550_register(u);
	if (rc)
		return rc;
	nr_dt_uarts++;
	rc = irq_request_dt(dev->fdt, dev->node, 0, uart16550_interrupt, u);
	if (rc == 0)
		uart16550_enable_rx_irq(u);
	pr_info("uart: %s at 0x%lx (%s receive%s%s)", u->name, (unsigned long)base,
		u->rx_irq ? "interrupt-driven" : "polled", rc && rc != -ENOENT ? ": " : "",
		rc && rc != -ENOENT ? errname(rc) : "");
	return 0;
}

static const char *const uart_compatible[] = { "ns16550a", "ns16550", NULL };

DT_DRIVER(uart16550, .name = "uart16550", .compatible = uart_compatible,
	  .stage = DT_STAGE_DEVICE, .probe = uart_dt_probe);
