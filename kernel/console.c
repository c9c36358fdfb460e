// SPDX-License-Identifier: MIT
/*
 * The serial console shell: reads a line (backspace, Ctrl-U, up/down history), splits it into
 * words and runs the command of that name from the rvmm_cmds table. A line longer than 255
 * characters is refused whole; escape sequences never eat a character that follows them.
 *
 * Interface: console_loop (the boot hart's idle loop), console_run_line, help/version/poweroff.
 */
#include <rvmm/console.h>
#include <rvmm/console_port.h>
#include <rvmm/errno.h>
#include <rvmm/kernel.h>
#include <rvmm/printk.h>
#include <string.h>

#define LINE_MAX 256 /* with its NUL: lines of at most 255 characters */
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

/* Up (A) or down (B) through the history: replace the line being edited. */
static void history_move(char *line, size_t *len, unsigned *hist, int key)
{
	if (!((key == 'A' && *hist > 0 && history_count - *hist < HISTORY) ||
	      (key == 'B' && *hist < history_count)))
		return;
	size_t old = *len;
	*hist += key == 'A' ? -1 : 1;
	if (*hist == history_count)
		line[0] = '\0';
	else
		strcpy(line, history[*hist % HISTORY]);
	*len = strlen(line);
	redraw(line, old);
}

/*
 * Read one line; \r, \n and \r\n all end it (a \n right after \r is swallowed). Returns false
 * if the line was longer than LINE_MAX - 1 characters: it is refused whole, never cut and run.
 * Escape sequences: ESC [ starts a CSI sequence (parameter bytes, then one final byte; only the
 * arrows Up/Down mean something); an ESC followed by anything else is dropped alone, so the next
 * character still counts.
 */
static bool read_line(char *line)
{
	static bool last_was_cr;
	enum { PLAIN, ESC, CSI } state = PLAIN;
	bool csi_params = false;
	size_t len = 0, extra = 0; /* extra: characters typed past LINE_MAX - 1, not kept */
	unsigned hist = history_count;

	line[0] = '\0';
	for (;;) {
		int c = getc_blocking();
		if (c == '\n' && last_was_cr) {
			last_was_cr = false;
			continue;
		}
		last_was_cr = c == '\r';
		if (state == ESC) {
			state = PLAIN;
			if (c == '[') {
				state = CSI;
				csi_params = false;
				continue;
			}
		} else if (state == CSI) {
			if (c >= 0x20 && c <= 0x3f) { /* parameter and intermediate bytes */
				csi_params = true;
				continue;
			}
			state = PLAIN;
			if (c >= 0x40 && c <= 0x7e) {
				if (!csi_params)
					history_move(line, &len, &hist, c);
				continue;
			}
			/* a control character cuts the sequence short: it still counts */
		}
		if (c == '\r' || c == '\n') {
			kprintf("\n");
			if (extra)
				kprintf("line too long (%zu characters, at most %d): ignored, nothing ran\n",
					len + extra, LINE_MAX - 1);
			return !extra;
		}
		if (c == 0x1b) {
			state = ESC;
		} else if (c == 0x7f || c == '\b') {
			if (extra) {
				extra--;
			} else if (len) {
				line[--len] = '\0';
				kprintf("\b \b");
			}
		} else if (c == 0x15) { /* Ctrl-U */
			size_t old = len;
			len = 0;
			line[0] = '\0';
			extra = 0;
			redraw(line, old);
		} else if (c >= ' ' && c < 0x7f) {
			if (len == LINE_MAX - 1) {
				extra++;
				continue;
			}
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
		if (!read_line(line))
			continue;
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
