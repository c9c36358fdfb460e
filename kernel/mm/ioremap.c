// SPDX-License-Identifier: MIT
/*
 * ioremap: device registers mapped into the kernel's I/O region, uncached, for good.
 *
 * The region is handed out bottom-up and never reused: rvmm maps devices once at probe time
 * (UART, PLIC, PCIe ECAM and BARs, virtio-mmio), so a bump pointer is all it needs.
 */
#include <rvmm/io.h>
#include <rvmm/kpt.h>
#include <rvmm/mm.h>
#include <rvmm/printk.h>
#include <rvmm/spinlock.h>

/* ioremap_lock: protects io_next, the first unused address of the I/O region. Taken by
 * ioremap() only, before kpt_lock (inside kpt_map_range). */
static spinlock_t ioremap_lock = SPINLOCK_INIT("ioremap", LOCK_CLASS_IOREMAP);
static uint64_t io_next;

void *ioremap(phys_addr_t pa, uint64_t size)
{
	phys_addr_t start = ALIGN_DOWN(pa, PAGE_SIZE);
	uint64_t len = ALIGN_UP(pa + size, PAGE_SIZE) - start;
	/* Align big mappings so they can use 2 MiB leaves where the device range allows. */
	uint64_t align = len >= SZ_2M && IS_ALIGNED(start, SZ_2M) ? SZ_2M : PAGE_SIZE;

	spin_lock(&ioremap_lock);
	uint64_t off = ALIGN_UP(io_next, align);
	if (size == 0 || off + len > mm_layout.io_size || off + len < off) {
		spin_unlock(&ioremap_lock);
		pr_err("ioremap: no room for 0x%lx bytes at pa 0x%lx", (unsigned long)size,
		       (unsigned long)pa);
		return NULL;
	}
	io_next = off + len;
	spin_unlock(&ioremap_lock);

	uintptr_t va = mm_layout.io_base + off;
	int rc = kpt_map_range(va, start, len, PROT_READ | PROT_WRITE | PROT_IO);
	if (rc) {
		pr_err("ioremap: mapping pa 0x%lx failed (%d)", (unsigned long)pa, rc);
		return NULL;
	}
	return (void *)(va + (pa - start));
}
