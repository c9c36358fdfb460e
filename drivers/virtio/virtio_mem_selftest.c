// SPDX-License-Identifier: MIT
/*
 * virtio-mem, the device check (see virtio_mem.h): `vmem selftest` holds a device to the device
 * requirements of the virtio-mem section of the specification (virtio 1.2, 5.15), one line per
 * rule: what the specification expects, what the device answered, PASS, FAIL or SKIP (with the
 * reason), then `vmem selftest: N passed, N failed, N skipped`.
 *
 * It never touches memory that holds data. It works on a run of four blocks the driver has not
 * plugged (the highest such run in the usable region): plugs two of them, checks them, and gives
 * them back; UNPLUG_ALL only when the driver has nothing plugged. It holds the device lock
 * throughout, so the worker waits (a resize request arriving meanwhile is followed afterwards),
 * and the stress test's data in the driver's blocks stays where it is. Afterwards the device's
 * plugged size and the driver's state are what they were, which is checked as a rule too.
 *
 * Two rules are judged from records the driver keeps from probe on (virtio_mem.c): every
 * requested_size change seen came with a configuration-change notification, and no configuration
 * read found usable_region_size below what is plugged.
 *
 * Interface: vmem_selftest.
 */
#include <rvmm/arch_cpu.h>
#include <rvmm/errno.h>
#include <rvmm/hotplug.h>
#include <rvmm/io.h>
#include <rvmm/kernel.h>
#include <rvmm/printk.h>
#include <stdio.h>

#include "virtio_mem.h"

#define MB(x) ((unsigned long long)((x) >> 20))
#define ST_BLOCKS 4      /* test run: blocks 0-1 plugged by the test, 2-3 stay unplugged */
#define ST_PLUGGED 2
#define ST_HEADROOM 3    /* blocks requested_size must leave: 2 plugged + 1 so ERROR is not NACK */
#define ST_ANNOUNCE_WAIT_MS 1000

struct selftest {
	struct virtio_mem *vm;
	unsigned passed, failed, skipped;
	bool aborted;              /* the device stopped answering: no more requests */
	uint32_t first;            /* the test run's first block, or UINT32_MAX if none */
	phys_addr_t usable_end;    /* end of the usable region at the start */
	uint64_t expect_plugged;   /* what plugged_size must read after the next accepted request */
	unsigned accepted;         /* requests accepted as the specification asks */
	char size_bad[96];         /* the first plugged_size that did not follow, if any */
	bool plugged_ok;           /* PLUG of free test blocks was accepted: the rest can use them */
	bool block0_plugged;       /* the UNPLUG_ALL rule plugged block 0: restore looks at it too */
};

static const char *const resp_names[] = { "ACK", "NACK", "BUSY", "ERROR" };
static const char *const state_names[] = { "PLUGGED", "UNPLUGGED", "MIXED" };
static const char *const req_names[] = { "PLUG", "UNPLUG", "UNPLUG_ALL", "STATE" };

static const char *resp_name(uint16_t r) { return r < ARRAY_SIZE(resp_names) ? resp_names[r] : "?"; }
static const char *state_name(uint16_t s)
{
	return s < ARRAY_SIZE(state_names) ? state_names[s] : "?";
}

/* One rule's line. verdict: 1 pass, 0 fail, -1 skip (answer then says why). */
static void st_line(struct selftest *t, const char *rule, const char *expect, const char *answer,
		    int verdict)
{
	kprintf("  %-30s %-34s %-32s %s\n", rule, expect, answer,
		verdict > 0 ? "pass" : verdict == 0 ? "FAIL" : "skip");
	if (verdict > 0)
		t->passed++;
	else if (verdict == 0)
		t->failed++;
	else
		t->skipped++;
}

static phys_addr_t st_pa(const struct selftest *t, unsigned i)
{
	return vmem_block_addr(t->vm, t->first + i);
}

