// SPDX-License-Identifier: MIT
//
// Host stand-ins for the kernel services drivers/virtio and drivers/pci use (printk is
// tests/host/common/printk.c's): ioremap over simulated register files, pages from the C heap
// (identity "physical" addresses: page_offset 0), a clock that advances 1 ms per reading (so bounded waits
// end quickly and deterministically), single-threaded locks, and an interrupt table.

#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rvmm/arch_cpu.h>
#include <rvmm/cmdline.h>
#include <rvmm/errno.h>
#include <rvmm/io.h>
#include <rvmm/irq.h>
#include <rvmm/mm.h>
#include <rvmm/page_alloc.h>
#include <rvmm/printk.h>
#include <rvmm/spinlock.h>

#include "host.h"

/* ---- MMIO ---- */

#define HOST_MAX_REGIONS 64

static struct host_region {
	phys_addr_t pa;
	uint64_t size;
	uint8_t *va; /* a private allocation (RAM: __va(pa)): addresses the accessors recognise */
	const struct host_mmio_ops *ops;
	void *ctx;
} regions[HOST_MAX_REGIONS];
static int nr_regions;

void *host_mmio_add(phys_addr_t pa, uint64_t size, const struct host_mmio_ops *ops, void *ctx)
{
	if (nr_regions == HOST_MAX_REGIONS)
		abort();
	struct host_region *r = &regions[nr_regions++];
	*r = (struct host_region){ pa, size, calloc(1, size), ops, ctx };
	return r->va;
}

void *ioremap(phys_addr_t pa, uint64_t size)
{
	for (int i = 0; i < nr_regions; i++)
		if (pa >= regions[i].pa && pa - regions[i].pa + size <= regions[i].size)
			return regions[i].va + (pa - regions[i].pa);
	pr_err("ioremap: no room for 0x%lx bytes at pa 0x%lx", (unsigned long)size,
	       (unsigned long)pa);
	return NULL;
}

void host_ram_add(phys_addr_t pa, uint64_t size, const struct host_mmio_ops *ops, void *ctx)
{
	if (nr_regions == HOST_MAX_REGIONS)
		abort();
	regions[nr_regions++] = (struct host_region){ pa, size, __va(pa), ops, ctx };
}

static struct host_region *region_of(const volatile void *addr, unsigned size)
{
	const uint8_t *a = (const uint8_t *)addr;
	for (int i = 0; i < nr_regions; i++)
		if (a >= regions[i].va && a + size <= regions[i].va + regions[i].size)
			return &regions[i];
	return NULL;
}

uint64_t host_mmio_read(const volatile void *addr, unsigned size)
{
	struct host_region *r = region_of(addr, size);
	uint64_t v = 0;

	if (r)
		return r->ops->read(r->ctx, (const uint8_t *)addr - r->va, size);
	memcpy(&v, (const void *)addr, size);
	return v;
}

void host_mmio_write(volatile void *addr, uint64_t val, unsigned size)
{
	struct host_region *r = region_of(addr, size);

	if (r)
		r->ops->write(r->ctx, (uint8_t *)addr - r->va, val, size);
	else
		memcpy((void *)addr, &val, size);
}

/* ---- memory ---- */

struct mm_layout mm_layout = { .page_offset = 0, .directmap_size = 1ULL << 56 };
static long pages_in_use;

void *get_free_pages(unsigned order, unsigned gfp)
{
	void *p = aligned_alloc(PAGE_SIZE, PAGE_SIZE << order);
	if (!p)
		return NULL;
	if (gfp & GFP_ZERO)
		memset(p, 0, PAGE_SIZE << order);
	else
		memset(p, 0xa5, PAGE_SIZE << order); /* catch reads of uninitialised memory */
	pages_in_use += 1L << order;
	return p;
}

void free_pages_va(void *va, unsigned order)
{
	if (!va)
		return;
	pages_in_use -= 1L << order;
	free(va);
}

long host_pages_in_use(void) { return pages_in_use; }

/* ---- time, harts, locks ---- */

static uint64_t now_ns;
uint64_t arch_time_ns(void) { return now_ns += 1000000; }
void arch_cpu_relax(void) {}

void spin_lock(spinlock_t *l)
{
	if (l->holder != -1)
		panic("spin_lock: %s already held (single-threaded host: a self-deadlock)", l->name);
	l->holder = 0;
}
void spin_unlock(spinlock_t *l)
{
	if (l->holder != 0)
		panic("spin_unlock: %s not held", l->name);
	l->holder = -1;
}
unsigned long spin_lock_irqsave(spinlock_t *l) { spin_lock(l); return 0; }
void spin_unlock_irqrestore(spinlock_t *l, unsigned long flags __unused) { spin_unlock(l); }
bool spin_is_locked(const spinlock_t *l) { return l->holder != -1; }
bool spin_trylock(spinlock_t *l)
{
	if (l->holder != -1)
		return false;
	l->holder = 0;
	return true;
}
unsigned long arch_irq_save(void) { return 0; }
void arch_irq_restore(unsigned long flags __unused) {}

/* ---- interrupts (suites that link the real kernel/irq.c build with HOST_REAL_IRQ) ---- */

#ifndef HOST_REAL_IRQ
static struct { irq_handler_t handler; void *arg; } irqs[1024];

/* One controller, HOST_IRQ_PARENT, whose lines are numbered by the specifier's one cell. */
int irq_request(const struct irq_spec *spec, irq_handler_t handler, void *arg)
{
	uint32_t irq = spec->cells[0];

	if (spec->parent != HOST_IRQ_PARENT)
		return -ENODEV;
	if (spec->nr_cells != 1 || irq == 0 || irq >= 1024)
		return -EINVAL;
	irqs[irq].handler = handler;
	irqs[irq].arg = arg;
	return 0;
}

void irq_describe(const struct irq_spec *spec, char *buf, size_t len)
{
	snprintf(buf, len, "host %u", spec->cells[0]);
}

bool host_irq_raise(uint32_t irq)
{
	if (irq >= 1024 || !irqs[irq].handler)
		return false;
	irqs[irq].handler(irqs[irq].arg);
	return true;
}
#endif

/* ---- the command line: the defaults (kernel/cmdline.c is not linked here) ---- */

struct cmdline cmdline = { .loglevel = -1, .deferred_init = true, .pci_msi = true, .pci_intx = true };

/* ---- console helpers the command code links against ---- */

int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	if (!*s)
		return -EINVAL;
	unsigned long long v = strtoull(s, &end, 0);
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}
