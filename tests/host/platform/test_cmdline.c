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

static int expect_defaults_except(const char *what)
{
	if (!strstr(what, "mem"))
		CHECK_MSG(cl.mem == 0, "mem = 0x%lx", cl.mem);
	if (!strstr(what, "failalloc"))
		CHECK_MSG(cl.failalloc == 0, "failalloc = %lu", cl.failalloc);
	if (!strstr(what, "loglevel"))
		CHECK_MSG(cl.loglevel == -1, "loglevel = %d", cl.loglevel);
	if (!strstr(what, "nosmp"))
		CHECK_MSG(!cl.nosmp, "nosmp set");
	if (!strstr(what, "deferred"))
		CHECK_MSG(cl.deferred_init, "deferred_init off");
	return 0;
}

static int cmdline_null_and_empty(void)
{
	int rc;

	rc = cmdline_parse(NULL, &cl);
	CHECK_MSG(rc == 0, "NULL: rc %d", rc);
	CHECK_RC(expect_defaults_except(""));
	rc = cmdline_parse("", &cl);
	CHECK_MSG(rc == 0, "\"\": rc %d", rc);
	CHECK_RC(expect_defaults_except(""));
	rc = cmdline_parse("   \t ", &cl);
	CHECK_MSG(rc == 0, "blanks: rc %d", rc);
	CHECK_MSG(log_lines() == 0, "printed %d lines", log_lines());
	return 0;
}

static int cmdline_all_known(void)
{
	int rc;

	rc = cmdline_parse("mem=512M failalloc=100 loglevel=7 nosmp deferred_init=off", &cl);
	CHECK_MSG(rc == 0, "rc %d", rc);
	CHECK_MSG(cl.mem == 512UL << 20, "mem 0x%lx", cl.mem);
	CHECK_MSG(cl.failalloc == 100, "failalloc %lu", cl.failalloc);
	CHECK_MSG(cl.loglevel == 7, "loglevel %d", cl.loglevel);
	CHECK_MSG(cl.nosmp, "nosmp not set");
	CHECK_MSG(!cl.deferred_init, "deferred_init still on");
	CHECK_MSG(log_lines() == 0, "printed %d lines", log_lines());
	return 0;
}

static int cmdline_hex_and_spacing(void)
{
	int rc;

	rc = cmdline_parse("  mem=0x80000000\t\tdeferred_init=on  \n", &cl);
	CHECK_MSG(rc == 0 && cl.mem == 0x80000000UL && cl.deferred_init, "rc %d mem 0x%lx", rc,
		  cl.mem);
	return 0;
}

static int cmdline_last_one_wins(void)
{
	int rc;

	rc = cmdline_parse("mem=1G mem=2G", &cl);
	CHECK_MSG(rc == 0 && cl.mem == 2UL << 30, "rc %d mem 0x%lx", rc, cl.mem);
	return 0;
}

