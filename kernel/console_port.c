// SPDX-License-Identifier: MIT
//
// The list of console ports (include/rvmm/console_port.h). Output goes to the active port: the
// first one registered, then whichever last delivered input. Input is read from the active port
// while it has more (a line or a pasted script stays whole), then from the others in turn.
//
// Interface: console_port_register, console_ports_write, console_poll_input, console_port_input.

#include <rvmm/arch_cpu.h>
#include <rvmm/arch_smp.h>
#include <rvmm/console_port.h>
#include <rvmm/errno.h>
#include <rvmm/kernel.h>

#define CONSOLE_MAX_PORTS 8

static struct console_port *ports[CONSOLE_MAX_PORTS];
static unsigned nr_ports;
/* Index of the active port. Written by the shell (boot hart) only; read by printk anywhere. */
static unsigned active;

int console_port_register(struct console_port *port)
{
	if (nr_ports == CONSOLE_MAX_PORTS)
		return -ENOSPC;
	ports[nr_ports] = port;
	__atomic_store_n(&nr_ports, nr_ports + 1, __ATOMIC_RELEASE);
	console_set_sink(console_ports_write);
	return 0;
}

void console_ports_write(const char *s, size_t len)
{
	unsigned n = __atomic_load_n(&nr_ports, __ATOMIC_ACQUIRE);
	unsigned a = __atomic_load_n(&active, __ATOMIC_RELAXED);

	if (a < n)
		ports[a]->write(ports[a], s, len);
}

int console_poll_input(void)
{
	unsigned n = __atomic_load_n(&nr_ports, __ATOMIC_ACQUIRE);

	for (unsigned i = 0; i < n; i++) {
		unsigned p = (active + i) % n;
		int c = ports[p]->getc(ports[p]);

		if (c >= 0) {
			__atomic_store_n(&active, p, __ATOMIC_RELAXED);
			return c;
		}
	}
	return -1;
}

void console_port_input(void)
{
	if (arch_hart_index() != 0) /* the shell runs on the boot hart, index 0 */
		arch_smp_wake(0);
}
