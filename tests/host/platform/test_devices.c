// SPDX-License-Identifier: MIT
/*
 * Devices on real trees: what drivers read from their own nodes (reg through the buses' ranges,
 * interrupts resolved by kernel/irq.c through interrupt-parent, interrupts-extended and
 * interrupt-map, the PCI host's windows), and the generic walker (kernel/device.c) handing nodes
 * to the drivers of this file, which stand in for the kernel's: "not mine", deferral, shared
 * lines, a failing probe.
 *
 * Interface: check_qemu_devices, check_cells1_uarts, check_pci_imap_fixture (test_platform.c),
 * devices_suite.
 */
#include "harness.h"

#include <rvmm/device.h>
#include <rvmm/dt.h>
#include <rvmm/errno.h>
#include <rvmm/irq.h>
#include <rvmm/pci.h>
#include <rvmm/platform.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* drivers/pci/pci_host_dt.c scans through this once it has parsed its node. */
static unsigned nr_pci_init;
int pci_init(const struct pci_host *host __unused)
{
	nr_pci_init++;
	return 0;
}

static uint32_t phandle_of(const void *fdt, const char *path)
{
	int node = fdt_path_offset(fdt, path);

	return node >= 0 ? fdt_get_phandle(fdt, node) : 0;
}

static bool spec_is(const struct irq_spec *s, uint32_t parent, uint32_t cell)
{
	return s->parent == parent && s->nr_cells == 1 && s->cells[0] == cell;
}

static int check_qemu_pci(struct platform *plat, uint64_t ram, uint32_t plic)
{
	const void *fdt = plat->fdt;
	int node = fdt_path_offset(fdt, "/soc/pci@30000000");
	struct pci_host h;
	struct irq_spec spec;

	CHECK_MSG(node >= 0 && pci_host_dt_parse(plat, fdt, node, &h) == 0, "pci host not parsed");
	CHECK_MSG(h.ecam_base == 0x30000000 && h.ecam_size == 0x10000000 && h.bus_start == 0 &&
	       h.bus_end == 255, "pci ECAM 0x%lx +0x%lx buses %u..%u", h.ecam_base, h.ecam_size,
	       h.bus_start, h.bus_end);
	CHECK_MSG(h.nr_ranges == 3, "%d pci ranges", h.nr_ranges);
	if (h.nr_ranges == 3) {
		const struct pci_range *r = h.ranges;

		CHECK_MSG(r[0].space == 1 && r[0].pci_addr == 0 && r[0].cpu_addr == 0x3000000 &&
		       r[0].size == 0x10000, "io window");
		CHECK_MSG(r[1].space == 2 && !r[1].prefetchable && r[1].pci_addr == 0x40000000 &&
		       r[1].cpu_addr == 0x40000000 && r[1].size == 0x40000000, "mem32 window");
		CHECK_MSG(r[2].space == 3 && r[2].cpu_addr == r[2].pci_addr && r[2].size >= 1UL << 32 &&
		       r[2].cpu_addr >= 0x80000000UL + ram, "mem64 window 0x%lx +0x%lx below RAM end",
		       r[2].cpu_addr, r[2].size);
	}
	/* QEMU virt swizzles: slot s, INTx pin p -> PLIC 32 + (s + p - 1) % 4; the mask keeps
	 * only slot bits 0..1, so slot 5 routes as slot 1. */
	for (uint32_t slot = 0; slot < 6; slot++) {
		for (uint32_t pin = 1; pin <= 4; pin++) {
			uint32_t addr[3] = { slot << 11, 0, 0 };
			int rc = irq_map_dt(fdt, node, addr, 3, &pin, 1, &spec);

			CHECK_MSG(rc == 0 && spec_is(&spec, plic, 32 + (slot % 4 + pin - 1) % 4),
			       "slot %u pin %u: rc %d -> %u", slot, pin, rc, spec.cells[0]);
		}
	}
	return 0;
}