/* Re-read the configuration; after an accepted request, check plugged_size followed it. */
static void st_check_size(struct selftest *t, uint16_t type)
{
	struct virtio_mem *vm = t->vm;

	if (vmem_config_update(vm)) {
		t->aborted = true;
		return;
	}
	if (vm->plugged_size != t->expect_plugged && !t->size_bad[0])
		snprintf(t->size_bad, sizeof(t->size_bad), "after %s: %llu KiB, not %llu",
			 req_names[type], (unsigned long long)(vm->plugged_size >> 10),
			 (unsigned long long)(t->expect_plugged >> 10));
	t->expect_plugged = vm->plugged_size; /* judge each request on its own */
}

/*
 * Send a request; 0 with the answer, or -EIO when the device broke (then no more are sent). After
 * an ACK plugged_size is re-read; `judge`: the specification wants this one accepted, so its
 * plugged_size counts for the plugged_size rule (a wrongly accepted one fails its own rule only).
 */
static int st_req(struct selftest *t, uint16_t type, phys_addr_t pa, uint16_t nb, uint16_t *resp,
		  uint16_t *state, bool judge)
{
	struct virtio_mem *vm = t->vm;
	uint64_t size = (uint64_t)nb * vm->block_size;

	*state = 0xffff;
	if (t->aborted || vmem_request_raw(vm, type, pa, nb, resp, state)) {
		t->aborted = true;
		*resp = 0xffff;
		return -EIO;
	}
	if (*resp != VIRTIO_MEM_RESP_ACK || type == VIRTIO_MEM_REQ_STATE)
		return 0;
	/* What the device now has plugged for the test (keeps the driver's cross-check quiet). */
	if (type == VIRTIO_MEM_REQ_PLUG)
		vm->selftest_plugged += nb;
	else if (type == VIRTIO_MEM_REQ_UNPLUG)
		vm->selftest_plugged -= MIN((uint32_t)nb, vm->selftest_plugged);
	else
		vm->selftest_plugged = 0;
	if (!judge) {
		if (vmem_config_update(vm))
			t->aborted = true;
		t->expect_plugged = vm->plugged_size;
		return 0;
	}
	if (type == VIRTIO_MEM_REQ_PLUG)
		t->expect_plugged += size;
	else if (type == VIRTIO_MEM_REQ_UNPLUG)
		t->expect_plugged -= size;
	else
		t->expect_plugged = 0;
	t->accepted++;
	st_check_size(t, type);
	return 0;
}

/* A request the specification wants answered `want` (and STATE with `want_state`). */
static void st_expect(struct selftest *t, const char *rule, const char *expect, uint16_t type,
		      phys_addr_t pa, uint16_t nb, uint16_t want, int want_state)
{
	char answer[64];
	uint16_t resp, state;

	if (st_req(t, type, pa, nb, &resp, &state, want == VIRTIO_MEM_RESP_ACK)) {
		st_line(t, rule, expect, "no usable answer", 0);
		return;
	}
	if (want_state >= 0 && resp == VIRTIO_MEM_RESP_ACK)
		snprintf(answer, sizeof(answer), "ACK %s", state_name(state));
	else
		snprintf(answer, sizeof(answer), "%s", resp_name(resp));
	st_line(t, rule, expect, answer,
		resp == want && (want_state < 0 || state == (uint16_t)want_state));
}

/* Several requests that must all answer ERROR: one line, the answers in order. */
static void st_expect_errors(struct selftest *t, const char *rule, const char *expect,
			     const uint16_t *types, const phys_addr_t *pas, const uint16_t *nbs,
			     unsigned n)
{
	char answer[64] = "";
	size_t len = 0;
	bool ok = true;

	for (unsigned i = 0; i < n; i++) {
		uint16_t resp, state;
		if (st_req(t, types[i], pas[i], nbs[i], &resp, &state, false)) {
			st_line(t, rule, expect, "no usable answer", 0);
			return;
		}
		ok &= resp == VIRTIO_MEM_RESP_ERROR;
		len += (size_t)snprintf(answer + len, sizeof(answer) - len, "%s%s", i ? "/" : "",
					resp_name(resp));
		if (len >= sizeof(answer))
			len = sizeof(answer) - 1;
	}
	st_line(t, rule, expect, answer, ok);
}

