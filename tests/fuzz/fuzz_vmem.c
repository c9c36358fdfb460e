// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the virtio-mem driver (drivers/virtio/virtio_mem*.c) with the real virtio
 * core, split virtqueues and virtio-mmio transport, against the simulated device of
 * tests/host/vmem/vmem_dev.c (on tests/host/virtio/vsim.c) and the fake hot-plug core of
 * tests/host/vmem/fake_hotplug.c, which checks every call the driver makes against the contract
 * of rvmm/hotplug.h.
 *
 * The input chooses the device's configuration (block size, region, usable, plugged and
 * requested sizes: the values that matter, or any 64 bits), then a sequence of events:
 *
 *   request    the host asks for a new requested_size (config-change interrupt)
 *   run        idle harts run the driver's background work for a few rounds
 *   knobs      the device NACKs / BUSYs the next N plugs, unplugs or UNPLUG_ALLs, answers ERROR
 *              to everything, or stops answering
 *   fail       the hot-plug core fails its next add/online/offline/remove with an errno
 *   data       a page of data (movable or not) in plugged memory; release the unmovable ones
 *   lie        the next N requests are answered with bytes from the input: response type and
 *              state, used length, used id
 *   poke       a configuration field (even a fixed one) changes to bytes from the input
 *   vmem       the `vmem` console command (show, plug/unplug SIZE, auto on|off)
 *
 * Checked: no sanitizer report; the driver never breaks the hot-plug contract (alignment,
 * states, hotplug_lock held) nor sends a malformed request chain; while the device has told
 * the truth (no lie, no poke), after the background work settles, driver, device and hot-plug
 * core agree block by block and no memory is online that the device has not plugged; after
 * the device is unbound, every page the driver allocated is freed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rvmm/console.h>
#include <rvmm/errno.h>
#include <rvmm/hotplug.h>
#include <rvmm/virtio.h>

#include "fake_hotplug.h"
#include "fuzz.h"
#include "host.h"
#include "virtio_mem.h"
#include "vmem_dev.h"

#define MMIO_PA		0x10001000UL
#define IRQ		8
#define MAX_EVENTS	32
#define SETTLE_ROUNDS	20000
#define MAX_FUZZ_BLOCKS 8192 /* 16 GiB of 2 MiB blocks */

extern const struct virtio_driver virtio_mem_driver;
const struct virtio_driver *const virtio_drivers[] = {&virtio_mem_driver};
const size_t virtio_nr_drivers = 1;

static struct vmem_dev *dev;
static struct virtio_device *vdev;
static struct fuzz_in in; /* the input: events, and the lies told in on_notify */
static unsigned lies;	  /* requests still to answer from the input */
static bool truthful;	  /* no lie told, no config poked, this input */

static bool dev_is_plugged(phys_addr_t pa, uint64_t size)
{
	return vmem_dev_is_plugged(dev, pa, size);
}

static const uint64_t sizes[] = {
    0,
    2ULL << 20,
    4ULL << 20,
    128ULL << 20,
    256ULL << 20,
    512ULL << 20,
    1ULL << 30,
    3ULL << 30,
    4ULL << 30,
    8ULL << 30,
    (128ULL << 20) + (2ULL << 20),
    4096,
    1ULL << 40,
    ~0ULL,
    1ULL << 63,
    3ULL << 20,
};

static uint64_t size_from(struct fuzz_in *f)
{
	uint8_t c = fin_u8(f);

	return c < 240 ? sizes[c % ARRAY_SIZE(sizes)] : fin_u64(f);
}

/* ---- The device's answers, from the input ---------------------------------------------------- */

static void (*vmem_dev_on_notify)(struct vsim *s, unsigned q);

static void lying_notify(struct vsim *s, unsigned q)
{
	struct vsim_chain c;

	if (!lies) {
		vmem_dev_on_notify(s, q);
		return;
	}
	while (lies && vsim_pop(s, q, &c)) {
		uint8_t resp[16];
		uint32_t len, id = c.head;

		lies--;
		truthful = false;
		fake_hp.is_plugged = NULL; /* from now on "plugged" is the driver's belief only */
		fin_bytes(&in, resp, sizeof(resp));
		resp[0] %= 5; /* mostly the four answers, sometimes nonsense */
		if (resp[0] == 4)
			resp[0] = resp[15];
		for (unsigned k = 0, off = 0; k < c.nr && off < sizeof(resp); k++)
			if (c.seg[k].write) {
				uint32_t n = MIN(c.seg[k].len, (uint32_t)sizeof(resp) - off);
				memcpy(c.seg[k].addr, resp + off, n);
				off += n;
			}
		switch (fin_pick(&in, 8)) {
		case 0: len = fin_u32(&in); break;
		case 1: len = 0; break;
		default: len = c.in_len;
		}
		if (fin_pick(&in, 8) == 0)
			id = fin_u16(&in);
		vsim_push(s, q, id, len);
	}
	if (!lies)
		vmem_dev_on_notify(s, q);
}

