// SPDX-License-Identifier: MIT
/*
 * Kernel messages: every line goes into the log ring buffer and out to the console.
 *
 * The ring keeps the last LOG_BUF_SIZE bytes of text; log_head counts every byte ever written, so
 * the text is log_buf[(log_head - n) % LOG_BUF_SIZE ..]. `dmesg` and the GDB extension
 * (tools/gdb/rvmm.py: log_buf, log_head) read it.
 *
 * Interface: printk, kprintf, panic, dmesg_print, console_set_sink.
 */
#include <rvmm/arch_cpu.h>
#include <rvmm/console.h>
#include <rvmm/printk.h>
#include <rvmm/spinlock.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define LOG_BUF_SIZE (64 * 1024)

char log_buf[LOG_BUF_SIZE];
uint64_t log_head;
int console_loglevel = LOG_INFO;

/* log_lock: protects log_buf/log_head and serialises console output so lines do not interleave.
 * Taken by every print, with interrupts masked (printing from trap handlers); innermost lock. */
static spinlock_t log_lock = SPINLOCK_INIT("log", LOCK_CLASS_LOG);

static void (*console_sink)(const char *s, size_t len);
static volatile bool panicking;

/* Where console output goes: SBI's debug console at first, then the console ports. */
void console_set_sink(void (*sink)(const char *s, size_t len)) { console_sink = sink; }

/*
 * loglevel=N as Linux numbers it (a message shows when its level is below N): rvmm's error,
 * warning, info and debug are Linux's 3, 4, 6 and 7.
 */
void console_loglevel_set_linux(int n)
{
	static const int linux_level[] = { [LOG_ERR] = 3, [LOG_WARN] = 4, [LOG_INFO] = 6, [LOG_DEBUG] = 7 };
	console_loglevel = -1;
	for (int l = LOG_ERR; l <= LOG_DEBUG; l++)
		if (linux_level[l] < n)
			console_loglevel = l;
}

static void log_store(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		log_buf[(log_head + i) % LOG_BUF_SIZE] = s[i];
	log_head += len;
}

static void emit(enum log_level level, const char *text, size_t len)
{
	unsigned long flags = 0;
	bool locked = true;

	if (panicking)
		locked = spin_trylock(&log_lock); /* the holder may be the hart that panicked */
	else
		flags = spin_lock_irqsave(&log_lock);
	log_store(text, len);
	if (console_sink && ((int)level <= console_loglevel || level == LOG_PLAIN))
		console_sink(text, len);
	if (locked && !panicking)
		spin_unlock_irqrestore(&log_lock, flags);
	else if (locked)
		spin_unlock(&log_lock);
}

static void vprintk(enum log_level level, const char *fmt, va_list ap)
{
	static const char *const prefix[] = { "error: ", "warning: ", "", "", "" };
	char line[512];
	int n = 0;

	if (level != LOG_PLAIN) {
		uint64_t ns = arch_time_ns();
		n = snprintf(line, sizeof(line), "[%5lu.%06lu] %s", (unsigned long)(ns / 1000000000),
			     (unsigned long)(ns / 1000 % 1000000), prefix[level]);
	}
	int m = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	if (m < 0)
		m = 0;
	n = MIN(n + m, (int)sizeof(line) - 2);
	if (level != LOG_PLAIN && (n == 0 || line[n - 1] != '\n'))
		line[n++] = '\n';
	emit(level, line, n);
}

void printk(enum log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintk(level, fmt, ap);
	va_end(ap);
}

void kprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintk(LOG_PLAIN, fmt, ap);
	va_end(ap);
}

/* Print the last `bytes` of the log (all of it if 0). */
void dmesg_print(size_t bytes)
{
	uint64_t head = READ_ONCE(log_head);
	uint64_t avail = MIN(head, (uint64_t)LOG_BUF_SIZE);
	if (bytes == 0 || bytes > avail)
		bytes = avail;
	/* Start at a line boundary so the first line is whole. */
	uint64_t start = head - bytes;
	while (start < head && start > head - avail && log_buf[(start - 1) % LOG_BUF_SIZE] != '\n')
		start++;
	char chunk[256];
	while (start < head) {
		size_t n = MIN((uint64_t)sizeof(chunk), head - start);
		for (size_t i = 0; i < n; i++)
			chunk[i] = log_buf[(start + i) % LOG_BUF_SIZE];
		if (console_sink)
			console_sink(chunk, n);
		start += n;
	}
}

void arch_halt_hart(void) __attribute__((noreturn));

void panic(const char *fmt, ...)
{
	va_list ap;
	panicking = true;
	va_start(ap, fmt);
	char msg[256];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printk(LOG_ERR, "panic: %s", msg);
	printk(LOG_ERR, "panic: hart %u halted", arch_hart_index());
	arch_halt_hart();
}

static int cmd_dmesg(int argc, char **argv)
{
	uint64_t bytes = 0;
	if (argc > 2 || (argc == 2 && parse_u64(argv[1], &bytes)))
		return CMD_USAGE;
	dmesg_print(bytes);
	return 0;
}
CONSOLE_COMMAND(dmesg, .name = "dmesg", .usage = "dmesg [BYTES]",
		.summary = "print the kernel log ring buffer (its last BYTES)", .run = cmd_dmesg);
