/* SPDX-License-Identifier: MIT */
/*
 * Console shell commands. A command is a const struct placed in the rvmm_cmds section by
 * CONSOLE_COMMAND(); the shell (kernel/console.c) finds them there, so adding a command is one
 * definition in the file that implements it.
 */
#ifndef RVMM_CONSOLE_H
#define RVMM_CONSOLE_H

#include <rvmm/types.h>

/* Returned by a command whose arguments were missing or malformed: the shell prints its usage. */
#define CMD_USAGE 1

struct console_command {
	const char *name;
	const char *usage;   /* "hotadd ADDR SIZE [memmap_on_memory]" */
	const char *summary; /* one line for `help` */
	/* 0 on success, CMD_USAGE, or a negative errno after printing what went wrong. */
	int (*run)(int argc, char **argv);
};

#define CONSOLE_COMMAND(ident, ...)                                                          \
	static const struct console_command __cmd_##ident                                    \
		__attribute__((used, section("rvmm_cmds"), aligned(8))) = { __VA_ARGS__ }

/*
 * Parse a number: decimal, 0x hex, with an optional K/M/G/T suffix (binary units). Rejects
 * garbage, empty strings and overflow with -EINVAL/-ERANGE; *out is untouched on error.
 */
int parse_u64(const char *s, uint64_t *out);

/* The command table, for `help` and tests. */
const struct console_command *console_commands_begin(void);
const struct console_command *console_commands_end(void);

/* Run one command line as the shell would (tests and scripts use it). */
int console_run_line(char *line);

#endif