int check_qemu_devices(struct platform *plat, uint64_t ram)
{
	const void *fdt = plat->fdt;
	uint32_t plic = phandle_of(fdt, "/soc/plic@c000000");
	struct irq_spec spec;
	uint64_t base, size;
	int node, budget, nr_virtio = 0, len;

	CHECK_MSG(plic != 0, "no PLIC phandle");
	node = fdt_path_offset(fdt, "/soc/serial@10000000");
	CHECK_MSG(node >= 0 && dt_reg_phys(plat, fdt, node, 0, &base, &size) == 0 &&
	       base == 0x10000000 && size == 0x100, "uart reg");
	CHECK_MSG(node >= 0 && irq_parse_dt(fdt, node, 0, &spec) == 0 && spec_is(&spec, plic, 10),
	       "uart interrupt: parent 0x%x cell %u", spec.parent, spec.cells[0]);
	CHECK_MSG(node >= 0 && irq_parse_dt(fdt, node, 1, &spec) == -ENOENT, "uart has one interrupt");

	/* The PLIC's contexts: M and S of each hart, in hart order. */
	node = fdt_path_offset(fdt, "/soc/plic@c000000");
	const fdt32_t *ie = fdt_getprop(fdt, node, "interrupts-extended", &len);
	CHECK_MSG(ie && len == 16 * plat->nr_harts, "interrupts-extended %d bytes", ie ? len : 0);
	for (int ctx = 0; ctx < len / 8; ctx++) {
		unsigned long hartid = ~0UL;

		CHECK_MSG(irq_intc_hartid(fdt, fdt32_ld(ie + 2 * ctx), &hartid) == 0 &&
		       hartid == (unsigned long)ctx / 2, "context %d: hart %lu", ctx, hartid);
		CHECK_MSG(fdt32_ld(ie + 2 * ctx + 1) == (ctx % 2 ? 9u : 11u), "context %d cause", ctx);
	}

	static const char *const virtio[] = { "virtio,mmio" };
	dt_for_each_compatible(node, fdt, virtio, budget) {
		CHECK_MSG(dt_reg_phys(plat, fdt, node, 0, &base, &size) == 0 && size == 0x1000 &&
		       base >= 0x10001000 && base <= 0x10008000, "virtio reg 0x%lx", base);
		CHECK_MSG(irq_parse_dt(fdt, node, 0, &spec) == 0 &&
		       spec_is(&spec, plic, 1 + (uint32_t)((base - 0x10001000) / 0x1000)),
		       "virtio@0x%lx irq %u", base, spec.cells[0]);
		nr_virtio++;
	}
	CHECK_MSG(nr_virtio == 8, "%d virtio-mmio", nr_virtio);
	CHECK_RC(check_qemu_pci(plat, ram, plic));
	CHECK_MSG(plat->nr_warnings == 0 && log_find(LOG_WARN, "device tree:") < 0,
		  "device problems printed");
	return 0;
}

int check_cells1_uarts(struct platform *plat)
{
	const void *fdt = plat->fdt;
	int good = fdt_path_offset(fdt, "/bus@10000000/serial@0");
	int bad = fdt_path_offset(fdt, "/bus@10000000/serial@2000000");
	uint64_t base, size;
	struct irq_spec spec;

	CHECK_MSG(good >= 0 && dt_reg_phys(plat, fdt, good, 0, &base, &size) == 0 &&
	       base == 0x10000000, "serial@0 at 0x%lx", base);
	/* The fixture names no interrupt-parent anywhere: the interrupt cannot be resolved. */
	CHECK_MSG(irq_parse_dt(fdt, good, 0, &spec) == -EINVAL &&
	       log_find(LOG_WARN, "device tree: /bus@10000000/serial@0: has interrupts but no "
			"interrupt-parent") >= 0, "serial@0 interrupt");
	CHECK_MSG(bad >= 0 && dt_reg_phys(plat, fdt, bad, 0, &base, &size) == -EINVAL, "serial@2000000");
	CHECK_MSG(log_find(LOG_WARN, "device tree: /bus@10000000/serial@2000000: address 0x2000000 size "
			"0x100 not covered by the ranges of /bus@10000000") >= 0, "message");
	CHECK_MSG(plat->nr_warnings == 1, "%d warnings", plat->nr_warnings);
	return 0;
}

