// SPDX-License-Identifier: MIT
//
// Host stand-in for the shell's command lookup: the rvmm_cmds section of the test binary holds
// the CONSOLE_COMMANDs of the kernel/mm files linked in.
//
// Interface: console_commands_begin/end, console_run_line, sim_run.

#include <string.h>

#include <rvmm/console.h>
#include <rvmm/errno.h>

#include "sim.h"

extern const struct console_command __start_rvmm_cmds[], __stop_rvmm_cmds[];

const struct console_command *console_commands_begin(void) { return __start_rvmm_cmds; }
const struct console_command *console_commands_end(void) { return __stop_rvmm_cmds; }

int console_run_line(char *line)
{
	char *argv[16];
	int argc = 0;
	for (char *p = strtok(line, " \t"); p && argc < 16; p = strtok(NULL, " \t"))
		argv[argc++] = p;
	if (!argc)
		return 0;
	for (const struct console_command *c = console_commands_begin(); c < console_commands_end(); c++)
		if (!strcmp(c->name, argv[0]))
			return c->run(argc, argv);
	return -ENOENT;
}

int sim_run(const char *line)
{
	char buf[256];
	strncpy(buf, line, sizeof(buf) - 1);
	buf[sizeof(buf) - 1] = 0;
	return console_run_line(buf);
}