/* ---- Plugged memory reads and writes back ---------------------------------------------------- */

/* A few words of every page: enough to see a block that is not backed, and quick for 1 GiB. */
static const uint32_t st_offsets[] = { 0, 8, 2048, PAGE_SIZE - 8 };

static uint64_t st_pattern(phys_addr_t pa, uint64_t seed)
{
	return (pa * 0x9e3779b97f4a7c15ULL) ^ seed;
}

/* Write then read back [pa, pa + size) through the direct map; the first bad address or 0. */
static phys_addr_t st_memory_check(phys_addr_t pa, uint64_t size, uint64_t seed)
{
	for (phys_addr_t p = pa; p < pa + size; p += PAGE_SIZE)
		for (unsigned i = 0; i < ARRAY_SIZE(st_offsets); i++)
			writeq(st_pattern(p + st_offsets[i], seed), __va(p + st_offsets[i]));
	for (phys_addr_t p = pa; p < pa + size; p += PAGE_SIZE)
		for (unsigned i = 0; i < ARRAY_SIZE(st_offsets); i++)
			if (readq(__va(p + st_offsets[i])) != st_pattern(p + st_offsets[i], seed))
				return p + st_offsets[i];
	return 0;
}

/*
 * The test's plugged blocks, through the direct map: a section the driver added is mapped
 * already; otherwise the block's sections are hot-added (not onlined) for the check and removed
 * again. Returns 0 or -errno with *bad the first address that did not read back.
 */
static int st_memory(struct selftest *t, phys_addr_t *bad)
{
	struct virtio_mem *vm = t->vm;
	uint64_t seed = arch_time_ns() | 1;
	int rc = 0;

	*bad = 0;
	for (unsigned i = 0; i < ST_PLUGGED && !rc && !*bad; i++) {
		unsigned long s0, s1, added = 0;
		vmem_block_sections(vm, t->first + i, 1, &s0, &s1);
		for (unsigned long s = s0; s < s1; s++)
			added += vm->sections[s].added != 0;
		phys_addr_t pa = st_pa(t, i), start = vm->base + ((uint64_t)s0 << SECTION_SHIFT);
		uint64_t len = (uint64_t)(s1 - s0) << SECTION_SHIFT;
		if (added == s1 - s0) {
			get_online_mems(); /* the mapping stays while we look */
			*bad = st_memory_check(pa, vm->block_size, seed);
			put_online_mems();
			continue;
		}
		if (added)
			return -EBUSY; /* a big block's sections half added: left to the worker */
		mem_hotplug_begin();
		rc = __add_memory_driver(&vm->map_region, start, len, 0);
		if (!rc) {
			*bad = st_memory_check(pa, vm->block_size, seed);
			rc = __remove_memory(start, len);
		}
		mem_hotplug_done();
	}
	return rc;
}

static void st_rule_memory(struct selftest *t)
{
	const char *rule = "plugged memory holds data", *expect = "reads back what was written";
	char answer[64];
	phys_addr_t bad;
	int rc = st_memory(t, &bad);

	if (rc) {
		snprintf(answer, sizeof(answer), "not mapped (%s)", errname(rc));
		st_line(t, rule, expect, answer, -1);
		return;
	}
	if (bad)
		snprintf(answer, sizeof(answer), "differs at 0x%llx", (unsigned long long)bad);
	else
		snprintf(answer, sizeof(answer), "%llu KiB read back",
			 (unsigned long long)((ST_PLUGGED * t->vm->block_size) >> 10));
	st_line(t, rule, expect, answer, !bad);
}

/* ---- The rules ------------------------------------------------------------------------------- */

/* The highest run of ST_BLOCKS blocks the driver has not plugged inside the usable region. */
static uint32_t st_find_run(const struct virtio_mem *vm)
{
	uint32_t n = 0;

	for (uint32_t id = vm->nr_blocks; id-- > 0;) {
		bool free = vmem_block_usable(vm, id) && vmem_block_state(vm, id) == VMEM_BLOCK_UNPLUGGED;
		n = free ? n + 1 : 0;
		if (n == ST_BLOCKS)
			return id;
	}
	return UINT32_MAX;
}