/* ---- Checks ---------------------------------------------------------------------------------- */

static struct virtio_mem *bound(void)
{
	return vdev ? vdev->priv : NULL;
}

static void check(const char *after)
{
	struct virtio_mem *vm = bound();
	uint64_t online = 0;

	FUZZ_CHECK(dev->protocol_errors == 0, "after %s: the driver sent %u malformed requests",
		   after, dev->protocol_errors);
	FUZZ_CHECK(!fake_hp.violations, "after %s: hot-plug contract broken: %s", after,
		   fake_hp.first_violation);
	FUZZ_CHECK(!rw_is_held(&hotplug_lock), "after %s: hotplug_lock held", after);
	/* Memory plugged before the driver came is the device's until UNPLUG_ALL is through. */
	if (!vm || !truthful || spin_is_locked(&vm->lock) || vm->unplug_all_pending)
		return;
	FUZZ_CHECK(vmem_plugged_blocks(vm) == vmem_dev_plugged_blocks(dev),
		   "after %s: driver has %u blocks plugged, the device %lu", after,
		   vmem_plugged_blocks(vm), vmem_dev_plugged_blocks(dev));
	for (uint32_t id = 0; id < vm->nr_blocks; id++) {
		phys_addr_t pa = vmem_block_addr(vm, id);
		enum vmem_block_state st = vmem_block_state(vm, id);
		bool on = st == VMEM_BLOCK_ONLINE || st == VMEM_BLOCK_UNMOVABLE;

		FUZZ_CHECK((st != VMEM_BLOCK_UNPLUGGED) ==
			       vmem_dev_is_plugged(dev, pa, vm->block_size),
			   "after %s: block %u at 0x%lx is %s, the device says %splugged", after,
			   id, pa, vmem_block_state_name(st),
			   vmem_dev_is_plugged(dev, pa, vm->block_size) ? "" : "un");
		FUZZ_CHECK(fake_online_bytes(pa, vm->block_size) == (on ? vm->block_size : 0),
			   "after %s: block %u at 0x%lx is %s but 0x%lx bytes of it are online",
			   after, id, pa, vmem_block_state_name(st),
			   fake_online_bytes(pa, vm->block_size));
		online += on ? vm->block_size : 0;
	}
	for (unsigned long s = 0; s < vm->nr_sections; s++)
		FUZZ_CHECK((vm->sections[s].added != 0) ==
			       fake_section_present(vm->first_section + s),
			   "after %s: section %lu: driver says %sadded, the core disagrees", after,
			   vm->first_section + s, vm->sections[s].added ? "" : "not ");
	FUZZ_CHECK(fake_online_bytes(vm->addr, vm->region_size) == online,
		   "after %s: 0x%lx bytes online in the region, the driver's blocks 0x%lx", after,
		   fake_online_bytes(vm->addr, vm->region_size), online);
}

/* ---- Events ---------------------------------------------------------------------------------- */

static int run_vmem_cmd(struct fuzz_in *f)
{
	static const char *const sub[] = {"plug", "unplug", "auto"};
	extern const struct console_command __start_rvmm_cmds[], __stop_rvmm_cmds[];
	char a1[16], a2[32], *argv[4] = {"vmem", a1, a2, NULL};
	int argc = 1 + 2 * (int)fin_pick(f, 2);
	unsigned k = fin_pick(f, ARRAY_SIZE(sub));

	snprintf(a1, sizeof(a1), "%s", sub[k]);
	if (k == 2)
		snprintf(a2, sizeof(a2), "%s", fin_pick(f, 2) ? "on" : "off");
	else
		snprintf(a2, sizeof(a2), "0x%lx", size_from(f));
	for (const struct console_command *c = __start_rvmm_cmds; c < __stop_rvmm_cmds; c++)
		if (!strcmp(c->name, "vmem"))
			return c->run(argc, argv);
	return -ENOENT;
}

