// SPDX-License-Identifier: MIT
/*
 * Prints struct platform for people: the `dt` console command and boot logs. Reads only the
 * struct, never the DTB.
 *
 * Interface: platform_print().
 */
#include <rvmm/platform.h>
#include <rvmm/printk.h>

static const char *const space_name[] = { "config", "io", "mem32", "mem64" };

// A size in the largest binary unit that divides it: "1 GiB", "256 KiB", "100 bytes".
static void print_size(uint64_t size)
{
	static const char *const unit[] = { "bytes", "KiB", "MiB", "GiB", "TiB" };
	int u = 0;

	while (u < 4 && size && size % 1024 == 0) {
		size /= 1024;
		u++;
	}
	kprintf("%lu %s", size, unit[u]);
}

static void print_range(const struct plat_range *r)
{
	kprintf("  [0x%lx, 0x%lx) ", r->base, r->base + r->size);
	print_size(r->size);
	kprintf("  %s%s\n", r->name, r->nomap ? "  no-map" : "");
}

static void print_device(const char *what, const struct plat_device *d)
{
	if (!d->present) {
		kprintf("  %s: none\n", what);
		return;
	}
	kprintf("  %s: 0x%lx size 0x%lx irq %u  %s\n", what, d->base, d->size, d->irq, d->name);
}

static void print_pci(const struct plat_pci_host *pci)
{
	int i;

	if (!pci->present) {
		kprintf("  pci: none\n");
		return;
	}
	kprintf("  pci: ECAM 0x%lx size 0x%lx buses %u..%u  %s\n", pci->ecam_base, pci->ecam_size,
		pci->bus_start, pci->bus_end, pci->name);
	for (i = 0; i < pci->nr_ranges; i++) {
		const struct plat_pci_range *r = &pci->ranges[i];

		kprintf("    %s%s: pci 0x%lx -> cpu 0x%lx size ", space_name[r->space & 3],
			r->prefetchable ? " prefetchable" : "", r->pci_addr, r->cpu_addr);
		print_size(r->size);
		kprintf("\n");
	}
	kprintf("    interrupt-map: %d rows, mask devfn 0x%x pin 0x%x\n", pci->nr_imap,
		pci->imap_mask_devfn, pci->imap_mask_pin);
	for (i = 0; i < pci->nr_imap; i++)
		kprintf("      slot %u INT%c -> irq %u\n", pci->imap[i].devfn >> 3,
			pci->imap[i].pin >= 1 && pci->imap[i].pin <= 4 ? 'A' + pci->imap[i].pin - 1 : '?',
			pci->imap[i].irq);
}

void platform_print(const struct platform *plat)
{
	uint64_t total = 0;
	int i;

	for (i = 0; i < plat->nr_mem; i++)
		total += plat->mem[i].size;
	kprintf("memory: %d ranges, ", plat->nr_mem);
	print_size(total);
	kprintf("\n");
	for (i = 0; i < plat->nr_mem; i++)
		print_range(&plat->mem[i]);

	kprintf("reserved: %d ranges\n", plat->nr_reserved);
	for (i = 0; i < plat->nr_reserved; i++)
		print_range(&plat->reserved[i]);

	kprintf("harts: %d, timebase %lu Hz\n", plat->nr_harts, plat->timebase_hz);
	for (i = 0; i < plat->nr_harts; i++) {
		const struct plat_hart *h = &plat->harts[i];

		kprintf("  hart %u: %s %s %s\n", h->hartid, h->enabled ? "enabled " : "disabled",
			h->mmu, h->isa);
	}

	kprintf("devices:\n");
	print_device("uart", &plat->uart);
	print_device("plic", &plat->plic);
	if (plat->plic.present)
		kprintf("    %u interrupt sources\n", plat->plic_ndev);
	print_pci(&plat->pci);
	kprintf("  virtio-mmio: %d\n", plat->nr_virtio_mmio);
	for (i = 0; i < plat->nr_virtio_mmio; i++)
		kprintf("    %d: 0x%lx size 0x%lx irq %u\n", i, plat->virtio_mmio[i].base,
			plat->virtio_mmio[i].size, plat->virtio_mmio[i].irq);
	if (plat->syscon_poweroff.present)
		kprintf("  poweroff: write 0x%x to 0x%lx\n", plat->syscon_poweroff_value,
			plat->syscon_poweroff.base);
	kprintf("dtb: 0x%lx, %u bytes; %d warnings\n", plat->dtb_pa, plat->dtb_size,
		plat->nr_warnings);
}
