/* SPDX-License-Identifier: MIT */
/*
 * virtio-mem (virtio 1.2, 5.15): what the driver's four files share. The device owns a region
 * of guest-physical memory cut into blocks; the host sets requested_size and the driver plugs or
 * unplugs blocks (requests on one queue) and hot-adds, onlines, offlines and hot-removes their
 * memory through the hot-plug core (include/rvmm/hotplug.h) until plugged_size equals it.
 *
 *   virtio_mem.c       probe, configuration (read, check, log), requests and the device's
 *                      replies, the block state machine, the worker and its retries
 *   virtio_mem_plug.c  the resize: which blocks to plug or unplug, and the hot-plug steps
 *   virtio_mem_cmd.c   the `vmem` command and MemPlugged for meminfo
 *   virtio_mem_selftest.c  `vmem selftest`: the device against the specification
 *
 * Memory model. Blocks are numbered from the first section wholly inside the region (the part of
 * the region outside whole 128 MiB sections is never plugged: add_memory works on sections).
 * A block is at least 2 MiB (the hot-plug core's online granularity). Either a section holds
 * several blocks (block <= section: "sub-blocks"; the section is added when its first block is
 * plugged and removed when its last one goes, and only plugged blocks are online) or a block
 * spans several sections (block > section: all of them are added and removed together). Plugged
 * memory is onlined to ZONE_MOVABLE, so offlining it can always migrate what it holds unless some
 * of it is pinned by an unmovable allocation.
 *
 * Concurrency. vm->lock serialises everything that sends requests or changes the driver's state
 * (see struct virtio_mem). config_changed is set from interrupt context. Readers (`vmem`,
 * meminfo) take racy snapshots of counters. The worker takes hotplug_lock for write around each
 * batch (mem_hotplug_begin/done) and calls the __ variants.
 *
 * Devices without an interrupt (no PLIC, or no MSI-X and no INTx route) are polled: every
 * VMEM_POLL_MS the background work reads their interrupt status (virtio_poll), so a resize is
 * seen as soon as with an interrupt, give or take that period.
 */
#ifndef RVMM_DRIVERS_VIRTIO_MEM_H
#define RVMM_DRIVERS_VIRTIO_MEM_H

#include <rvmm/mm.h>
#include <rvmm/section_map.h>
#include <rvmm/spinlock.h>
#include <rvmm/types.h>
#include <rvmm/virtio.h>

/* Feature bits (5.15.3) */
#define VIRTIO_MEM_F_ACPI_PXM 0
#define VIRTIO_MEM_F_UNPLUGGED_INACCESSIBLE 1 /* QEMU refuses a driver that does not accept it */

/* Configuration layout (5.15.4): byte offsets, little endian like all of virtio 1.x. */
#define VMEM_CFG_BLOCK_SIZE 0          /* le64, fixed */
#define VMEM_CFG_NODE_ID 8             /* le16, fixed (with ACPI_PXM) */
#define VMEM_CFG_ADDR 16               /* le64, fixed */
#define VMEM_CFG_REGION_SIZE 24        /* le64, fixed */
#define VMEM_CFG_USABLE_REGION_SIZE 32 /* le64, may change */
#define VMEM_CFG_PLUGGED_SIZE 40       /* le64, changes with our requests */
#define VMEM_CFG_REQUESTED_SIZE 48     /* le64, the host's wish */
#define VMEM_CFG_LEN 56

/* Requests and replies (5.15.6). rvmm is little endian: no byte swapping. */
#define VIRTIO_MEM_REQ_PLUG 0
#define VIRTIO_MEM_REQ_UNPLUG 1
#define VIRTIO_MEM_REQ_UNPLUG_ALL 2
#define VIRTIO_MEM_REQ_STATE 3

#define VIRTIO_MEM_RESP_ACK 0
#define VIRTIO_MEM_RESP_NACK 1
#define VIRTIO_MEM_RESP_BUSY 2
#define VIRTIO_MEM_RESP_ERROR 3

#define VIRTIO_MEM_STATE_PLUGGED 0
#define VIRTIO_MEM_STATE_UNPLUGGED 1
#define VIRTIO_MEM_STATE_MIXED 2

struct virtio_mem_req {
	uint16_t type;
	uint16_t padding[3];
	uint64_t addr;      /* PLUG, UNPLUG, STATE: first block's address */
	uint16_t nb_blocks; /* at most VMEM_MAX_NB_BLOCKS */
	uint16_t padding2[3];
};
_Static_assert(sizeof(struct virtio_mem_req) == 24, "virtio_mem_req is 24 bytes");