static void event(void)
{
	static const int errs[] = {-ENOMEM, -EBUSY, -EINVAL, -EIO, -EAGAIN, -ENOENT};
	struct virtio_mem *vm = bound();
	int e = errs[0];

	switch (fin_pick(&in, 12)) {
	case 0:
	case 1: vmem_dev_request(dev, size_from(&in)); break;
	case 2:
	case 3:
		fake_background(1 + fin_u8(&in) * 8u);
		check("background work");
		break;
	case 4:
		switch (fin_pick(&in, 6)) {
		case 0: dev->nack_plugs = fin_pick(&in, 8); break;
		case 1: dev->busy_plugs = fin_pick(&in, 8); break;
		case 2: dev->busy_unplugs = fin_pick(&in, 8); break;
		case 3: dev->busy_unplug_alls = fin_pick(&in, 8); break;
		case 4: dev->error_all = !dev->error_all; break;
		case 5: dev->silent = !dev->silent; break;
		}
		break;
	case 5:
		e = errs[fin_pick(&in, ARRAY_SIZE(errs))];
		switch (fin_pick(&in, 4)) {
		case 0: fake_hp.fail_add = e; break;
		case 1: fake_hp.fail_online = e; break;
		case 2: fake_hp.fail_offline = e; break;
		case 3: fake_hp.fail_remove = e; break;
		}
		break;
	case 6:
		if (vm && vm->nr_blocks)
			fake_put_data(vmem_block_addr(vm, fin_u16(&in) % vm->nr_blocks) +
					  (fin_u16(&in) % (vm->block_size >> PAGE_SHIFT)) *
					      PAGE_SIZE,
				      fin_pick(&in, 2), fin_u64(&in));
		else
			fake_data_release_unmovable();
		break;
	case 7: lies = 1 + fin_pick(&in, 4); break;
	case 8: {
		unsigned off = 8 * fin_pick(&in, VMEM_CFG_LEN / 8);
		uint64_t v = size_from(&in);

		memcpy(dev->s->config + off, &v, sizeof(v));
		truthful = false;
		fake_hp.is_plugged = NULL;
		vsim_raise_config_change(dev->s);
		break;
	}
	case 9:
		run_vmem_cmd(&in);
		check("vmem command");
		break;
	case 10: host_irq_raise(IRQ); break;
	case 11: fake_data_release_unmovable(); break;
	}
	if (!truthful)
		fake_hp.is_plugged = NULL; /* a lying device's "plugged" means nothing */
}

/* ---- The input ------------------------------------------------------------------------------- */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fake_hp_reset();
	dev = vmem_dev_create(MMIO_PA, IRQ, 2ULL << 20, 4ULL << 30, 1ULL << 30, 0, 0);
	vmem_dev_on_notify = dev->s->on_notify;
	dev->s->on_notify = lying_notify;
	/* The transport once; each input then binds the driver anew (virtio_register_device). */
	virtio_mmio_probe(&dev->s->slot, &vdev);
	FUZZ_CHECK(vdev, "virtio_mmio_probe found no device");
	virtio_unregister_device(vdev);
	return 0;
}

// The device as the input describes it, fresh: nothing plugged at the device or in the core.
static void configure(void)
{
	uint64_t bs = size_from(&in), addr = size_from(&in), region = size_from(&in);
	uint64_t requested = size_from(&in), plugged = fin_pick(&in, 4) ? 0 : size_from(&in);
	uint64_t nr = bs ? region / bs : 0;

	/*
	 * Bounded work: a region of more than MAX_FUZZ_BLOCKS blocks is cut to that many (a 1 TiB
	 * region of 2 MiB blocks takes a minute to plug), unless it is beyond what the driver takes
	 * at all (then just past VMEM_MAX_BLOCKS, which probe must refuse at once).
	 */
	if (nr > VMEM_MAX_BLOCKS)
		region = bs * (VMEM_MAX_BLOCKS + 1ULL);
	else if (nr > MAX_FUZZ_BLOCKS)
		region = bs * MAX_FUZZ_BLOCKS;
	fake_hp_reset();
	free(dev->plugged);
	*dev = (struct vmem_dev){.s = dev->s,
				 .block_size = bs,
				 .addr = addr,
				 .region_size = region,
				 .requested_size = requested,
				 .nr_blocks = bs ? region / bs : 0,
				 .plugged_size = plugged};
	dev->plugged = calloc(dev->nr_blocks + 1, 1);
	if (bs)
		memset(dev->plugged, 1, MIN(plugged / bs, dev->nr_blocks));
	dev->usable_region_size =
	    fin_pick(&in, 4) ? MIN(region, requested + VMEM_DEV_EXTENT) : size_from(&in);
	dev->node_id = fin_u8(&in);
	vmem_dev_sync(dev);
	fake_hp.is_plugged = dev_is_plugged;
	lies = 0;
	truthful = true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	long pages = host_pages_in_use();

	in = (struct fuzz_in){data, size};
	log_clear();
	configure();
	if (virtio_register_device(vdev) == 0 && bound()) {
		for (int k = 0; k < MAX_EVENTS && !fin_empty(&in); k++)
			event();
		dev->silent = false;
		dev->error_all = false;
		lies = 0;
		fake_background(SETTLE_ROUNDS);
		check("settling");
	}
	virtio_unregister_device(vdev);
	FUZZ_CHECK(!bound(), "driver still bound after unregister");
	FUZZ_CHECK(host_pages_in_use() == pages, "%ld pages leaked by the driver",
		   host_pages_in_use() - pages);
	return 0;
}
