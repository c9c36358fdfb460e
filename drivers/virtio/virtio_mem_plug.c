// SPDX-License-Identifier: MIT
/*
 * virtio-mem, part 2 of 3 (see virtio_mem.h): the resize. Which blocks to plug or unplug, and
 * the hot-plug steps around each request.
 *
 *   plug    lowest unplugged blocks first, filling sections already added before adding new
 *           ones; one PLUG request per run of blocks, then one add_memory per run of sections not
 *           added yet and one online_pages (ZONE_MOVABLE) for the run.
 *   unplug  offline blocks first (they hold nothing), then the highest online blocks: one
 *           offline_pages per run (migrating what the run holds), one remove_memory per run of
 *           sections left with nothing plugged (one TLB fence each), one UNPLUG request per run.
 *           A run that cannot be offlined (unmovable data) is halved until the blocks at fault
 *           are found: they stay plugged and online (UNMOVABLE), and lower blocks are taken
 *           instead.
 *
 * Work goes in batches of VMEM_BATCH_BYTES, each under one hold of hotplug_lock; between
 * batches a config change restarts the run with the new request.
 *
 * Interface: vmem_resize.
 */
#include <rvmm/errno.h>
#include <rvmm/hotplug.h>
#include <rvmm/printk.h>

#include "virtio_mem.h"

#define MB(x) ((unsigned long long)((x) >> 20))

/* sections[].added values while a step is in progress (0 and 1 otherwise). */
#define VMEM_ADDED_NOW 2  /* added by the current step: removed again if it fails */
#define VMEM_REMOVING 3   /* to be removed by vmem_remove_marked */

static phys_addr_t vmem_section_addr(const struct virtio_mem *vm, unsigned long s)
{
	return vm->base + ((uint64_t)s << SECTION_SHIFT);
}

static uint32_t vmem_batch_blocks(const struct virtio_mem *vm)
{
	uint64_t n = VMEM_BATCH_BYTES / vm->block_size;

	return (uint32_t)MIN(MAX(n, 1ULL), (uint64_t)VMEM_MAX_NB_BLOCKS);
}

static bool vmem_config_changed(struct virtio_mem *vm)
{
	return __atomic_load_n(&vm->config_changed, __ATOMIC_ACQUIRE);
}

/*
 * The lowest (or highest) run of blocks in state st, at most max long, starting at or after
 * block `from` (lowest) / ending at or below it (highest). Returns its length, 0 if none.
 */
static uint32_t vmem_find_run(const struct virtio_mem *vm, enum vmem_block_state st, uint32_t max,
			      bool highest, uint32_t *first)
{
	uint32_t n = 0;

	if (highest) {
		for (uint32_t id = vm->nr_blocks; id-- > 0;) {
			if (vmem_block_state(vm, id) != st)
				continue;
			while (n < max && n <= id && vmem_block_state(vm, id - n) == st)
				n++;
			*first = id - n + 1;
			return n;
		}
		return 0;
	}
	for (uint32_t id = 0; id < vm->nr_blocks; id++) {
		if (vmem_block_state(vm, id) != st)
			continue;
		while (n < max && id + n < vm->nr_blocks && vmem_block_state(vm, id + n) == st)
			n++;
		*first = id;
		return n;
	}
	return 0;
}

/*
 * Remove the runs of sections in [s0, s1) marked VMEM_REMOVING, one remove_memory each. A
 * failure leaves the section added (1) and is logged; 0 or the first error.
 */
static int vmem_remove_marked(struct virtio_mem *vm, unsigned long s0, unsigned long s1)
{
	int ret = 0;

	for (unsigned long s = s0; s < s1;) {
		if (vm->sections[s].added != VMEM_REMOVING) {
			s++;
			continue;
		}
		unsigned long e = s;
		while (e < s1 && vm->sections[e].added == VMEM_REMOVING)
			e++;
		int rc = __remove_memory(vmem_section_addr(vm, s), (uint64_t)(e - s) << SECTION_SHIFT);
		vm->nr_remove_calls++;
		if (rc) {
			pr_warn("%s: hot-remove of 0x%llx-0x%llx failed (%s): left added, retried later",
				vm->vdev->name, (unsigned long long)vmem_section_addr(vm, s),
				(unsigned long long)vmem_section_addr(vm, e), errname(rc));
			ret = ret ? ret : rc;
		}
		for (; s < e; s++)
			vm->sections[s].added = rc ? 1 : 0;
	}
	return ret;
}

