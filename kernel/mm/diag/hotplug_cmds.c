// SPDX-License-Identifier: MIT
//
// Console commands of memory hot(un)plug: hotadd, online, offline, hotremove, and plug / unplug
// (two steps each, stopping at the first that fails). Thin wrappers over hotplug.c: parse, refuse
// ranges a driver owns (the range registry, mem_ranges.h), time each step, print one line.
//
// Interface: the CONSOLE_COMMANDs hotadd, online, offline, hotremove, plug, unplug.
//
// Every command prints its own elapsed time (guest time under ICOUNT=1) and, for the steps that
// write page descriptors, how many bytes they wrote per GiB, e.g.
//   plug: 3072 MiB at 0xc0000000 in 9.710 ms (hotadd 9.0 ms, online 0.7 ms; descriptors 0 KiB written, 0 KiB/GiB)
// (descriptors of hot-plugged memory are written later, on first use: kernel/mm/deferred.c).

#include <rvmm/arch_cpu.h>
#include <rvmm/console.h>
#include <rvmm/errno.h>
#include <rvmm/hotplug.h>
#include <rvmm/mem_ranges.h>
#include <rvmm/migrate.h>
#include <rvmm/page_alloc.h>
#include <rvmm/printk.h>
#include <rvmm/section.h>
#include <string.h>

struct step {
	uint64_t ns, desc_bytes, migrated;
};

static void print_ms(const char *label, uint64_t ns)
{
	kprintf("%s%llu.%03llu ms", label, (unsigned long long)(ns / 1000000),
		(unsigned long long)(ns / 1000 % 1000));
}

static void print_head(const char *cmd, phys_addr_t start, uint64_t size, uint64_t ns)
{
	kprintf("%s: %llu MiB at 0x%llx in ", cmd, (unsigned long long)(size >> 20),
		(unsigned long long)start);
	print_ms("", ns);
}

static void print_desc(uint64_t desc_bytes, uint64_t size)
{
	kprintf("descriptors %llu KiB written, %llu KiB/GiB", (unsigned long long)(desc_bytes >> 10),
		(unsigned long long)(desc_bytes * (1ULL << 20) / (size >> 10) >> 10));
}

// ADDR SIZE and the word count. CMD_USAGE, or -ERANGE (said) for a range that wraps past 2^64.
static int parse_range(int argc, char **argv, int min, int max, phys_addr_t *start, uint64_t *size)
{
	uint64_t a, s;
	if (argc < min || argc > max || parse_u64(argv[1], &a) || parse_u64(argv[2], &s))
		return CMD_USAGE;
	if (a + s < a) {
		pr_err("%s: 0x%llx + 0x%llx goes past the end of the 64-bit address space", argv[0],
		       (unsigned long long)a, (unsigned long long)s);
		return -ERANGE;
	}
	*start = a;
	*size = s;
	return 0;
}

// 2 MiB aligned, and the kernel's RAM: a range a driver owns is its driver's to change (the
// core lets the driver chain steps there). Caller holds hotplug_lock for write.
static int console_range(const char *op, phys_addr_t start, uint64_t size)
{
	if (size && !IS_ALIGNED(start | size, SZ_2M)) {
		pr_err("%s [0x%llx-0x%llx): not aligned to 2 MiB", op, (unsigned long long)start,
		       (unsigned long long)(start + size));
		return -EINVAL;
	}
	return size ? mem_range_check(op, start, size, NULL) : 0;
}

enum op { HOTADD, ONLINE, OFFLINE, HOTREMOVE };

// One step under one hold of hotplug_lock (so the owner check and the step see the same
// registry), timed, with the descriptor bytes it wrote and the blocks it migrated. Hot-add
// checks the owner itself.
static int do_step(enum op op, phys_addr_t start, uint64_t size, enum zone_type zone,
		   unsigned flags, struct step *st)
{
	static const char *const name[] = { "hot-add", "online", "offline", "hot-remove" };
	uint64_t d0 = mhp_stats.desc_bytes, m0 = migrate_stats.migrated, t0 = arch_time_ns();
	mem_hotplug_begin();
	int rc = op == HOTADD ? 0 : console_range(name[op], start, size);
	if (!rc && op == HOTADD)
		rc = __add_memory(start, size, flags);
	else if (!rc && op == ONLINE)
		rc = __online_pages(PFN_DOWN(start), size >> PAGE_SHIFT, zone);
	else if (!rc && op == OFFLINE)
		rc = __offline_pages(PFN_DOWN(start), size >> PAGE_SHIFT);
	else if (!rc)
		rc = __remove_memory(start, size);
	mem_hotplug_done();
	st->ns = arch_time_ns() - t0;
	st->desc_bytes = mhp_stats.desc_bytes - d0;
	st->migrated = migrate_stats.migrated - m0;
	return rc;
}

static int cmd_hotadd(int argc, char **argv)
{
	phys_addr_t start;
	uint64_t size;
	unsigned flags = 0;
	struct step st;
	int rc = parse_range(argc, argv, 3, 4, &start, &size);
	if (rc)
		return rc;
	if (argc == 4) {
		if (strcmp(argv[3], "memmap_on_memory"))
			return CMD_USAGE;
		flags = MHP_MEMMAP_ON_MEMORY;
	}
	rc = do_step(HOTADD, start, size, 0, flags, &st);
	if (rc)
		return rc;
	print_head("hotadd", start, size, st.ns);
	kprintf(" (");
	print_desc(st.desc_bytes, size);
	kprintf("%s)\n", flags ? "; memmap on memory" : "");
	return 0;
}