/* Requests on the test run: state, plug, errors for wrong ones, unplug. */
static void st_rules_run(struct selftest *t)
{
	struct virtio_mem *vm = t->vm;
	uint64_t bs = vm->block_size;
	uint64_t room = vm->requested_size > vm->plugged_size ? vm->requested_size - vm->plugged_size : 0;
	char why[64];

	st_expect(t, "STATE of unplugged blocks", "ACK UNPLUGGED", VIRTIO_MEM_REQ_STATE, st_pa(t, 0),
		  ST_BLOCKS, VIRTIO_MEM_RESP_ACK, VIRTIO_MEM_STATE_UNPLUGGED);
	if (room / bs < ST_HEADROOM) {
		snprintf(why, sizeof(why), "requested-plugged %llu MiB < %llu", MB(room),
			 MB(ST_HEADROOM * bs));
		st_line(t, "PLUG of free blocks", "ACK (within requested_size)", why, -1);
	} else {
		uint16_t resp, state;
		st_req(t, VIRTIO_MEM_REQ_PLUG, st_pa(t, 0), ST_PLUGGED, &resp, &state, true);
		t->plugged_ok = resp == VIRTIO_MEM_RESP_ACK;
		st_line(t, "PLUG of free blocks", "ACK (within requested_size)", resp_name(resp),
			t->plugged_ok);
		snprintf(why, sizeof(why), "PLUG of free blocks failed");
	}
	if (t->plugged_ok) {
		st_expect(t, "STATE of plugged blocks", "ACK PLUGGED", VIRTIO_MEM_REQ_STATE,
			  st_pa(t, 0), ST_PLUGGED, VIRTIO_MEM_RESP_ACK, VIRTIO_MEM_STATE_PLUGGED);
		st_expect(t, "STATE of a mixed range", "ACK MIXED", VIRTIO_MEM_REQ_STATE, st_pa(t, 0),
			  ST_PLUGGED + 1, VIRTIO_MEM_RESP_ACK, VIRTIO_MEM_STATE_MIXED);
		st_rule_memory(t);
		st_expect(t, "PLUG of a plugged block", "ERROR", VIRTIO_MEM_REQ_PLUG, st_pa(t, 1), 1,
			  VIRTIO_MEM_RESP_ERROR, -1);
	} else {
		st_line(t, "STATE of plugged blocks", "ACK PLUGGED", why, -1);
		st_line(t, "STATE of a mixed range", "ACK MIXED", why, -1);
		st_line(t, "plugged memory holds data", "reads back what was written", why, -1);
		st_line(t, "PLUG of a plugged block", "ERROR", why, -1);
	}

	/* Wrong requests: PLUG, UNPLUG, STATE each. PLUGs target free blocks only. */
	phys_addr_t end = t->usable_end;
	const uint16_t types[] = { VIRTIO_MEM_REQ_PLUG, VIRTIO_MEM_REQ_UNPLUG, VIRTIO_MEM_REQ_STATE };
	const phys_addr_t outside[] = { end, end, end };
	const uint16_t one[] = { 1, 1, 1 }, zero[] = { 0, 0, 0 };
	st_expect_errors(t, "requests beyond usable region", "ERROR/ERROR/ERROR", types, outside,
			 one, 3);
	const phys_addr_t misaligned[] = { st_pa(t, 2) + bs / 2, st_pa(t, 0) + bs / 2,
					   st_pa(t, 0) + bs / 2 };
	st_expect_errors(t, "misaligned requests", "ERROR/ERROR/ERROR", types, misaligned, one, 3);
	const phys_addr_t at[] = { st_pa(t, 2), st_pa(t, 0), st_pa(t, 0) };
	st_expect_errors(t, "requests of zero blocks", "ERROR/ERROR/ERROR", types, at, zero, 3);

	if (t->plugged_ok) {
		st_expect(t, "UNPLUG of plugged blocks", "ACK", VIRTIO_MEM_REQ_UNPLUG, st_pa(t, 0),
			  ST_PLUGGED, VIRTIO_MEM_RESP_ACK, -1);
	} else {
		st_line(t, "UNPLUG of plugged blocks", "ACK", why, -1);
	}
	st_expect(t, "UNPLUG of an unplugged block", "ERROR", VIRTIO_MEM_REQ_UNPLUG, st_pa(t, 2), 1,
		  VIRTIO_MEM_RESP_ERROR, -1);
}

