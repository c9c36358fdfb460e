// SPDX-License-Identifier: MIT
/*
 * cmdline_parse(): known options, bad values (message, value ignored, others still applied),
 * unknown options (reported once each), odd spacing and lengths.
 */
#include "harness.h"

#include <rvmm/cmdline.h>
#include <rvmm/printk.h>

#include <string.h>

static struct cmdline cl;

static void expect_defaults_except(const char *what)
{
	if (!strstr(what, "mem"))
		EXPECT(cl.mem == 0, "mem = 0x%lx", cl.mem);
	if (!strstr(what, "failalloc"))
		EXPECT(cl.failalloc == 0, "failalloc = %lu", cl.failalloc);
	if (!strstr(what, "loglevel"))
		EXPECT(cl.loglevel == -1, "loglevel = %d", cl.loglevel);
	if (!strstr(what, "nosmp"))
		EXPECT(!cl.nosmp, "nosmp set");
	if (!strstr(what, "deferred"))
		EXPECT(cl.deferred_init, "deferred_init off");
}

// One option with a bad value: rc 1, one message containing msg, the field stays at its default.
static void bad_case(const char *name, const char *args, const char *msg)
{
	t_start("cmdline", name);
	int rc = cmdline_parse(args, &cl);
	EXPECT(rc == 1, "rc %d, want 1", rc);
	EXPECT(cl.nr_bad == 1 && cl.nr_unknown == 0, "nr_bad %d nr_unknown %d", cl.nr_bad,
	       cl.nr_unknown);
	EXPECT(log_find(LOG_WARN, msg) >= 0, "no warning \"%s\"", msg);
	EXPECT(log_lines() == 1, "%d lines printed, want 1", log_lines());
	expect_defaults_except("");
	t_finish();
}

void run_cmdline_tests(void)
{
	int rc;

	t_start("cmdline", "null_and_empty");
	rc = cmdline_parse(NULL, &cl);
	EXPECT(rc == 0, "NULL: rc %d", rc);
	expect_defaults_except("");
	rc = cmdline_parse("", &cl);
	EXPECT(rc == 0, "\"\": rc %d", rc);
	expect_defaults_except("");
	rc = cmdline_parse("   \t ", &cl);
	EXPECT(rc == 0, "blanks: rc %d", rc);
	EXPECT(log_lines() == 0, "printed %d lines", log_lines());
	t_finish();

	t_start("cmdline", "all_known");
	rc = cmdline_parse("mem=512M failalloc=100 loglevel=7 nosmp deferred_init=off", &cl);
	EXPECT(rc == 0, "rc %d", rc);
	EXPECT(cl.mem == 512UL << 20, "mem 0x%lx", cl.mem);
	EXPECT(cl.failalloc == 100, "failalloc %lu", cl.failalloc);
	EXPECT(cl.loglevel == 7, "loglevel %d", cl.loglevel);
	EXPECT(cl.nosmp, "nosmp not set");
	EXPECT(!cl.deferred_init, "deferred_init still on");
	EXPECT(log_lines() == 0, "printed %d lines", log_lines());
	t_finish();

	t_start("cmdline", "hex_and_spacing");
	rc = cmdline_parse("  mem=0x80000000\t\tdeferred_init=on  \n", &cl);
	EXPECT(rc == 0 && cl.mem == 0x80000000UL && cl.deferred_init, "rc %d mem 0x%lx", rc, cl.mem);
	t_finish();

	t_start("cmdline", "last_one_wins");
	rc = cmdline_parse("mem=1G mem=2G", &cl);
	EXPECT(rc == 0 && cl.mem == 2UL << 30, "rc %d mem 0x%lx", rc, cl.mem);
	t_finish();

	bad_case("mem_garbage", "mem=12x", "cmdline: mem=12x: not a size, ignored");
	bad_case("mem_overflow", "mem=99999999999999999999",
		 "cmdline: mem=99999999999999999999: out of range, ignored");
	bad_case("mem_empty", "mem=", "cmdline: mem=: not a size, ignored");
	bad_case("mem_no_value", "mem", "cmdline: mem: not a size, ignored");
	bad_case("loglevel_range", "loglevel=8", "cmdline: loglevel=8: out of range, ignored");
	bad_case("failalloc_garbage", "failalloc=abc", "cmdline: failalloc=abc: not a number, ignored");
	bad_case("nosmp_value", "nosmp=1", "cmdline: nosmp=1: takes no value, ignored");
	bad_case("deferred_bad", "deferred_init=maybe",
		 "cmdline: deferred_init=maybe: not on or off, ignored");

	t_start("cmdline", "bad_value_keeps_others");
	rc = cmdline_parse("loglevel=3 mem=12x nosmp", &cl);
	EXPECT(rc == 1 && cl.loglevel == 3 && cl.nosmp && cl.mem == 0, "rc %d", rc);
	t_finish();

	t_start("cmdline", "unknown_reported_once");
	rc = cmdline_parse("foo mem=1G bar=2 foo foo=3", &cl);
	EXPECT(rc == 2, "rc %d, want 2", rc);
	EXPECT(cl.nr_unknown == 2, "nr_unknown %d", cl.nr_unknown);
	EXPECT(strcmp(cl.unknown[0], "foo") == 0 && strcmp(cl.unknown[1], "bar") == 0,
	       "unknown names '%s' '%s'", cl.unknown[0], cl.unknown[1]);
	EXPECT(log_count("cmdline: unknown option 'foo' ignored") == 1, "foo reported %d times",
	       log_count("unknown option 'foo'"));
	EXPECT(log_find(LOG_WARN, "cmdline: unknown option 'bar' ignored") >= 0, "bar not reported");
	EXPECT(cl.mem == 1UL << 30, "mem 0x%lx", cl.mem);
	t_finish();

	t_start("cmdline", "many_unknown");
	rc = cmdline_parse("a b c d e f g h i j", &cl);
	EXPECT(rc == 10 && cl.nr_unknown == 10, "rc %d nr_unknown %d", rc, cl.nr_unknown);
	EXPECT(strcmp(cl.unknown[CMDLINE_MAX_UNKNOWN - 1], "h") == 0, "last kept '%s'",
	       cl.unknown[CMDLINE_MAX_UNKNOWN - 1]);
	EXPECT(log_lines() == 10, "%d lines", log_lines());
	t_finish();

	t_start("cmdline", "long_option");
	{
		char args[400];
		memset(args, 'x', 300);
		strcpy(args + 300, " nosmp");
		rc = cmdline_parse(args, &cl);
		EXPECT(rc == 1 && cl.nr_bad == 1 && cl.nosmp, "rc %d", rc);
		EXPECT(log_find(LOG_WARN, "option too long") >= 0, "no 'too long' message");
	}
	t_finish();

	t_start("cmdline", "long_unknown_name");
	rc = cmdline_parse("abcdefghijklmnopqrstuvwxyzabcdefghijklmnop=1", &cl);
	EXPECT(rc == 1 && strlen(cl.unknown[0]) == CMDLINE_NAME_LEN - 1, "rc %d name '%s'", rc,
	       cl.unknown[0]);
	t_finish();
}
