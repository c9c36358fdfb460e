// SPDX-License-Identifier: MIT
//
// Memory sections: one 8-byte entry per 128 MiB of [0, max_phys), saying whether RAM is there
// (absent / present / online), which zone it serves, and flags (memmap populated, memmap on
// memory, deferred descriptor init pending, present since boot). Per-state counts make
// for_each_section_in_state cheap when a state is empty.
//
// Interface: section_init, section_set_state, section_count, section_next_in_state,
// section_state_name (include/rvmm/section.h).

#include <rvmm/errno.h>
#include <rvmm/memblock.h>
#include <rvmm/printk.h>
#include <rvmm/section.h>

struct mem_section *mem_sections;
unsigned long nr_mem_sections;

// Sections in each state. Written under hotplug_lock (write) or at boot.
static unsigned long state_count[NR_SECTION_STATES];

static const char *const state_names[NR_SECTION_STATES] = { "absent", "present", "online" };

const char *section_state_name(enum section_state s)
{
	return (unsigned)s < NR_SECTION_STATES ? state_names[s] : "?";
}

int section_init(void)
{
	unsigned long nr = mm_layout.max_phys >> SECTION_SHIFT;
	phys_addr_t pa = memblock_alloc(nr * sizeof(struct mem_section), PAGE_SIZE, MEMBLOCK_OTHER);
	if (!pa) {
		pr_err("mm: no memory for %lu section entries", nr);
		return -ENOMEM;
	}
	mem_sections = __va(pa);
	nr_mem_sections = nr;
	for (int s = 0; s < NR_SECTION_STATES; s++)
		state_count[s] = 0;
	state_count[SECTION_ABSENT] = nr;
	return 0;
}

int section_set_state(unsigned long nr, enum section_state from, enum section_state to)
{
	if (nr >= nr_mem_sections || (unsigned)from >= NR_SECTION_STATES ||
	    (unsigned)to >= NR_SECTION_STATES)
		return -EINVAL;
	struct mem_section *ms = &mem_sections[nr];
	if (ms->state != from) {
		pr_err("section %lu: invalid state %s (expected %s, to %s)", nr,
		       section_state_name(ms->state), section_state_name(from),
		       section_state_name(to));
		return -EBUSY;
	}
	ms->state = (uint8_t)to;
	state_count[from]--;
	state_count[to]++;
	return 0;
}

unsigned long section_count(enum section_state s)
{
	return (unsigned)s < NR_SECTION_STATES ? state_count[s] : 0;
}

unsigned long section_next_in_state(unsigned long nr, enum section_state s)
{
	if ((unsigned)s >= NR_SECTION_STATES || !state_count[s])
		return nr_mem_sections;
	for (; nr < nr_mem_sections; nr++)
		if (mem_sections[nr].state == s)
			return nr;
	return nr_mem_sections;
}