/*
 * UNPLUG_ALL, only when the driver has nothing plugged. Block 0 is plugged first: the lowest
 * block stays inside the usable region when the device shrinks it with UNPLUG_ALL (QEMU shrinks
 * it to requested_size + its extent), so STATE can still be asked.
 */
static void st_rule_unplug_all(struct selftest *t)
{
	struct virtio_mem *vm = t->vm;
	const char *rule = "UNPLUG_ALL", *expect = "ACK, plugged_size 0, UNPLUGGED";
	phys_addr_t pa = vmem_block_addr(vm, 0);
	uint16_t resp, state;
	char answer[64];

	if (vmem_plugged_blocks(vm) || vm->plugged_size) {
		snprintf(answer, sizeof(answer), "driver uses %llu MiB plugged",
			 MB((uint64_t)vmem_plugged_blocks(vm) * vm->block_size));
		if (!vmem_plugged_blocks(vm))
			snprintf(answer, sizeof(answer), "device has %llu MiB plugged",
				 MB(vm->plugged_size));
		st_line(t, rule, expect, answer, -1);
		return;
	}
	if (vm->requested_size >= vm->block_size && vmem_block_usable(vm, 0)) {
		st_req(t, VIRTIO_MEM_REQ_PLUG, pa, 1, &resp, &state, true);
		t->block0_plugged = resp == VIRTIO_MEM_RESP_ACK;
	}
	st_req(t, VIRTIO_MEM_REQ_UNPLUG_ALL, 0, 0, &resp, &state, false); /* judged right here */
	uint16_t r2 = 0xffff, st2 = 0xffff;
	if (resp == VIRTIO_MEM_RESP_ACK)
		st_req(t, VIRTIO_MEM_REQ_STATE, pa, 1, &r2, &st2, false);
	snprintf(answer, sizeof(answer), "%s, %llu KiB, %s", resp_name(resp),
		 (unsigned long long)(vm->plugged_size >> 10),
		 r2 == VIRTIO_MEM_RESP_ACK ? state_name(st2) : resp_name(r2));
	st_line(t, rule, expect, answer,
		resp == VIRTIO_MEM_RESP_ACK && !vm->plugged_size &&
			st2 == VIRTIO_MEM_STATE_UNPLUGGED);
}

/* Every requested_size change seen since probe was announced (waits a little for the last). */
static void st_rule_announce(struct selftest *t)
{
	struct virtio_mem *vm = t->vm;
	const char *rule = "resize announced", *expect = "config change per requested_size";
	uint64_t deadline = arch_time_ns() + ST_ANNOUNCE_WAIT_MS * 1000000ULL;
	char answer[64];

	while (vm->change_unconfirmed && arch_time_ns() < deadline && !t->aborted) {
		if (!vm->vdev->has_irq)
			virtio_poll(vm->vdev);
		arch_cpu_relax();
		if (vmem_config_update(vm))
			t->aborted = true;
	}
	if (!vm->nr_req_changes) {
		st_line(t, rule, expect, "no resize since probe", -1);
		return;
	}
	snprintf(answer, sizeof(answer), "%llu of %llu changes announced",
		 (unsigned long long)vm->nr_req_announced, (unsigned long long)vm->nr_req_changes);
	st_line(t, rule, expect, answer, vm->nr_req_announced == vm->nr_req_changes);
}

/* Give back a block the device still has plugged (the test put it there). */
static void st_restore_block(struct selftest *t, phys_addr_t pa)
{
	uint16_t resp, state;

	if (!st_req(t, VIRTIO_MEM_REQ_STATE, pa, 1, &resp, &state, false) &&
	    resp == VIRTIO_MEM_RESP_ACK && state != VIRTIO_MEM_STATE_UNPLUGGED)
		st_req(t, VIRTIO_MEM_REQ_UNPLUG, pa, 1, &resp, &state, false);
}