int check_pci_imap_fixture(struct platform *plat)
{
	const void *fdt = plat->fdt;
	int node = fdt_path_offset(fdt, "/soc/pci@30000000");
	uint32_t plic = phandle_of(fdt, "/soc/interrupt-controller@c000000");
	uint32_t other = phandle_of(fdt, "/soc/intc@d000000");
	uint32_t addr[3] = { 0, 0, 0 }, pin = 1;
	struct irq_spec spec;
	struct pci_host h;

	CHECK_MSG(pci_host_dt_parse(plat, fdt, node, &h) == 0 && h.bus_end == 1 &&
	       h.ecam_size == 0x200000, "pci");
	CHECK_MSG(h.nr_ranges == 3 && h.ranges[2].space == 3 && h.ranges[2].prefetchable &&
	       h.ranges[2].cpu_addr == 0x400000000UL && h.ranges[2].size == 0x400000000UL,
	       "%d ranges", h.nr_ranges);
	CHECK_MSG(log_find(LOG_WARN, "ranges entry 3 (configuration space) ignored") >= 0, "config");
	/* Rows of 7 cells (the PLIC has #address-cells 1); the parent's unit address is skipped. */
	CHECK_MSG(irq_map_dt(fdt, node, addr, 3, &pin, 1, &spec) == 0 && spec_is(&spec, plic, 0x20),
	       "slot 0 INTA");
	addr[0] = 1 << 11, pin = 2;
	CHECK_MSG(irq_map_dt(fdt, node, addr, 3, &pin, 1, &spec) == 0 && spec_is(&spec, plic, 0x22),
	       "slot 1 INTB");
	addr[0] = 2 << 11, pin = 1;
	CHECK_MSG(irq_map_dt(fdt, node, addr, 3, &pin, 1, &spec) == 0 && spec.parent == other &&
	       spec.nr_cells == 2 && spec.cells[0] == 5 && spec.cells[1] == 1,
	       "slot 2 INTA: another controller, two cells");
	addr[0] = 3 << 11;
	CHECK_MSG(irq_map_dt(fdt, node, addr, 3, &pin, 1, &spec) == -EINVAL &&
	       log_find(LOG_WARN, "interrupt parent 0x77 names no node") >= 0, "bad phandle");
	return 0;
}

/* Two sockets: a PLIC each, contexts of its own harts only; devices split between them. */
static int devices_two_sockets(void)
{
	static struct platform plat;
	char path[512];
	size_t size;
	void *fdt;
	int node, len;
	struct irq_spec spec;

	snprintf(path, sizeof(path), "%s/qemu-2g-4-2sockets.dtb", dtb_dir);
	fdt = load_file(path, &size);
	CHECK_MSG(fdt && platform_parse(&plat, fdt, size) == 0, "cannot parse %s", path);
	static const char *const plics[] = { "/soc/plic@c000000", "/soc/plic@c600000" };
	for (int p = 0; p < 2; p++) {
		node = fdt_path_offset(fdt, plics[p]);
		CHECK_MSG(node >= 0, "no %s", plics[p]);
		const fdt32_t *ie = fdt_getprop(fdt, node, "interrupts-extended", &len);
		CHECK_MSG(ie && len == 4 * 8, "%s: interrupts-extended %d bytes", plics[p],
			  ie ? len : 0);
		for (int ctx = 0; ctx < 4; ctx++) {
			unsigned long hartid = ~0UL;

			CHECK_MSG(irq_intc_hartid(fdt, fdt32_ld(ie + 2 * ctx), &hartid) == 0 &&
				      hartid == (unsigned long)(2 * p + ctx / 2),
				  "%s context %d: hart %lu", plics[p], ctx, hartid);
		}
	}
	uint32_t plic0 = phandle_of(fdt, plics[0]), plic1 = phandle_of(fdt, plics[1]);
	node = fdt_path_offset(fdt, "/soc/serial@10000000");
	CHECK_MSG(irq_parse_dt(fdt, node, 0, &spec) == 0 && spec_is(&spec, plic0, 10), "uart");
	node = fdt_path_offset(fdt, "/soc/virtio_mmio@10001000");
	CHECK_MSG(irq_parse_dt(fdt, node, 0, &spec) == 0 && spec_is(&spec, plic1, 1), "virtio");
	node = fdt_path_offset(fdt, "/soc/pci@30000000");
	uint32_t addr[3] = { 1 << 11, 0, 0 }, pin = 1;
	CHECK_MSG(irq_map_dt(fdt, node, addr, 3, &pin, 1, &spec) == 0 && spec_is(&spec, plic1, 33),
		  "pci slot 1 INTA: parent 0x%x line %u", spec.parent, spec.cells[0]);
	free(fdt);
	return 0;
}

/* ---- The walker, with stand-in drivers ------------------------------------------------------ */

static unsigned plic_enabled[128], uart_calls, mmio_calls, nr_not_mine;
static int deferred_node = -1;

static int test_xlate(struct irq_domain *d __unused, const struct irq_spec *s, uint32_t *hwirq)
{
	if (s->nr_cells != 1 || s->cells[0] >= 128)
		return -EINVAL;
	*hwirq = s->cells[0];
	return 0;
}

static int test_enable(struct irq_domain *d __unused, uint32_t hwirq)
{
	plic_enabled[hwirq]++;
	return 0;
}

static const struct irq_domain_ops test_ops = { .xlate = test_xlate, .enable = test_enable };
static struct irq_domain test_plic;

static int test_plic_probe(const struct dt_device *dev)
{
	test_plic = (struct irq_domain){ "test-plic", fdt_get_phandle(dev->fdt, dev->node),
					 &test_ops, NULL };
	return irq_domain_register(&test_plic);
}

