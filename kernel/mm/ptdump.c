// SPDX-License-Identifier: MIT
//
// Dump the live kernel page tables, Linux kernel_page_tables style: a "---[ Region ]---" header
// per region of the layout, then one line per run of leaves with the same size and attributes:
//   0x<start>-0x<end>  <size>  <leaf>  <attributes from arch_pte_describe>
//
// Interface: ptdump (include/rvmm/kpt.h).

#include <rvmm/arch_mm.h>
#include <rvmm/hotplug.h>
#include <rvmm/kpt.h>
#include <rvmm/mm.h>
#include <rvmm/printk.h>

struct region {
	const char *name;
	uintptr_t base;
	uint64_t size; // the image region reaches the top of the address space: no end address
};

struct dump {
	uintptr_t start, end;      // what to show
	struct region regions[4];  // sorted by base
	int next_header;           // regions before this index have had their header
	bool run;                  // a run is pending
	uintptr_t run_start, run_end;
	unsigned run_level;
	char run_desc[32];
	int lines;
};

static const char *const leaf_names[] = { "4K", "2M", "1G", "512G" };

static void fmt_size(uint64_t size, char *buf, size_t len)
{
	static const char units[] = "KMGT";
	uint64_t v = size >> 10;
	int u = 0;
	while (u < 3 && v >= 1024 && !(v & 1023)) {
		v >>= 10;
		u++;
	}
	// tiny formatter: no snprintf dependency in the kernel
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v && n < 20);
	size_t o = 0;
	while (n && o + 2 < len)
		buf[o++] = tmp[--n];
	buf[o++] = units[u];
	buf[o] = 0;
}

static int region_of(const struct dump *d, uintptr_t va)
{
	for (int i = 0; i < 4; i++)
		if (va - d->regions[i].base < d->regions[i].size)
			return i;
	return -1;
}

static void headers_upto(struct dump *d, int r)
{
	while (d->next_header <= r) {
		const struct region *g = &d->regions[d->next_header++];
		if (g->base + (g->size - 1) >= d->start && g->base <= d->end - 1)
			kprintf("---[ %s ]---\n", g->name);
	}
}

static void flush_run(struct dump *d)
{
	if (!d->run)
		return;
	d->run = false;
	int r = region_of(d, d->run_start);
	if (r >= 0)
		headers_upto(d, r);
	char size[24];
	fmt_size(d->run_end - d->run_start, size, sizeof(size));
	kprintf("0x%016llx-0x%016llx  %6s  %s  %s\n", (unsigned long long)d->run_start,
		(unsigned long long)d->run_end, size, leaf_names[d->run_level], d->run_desc);
	d->lines++;
}

static void leaf(struct dump *d, uintptr_t va, unsigned level, pte_t pte)
{
	uintptr_t end = va + LEVEL_SIZE(level);
	uintptr_t s = va < d->start ? d->start : va;
	uintptr_t e = end > d->end || end == 0 ? d->end : end;
	if (s >= e)
		return;
	char desc[32];
	arch_pte_describe(pte, desc, sizeof(desc));
	desc[sizeof(desc) - 1] = 0;
	if (d->run && d->run_end == s && d->run_level == level &&
	    __builtin_strcmp(d->run_desc, desc) == 0 && region_of(d, s) == region_of(d, d->run_start)) {
		d->run_end = e;
		return;
	}
	flush_run(d);
	d->run = true;
	d->run_start = s;
	d->run_end = e;
	d->run_level = level;
	__builtin_memcpy(d->run_desc, desc, sizeof(desc));
}

static uintptr_t sign_extend(uintptr_t va)
{
	unsigned bits = LEVEL_SHIFT(arch_pgtable_levels() - 1) + 9;
	if (va & (1UL << (bits - 1)))
		va |= ~((1UL << bits) - 1);
	return va;
}

static void walk(struct dump *d, const pte_t *t, unsigned level, uintptr_t base)
{
	for (unsigned i = 0; i < PTRS_PER_TABLE; i++) {
		uintptr_t va = base + (uintptr_t)i * LEVEL_SIZE(level);
		if (level == arch_pgtable_levels() - 1)
			va = sign_extend(va);
		uintptr_t vend = va + LEVEL_SIZE(level) - 1;
		if (vend < d->start || va >= d->end)
			continue;
		pte_t e = READ_ONCE(t[i]);
		if (!arch_pte_present(e))
			continue;
		if (arch_pte_is_leaf(e))
			leaf(d, va, level, e);
		else if (level > 0)
			walk(d, __va(arch_pte_pa(e)), level - 1, va);
	}
}

int ptdump(uintptr_t start, uintptr_t end)
{
	struct dump d = { .start = start, .end = end };
	if (!start && !end)
		d.end = ~(uintptr_t)0;
	struct region r[4] = {
		{ "Direct map", mm_layout.page_offset, mm_layout.directmap_size },
		{ "vmemmap", mm_layout.vmemmap_base, mm_layout.vmemmap_size },
		{ "I/O", mm_layout.io_base, mm_layout.io_size },
		{ "Kernel image", mm_layout.kimage_base, 2 * SZ_1G },
	};
	// Sort by base (four entries).
	for (int i = 1; i < 4; i++)
		for (int j = i; j > 0 && r[j].base < r[j - 1].base; j--) {
			struct region t = r[j];
			r[j] = r[j - 1];
			r[j - 1] = t;
		}
	__builtin_memcpy(d.regions, r, sizeof(r));

	// hotplug_lock (read): the direct map and vmemmap cannot be torn down under the walk (as the
	// seed's patch 0007 does for Linux). kpt_lock: the only other place tables are freed, a
	// failing kpt_map_range (ioremap) rolling back, cannot free one under us either.
	get_online_mems();
	spin_lock(&kpt_lock);
	walk(&d, __va(arch_kpt_root()), arch_pgtable_levels() - 1, 0);
	flush_run(&d);
	headers_upto(&d, 3);
	spin_unlock(&kpt_lock);
	put_online_mems();
	return d.lines;
}
