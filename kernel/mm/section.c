// SPDX-License-Identifier: MIT
//
// Memory sections: one 16-byte entry per 128 MiB of [0, max_phys) (in page-sized chunks allocated
// on first use and freed when their last section becomes absent), saying whether RAM is there
// (absent / present / online), which zone it serves, and flags (memmap populated, memmap on
// memory, deferred descriptor init pending, present since boot). Per-state counts make
// for_each_section_in_state cheap when a state is empty.
//
// Interface: section_init, section_set_state, section_count, section_next_in_state,
// section_state_name (include/rvmm/section.h).

#include <rvmm/errno.h>
#include <rvmm/memblock.h>
#include <rvmm/page_alloc.h>
#include <rvmm/printk.h>
#include <rvmm/section.h>

#include "internal.h"

struct mem_section *section_chunks[MAX_SECTION_CHUNKS];
unsigned long nr_mem_sections;

// Sections in each state, and one past the highest section ever not absent (scans of the other
// states stop there instead of walking all 131072 entries). Written under hotplug_lock (write) or
// at boot.
static unsigned long state_count[NR_SECTION_STATES];
static unsigned long high_water;
// Sections of each chunk that are not absent: a chunk whose count drops to 0 is freed.
static uint16_t chunk_used[MAX_SECTION_CHUNKS];

static const char *const state_names[NR_SECTION_STATES] = { "absent", "present", "online" };

const char *section_state_name(enum section_state s)
{
	return (unsigned)s < NR_SECTION_STATES ? state_names[s] : "?";
}

int section_init(void)
{
	unsigned long nr = mm_layout.max_phys >> SECTION_SHIFT;
	if (!nr || nr > MAX_SECTION_CHUNKS * SECTIONS_PER_CHUNK) {
		pr_err("mm: max_phys 0x%llx: %lu sections, at most %lu supported",
		       (unsigned long long)mm_layout.max_phys, nr,
		       (unsigned long)(MAX_SECTION_CHUNKS * SECTIONS_PER_CHUNK));
		return -EINVAL;
	}
	nr_mem_sections = nr;
	for (int s = 0; s < NR_SECTION_STATES; s++)
		state_count[s] = 0;
	state_count[SECTION_ABSENT] = nr;
	high_water = 0;
	for (int i = 0; i < MAX_SECTION_CHUNKS; i++)
		chunk_used[i] = 0;
	return 0;
}

// The chunk holding section nr, allocated zeroed (all absent) if needed. NULL if no memory.
static struct mem_section *chunk_get(unsigned long nr)
{
	struct mem_section **slot = &section_chunks[nr / SECTIONS_PER_CHUNK];
	if (*slot)
		return *slot;
	if (page_alloc_ready()) {
		*slot = get_free_pages(0, GFP_KERNEL | GFP_ZERO);
	} else {
		phys_addr_t pa = memblock_alloc(PAGE_SIZE, PAGE_SIZE, MEMBLOCK_OTHER);
		*slot = pa ? __va(pa) : NULL;
	}
	return *slot;
}

// The last section of nr's chunk became absent: give the chunk back (hot-remove, or a failed
// hot-add rolling back), so that an add/remove round trip leaves no page behind.
static void chunk_put(unsigned long nr)
{
	struct mem_section **slot = &section_chunks[nr / SECTIONS_PER_CHUNK];
	void *c = *slot;
	if (!c || !page_alloc_ready())
		return;
	WRITE_ONCE(*slot, NULL);
	pfn_t pfn = PFN_DOWN(__pa(c));
	deferred_init_pfn(pfn);
	if (page_flags(pfn_to_page(pfn)) & PG_reserved)
		free_reserved_pages(pfn, 1);
	else
		free_pages_va(c, 0);
}

int section_set_state(unsigned long nr, enum section_state from, enum section_state to)
{
	assert_hotplug_writer();
	if (nr >= nr_mem_sections || (unsigned)from >= NR_SECTION_STATES ||
	    (unsigned)to >= NR_SECTION_STATES)
		return -EINVAL;
	struct mem_section *ms = section_get(nr);
	if (!ms && from == SECTION_ABSENT) {
		if (!chunk_get(nr))
			return -ENOMEM;
		ms = section_get(nr);
	}
	if (!ms || ms->state != from) {
		pr_err("section %lu: invalid state %s (expected %s, to %s)", nr,
		       section_state_name(section_state(nr)), section_state_name(from),
		       section_state_name(to));
		return -EBUSY;
	}
	ms->state = (uint8_t)to;
	state_count[from]--;
	state_count[to]++;
	if (to != SECTION_ABSENT && nr >= high_water)
		high_water = nr + 1;
	if (from == SECTION_ABSENT && to != SECTION_ABSENT)
		chunk_used[nr / SECTIONS_PER_CHUNK]++;
	if (from != SECTION_ABSENT && to == SECTION_ABSENT && !--chunk_used[nr / SECTIONS_PER_CHUNK])
		chunk_put(nr);
	return 0;
}

int sections_add(unsigned long nr, unsigned long count, uint8_t flags, int nid)
{
	for (unsigned long done = 0; done < count; done++) {
		int rc = section_set_state(nr + done, SECTION_ABSENT, SECTION_PRESENT);
		if (rc) {
			sections_remove(nr, done);
			return rc;
		}
		struct mem_section *ms = section_get(nr + done);
		*ms = (struct mem_section){ .state = SECTION_PRESENT, .flags = flags,
					    .node = (uint8_t)nid };
	}
	return 0;
}

void sections_remove(unsigned long nr, unsigned long count)
{
	for (unsigned long i = nr; i < nr + count; i++) {
		struct mem_section *ms = section_get(i);
		if (WARN_ON(!ms))
			continue;
		*ms = (struct mem_section){ .state = ms->state };
		WARN_ON(section_set_state(i, SECTION_PRESENT, SECTION_ABSENT));
	}
}

unsigned long section_count(enum section_state s)
{
	return (unsigned)s < NR_SECTION_STATES ? state_count[s] : 0;
}

unsigned long section_next_in_state(unsigned long nr, enum section_state s)
{
	if ((unsigned)s >= NR_SECTION_STATES || !state_count[s])
		return nr_mem_sections;
	unsigned long end = s == SECTION_ABSENT ? nr_mem_sections : high_water;
	while (nr < end) {
		struct mem_section *c = section_chunks[nr / SECTIONS_PER_CHUNK];
		if (!c) { // a whole chunk of absent sections
			if (s == SECTION_ABSENT)
				return nr;
			nr = ALIGN_DOWN(nr, SECTIONS_PER_CHUNK) + SECTIONS_PER_CHUNK;
			continue;
		}
		if (c[nr % SECTIONS_PER_CHUNK].state == s)
			return nr;
		nr++;
	}
	return nr_mem_sections;
}