/*
 * Bring PLUGGED blocks [id, id + n) online: hot-add their sections that are not added yet (one
 * add_memory per run), then one online_pages into ZONE_MOVABLE. Caller holds hotplug_lock for
 * write. On failure the sections added here are removed again, the blocks stay PLUGGED, and
 * vm->why says which step failed.
 */
static int vmem_online_blocks(struct virtio_mem *vm, uint32_t id, uint32_t n)
{
	unsigned long s0, s1, s;
	int rc = 0;

	vmem_block_sections(vm, id, n, &s0, &s1);
	for (s = s0; s < s1 && !rc;) {
		if (vm->sections[s].added) {
			s++;
			continue;
		}
		unsigned long e = s;
		while (e < s1 && !vm->sections[e].added)
			e++;
		rc = __add_memory_driver(&vm->map_region, vmem_section_addr(vm, s),
					 (uint64_t)(e - s) << SECTION_SHIFT, 0);
		if (rc) {
			vm->why = "hot-add failed";
			break;
		}
		for (; s < e; s++)
			vm->sections[s].added = VMEM_ADDED_NOW;
	}
	if (!rc) {
		rc = __online_pages(vmem_block_pfn(vm, id), n * vm->pages_per_block, ZONE_MOVABLE);
		if (rc)
			vm->why = "onlining failed";
	}
	for (s = s0; s < s1; s++)
		if (vm->sections[s].added == VMEM_ADDED_NOW)
			vm->sections[s].added = rc ? VMEM_REMOVING : 1;
	if (rc) {
		vmem_remove_marked(vm, s0, s1);
		return rc;
	}
	return vmem_block_set(vm, id, n, VMEM_BLOCK_PLUGGED, VMEM_BLOCK_ONLINE);
}

/*
 * Hand PLUGGED (offline) blocks [id, id + n) back to the device: first hot-remove the sections
 * that would be left with nothing plugged (so their mapping is gone before the memory is), then
 * UNPLUG requests. Caller holds hotplug_lock for write. On a refused request the blocks not
 * taken back stay PLUGGED (their sections possibly removed: UNADDED) and the error is returned.
 */
static int vmem_give_back(struct virtio_mem *vm, uint32_t id, uint32_t n)
{
	unsigned long s0, s1;
	int rc = 0;

	vmem_block_sections(vm, id, n, &s0, &s1);
	for (unsigned long s = s0; s < s1; s++)
		if (vm->sections[s].added &&
		    vm->sections[s].plugged == vmem_section_pieces_in(vm, s, id, n))
			vm->sections[s].added = VMEM_REMOVING;
	vmem_remove_marked(vm, s0, s1);
	for (uint32_t done = 0; done < n && !rc;) {
		uint32_t nb = MIN(n - done, VMEM_MAX_NB_BLOCKS);
		rc = vmem_request(vm, VIRTIO_MEM_REQ_UNPLUG, id + done, nb);
		if (!rc)
			rc = vmem_block_set(vm, id + done, nb, VMEM_BLOCK_PLUGGED,
					    VMEM_BLOCK_UNPLUGGED);
		done += nb;
	}
	if (rc == -EBUSY || rc == -EAGAIN)
		vm->why = "device cannot take memory back now (BUSY)";
	return rc;
}

/* ---- Plug ------------------------------------------------------------------------------------ */

/*
 * The lowest run of unplugged usable blocks, at most max long, preferring one that starts in a
 * section already added (fill partly plugged sections before adding new ones).
 */
static uint32_t vmem_pick_plug(const struct virtio_mem *vm, uint32_t max, uint32_t *first)
{
	for (int pass = 0; pass < 2; pass++) {
		for (uint32_t id = 0; id < vm->nr_blocks && vmem_block_usable(vm, id); id++) {
			unsigned long s0, s1;
			uint32_t n = 1;

			if (vmem_block_state(vm, id) != VMEM_BLOCK_UNPLUGGED)
				continue;
			vmem_block_sections(vm, id, 1, &s0, &s1);
			if (pass == 0 && !vm->sections[s0].added)
				continue;
			while (n < max && id + n < vm->nr_blocks && vmem_block_usable(vm, id + n) &&
			       vmem_block_state(vm, id + n) == VMEM_BLOCK_UNPLUGGED)
				n++;
			*first = id;
			return n;
		}
	}
	return 0;
}

