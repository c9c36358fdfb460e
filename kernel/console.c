// SPDX-License-Identifier: MIT
/*
 * The serial console shell: reads a line (backspace, Ctrl-U, up/down history), splits it into
 * words and runs the command of that name from the rvmm_cmds table.
 *
 * Interface: console_loop (the boot hart's idle loop), console_run_line, help/version/poweroff.
 */
#include <rvmm/console.h>
#include <rvmm/console_port.h>
#include <rvmm/errno.h>
#include <rvmm/kernel.h>
#include <rvmm/printk.h>
#include <string.h>

#define LINE_MAX 256
#define MAX_ARGS 16
#define HISTORY 16

extern const struct console_command __start_rvmm_cmds[], __stop_rvmm_cmds[];
const struct console_command *console_commands_begin(void) { return __start_rvmm_cmds; }
const struct console_command *console_commands_end(void) { return __stop_rvmm_cmds; }


static char history[HISTORY][LINE_MAX];
static unsigned history_count;

static const struct console_command *find_command(const char *name)
{
	for (const struct console_command *c = __start_rvmm_cmds; c < __stop_rvmm_cmds; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

int console_run_line(char *line)
{
	char *argv[MAX_ARGS + 1];
	int argc = 0;

	for (char *p = line; *p;) {
		while (*p == ' ' || *p == '\t')
			*p++ = '\0';
		if (!*p)
			break;
		if (argc == MAX_ARGS) {
			kprintf("too many words (at most %d)\n", MAX_ARGS);
			return -E2BIG;
		}
		argv[argc++] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
	}
	argv[argc] = NULL;
	if (argc == 0)
		return 0;

	const struct console_command *cmd = find_command(argv[0]);
	if (!cmd) {
		kprintf("unknown command: %s (try 'help')\n", argv[0]);
		return -ENOENT;
	}
	int rc = cmd->run(argc, argv);
	if (rc == CMD_USAGE) {
		kprintf("usage: %s\n", cmd->usage);
		return -EINVAL;
	}
	return rc;
}

static int getc_blocking(void)
{
	int c;
	while ((c = console_poll_input()) < 0)
		console_idle();
	return c;
}

static void redraw(const char *line, size_t old_len)
{
	kprintf("\r%s", "rvmm> ");
	kprintf("%s", line);
	for (size_t i = strlen(line); i < old_len; i++)
		kprintf(" ");
	for (size_t i = strlen(line); i < old_len; i++)
		kprintf("\b");
}

/* Read one line; \r, \n and \r\n all end it (a \n right after \r is swallowed). */
static void read_line(char *line)
{
	static bool last_was_cr;
	size_t len = 0;
	unsigned hist = history_count;
	int esc = 0;

	line[0] = '\0';
	for (;;) {
		int c = getc_blocking();
		if (c == '\n' && last_was_cr) {
			last_was_cr = false;
			continue;
		}
		last_was_cr = c == '\r';
		if (esc == 1) {
			esc = c == '[' ? 2 : 0;
			continue;
		}
		if (esc == 2) {
			esc = 0;
			if ((c == 'A' && hist > 0 && history_count - hist < HISTORY) ||
			    (c == 'B' && hist < history_count)) {
				size_t old = len;
				hist += c == 'A' ? -1 : 1;
				if (hist == history_count)
					line[0] = '\0';
				else
					strcpy(line, history[hist % HISTORY]);
				len = strlen(line);
				redraw(line, old);
			}
			continue;
		}
		if (c == '\r' || c == '\n') {
			kprintf("\n");
			return;
		}
		if (c == 0x1b) {
			esc = 1;
		} else if (c == 0x7f || c == '\b') {
			if (len) {
				line[--len] = '\0';
				kprintf("\b \b");
			}
		} else if (c == 0x15) { /* Ctrl-U */
			size_t old = len;
			len = 0;
			line[0] = '\0';
			redraw(line, old);
		} else if (c >= ' ' && c < 0x7f && len < LINE_MAX - 1) {
			line[len++] = c;
			line[len] = '\0';
			kprintf("%c", c);
		}
	}
}

__noreturn void console_loop(void)
{
	char line[LINE_MAX];
	for (;;) {
		kprintf("rvmm> ");
		read_line(line);
		if (line[0] && (history_count == 0 ||
				strcmp(history[(history_count - 1) % HISTORY], line) != 0))
			strcpy(history[history_count++ % HISTORY], line);
		console_run_line(line);
	}
}

static int cmd_help(int argc, char **argv)
{
	(void)argv;
	if (argc != 1)
		return CMD_USAGE;
	/* In name order: the table itself is in link order. */
	const char *last = "";
	for (;;) {
		const struct console_command *next = NULL;
		for (const struct console_command *c = __start_rvmm_cmds; c < __stop_rvmm_cmds; c++)
			if (strcmp(c->name, last) > 0 && (!next || strcmp(c->name, next->name) < 0))
				next = c;
		if (!next)
			return 0;
		kprintf("  %-40s %s\n", next->usage, next->summary);
		last = next->name;
	}
}
CONSOLE_COMMAND(help, .name = "help", .usage = "help", .summary = "list every command",
		.run = cmd_help);