// Options with a bad value: rc 1, one message containing msg, the field stays at its default.
static int cmdline_bad_values(void)
{
	static const struct {
		const char *args, *msg;
	} bad[] = {
	    {"mem=12x", "cmdline: mem=12x: not a size, ignored"},
	    {"mem=99999999999999999999",
	     "cmdline: mem=99999999999999999999: out of range, ignored"},
	    {"mem=", "cmdline: mem=: not a size, ignored"},
	    {"mem", "cmdline: mem: not a size, ignored"},
	    {"loglevel=8", "cmdline: loglevel=8: out of range, ignored"},
	    {"failalloc=abc", "cmdline: failalloc=abc: not a number, ignored"},
	    {"nosmp=1", "cmdline: nosmp=1: takes no value, ignored"},
	    {"deferred_init=maybe", "cmdline: deferred_init=maybe: not on or off, ignored"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		log_clear();
		int rc = cmdline_parse(bad[i].args, &cl);
		CHECK_MSG(rc == 1, "%s: rc %d, want 1", bad[i].args, rc);
		CHECK_MSG(cl.nr_bad == 1 && cl.nr_unknown == 0, "%s: nr_bad %d nr_unknown %d",
			  bad[i].args, cl.nr_bad, cl.nr_unknown);
		CHECK_MSG(log_find(LOG_WARN, bad[i].msg) >= 0, "no warning \"%s\"", bad[i].msg);
		CHECK_MSG(log_lines() == 1, "%s: %d lines printed, want 1", bad[i].args,
			  log_lines());
		CHECK_RC(expect_defaults_except(""));
	}
	return 0;
}

static int cmdline_bad_value_keeps_others(void)
{
	int rc;

	rc = cmdline_parse("loglevel=3 mem=12x nosmp", &cl);
	CHECK_MSG(rc == 1 && cl.loglevel == 3 && cl.nosmp && cl.mem == 0, "rc %d", rc);
	return 0;
}

static int cmdline_unknown_reported_once(void)
{
	int rc;

	rc = cmdline_parse("foo mem=1G bar=2 foo foo=3", &cl);
	CHECK_MSG(rc == 2, "rc %d, want 2", rc);
	CHECK_MSG(cl.nr_unknown == 2, "nr_unknown %d", cl.nr_unknown);
	CHECK_MSG(strcmp(cl.unknown[0], "foo") == 0 && strcmp(cl.unknown[1], "bar") == 0,
		  "unknown names '%s' '%s'", cl.unknown[0], cl.unknown[1]);
	CHECK_MSG(log_count("cmdline: unknown option 'foo' ignored") == 1, "foo reported %d times",
		  log_count("unknown option 'foo'"));
	CHECK_MSG(log_find(LOG_WARN, "cmdline: unknown option 'bar' ignored") >= 0,
		  "bar not reported");
	CHECK_MSG(cl.mem == 1UL << 30, "mem 0x%lx", cl.mem);
	return 0;
}

static int cmdline_many_unknown(void)
{
	int rc;

	rc = cmdline_parse("a b c d e f g h i j", &cl);
	CHECK_MSG(rc == 10 && cl.nr_unknown == 10, "rc %d nr_unknown %d", rc, cl.nr_unknown);
	CHECK_MSG(strcmp(cl.unknown[CMDLINE_MAX_UNKNOWN - 1], "h") == 0, "last kept '%s'",
		  cl.unknown[CMDLINE_MAX_UNKNOWN - 1]);
	CHECK_MSG(log_lines() == 10, "%d lines", log_lines());
	return 0;
}

static int cmdline_long_option(void)
{
	int rc;

	{
		char args[400];
		memset(args, 'x', 300);
		strcpy(args + 300, " nosmp");
		rc = cmdline_parse(args, &cl);
		CHECK_MSG(rc == 1 && cl.nr_bad == 1 && cl.nosmp, "rc %d", rc);
		CHECK_MSG(log_find(LOG_WARN, "option too long") >= 0, "no 'too long' message");
	}
	return 0;
}

static int cmdline_long_unknown_name(void)
{
	int rc;

	rc = cmdline_parse("abcdefghijklmnopqrstuvwxyzabcdefghijklmnop=1", &cl);
	CHECK_MSG(rc == 1 && strlen(cl.unknown[0]) == CMDLINE_NAME_LEN - 1, "rc %d name '%s'", rc,
		  cl.unknown[0]);
	return 0;
}

TEST_SUITE(cmdline_suite, "cmdline",
	   CASE(cmdline_null_and_empty),
	   CASE(cmdline_all_known),
	   CASE(cmdline_hex_and_spacing),
	   CASE(cmdline_last_one_wins),
	   CASE(cmdline_bad_values),
	   CASE(cmdline_bad_value_keeps_others),
	   CASE(cmdline_unknown_reported_once),
	   CASE(cmdline_many_unknown),
	   CASE(cmdline_long_option),
	   CASE(cmdline_long_unknown_name))
