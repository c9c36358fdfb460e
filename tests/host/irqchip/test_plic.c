// SPDX-License-Identifier: MIT
//
// Host tests of the PLIC driver (drivers/irqchip/plic.c), probed by the real driver walker and
// used through the real interrupt-domain layer, against a simulated PLIC register file (priority,
// per-context enable bits, threshold, claim/complete), on QEMU virt's own trees with one PLIC and
// with one per socket (-numa). What they pin down: a PLIC's S-mode contexts come from its
// interrupts-extended, not from 2 * hartid + 1; a line is routed to a hart that PLIC reaches (the
// boot hart if it can, else the first online one); each hart claims only from its own context.

#include <string.h>

#include <asm/hart.h>
#include <rvmm/device.h>
#include <rvmm/errno.h>
#include <rvmm/irq.h>
#include <rvmm/platform.h>

#include <libfdt.h>

#include "../virtio/host.h"
#include "log.h"
#include "qemu_dtb.h"
#include "test.h"

#define PLIC_SIZE 0x600000
#define NR_CTX 16

struct hart harts[MAX_HARTS];
struct hart *this_hart = &harts[0];
unsigned nr_harts_online;
struct platform platform;

/* ---- simulated PLIC: only the registers the driver uses ---- */

static struct sim_plic {
	uint32_t priority[128];
	uint32_t enable[NR_CTX][4];
	uint32_t threshold[NR_CTX];
	uint32_t pending[4];
	unsigned claims[NR_CTX]; /* claims answered with a line, per context */
} plics[2];

static uint32_t best_pending(struct sim_plic *p, unsigned ctx)
{
	for (uint32_t irq = 1; irq < 128; irq++)
		if ((p->pending[irq / 32] & p->enable[ctx][irq / 32] & (1u << (irq % 32))) &&
		    p->priority[irq] > p->threshold[ctx])
			return irq;
	return 0;
}

static uint64_t plic_read(void *ctx, uint64_t off, unsigned size __unused)
{
	struct sim_plic *p = ctx;

	if (off < 0x1000)
		return p->priority[off / 4 % 128];
	if (off >= 0x2000 && off < 0x2000 + 0x80 * NR_CTX)
		return p->enable[(off - 0x2000) / 0x80][(off - 0x2000) % 0x80 / 4 % 4];
	if (off >= 0x200000 && (off - 0x200000) / 0x1000 < NR_CTX) {
		unsigned c = (unsigned)(off - 0x200000) / 0x1000;
		if ((off & 0xfff) == 0)
			return p->threshold[c];
		if ((off & 0xfff) == 4) {
			uint32_t irq = best_pending(p, c);
			if (irq) {
				p->pending[irq / 32] &= ~(1u << (irq % 32));
				p->claims[c]++;
			}
			return irq;
		}
	}
	return 0;
}

static void plic_write(void *ctx, uint64_t off, uint64_t val, unsigned size __unused)
{
	struct sim_plic *p = ctx;

	if (off < 0x1000)
		p->priority[off / 4 % 128] = (uint32_t)val;
	else if (off >= 0x2000 && off < 0x2000 + 0x80 * NR_CTX)
		p->enable[(off - 0x2000) / 0x80][(off - 0x2000) % 0x80 / 4 % 4] = (uint32_t)val;
	else if (off >= 0x200000 && (off - 0x200000) / 0x1000 < NR_CTX && (off & 0xfff) == 0)
		p->threshold[(off - 0x200000) / 0x1000] = (uint32_t)val;
	/* A write to claim/complete completes: nothing to model for edge-free lines. */
}

static const struct host_mmio_ops plic_ops = { plic_read, plic_write };

/* ---- machine ---- */

// n harts with ids 0..n-1, hart boot_hartid the boot hart (index 0), all online.
static void set_harts(unsigned n, unsigned long boot_hartid)
{
	nr_harts_online = n;
	for (unsigned i = 0; i < n; i++)
		harts[i] = (struct hart){ .index = i, .hartid = i, .state = HART_IDLE };
	harts[boot_hartid] = (struct hart){ .index = (unsigned)boot_hartid, .hartid = 0,
					    .state = HART_IDLE };
	harts[0] = (struct hart){ .index = 0, .hartid = boot_hartid, .state = HART_IDLE };
	this_hart = &harts[0];
}

static const void *dtb;

static int setup(const char *name, unsigned nplics, unsigned long boot_hartid)
{
	const void *fdt = dtb = load_qemu_dtb(name);

	CHECK_MSG(fdt && platform_parse(&platform, fdt, fdt_totalsize(fdt)) == 0,
		  "cannot read %s (make irqchip-tests dumps it)", name);
	memset(plics, 0, sizeof(plics));
	for (unsigned k = 0; k < nplics; k++)
		host_mmio_add(0xc000000UL + k * PLIC_SIZE, PLIC_SIZE, &plic_ops, &plics[k]);
	set_harts(4, boot_hartid);
	CHECK_EQ(dt_probe_stage(&platform, fdt, DT_STAGE_IRQCHIP), 0);
	return 0;
}

