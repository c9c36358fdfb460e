/* SPDX-License-Identifier: MIT */
/*
 * Memory sections (128 MiB) and the vmemmap that holds their page descriptors.
 *
 * Interface: section_init, section_state/section_get, section_set_state, sections_add,
 * sections_remove, section_count,
 * for_each_section_in_state, vmemmap_populate, vmemmap_depopulate, vmemmap_bytes.
 *
 * Section states change only at boot or under hotplug_lock held for write; readers hold it for
 * reading (or accept a racy snapshot, like counters). The flags SECTION_DEFERRED is cleared under
 * the owning zone's lock (deferred init), which is why it is read with READ_ONCE.
 */
#ifndef RVMM_SECTION_H
#define RVMM_SECTION_H

#include <rvmm/mm.h>
#include <rvmm/types.h>

enum section_state {
	SECTION_ABSENT,  /* no RAM added here (never present, hidden by mem=, or removed) */
	SECTION_PRESENT, /* RAM added: descriptors exist (vmemmap), pages offline */
	SECTION_ONLINE,  /* pages belong to a zone and the allocator */
	NR_SECTION_STATES,
};

/* section flags */
#define SECTION_MEMMAP (1u << 0)           /* its descriptors are mapped in the vmemmap */
#define SECTION_MEMMAP_ON_MEMORY (1u << 1) /* descriptors live at the start of its own RAM */
#define SECTION_DEFERRED (1u << 2)         /* boot section whose descriptors are not set up yet */
#define SECTION_BOOT (1u << 3)             /* present since boot */
#define SECTION_DEVICE (1u << 4)           /* ZONE_DEVICE memory (memremap.h): present, never online */
#define SECTION_MEMMAP_SHARED (1u << 5)    /* its vmemmap is the DAX layout (shared tail pages) */

/*
 * Sub-sections: a section is onlined and offlined in 2 MiB pieces (virtio-mem's smallest block,
 * one pageblock of order 9). online_map has bit i set when pages [i * 512, (i + 1) * 512) of the
 * section are online; the section is SECTION_ONLINE while any bit is set.
 */
#define SUBSECTION_SHIFT 21
#define SUBSECTION_SIZE (1UL << SUBSECTION_SHIFT)
#define PAGES_PER_SUBSECTION (SUBSECTION_SIZE >> PAGE_SHIFT)
#define SUBSECTIONS_PER_SECTION (SECTION_SIZE / SUBSECTION_SIZE) /* 64: one bit each */
#define SUBSECTION_MAP_FULL (~0ULL)

/*
 * One per 128 MiB of [0, max_phys): 16 bytes. They live in page-sized chunks of 256 sections
 * (32 GiB of address space each), allocated when a section in the chunk first becomes present
 * and freed when the last one becomes absent again, so boot cost and memory follow RAM, not
 * max_phys (a full Sv48 table would be 2 MiB).
 */
struct mem_section {
	uint8_t state;  /* enum section_state */
	uint8_t zone;   /* enum zone_type, valid when online */
	uint8_t flags;  /* SECTION_* */
	uint8_t node;   /* NUMA node of its RAM: set when it becomes present, kept while it is */
	uint32_t nr_vmemmap_pages; /* memmap_on_memory: pages at the start holding descriptors */
	uint64_t online_map;       /* bit per 2 MiB sub-section that is online */
};
_Static_assert(sizeof(struct mem_section) == 16, "mem_section is 16 bytes");

#define SECTIONS_PER_CHUNK (PAGE_SIZE / sizeof(struct mem_section))
#define MAX_SECTION_CHUNKS 512 /* 16 TiB, Sv48's max_phys */

extern struct mem_section *section_chunks[MAX_SECTION_CHUNKS];
extern unsigned long nr_mem_sections; /* max_phys / 128 MiB */

/* Size the section space from mm_layout.max_phys; all absent. 0, or -EINVAL if it is too big. */
int section_init(void);

/* Section nr's entry, or NULL when nr is out of range or its chunk was never needed (absent). */
static inline struct mem_section *section_get(unsigned long nr)
{
	struct mem_section *c = nr < nr_mem_sections ? section_chunks[nr / SECTIONS_PER_CHUNK] : NULL;
	return c ? &c[nr % SECTIONS_PER_CHUNK] : NULL;
}
static inline enum section_state section_state(unsigned long nr)
{
	struct mem_section *ms = section_get(nr);
	return ms ? (enum section_state)ms->state : SECTION_ABSENT;
}
const char *section_state_name(enum section_state s);