/* PLUG [id, id + n), then bring it online; on failure give it back. Caller holds hotplug_lock. */
static int vmem_plug_blocks(struct virtio_mem *vm, uint32_t id, uint32_t n)
{
	int rc = vmem_request(vm, VIRTIO_MEM_REQ_PLUG, id, n);

	if (rc == -EAGAIN)
		vm->why = "device refuses to plug more (NACK)";
	else if (rc == -EBUSY)
		vm->why = "device busy (BUSY)";
	if (rc)
		return rc;
	rc = vmem_block_set(vm, id, n, VMEM_BLOCK_UNPLUGGED, VMEM_BLOCK_PLUGGED);
	if (!rc)
		rc = vmem_online_blocks(vm, id, n);
	if (rc) {
		pr_warn("%s: plugged %llu MiB at 0x%llx but could not bring it online (%s): giving "
			"it back", vm->vdev->name, MB((uint64_t)n * vm->block_size),
			(unsigned long long)vmem_block_addr(vm, id), errname(rc));
		if (vmem_give_back(vm, id, n))
			pr_warn("%s: could not give it back: it stays plugged, offline",
				vm->vdev->name);
	}
	return rc;
}

static int vmem_plug(struct virtio_mem *vm, uint32_t need)
{
	uint32_t first, n;

	while (need) {
		if (vmem_config_changed(vm))
			return -VMEM_ERESTART;
		n = vmem_pick_plug(vm, MIN(need, vmem_batch_blocks(vm)), &first);
		if (!n) {
			vm->why = "no unplugged block left in the usable region";
			return -ENOSPC;
		}
		mem_hotplug_begin();
		int rc = vmem_plug_blocks(vm, first, n);
		mem_hotplug_done();
		if (rc)
			return rc;
		need -= n;
	}
	return 0;
}

/* ---- Unplug ---------------------------------------------------------------------------------- */

/*
 * Leave ONLINE block id alone for this unplug round (UNMOVABLE): it holds unmovable data, or it
 * is not online as the driver left it (`intact` false: someone offlined part of it by hand).
 */
static int vmem_skip_block(struct virtio_mem *vm, uint32_t id, bool intact)
{
	phys_addr_t pa = vmem_block_addr(vm, id);

	if (!intact) {
		pr_warn("%s: block 0x%llx-0x%llx is not wholly online as the driver left it (changed "
			"outside the driver): left alone, other blocks are unplugged instead",
			vm->vdev->name, (unsigned long long)pa, (unsigned long long)(pa + vm->block_size));
		if (!vm->foreign_pa)
			vm->foreign_pa = pa;
	} else if (!vm->unmovable_pa) {
		vm->unmovable_pa = pa;
	}
	return vmem_block_set(vm, id, 1, VMEM_BLOCK_ONLINE, VMEM_BLOCK_UNMOVABLE);
}

/*
 * Offline ONLINE blocks [id, id + n) and give them back, adding the blocks given back to *done.
 * If offlining fails for lack of movable pages (-EBUSY), or part of the run is not online (changed
 * outside the driver: offlining would be refused), halve the run (upper half first) down to single
 * blocks; such a block becomes UNMOVABLE and stays as it is. Caller holds hotplug_lock for write.
 * Returns 0, or a device or core error that stops the unplug.
 */
static int vmem_offline_give_back(struct virtio_mem *vm, uint32_t id, uint32_t n, uint32_t *done)
{
	unsigned long pages = n * vm->pages_per_block;
	bool intact = online_pages_in_range(vmem_block_pfn(vm, id), pages) == pages;
	int rc = -EBUSY;

	if (intact) {
		rc = __offline_pages(vmem_block_pfn(vm, id), pages);
		vm->nr_offline_calls++;
	}
	if (rc == -EBUSY) {
		if (n == 1)
			return vmem_skip_block(vm, id, intact);
		uint32_t half = n / 2;
		rc = vmem_offline_give_back(vm, id + half, n - half, done);
		return rc ? rc : vmem_offline_give_back(vm, id, half, done);
	}
	if (rc) {
		vm->why = "offlining failed";
		return rc;
	}
	rc = vmem_block_set(vm, id, n, VMEM_BLOCK_ONLINE, VMEM_BLOCK_PLUGGED);
	if (!rc)
		rc = vmem_give_back(vm, id, n);
	if (!rc)
		*done += n;
	return rc;
}