static unsigned fired[128];
static void handler(void *arg)
{
	fired[(uintptr_t)arg]++;
}

// Raise line irq of PLIC k and take the external interrupt on every hart.
static void raise_and_take(unsigned k, uint32_t irq)
{
	plics[k].pending[irq / 32] |= 1u << (irq % 32);
	for (unsigned i = 0; i < nr_harts_online; i++) {
		this_hart = &harts[i];
		irq_handle_external();
	}
	this_hart = &harts[0];
}

/* QEMU: context 2h is hart h's M-mode, 2h + 1 its S-mode. */
static unsigned s_ctx(unsigned long hartid, unsigned per_plic)
{
	return 2 * (unsigned)(hartid % per_plic) + 1;
}

static int test_one_plic_routes_to_boot_hart(void)
{
	struct irq_spec uart = { 0 };

	CHECK_RC(setup("none-1.dtb", 1, 2));
	CHECK_RC(irq_parse_dt(dtb, fdt_path_offset(dtb, "/soc/serial@10000000"), 0, &uart));
	CHECK_RC(irq_request(&uart, handler, (void *)10));
	/* Boot hart id 2: its S context is 5 (from interrupts-extended), threshold 0 at probe. */
	CHECK_EQ(plics[0].enable[s_ctx(2, 4)][0], 1u << 10);
	CHECK_EQ(plics[0].enable[s_ctx(0, 4)][0], 0);
	CHECK_EQ(plics[0].priority[10], 1);
	raise_and_take(0, 10);
	CHECK_EQ(fired[10], 1);
	CHECK_EQ(plics[0].claims[s_ctx(2, 4)], 1);
	/* A line the DT does not have, and a specifier of the wrong size, are refused. */
	struct irq_spec bad = { uart.parent, 1, { 96 } };
	CHECK_EQ(irq_request(&bad, handler, NULL), -EINVAL);
	bad = (struct irq_spec){ uart.parent, 2, { 10, 4 } };
	CHECK_EQ(irq_request(&bad, handler, NULL), -EINVAL);
	return 0;
}

static int test_two_sockets_each_plic_its_harts(void)
{
	uint32_t p0, p1;

	CHECK_RC(setup("none-2.dtb", 2, 0));
	p0 = phandle_at(dtb, "/soc/plic@c000000");
	p1 = phandle_at(dtb, "/soc/plic@c600000");
	CHECK(p0 && p1 && irq_domain_find(p0) && irq_domain_find(p1));
	/* Each hart's threshold set in its own PLIC only (contexts 1, 3 of each: harts 0-1, 2-3). */
	struct irq_spec virtio = { p1, 1, { 1 } }, uart = { p0, 1, { 10 } };
	CHECK_RC(irq_request(&uart, handler, (void *)10));
	CHECK_RC(irq_request(&virtio, handler, (void *)1));
	/* The second PLIC does not reach the boot hart (id 0): its first online hart, id 2. */
	CHECK_EQ(plics[1].enable[s_ctx(2, 2)][0], 1u << 1);
	CHECK_EQ(plics[0].enable[s_ctx(0, 2)][0], 1u << 10);
	raise_and_take(1, 1);
	raise_and_take(0, 10);
	CHECK_EQ(fired[1], 1);
	CHECK_EQ(fired[10], 1);
	CHECK_EQ(plics[1].claims[s_ctx(2, 2)], 1);
	CHECK_EQ(plics[0].claims[s_ctx(0, 2)], 1);
	return 0;
}

static int test_socket_without_online_hart(void)
{
	CHECK_RC(setup("none-2.dtb", 2, 0));
	harts[2].state = HART_OFF;
	harts[3].state = HART_OFF;
	struct irq_spec virtio = { phandle_at(dtb, "/soc/plic@c600000"), 1, { 1 } };
	CHECK_EQ(irq_request(&virtio, handler, (void *)1), -ENODEV);
	CHECK(log_has("reaches no online hart: line 1 stays off"));
	return 0;
}

static int test_shared_line_enabled_once(void)
{
	CHECK_RC(setup("none-1.dtb", 1, 0));
	struct irq_spec line = { phandle_at(dtb, "/soc/plic@c000000"), 1, { 33 } };
	CHECK_RC(irq_request(&line, handler, (void *)33));
	CHECK_RC(irq_request(&line, handler, (void *)34));
	raise_and_take(0, 33);
	CHECK_EQ(fired[33], 1);
	CHECK_EQ(fired[34], 1);
	CHECK_EQ(plics[0].claims[s_ctx(0, 4)], 1);
	return 0;
}

static const struct test_case cases[] = {
	CASE(test_one_plic_routes_to_boot_hart),
	CASE(test_two_sockets_each_plic_its_harts),
	CASE(test_socket_without_online_hart),
	CASE(test_shared_line_enabled_once),
};

int main(int argc, char **argv)
{
	return test_main("plic", cases, ARRAY_SIZE(cases), argc, argv);
}