/*
 * Move section nr from state `from` to `to`, keeping per-state counts. Leaving ABSENT may
 * allocate the section's chunk (memblock at boot, a zeroed ZONE_NORMAL page after); the last
 * section of a chunk becoming ABSENT frees it (section_get() returns NULL for it then). Returns 0,
 * -EINVAL for a bad nr or state, -ENOMEM (no chunk), or -EBUSY (and prints "section N: invalid
 * state ...") if it is not in `from`; nothing changes on error. Caller holds hotplug_lock for write (or is the boot hart).
 */
int section_set_state(unsigned long nr, enum section_state from, enum section_state to);

/*
 * Sections [nr, nr + count), all ABSENT, become PRESENT with flags in NUMA node nid (zone 0,
 * nothing online, no memmap_on_memory pages). All or nothing: 0, or section_set_state's error with every one of
 * them ABSENT again. sections_remove: the reverse for PRESENT sections (fields cleared); it cannot
 * fail for sections the caller made present (WARN_ON otherwise). Caller holds hotplug_lock for
 * write. Used by hot-add/remove and by memremap (ZONE_DEVICE).
 */
int sections_add(unsigned long nr, unsigned long count, uint8_t flags, int nid);
void sections_remove(unsigned long nr, unsigned long count);

/* Sections in a state. */
unsigned long section_count(enum section_state s);

/* Next section >= nr in state s, or nr_mem_sections; stops at once when none is in that state. */
unsigned long section_next_in_state(unsigned long nr, enum section_state s);
#define for_each_section_in_state(nr, s)                                       \
	for ((nr) = section_next_in_state(0, (s)); (nr) < nr_mem_sections;    \
	     (nr) = section_next_in_state((nr) + 1, (s)))

/*
 * memmap_on_memory: the descriptors of a hot-added range are carved from the start of the range
 * itself. base_pfn is the first pfn of the range; vmemmap_populate takes pages from base_pfn +
 * alloc on, up to free pages. The caller marks those pages PG_vmemmap when it onlines the range.
 */
struct vmem_altmap {
	pfn_t base_pfn;
	unsigned long free;  /* pages available for descriptors */
	unsigned long alloc; /* pages handed out so far */
};

/*
 * Map the descriptors of sections [nr, nr + count). Descriptor memory comes from altmap if given,
 * else from memblock before the page allocator runs and from ZONE_NORMAL after; it is NOT written
 * (descriptors are initialised when the section goes online or on deferred init).
 *
 * Leaves: the descriptors of two adjacent sections (an even one and the next) fill one 2 MiB
 * block. When both are populated by the same call the block is one 2 MiB leaf, shared: it is freed
 * only when neither section has its memmap any more. A section populated alone gets a 1 MiB block
 * mapped with 256 4 KiB leaves, so a lone section never wastes memory (memmap stays 32/4096 of
 * RAM); its neighbour, populated later, does the same in the same 4 KiB table.
 *
 * The sections are normally PRESENT already; at least their entries must exist (a section made
 * present once, or one sharing its chunk). Caller holds hotplug_lock for write (or is booting).
 * Returns 0, -EINVAL (bad range, no entry), -EEXIST (a section already has a memmap), or
 * -ENOMEM; on failure no section of the range is left populated.
 */
int vmemmap_populate(unsigned long nr, unsigned long count, struct vmem_altmap *altmap);

/*
 * Unmap the descriptors of sections [nr, nr + count) and free their memory (memory from altmap,
 * and a memmap_on_memory section's own, is left to the caller), with one TLB fence for the whole
 * range. A shared 2 MiB leaf stays while the other section still needs it. Sections without a
 * memmap are skipped. Cannot fail by construction (whole leaves: no split, no allocation).
 * Caller holds hotplug_lock for write. Returns 0, or -EINVAL for a range outside the table.
 */
int vmemmap_depopulate(unsigned long nr, unsigned long count, struct vmem_altmap *altmap);

/* Bytes of memory currently backing the vmemmap. */
uint64_t vmemmap_bytes(void);

#endif
