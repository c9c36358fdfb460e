// SPDX-License-Identifier: MIT
/*
 * virtio-mem, part 3 of 3 (see virtio_mem.h): what users see. The `vmem` command shows each
 * device (region, block size, sizes, the worker's state, sections folded into runs) and changes
 * what the driver aims for; MemPlugged in meminfo is the memory the driver plugged and onlined;
 * `sections --map` shows the region (and '!' where the driver gave up on a section).
 *
 *   vmem                  show the devices
 *   vmem map              each region as a picture, one character per block (per few blocks
 *                         when there are more than 4096), 64 to a line, identical lines folded:
 *                         '.' unplugged, 'o' plugged but offline, 'M' plugged and online,
 *                         '!' online but could not be unplugged (unmovable data), '-' unplugged
 *                         beyond the usable region, ':' mixed (a character for several blocks)
 *   vmem plug SIZE        aim for SIZE more (first device), within the usable region; the device
 *                         refuses (NACK) to go beyond its requested size
 *   vmem unplug SIZE      aim for SIZE less
 *   vmem auto on|off      follow requested_size (the default) or only the commands above
 *   vmem selftest         check the first device against the specification's device
 *                         requirements on blocks the driver does not use (virtio_mem_selftest.c)
 *
 * plug and unplug turn automatic following off and run the resize before returning.
 *
 * Interface: virtio_mem_plugged_kb (meminfo_plugged_kb), vmem_map_region_register,
 * vmem_map_region_unregister, the `vmem` command.
 */
#include <rvmm/arch_cpu.h>
#include <rvmm/charmap.h>
#include <rvmm/console.h>
#include <rvmm/errno.h>
#include <rvmm/numa.h>
#include <rvmm/printk.h>
#include <string.h>

#include "virtio_mem.h"

#define MB(x) ((unsigned long long)((x) >> 20))

static uint64_t vmem_online_bytes(const struct virtio_mem *vm)
{
	return (uint64_t)(READ_ONCE(vm->nr_in_state[VMEM_BLOCK_ONLINE]) +
			  READ_ONCE(vm->nr_in_state[VMEM_BLOCK_UNMOVABLE])) * vm->block_size;
}

uint64_t virtio_mem_plugged_kb(int nid)
{
	uint64_t kb = 0;

	for (unsigned i = 0; i < VMEM_MAX_DEVICES; i++) {
		const struct virtio_mem *vm =
			__atomic_load_n(&virtio_mem_devices[i], __ATOMIC_ACQUIRE);
		if (vm && (nid == NUMA_NO_NODE || vm->node == nid))
			kb += vmem_online_bytes(vm) >> 10;
	}
	return kb;
}

/* ---- The section map's view (include/rvmm/section_map.h) ----------------------------------- */

static bool vmem_section_failed(const struct mem_region *r, unsigned long nr)
{
	const struct virtio_mem *vm = r->priv;
	unsigned long s = nr - vm->first_section;

	if (nr < vm->first_section || s >= vm->nr_sections)
		return false;
	enum vmem_section_state st = vmem_section_state(vm, s);
	if (st == VMEM_SECTION_EMPTY || st == VMEM_SECTION_UNADDED)
		return true;
	uint64_t first = ((uint64_t)s << SECTION_SHIFT) / vm->block_size;
	uint64_t last = (((uint64_t)(s + 1) << SECTION_SHIFT) - 1) / vm->block_size;
	for (uint64_t id = first; id <= last && id < vm->nr_blocks; id++)
		if (READ_ONCE(vm->block_state[id]) == VMEM_BLOCK_UNMOVABLE)
			return true;
	return false;
}

int vmem_map_region_register(struct virtio_mem *vm)
{
	vm->map_region = (struct mem_region){
		.name = vm->vdev->name, .start = vm->base,
		.end = vm->base + ((uint64_t)vm->nr_sections << SECTION_SHIFT),
		.section_failed = vmem_section_failed, .priv = vm, .node = vm->node };
	int rc = mem_region_register(&vm->map_region);
	if (rc)
		pr_err("%s: region 0x%llx-0x%llx cannot be the driver's (%s): device not used",
		       vm->vdev->name, (unsigned long long)vm->map_region.start,
		       (unsigned long long)vm->map_region.end, errname(rc));
	return rc;
}

void vmem_map_region_unregister(struct virtio_mem *vm)
{
	mem_region_unregister(&vm->map_region);
}

/* ---- vmem map ------------------------------------------------------------------------------- */

#define VMEM_MAP_MAX_CHARS (CHARMAP_WIDTH * 64)

static char vmem_block_char(const struct virtio_mem *vm, uint32_t id)
{
	switch (vmem_block_state(vm, id)) {
	case VMEM_BLOCK_UNPLUGGED:
		return vmem_block_usable(vm, id) ? '.' : '-';
	case VMEM_BLOCK_PLUGGED:
		return 'o';
	case VMEM_BLOCK_ONLINE:
		return 'M';
	default:
		return '!';
	}
}