static const char *const plic_compat[] = { "riscv,plic0", NULL };
DT_DRIVER(test_plic, .name = "test-plic", .compatible = plic_compat, .stage = DT_STAGE_IRQCHIP,
	  .probe = test_plic_probe);

static int not_mine_probe(const struct dt_device *dev __unused)
{
	nr_not_mine++;
	return -ENODEV;
}

static void count_irq(void *arg)
{
	++*(unsigned *)arg;
}

static unsigned uart_irqs, uart_irqs2;

static int test_uart_probe(const struct dt_device *dev)
{
	int rc = irq_request_dt(dev->fdt, dev->node, 0, count_irq, &uart_irqs);

	uart_calls++;
	/* A second handler on the same line: shared, enabled once. */
	return rc ? rc : irq_request_dt(dev->fdt, dev->node, 0, count_irq, &uart_irqs2);
}

static const char *const uart_compat[] = { "ns16550a", NULL };
DT_DRIVER(test_not_mine, .name = "not-mine", .compatible = uart_compat,
	  .stage = DT_STAGE_DEVICE, .probe = not_mine_probe);
DT_DRIVER(test_uart, .name = "test-uart", .compatible = uart_compat, .stage = DT_STAGE_DEVICE,
	  .probe = test_uart_probe);

/* The first virtio slot asks to be asked again; the last slot fails outright. */
static int test_mmio_probe(const struct dt_device *dev)
{
	mmio_calls++;
	if (deferred_node < 0) {
		deferred_node = dev->node;
		return -EAGAIN;
	}
	return strcmp(dev->name, "/soc/virtio_mmio@10001000") == 0 ? -EIO : 0;
}

static const char *const mmio_compat[] = { "virtio,mmio", NULL };
DT_DRIVER(test_mmio, .name = "test-mmio", .compatible = mmio_compat, .stage = DT_STAGE_DEVICE,
	  .probe = test_mmio_probe);

static int devices_walker(void)
{
	static struct platform plat;
	char path[512];
	size_t size;
	void *fdt;
	int rc;

	snprintf(path, sizeof(path), "%s/qemu-3g-4.dtb", dtb_dir);
	fdt = load_file(path, &size);
	CHECK_MSG(fdt && platform_parse(&plat, fdt, size) == 0, "cannot parse %s", path);
	rc = dt_probe_stage(&plat, fdt, DT_STAGE_IRQCHIP);
	CHECK_MSG(rc == 0 && irq_domain_find(test_plic.phandle) == &test_plic, "irqchip stage: %d", rc);
	rc = dt_probe_stage(&plat, fdt, DT_STAGE_DEVICE);
	/* Failures: the -EIO slot. The deferred one bound on its second offer. */
	CHECK_MSG(rc == 1, "device stage: %d failures", rc);
	CHECK_MSG(log_find(LOG_ERR, "test-mmio: /soc/virtio_mmio@10001000: probe failed (EIO)") >= 0,
	       "failure message");
	CHECK_MSG(mmio_calls == 9 && dt_bound_driver(deferred_node) &&
	       strcmp(dt_bound_driver(deferred_node)->name, "test-mmio") == 0,
	       "%u virtio probes, deferred node bound", mmio_calls);
	int uart = fdt_path_offset(fdt, "/soc/serial@10000000");
	CHECK_MSG(dt_bound_driver(uart) && strcmp(dt_bound_driver(uart)->name, "test-uart") == 0 &&
		  uart_calls == 1, "uart not bound to test-uart (%u probes)", uart_calls);
	CHECK_MSG(plic_enabled[10] == 1, "line 10 enabled %u times", plic_enabled[10]);
	irq_dispatch(&test_plic, 10);
	CHECK_MSG(uart_irqs == 1 && uart_irqs2 == 1, "shared line: %u %u", uart_irqs, uart_irqs2);
	int pci = fdt_path_offset(fdt, "/soc/pci@30000000");
	CHECK_MSG(dt_bound_driver(pci) && nr_pci_init == 1, "the real PCI host driver bound");
	/* A second walk binds nothing twice. */
	CHECK_MSG(dt_probe_stage(&plat, fdt, DT_STAGE_DEVICE) == 1 && uart_calls == 1,
	       "second walk");
	log_clear();
	dt_print_devices(fdt);
	CHECK_MSG(log_has("/soc/serial@10000000") && log_has("test-uart"), "dt_print_devices:\n%s",
		  log_text());
	free(fdt);
	return 0;
}

TEST_SUITE(devices_suite, "devices",
	   CASE(devices_two_sockets),
	   CASE(devices_walker))