struct virtio_mem_resp {
	uint16_t type;
	uint16_t padding[3];
	uint16_t state; /* STATE only */
};
_Static_assert(sizeof(struct virtio_mem_resp) == 10, "virtio_mem_resp is 10 bytes");

#define VMEM_MAX_NB_BLOCKS 0xffffu     /* nb_blocks is 16 bits */
#define VMEM_MIN_BLOCK_SIZE SZ_2M      /* MHP_MIN_ONLINE_PAGES: smaller blocks cannot be onlined */
#define VMEM_MAX_BLOCKS (1u << 22)     /* per device: the state array is one 4 MiB allocation */
#define VMEM_MAX_DEVICES 4

/*
 * A block's state. The setter vmem_block_set() is the only writer; it keeps nr_in_state[] and
 * the per-section piece counts.
 */
enum vmem_block_state {
	/* Unplugged at the device; the guest must not touch it (UNPLUGGED_INACCESSIBLE). */
	VMEM_BLOCK_UNPLUGGED,
	/*
	 * Plugged at the device, offline in the guest (holds no data). Transient while plugging and
	 * unplugging; stays so when onlining a plug failed and giving it back failed too, or when the
	 * device refused to take back offlined memory (BUSY). Unplug takes these first.
	 */
	VMEM_BLOCK_PLUGGED,
	/* Plugged and online in ZONE_MOVABLE: counts in MemPlugged. */
	VMEM_BLOCK_ONLINE,
	/*
	 * Online, and offlining it failed during this unplug round (it holds unmovable data), or
	 * part of it was found offline (changed outside the driver: left alone). Never handed back
	 * while so; the next round tries it again.
	 */
	VMEM_BLOCK_UNMOVABLE,
	VMEM_BLOCK_NR_STATES,
};

/* Per section of the region (section numbers relative to the first whole one). */
struct vmem_section {
	uint8_t added;   /* hot-added through the core (present) */
	uint8_t plugged; /* pieces not UNPLUGGED (a piece: a block, or a section of a big block) */
	uint8_t online;  /* pieces ONLINE or UNMOVABLE */
};

/* What `vmem` shows per section: derived from struct vmem_section, never stored. */
enum vmem_section_state {
	VMEM_SECTION_ABSENT,  /* nothing plugged, not added */
	VMEM_SECTION_OFFLINE, /* added, blocks plugged, none online */
	VMEM_SECTION_PARTIAL, /* added, some of its blocks online */
	VMEM_SECTION_ONLINE,  /* added, every block plugged and online */
	VMEM_SECTION_EMPTY,   /* added with nothing plugged: removing it failed, retried */
	VMEM_SECTION_UNADDED, /* blocks plugged but section not added: adding failed, or removed
				 before a refused UNPLUG; re-added or given back later */
	VMEM_SECTION_NR_STATES,
};

struct virtio_mem {
	/*
	 * The device lock (class LOCK_CLASS_VIRTIO_MEM, outermost: taken before hotplug_lock).
	 * Protects the block and section states and counts, target, auto_follow, the request
	 * buffers and the retry state: everything below marked "the worker's". Taken by the
	 * worker (virtio_mem_run: trylock from the background work, which must not wait for a
	 * resize another hart runs; spin_lock from the `vmem` command), by `vmem selftest` for
	 * its whole run, and by remove. Held across resizes, so for long (migration).
	 */
	spinlock_t lock;
	struct virtio_device *vdev;
	struct virtqueue *vq;
	struct virtio_mem_req *req;   /* one page: the request, then the response at +64 */
	struct virtio_mem_resp *resp;

	/* Fixed configuration, read and checked at probe. */
	uint64_t block_size;
	uint16_t node_id;             /* as the device gives it */
	int node;                     /* where its memory goes: node_id, or 0 if no such node */
	phys_addr_t addr;             /* the region, as the device gives it */
	uint64_t region_size;
	phys_addr_t base;             /* first whole section in the region: block 0 */
	unsigned long first_section;  /* its section number */
	unsigned long nr_sections;    /* whole sections in the region */
	uint32_t nr_blocks;           /* blocks in those sections */
	uint64_t pages_per_block;
	unsigned pieces_per_section;  /* blocks per section, 1 for big blocks */
	unsigned sections_per_block;  /* 1 for sub-blocks */