/* Blocks the test used go back; then compare with the start. */
static void st_restore(struct selftest *t, uint64_t plugged0, uint32_t driver_blocks0)
{
	struct virtio_mem *vm = t->vm;
	char answer[64];

	for (unsigned i = 0; i < ST_BLOCKS; i++)
		st_restore_block(t, st_pa(t, i));
	if (t->block0_plugged)
		st_restore_block(t, vmem_block_addr(vm, 0));
	vm->selftest_plugged = 0;
	if (!t->aborted && vmem_config_update(vm))
		t->aborted = true;
	snprintf(answer, sizeof(answer), "plugged %llu KiB, was %llu",
		 (unsigned long long)(vm->plugged_size >> 10), (unsigned long long)(plugged0 >> 10));
	st_line(t, "state restored", "plugged_size and driver as before", answer,
		!t->aborted && vm->plugged_size == plugged0 &&
			vmem_plugged_blocks(vm) == driver_blocks0);
}

static void st_rules(struct selftest *t)
{
	struct virtio_mem *vm = t->vm;
	char answer[64];

	if (t->first == UINT32_MAX) {
		snprintf(answer, sizeof(answer), "no %u free blocks in usable region", ST_BLOCKS);
		st_line(t, "(the request rules)", "-", answer, -1);
	} else {
		st_rules_run(t);
		st_rule_unplug_all(t);
	}
	if (t->size_bad[0])
		st_line(t, "plugged_size follows requests", "+/- each accepted request", t->size_bad,
			0);
	else if (!t->accepted)
		st_line(t, "plugged_size follows requests", "+/- each accepted request",
			"no request accepted", -1);
	else {
		snprintf(answer, sizeof(answer), "followed %u requests", t->accepted);
		st_line(t, "plugged_size follows requests", "+/- each accepted request", answer, 1);
	}
	snprintf(answer, sizeof(answer), "%llu reads found it below",
		 (unsigned long long)vm->nr_usable_shrunk);
	st_line(t, "usable region covers plugged", "never below what is plugged", answer,
		!vm->nr_usable_shrunk);
	st_rule_announce(t);
}

int vmem_selftest(struct virtio_mem *vm)
{
	struct selftest t = { .vm = vm };

	spin_lock(&vm->lock);
	if (vm->broken || vmem_config_update(vm)) {
		kprintf("vmem selftest: %s is broken (%s): not tested\n", vm->vdev->name,
			vm->why ? vm->why : "?");
		spin_unlock(&vm->lock);
		return -EIO;
	}
	uint64_t plugged0 = vm->plugged_size;
	uint32_t driver_blocks0 = vmem_plugged_blocks(vm);
	t.expect_plugged = plugged0;
	t.first = st_find_run(vm);
	t.usable_end = vm->addr + vm->usable_region_size;
	kprintf("vmem selftest: %s, block %llu KiB, usable %llu MiB, plugged %llu MiB, requested "
		"%llu MiB; test blocks %s", vm->vdev->name, (unsigned long long)(vm->block_size >> 10),
		MB(vm->usable_region_size), MB(plugged0), MB(vm->requested_size),
		t.first == UINT32_MAX ? "none" : "");
	if (t.first != UINT32_MAX)
		kprintf("0x%llx-0x%llx", (unsigned long long)st_pa(&t, 0),
			(unsigned long long)st_pa(&t, ST_BLOCKS));
	kprintf("\n  %-30s %-34s %s\n", "rule", "the specification expects", "the device answered");
	st_rules(&t);
	if (t.first != UINT32_MAX)
		st_restore(&t, plugged0, driver_blocks0);
	spin_unlock(&vm->lock);
	kprintf("vmem selftest: %u passed, %u failed, %u skipped\n", t.passed, t.failed, t.skipped);
	return t.aborted ? -EIO : t.failed ? -EIO : 0;
}
