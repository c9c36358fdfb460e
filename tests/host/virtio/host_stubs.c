// SPDX-License-Identifier: MIT
//
// Host stand-ins for the kernel services drivers/virtio and drivers/pci use (printk is
// tests/host/common/printk.c's): ioremap over simulated register files, pages from the C heap
// (identity "physical" addresses: page_offset 0), a clock that advances 1 ms per reading (so bounded waits
// end quickly and deterministically), one hart for kernel/lock.c, and an interrupt table.

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

/*
 * One hart. The locks are the kernel's own (kernel/lock.c, built with LOCKDEP), so the drivers'
 * lock order is checked here too: a lock taken twice, or out of order, panics.
 */
unsigned arch_hart_index(void) { return 0; }

static unsigned long irqs_on = 1;
static void deliver_pending(void);

unsigned long arch_irq_save(void) { return __atomic_exchange_n(&irqs_on, 0, __ATOMIC_RELAXED); }

// Unmasking delivers what was raised meanwhile.
void arch_irq_restore(unsigned long flags)
{
	if ((irqs_on = flags))
		deliver_pending();
}

/* ---- interrupts (suites that link the real kernel/irq.c build with HOST_REAL_IRQ) ---- */

#ifdef HOST_REAL_IRQ
static void deliver_pending(void) {} /* kernel/irq.c delivers */
#else
static struct { irq_handler_t handler; void *arg; bool pending; } irqs[1024];
static unsigned nr_pending; /* irqs[].pending set */

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

// Raised with interrupts masked (under an irqsave lock), the handler runs when they are unmasked.
bool host_irq_raise(uint32_t irq)
{
	if (irq >= 1024 || !irqs[irq].handler)
		return false;
	if (!irqs[irq].pending)
		nr_pending++;
	irqs[irq].pending = true;
	if (irqs_on)
		deliver_pending();
	return true;
}

static void deliver_pending(void)
{
	for (uint32_t irq = 0; irq < 1024 && nr_pending; irq++)
		if (irqs[irq].pending) {
			irqs[irq].pending = false;
			nr_pending--;
			irqs_on = 0; /* a handler runs with interrupts masked, as on the target */
			irqs[irq].handler(irqs[irq].arg);
			irqs_on = 1;
		}
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