	/* Changing configuration, re-read by the worker on each run. */
	uint64_t usable_region_size;
	uint64_t plugged_size;        /* the device's figure */
	uint64_t requested_size;

	/* The worker's (see the file comment for who may write them). */
	uint64_t target;              /* what the driver aims for: requested_size when auto */
	bool auto_follow;             /* `vmem auto on|off` */
	bool unplug_all_pending;      /* memory plugged at probe: UNPLUG_ALL before anything else */
	bool broken;                  /* the device misbehaved or answered ERROR: no more requests */
	uint32_t selftest_plugged;    /* blocks `vmem selftest` has plugged now (not the driver's) */
	uint8_t *block_state;         /* enum vmem_block_state per block */
	unsigned block_state_order;
	struct vmem_section *sections;
	unsigned sections_order;
	uint32_t nr_in_state[VMEM_BLOCK_NR_STATES];
	phys_addr_t unmovable_pa;     /* highest block that failed to offline in the last round */
	phys_addr_t foreign_pa;       /* highest block found not online as the driver left it */

	/* Retries: after NACK, BUSY, an unmovable block or a core failure. */
	uint64_t retry_at_ns;         /* 0: none scheduled */
	uint64_t backoff_ms;
	unsigned retries;             /* consecutive failed runs; gives up at VMEM_MAX_RETRIES */
	int last_rc;                  /* of the last run: 0, or why the target was not reached */
	const char *why;              /* and in words (static string), NULL when it was reached */

	/* The region as `sections --map` sees it (registered at probe, virtio_mem_cmd.c). */
	struct mem_region map_region;

	/* Figures for `vmem`. */
	uint64_t nr_requests, nr_offline_calls, nr_remove_calls;
	uint64_t last_run_ns;         /* duration of the last run that changed something */

	/*
	 * What `vmem selftest` judges the device by, kept from probe on (the worker's): requested
	 * size changes seen in the configuration, how many of them a config-change notification
	 * announced (by the next read), and reads that found usable_region_size below what is
	 * plugged.
	 */
	uint64_t nr_req_changes, nr_req_announced, nr_usable_shrunk;
	uint32_t notes_at_read;       /* config_notes at the last read */
	bool change_unconfirmed;      /* the last change seen had no notification yet */

	/* Set from interrupt context / by any hart, consumed by the worker. */
	uint32_t config_changed;      /* bool; 32 bits for the atomics rv64 has */
	uint32_t config_notes;        /* config-change notifications received */
	bool kick;                    /* run soon (probe, `vmem auto on`) */
	uint64_t next_poll_ns;        /* devices without interrupt: next virtio_poll */
};

/* Internal error: the configuration changed mid-way, run again (never leaves the driver). */
#define VMEM_ERESTART 512

#define VMEM_MAX_RETRIES 10
#define VMEM_BACKOFF_MIN_MS 20
#define VMEM_BACKOFF_MAX_MS 5000
#define VMEM_REQ_TIMEOUT_MS 10000
#define VMEM_BATCH_BYTES SZ_1G        /* per hotplug_lock hold: config changes are seen between */
#define VMEM_POLL_MS 10               /* interrupt-less devices: how often their status is read */

extern struct virtio_mem *virtio_mem_devices[VMEM_MAX_DEVICES];

/* ---- virtio_mem.c ---- */
static inline phys_addr_t vmem_block_addr(const struct virtio_mem *vm, uint32_t id)
{
	return vm->base + (uint64_t)id * vm->block_size;
}
static inline pfn_t vmem_block_pfn(const struct virtio_mem *vm, uint32_t id)
{
	return PFN_DOWN(vmem_block_addr(vm, id));
}
static inline enum vmem_block_state vmem_block_state(const struct virtio_mem *vm, uint32_t id)
{
	return (enum vmem_block_state)vm->block_state[id];
}
/* Blocks the device counts as plugged (every state but UNPLUGGED). */
static inline uint32_t vmem_plugged_blocks(const struct virtio_mem *vm)
{
	return vm->nr_blocks - vm->nr_in_state[VMEM_BLOCK_UNPLUGGED];
}
/* Block id lies inside the usable part of the region. */
static inline bool vmem_block_usable(const struct virtio_mem *vm, uint32_t id)
{
	return vmem_block_addr(vm, id) + vm->block_size <= vm->addr + vm->usable_region_size;
}
/* Section range [*s0, *s1) (region-relative) that blocks [id, id + n) touch. */
void vmem_block_sections(const struct virtio_mem *vm, uint32_t id, uint32_t n, unsigned long *s0,
			 unsigned long *s1);