static int parse_zone(const char *s, enum zone_type *zone)
{
	if (!strcmp(s, "movable"))
		*zone = ZONE_MOVABLE;
	else if (!strcmp(s, "normal"))
		*zone = ZONE_NORMAL;
	else
		return CMD_USAGE;
	return 0;
}

static int cmd_online(int argc, char **argv)
{
	phys_addr_t start;
	uint64_t size;
	enum zone_type zone = ZONE_MOVABLE;
	struct step st;
	int rc = parse_range(argc, argv, 3, 4, &start, &size);
	if (rc)
		return rc;
	if (argc == 4 && parse_zone(argv[3], &zone))
		return CMD_USAGE;
	// Default: the zone of a section already partly online (the part of a section mem= cut in
	// two goes where the rest of it is), else Movable.
	const struct mem_section *ms = section_get(start >> SECTION_SHIFT);
	if (argc == 3 && ms && ms->state == SECTION_ONLINE)
		zone = (enum zone_type)ms->zone;
	rc = do_step(ONLINE, start, size, zone, 0, &st);
	if (rc)
		return rc;
	print_head("online", start, size, st.ns);
	kprintf(" to %s (", zone_name(zone));
	print_desc(st.desc_bytes, size);
	kprintf(")\n");
	return 0;
}

// offline and hotremove take only a range; offline also says how many blocks it migrated.
static int cmd_range_step(enum op op, int argc, char **argv)
{
	phys_addr_t start;
	uint64_t size;
	struct step st;
	int rc = parse_range(argc, argv, 3, 3, &start, &size);
	if (rc)
		return rc;
	rc = do_step(op, start, size, 0, 0, &st);
	if (rc)
		return rc;
	print_head(op == OFFLINE ? "offline" : "hotremove", start, size, st.ns);
	if (op == OFFLINE)
		kprintf(" (%llu blocks migrated)", (unsigned long long)st.migrated);
	kprintf("\n");
	return 0;
}

static int cmd_offline(int argc, char **argv)
{
	return cmd_range_step(OFFLINE, argc, argv);
}

static int cmd_hotremove(int argc, char **argv)
{
	return cmd_range_step(HOTREMOVE, argc, argv);
}

static int cmd_plug(int argc, char **argv)
{
	phys_addr_t start;
	uint64_t size;
	unsigned flags = 0;
	enum zone_type zone = ZONE_MOVABLE;
	struct step add, on;
	int rc = parse_range(argc, argv, 3, 5, &start, &size);
	if (rc)
		return rc;
	// Each option at most once: `normal movable` contradicts itself, and takes neither.
	bool zone_given = false;
	for (int i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "memmap_on_memory")) {
			if (flags)
				return CMD_USAGE;
			flags = MHP_MEMMAP_ON_MEMORY;
		} else if (zone_given || parse_zone(argv[i], &zone)) {
			return CMD_USAGE;
		} else {
			zone_given = true;
		}
	}
	rc = do_step(HOTADD, start, size, 0, flags, &add);
	if (rc) {
		kprintf("plug: stopped at hotadd (%d)\n", rc);
		return rc;
	}
	rc = do_step(ONLINE, start, size, zone, 0, &on);
	if (rc) {
		kprintf("plug: stopped at online (%d); the range stays added, offline\n", rc);
		return rc;
	}
	print_head("plug", start, size, add.ns + on.ns);
	print_ms(" (hotadd ", add.ns);
	print_ms(", online ", on.ns);
	kprintf("; ");
	print_desc(add.desc_bytes + on.desc_bytes, size);
	kprintf(")\n");
	return 0;
}

static int cmd_unplug(int argc, char **argv)
{
	phys_addr_t start;
	uint64_t size;
	struct step off, rm;
	int rc = parse_range(argc, argv, 3, 3, &start, &size);
	if (rc)
		return rc;
	rc = do_step(OFFLINE, start, size, 0, 0, &off);
	if (rc) {
		kprintf("unplug: stopped at offline (%d)\n", rc);
		return rc;
	}
	rc = do_step(HOTREMOVE, start, size, 0, 0, &rm);
	if (rc) {
		kprintf("unplug: stopped at hotremove (%d); the range stays added, offline\n", rc);
		return rc;
	}
	print_head("unplug", start, size, off.ns + rm.ns);
	print_ms(" (offline ", off.ns);
	print_ms(", hotremove ", rm.ns);
	kprintf("; %llu blocks migrated)\n", (unsigned long long)off.migrated);
	return 0;
}

CONSOLE_COMMAND(hotadd, .name = "hotadd", .usage = "hotadd ADDR SIZE [memmap_on_memory]",
		.summary = "add hidden RAM: direct map + memmap, sections present but offline",
		.run = cmd_hotadd);
CONSOLE_COMMAND(online, .name = "online", .usage = "online ADDR SIZE [movable|normal]",
		.summary = "give added pages (2 MiB granularity) to a zone (default: its section's, else movable)",
		.run = cmd_online);
CONSOLE_COMMAND(offline, .name = "offline", .usage = "offline ADDR SIZE",
		.summary = "isolate, migrate movable pages out, take the range from its zone",
		.run = cmd_offline);
CONSOLE_COMMAND(hotremove, .name = "hotremove", .usage = "hotremove ADDR SIZE",
		.summary = "remove offline sections: unmap, free memmap and tables, fence TLBs",
		.run = cmd_hotremove);
CONSOLE_COMMAND(plug, .name = "plug", .usage = "plug ADDR SIZE [memmap_on_memory] [movable|normal]",
		.summary = "hotadd + online", .run = cmd_plug);
CONSOLE_COMMAND(unplug, .name = "unplug", .usage = "unplug ADDR SIZE",
		.summary = "offline + hotremove", .run = cmd_unplug);