static void vmem_show_map(const struct virtio_mem *vm)
{
	static const struct {
		char c;
		const char *what;
	} legend[] = { { '.', "unplugged" },
		       { 'o', "plugged, offline" },
		       { 'M', "plugged, online" },
		       { '!', "could not be unplugged" },
		       { '-', "beyond the usable region" } };
	unsigned long count[5] = { 0 };
	uint32_t per = 1; /* blocks per character */
	char unit[24], line[24];
	struct charmap m;

	while (vm->nr_blocks / per > VMEM_MAP_MAX_CHARS)
		per *= 2;
	charmap_size(unit, sizeof(unit), vm->block_size * per);
	charmap_size(line, sizeof(line), vm->block_size * per * CHARMAP_WIDTH);
	kprintf("%s: 0x%012llx-0x%012llx, %u blocks of %llu KiB, %u a character (%s), %u a line "
		"(%s)\n", vm->vdev->name, (unsigned long long)vm->base,
		(unsigned long long)vmem_block_addr(vm, vm->nr_blocks), vm->nr_blocks,
		(unsigned long long)(vm->block_size >> 10), per, unit, CHARMAP_WIDTH, line);
	charmap_start(&m, vm->base, vm->block_size * per);
	for (uint32_t id = 0; id < vm->nr_blocks; id += per) {
		char c = 0;
		for (uint32_t i = id; i < id + per && i < vm->nr_blocks; i++) {
			char b = vmem_block_char(vm, i);
			for (unsigned k = 0; k < 5; k++)
				count[k] += legend[k].c == b;
			c = !c || c == b ? b : c == '!' || b == '!' ? '!' : ':';
		}
		charmap_put(&m, c);
	}
	charmap_finish(&m);
	for (unsigned k = 0; k < 5; k++)
		kprintf("%s%c  %-26s %7lu%s", k % 2 ? "    " : "  ", legend[k].c, legend[k].what,
			count[k], k % 2 || k == 4 ? "\n" : "");
	if (per > 1)
		kprintf("  :  mixed (a character stands for %u blocks); counts are blocks\n", per);
}

static const char *vmem_worker_state(const struct virtio_mem *vm)
{
	if (vm->broken)
		return "broken";
	if (spin_is_locked(&vm->lock))
		return "running";
	if (vm->last_rc == 0)
		return "done";
	return vm->retry_at_ns ? "retrying" : "stopped";
}

static void vmem_show_sections(const struct virtio_mem *vm)
{
	unsigned long run = 0;

	for (unsigned long s = 1; s <= vm->nr_sections; s++) {
		enum vmem_section_state st = vmem_section_state(vm, run);
		if (s < vm->nr_sections && vmem_section_state(vm, s) == st &&
		    vm->sections[s].online == vm->sections[run].online &&
		    vm->sections[s].plugged == vm->sections[run].plugged)
			continue;
		kprintf("    0x%012llx-0x%012llx  sections %lu-%lu  %-8s",
			(unsigned long long)(vm->base + ((uint64_t)run << SECTION_SHIFT)),
			(unsigned long long)(vm->base + ((uint64_t)s << SECTION_SHIFT)),
			vm->first_section + run, vm->first_section + s - 1, vmem_section_state_name(st));
		if (st != VMEM_SECTION_ABSENT)
			kprintf("  %u/%u online, %u/%u plugged", vm->sections[run].online,
				vm->pieces_per_section, vm->sections[run].plugged,
				vm->pieces_per_section);
		kprintf("\n");
		run = s;
	}
}

static void vmem_show(const struct virtio_mem *vm)
{
	kprintf("%s: region 0x%llx-0x%llx (%llu MiB), block %llu KiB, node %d", vm->vdev->name,
		(unsigned long long)vm->addr, (unsigned long long)(vm->addr + vm->region_size),
		MB(vm->region_size), (unsigned long long)(vm->block_size >> 10), vm->node);
	if (vm->node != vm->node_id)
		kprintf(" (device node_id %u: no such node)", vm->node_id);
	kprintf("\n");
	kprintf("  usable %llu MiB, requested %llu MiB, plugged %llu MiB (device), target %llu MiB, "
		"auto %s\n", MB(vm->usable_region_size), MB(vm->requested_size),
		MB(vm->plugged_size), MB(vm->target), vm->auto_follow ? "on" : "off");
	kprintf("  blocks: %u online, %u unmovable, %u plugged offline, %u unplugged; MemPlugged "
		"%llu kB\n", vm->nr_in_state[VMEM_BLOCK_ONLINE],
		vm->nr_in_state[VMEM_BLOCK_UNMOVABLE], vm->nr_in_state[VMEM_BLOCK_PLUGGED],
		vm->nr_in_state[VMEM_BLOCK_UNPLUGGED], (unsigned long long)(vmem_online_bytes(vm) >> 10));
	kprintf("  worker: %s%s%s (%s); %llu requests, %llu offline calls, %llu remove calls, last "
		"resize %llu ms\n", vmem_worker_state(vm), vm->why ? ": " : "", vm->why ? vm->why : "",
		errname(vm->last_rc), (unsigned long long)vm->nr_requests,
		(unsigned long long)vm->nr_offline_calls, (unsigned long long)vm->nr_remove_calls,
		(unsigned long long)(vm->last_run_ns / 1000000));
	kprintf("  sections of %lu MiB (%u block%s each):\n", SECTION_SIZE >> 20,
		vm->pieces_per_section, vm->pieces_per_section > 1 ? "s" : "");
	vmem_show_sections(vm);
}