/* Pieces of section s inside blocks [id, id + n). */
unsigned vmem_section_pieces_in(const struct virtio_mem *vm, unsigned long s, uint32_t id,
				uint32_t n);
enum vmem_section_state vmem_section_state(const struct virtio_mem *vm, unsigned long s);
const char *vmem_section_state_name(enum vmem_section_state s);
const char *vmem_block_state_name(enum vmem_block_state s);

/*
 * Move blocks [id, id + n) from state `from` to `to`, keeping the counts. A block not in `from`
 * is a driver bug: logged, -EINVAL, and the blocks before it are already moved.
 */
int vmem_block_set(struct virtio_mem *vm, uint32_t id, uint32_t n, enum vmem_block_state from,
		   enum vmem_block_state to);

/*
 * Send one request as given (pa and nb unchecked: `vmem selftest` sends wrong ones on purpose)
 * and wait for the reply: 0 with *resp_type and *state (STATE only) set to the device's answer.
 * A queue failure, no answer or a malformed one mark the device broken: -EIO/-ETIMEDOUT.
 * Caller holds vm->lock.
 */
int vmem_request_raw(struct virtio_mem *vm, uint16_t type, phys_addr_t pa, uint16_t nb,
		     uint16_t *resp_type, uint16_t *state);

/*
 * Send one request for blocks [id, id + nb) (UNPLUG_ALL: ignored) and wait for the reply. ACK 0,
 * NACK -EAGAIN, BUSY -EBUSY; ERROR, no answer or a malformed one mark the device broken and give
 * -EINVAL/-ETIMEDOUT/-EIO. Keeps vm->plugged_size in step on ACK.
 */
int vmem_request(struct virtio_mem *vm, uint16_t type, uint32_t id, uint32_t nb);

/* Stop using the device, with one line saying why. */
void vmem_mark_broken(struct virtio_mem *vm, const char *why);

/*
 * Re-read the configuration fields that change (usable, plugged, requested sizes) and keep the
 * selftest's announcement and usable-region records. A device that changed a fixed field or
 * gives sizes that make no sense is marked broken: -EINVAL. Caller holds vm->lock.
 */
int vmem_config_update(struct virtio_mem *vm);

/*
 * Run the worker once for vm if it is due (or `force`): read the config, follow the target,
 * schedule a retry on failure. Returns false if another hart holds the gate (and `wait` is false).
 */
bool virtio_mem_run(struct virtio_mem *vm, bool force, bool wait);

/* ---- virtio_mem_plug.c ---- */
/*
 * Drive plugged memory toward vm->target: UNPLUG_ALL if pending, clean-ups, then plug or unplug.
 * Returns 0 when plugged_size equals the target with every plugged block online; -VMEM_ERESTART
 * if the config changed mid-way; -EAGAIN (NACK), -EBUSY (device BUSY, or memory that cannot be
 * offlined), a core error, or the broken device's error. Caller: the gate holder, not holding
 * hotplug_lock.
 */
int vmem_resize(struct virtio_mem *vm);

/* ---- virtio_mem_selftest.c ---- */
/*
 * `vmem selftest`: check vm against the device requirements of the virtio-mem specification,
 * using only blocks the driver does not use, one line per rule; the device and the driver are as
 * they were afterwards. Returns 0 when no rule failed, -EIO otherwise, or -EBUSY/-EIO when it
 * could not run. Takes vm->lock.
 */
int vmem_selftest(struct virtio_mem *vm);

/* ---- virtio_mem_cmd.c ---- */
uint64_t virtio_mem_plugged_kb(int nid);

/*
 * Make vm's region (its whole sections) the driver's in the range registry
 * (include/rvmm/mem_ranges.h): the hot-plug core then lets only this driver add memory there,
 * and `sections --map` shows it, with '!' where the driver gave up: blocks it could not offline
 * in the last unplug round, sections added with nothing plugged (removal failed) or plugged but
 * not added. Registered at probe before the first request; a refusal (-EEXIST: the range is
 * someone else's, -ENOSPC: the registry is full) fails the probe, after a message. Unregistered
 * at remove.
 */
int vmem_map_region_register(struct virtio_mem *vm);
void vmem_map_region_unregister(struct virtio_mem *vm);

#endif
