// SPDX-License-Identifier: MIT
//
// The list of console ports (include/rvmm/console_port.h): every port gets all output; input is
// read from the port that gave the last byte while it has more (a line or a pasted script stays
// whole), then from the others in turn.
//
// Interface: console_port_register, console_ports_write, console_poll_input.

#include <rvmm/console_port.h>
#include <rvmm/errno.h>
#include <rvmm/kernel.h>

#define CONSOLE_MAX_PORTS 8

static struct console_port *ports[CONSOLE_MAX_PORTS];
static unsigned nr_ports;

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

	for (unsigned i = 0; i < n; i++)
		ports[i]->write(ports[i], s, len);
}

int console_poll_input(void)
{
	static unsigned last; /* the port that gave the last byte: the shell (boot hart) only */
	unsigned n = __atomic_load_n(&nr_ports, __ATOMIC_ACQUIRE);

	for (unsigned i = 0; i < n; i++) {
		struct console_port *p = ports[(last + i) % n];
		int c = p->getc(p);

		if (c >= 0) {
			last = (last + i) % n;
			return c;
		}
	}
	return -1;
}
