// SPDX-License-Identifier: MIT
//
// memtest: take free memory from the allocator, write two address-dependent patterns, verify
// them, give the memory back. Long runs print a progress line about once a second
// (include/rvmm/progress.h): `memtest: pass 1/2 write 1024/2048 MiB (1.2 s)`.
//
// Interface: memtest, memtest_hook (include/rvmm/mm.h).

#include <rvmm/errno.h>
#include <rvmm/hotplug.h>
#include <rvmm/memtest.h>
#include <rvmm/mm.h>
#include <rvmm/page_alloc.h>
#include <rvmm/printk.h>
#include <rvmm/progress.h>
#include <stdio.h>

void (*memtest_hook)(phys_addr_t pa, uint64_t size);

static uint64_t pattern(phys_addr_t pa, int pass)
{
	uint64_t v = pa * 0x9e3779b97f4a7c15ull ^ 0xa5a5a5a5a5a5a5a5ull;
	return pass ? ~v : v;
}

// Blocks taken are chained through page->owner (ours while allocated); order in owner_data.
static struct page *take(uint64_t limit, uint64_t *got)
{
	static const unsigned gfps[] = { GFP_KERNEL, GFP_MOVABLE };
	struct page *head = NULL;
	*got = 0;
	for (int g = 0; g < 2; g++) {
		unsigned order = MAX_ORDER;
		while (*got < limit) {
			while (order && (PAGE_SIZE << order) > limit - *got)
				order--;
			struct page *p = alloc_pages(order, gfps[g]);
			if (!p) {
				if (!order)
					break;
				order--;
				continue;
			}
			p->owner = head;
			p->owner_data = order;
			head = p;
			*got += PAGE_SIZE << order;
		}
	}
	return head;
}

static void report(struct progress *pr, int pass, const char *phase, uint64_t done, uint64_t total)
{
	char what[40];
	if (!progress_due(pr))
		return;
	snprintf(what, sizeof(what), "memtest: pass %d/2 %s", pass + 1, phase);
	progress_print(pr, what, done, total);
}

static int check(struct page *head, int pass, phys_addr_t *bad, uint64_t *want, uint64_t *seen,
		 struct progress *pr, uint64_t total)
{
	uint64_t done = 0;
	for (struct page *p = head; p; p = p->owner) {
		phys_addr_t pa = page_to_phys(p);
		uint64_t *w = page_address(p);
		for (uint64_t i = 0; i < (PAGE_SIZE << p->owner_data) / 8; i++) {
			uint64_t v = READ_ONCE(w[i]), x = pattern(pa + i * 8, pass);
			if (v != x) {
				*bad = pa + i * 8;
				*want = x;
				*seen = v;
				return -EIO;
			}
		}
		done += PAGE_SIZE << p->owner_data;
		report(pr, pass, "verify", done, total);
	}
	return 0;
}

int memtest(uint64_t size)
{
	uint64_t got;
	int rc = 0;
	get_online_mems();
	struct page *head = take(size ? ALIGN_UP(size, PAGE_SIZE) : ~0ull, &got);
	if (!head) {
		kprintf("memtest: FAILED: no free memory to test\n");
		put_online_mems();
		return -ENOMEM;
	}
	struct progress pr;
	progress_start(&pr);
	for (int pass = 0; pass < 2 && !rc; pass++) {
		uint64_t done = 0;
		for (struct page *p = head; p; p = p->owner) {
			phys_addr_t pa = page_to_phys(p);
			uint64_t *w = page_address(p);
			for (uint64_t i = 0; i < (PAGE_SIZE << p->owner_data) / 8; i++)
				WRITE_ONCE(w[i], pattern(pa + i * 8, pass));
			done += PAGE_SIZE << p->owner_data;
			report(&pr, pass, "write", done, got);
		}
		if (memtest_hook)
			memtest_hook(page_to_phys(head), PAGE_SIZE << head->owner_data);
		phys_addr_t bad;
		uint64_t want, seen;
		rc = check(head, pass, &bad, &want, &seen, &pr, got);
		if (rc)
			kprintf("memtest: FAILED at pa 0x%llx (wrote 0x%016llx, read 0x%016llx)\n",
				(unsigned long long)bad, (unsigned long long)want,
				(unsigned long long)seen);
	}
	while (head) {
		struct page *next = head->owner;
		free_pages(head, (unsigned)head->owner_data);
		head = next;
	}
	if (!rc && got < (1ULL << 20)) // below a MiB: say it exactly
		kprintf("memtest: ok (%llu KiB)\n", (unsigned long long)(got >> 10));
	else if (!rc)
		kprintf("memtest: ok (%llu MiB)\n", (unsigned long long)(got >> 20));
	put_online_mems();
	return rc;
}