/* Show every device with show(); say so when there is none. */
static int vmem_show_each(void (*show)(const struct virtio_mem *vm))
{
	bool any = false;

	for (unsigned i = 0; i < VMEM_MAX_DEVICES; i++) {
		struct virtio_mem *d = __atomic_load_n(&virtio_mem_devices[i], __ATOMIC_ACQUIRE);
		if (d) {
			show(d);
			any = true;
		}
	}
	if (!any)
		kprintf("vmem: no virtio-mem device (QEMU: VMEM=SIZE ./run-qemu.sh)\n");
	return 0;
}

/* Change the target of vm (under its gate), run the resize, say where it ended. */
static int vmem_set_target(struct virtio_mem *vm, uint64_t target, bool follow)
{
	spin_lock(&vm->lock); /* waits for a resize another hart runs */
	vm->auto_follow = follow;
	if (!follow)
		vm->target = target;
	vm->retries = 0;
	vm->backoff_ms = VMEM_BACKOFF_MIN_MS;
	spin_unlock(&vm->lock);
	virtio_mem_run(vm, true, true);
	uint64_t plugged = (uint64_t)vmem_plugged_blocks(vm) * vm->block_size;
	kprintf("vmem: target %llu MiB, plugged %llu MiB, online %llu MiB%s%s\n", MB(vm->target),
		MB(plugged), MB(vmem_online_bytes(vm)), vm->why ? ": " : "",
		vm->why ? vm->why : "");
	return vm->broken ? -EIO : plugged == vm->target ? 0 : vm->last_rc ? vm->last_rc : -EAGAIN;
}

static int cmd_vmem(int argc, char **argv)
{
	struct virtio_mem *vm = NULL;
	uint64_t size;

	for (unsigned i = 0; i < VMEM_MAX_DEVICES && !vm; i++)
		vm = __atomic_load_n(&virtio_mem_devices[i], __ATOMIC_ACQUIRE);
	if (argc == 1)
		return vmem_show_each(vmem_show);
	if (argc == 2 && !strcmp(argv[1], "map"))
		return vmem_show_each(vmem_show_map);
	if (argc == 2 && !strcmp(argv[1], "selftest")) {
		if (!vm) {
			kprintf("vmem: no virtio-mem device\n");
			return -ENODEV;
		}
		return vmem_selftest(vm);
	}
	if (argc != 3)
		return CMD_USAGE;
	if (!vm) {
		kprintf("vmem: no virtio-mem device\n");
		return -ENODEV;
	}
	if (!strcmp(argv[1], "auto")) {
		if (strcmp(argv[2], "on") && strcmp(argv[2], "off"))
			return CMD_USAGE;
		if (!strcmp(argv[2], "off")) {
			spin_lock(&vm->lock);
			vm->auto_follow = false;
			spin_unlock(&vm->lock);
			kprintf("vmem: auto off: target stays %llu MiB\n", MB(vm->target));
			return 0;
		}
		return vmem_set_target(vm, 0, true);
	}
	if ((strcmp(argv[1], "plug") && strcmp(argv[1], "unplug")) || parse_u64(argv[2], &size))
		return CMD_USAGE;
	if (vm->broken) {
		kprintf("vmem: %s is broken (%s)\n", vm->vdev->name, vm->why ? vm->why : "?");
		return -EIO;
	}
	if (size % vm->block_size) {
		kprintf("vmem: %s is not a multiple of the block size (%llu KiB)\n", argv[2],
			(unsigned long long)(vm->block_size >> 10));
		return -EINVAL;
	}
	uint64_t target = vm->target;
	if (!strcmp(argv[1], "plug")) {
		if (size > vm->usable_region_size - target) {
			kprintf("vmem: target would exceed the usable region (%llu MiB)\n",
				MB(vm->usable_region_size));
			return -EINVAL;
		}
		target += size;
		if (target > vm->requested_size)
			kprintf("vmem: note: the device refuses (NACK) plugs beyond its requested "
				"size %llu MiB\n", MB(vm->requested_size));
	} else {
		if (size > target) {
			kprintf("vmem: target is only %llu MiB\n", MB(target));
			return -EINVAL;
		}
		target -= size;
	}
	if (vm->auto_follow)
		kprintf("vmem: auto off: the target is yours now, the host's requests are not followed "
			"(`vmem auto on` follows them again)\n");
	return vmem_set_target(vm, target, false);
}
CONSOLE_COMMAND(vmem, .name = "vmem",
		.usage = "vmem [map | selftest | plug SIZE | unplug SIZE | auto on|off]",
		.summary = "virtio-mem: show devices (map: as a picture), check the device against "
			   "the spec, change the plugged size, follow requests",
		.run = cmd_vmem);