static int vmem_unplug(struct virtio_mem *vm, uint32_t need)
{
	uint32_t first, n;
	int rc;

	/* A new round: blocks that could not be offlined last time get another chance. */
	while ((n = vmem_find_run(vm, VMEM_BLOCK_UNMOVABLE, vm->nr_blocks, false, &first)))
		vmem_block_set(vm, first, n, VMEM_BLOCK_UNMOVABLE, VMEM_BLOCK_ONLINE);
	vm->unmovable_pa = vm->foreign_pa = 0;

	/* Offline blocks hold nothing: they go first. */
	while (need && (n = vmem_find_run(vm, VMEM_BLOCK_PLUGGED, need, true, &first))) {
		mem_hotplug_begin();
		rc = vmem_give_back(vm, first, n);
		mem_hotplug_done();
		if (rc)
			return rc;
		need -= n;
	}
	while (need) {
		uint32_t done = 0;

		if (vmem_config_changed(vm))
			return -VMEM_ERESTART;
		n = vmem_find_run(vm, VMEM_BLOCK_ONLINE, MIN(need, vmem_batch_blocks(vm)), true,
				  &first);
		if (!n)
			break;
		mem_hotplug_begin();
		rc = vmem_offline_give_back(vm, first, n, &done);
		mem_hotplug_done();
		if (rc)
			return rc;
		need -= done;
	}
	if (need) {
		if (vm->last_rc != -EBUSY)
			pr_warn("%s: cannot unplug %llu MiB more: %u blocks hold unmovable data or were "
				"changed outside the driver (highest at 0x%llx); they stay plugged",
				vm->vdev->name, MB((uint64_t)need * vm->block_size),
				vm->nr_in_state[VMEM_BLOCK_UNMOVABLE],
				(unsigned long long)MAX(vm->unmovable_pa, vm->foreign_pa));
		vm->why = vm->foreign_pa ? "plugged memory changed outside the driver" :
					   "plugged memory holds unmovable data";
		return -EBUSY;
	}
	/* Done: blocks skipped on the way are plain online memory again. */
	while ((n = vmem_find_run(vm, VMEM_BLOCK_UNMOVABLE, vm->nr_blocks, false, &first)))
		vmem_block_set(vm, first, n, VMEM_BLOCK_UNMOVABLE, VMEM_BLOCK_ONLINE);
	return 0;
}

/* ---- Resize ---------------------------------------------------------------------------------- */

/*
 * Leftovers of earlier failures: sections added with nothing plugged (removal failed) are
 * removed; PLUGGED blocks are brought online when the target still wants them.
 */
static int vmem_fixup(struct virtio_mem *vm, uint32_t target_blocks)
{
	uint32_t first, n;
	bool empty = false;
	int rc = 0;

	for (unsigned long s = 0; s < vm->nr_sections; s++)
		if (vm->sections[s].added == 1 && !vm->sections[s].plugged) {
			vm->sections[s].added = VMEM_REMOVING;
			empty = true;
		}
	if (empty) {
		mem_hotplug_begin();
		vmem_remove_marked(vm, 0, vm->nr_sections);
		mem_hotplug_done();
	}
	if (vmem_plugged_blocks(vm) > target_blocks)
		return 0; /* the unplug takes them */
	while (!rc && (n = vmem_find_run(vm, VMEM_BLOCK_PLUGGED, vmem_batch_blocks(vm), false,
					 &first))) {
		mem_hotplug_begin();
		rc = vmem_online_blocks(vm, first, n);
		mem_hotplug_done();
	}
	return rc;
}

int vmem_resize(struct virtio_mem *vm)
{
	uint32_t target_blocks = (uint32_t)MIN(vm->target / vm->block_size, (uint64_t)vm->nr_blocks);
	uint32_t plugged;
	int rc;

	if (vm->broken)
		return -EIO;
	if (vm->unplug_all_pending) {
		rc = vmem_request(vm, VIRTIO_MEM_REQ_UNPLUG_ALL, 0, 0);
		if (rc) {
			if (rc == -EBUSY || rc == -EAGAIN)
				vm->why = "device busy with UNPLUG_ALL (BUSY)";
			return rc;
		}
		vm->unplug_all_pending = false;
		return -VMEM_ERESTART; /* the usable region may have changed with it */
	}
	rc = vmem_fixup(vm, target_blocks);
	plugged = vmem_plugged_blocks(vm);
	if (target_blocks > plugged && !rc)
		rc = vmem_plug(vm, target_blocks - plugged);
	else if (target_blocks < plugged)
		rc = vmem_unplug(vm, plugged - target_blocks);
	if (rc)
		return rc;
	/* A section whose removal failed is retried by the next run's fixup: ask for one. */
	for (unsigned long s = 0; s < vm->nr_sections; s++)
		if (vm->sections[s].added && !vm->sections[s].plugged) {
			vm->why = "hot-remove failed";
			return -EBUSY;
		}
	return 0;
}
