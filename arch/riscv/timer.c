// SPDX-License-Identifier: MIT
/*
 * Time: rdtime for clocks, and a periodic tick per hart through Sstc's stimecmp when the hart has
 * it, else the SBI TIME extension.
 *
 * Interface: timer_init (boot, after the DT), timer_init_hart, timer_interrupt, arch_time_ns,
 * jiffies.
 */
#include <asm/csr.h>
#include <asm/hart.h>
#include <asm/sbi.h>
#include <asm/setup.h>
#include <asm/trap.h>
#include <rvmm/arch_cpu.h>
#include <rvmm/printk.h>

#define HZ 100
#define CSR_STIMECMP 0x14d

static uint64_t timebase_hz = 10000000; /* QEMU virt's; replaced by the DT's */
static bool use_sstc;
volatile uint64_t jiffies;

uint64_t ticks_to_ns(uint64_t t)
{
	return t / timebase_hz * 1000000000ULL + t % timebase_hz * 1000000000ULL / timebase_hz;
}

uint64_t arch_time_ns(void) { return ticks_to_ns(rdtime()); }

static void timer_arm(void)
{
	uint64_t next = rdtime() + timebase_hz / HZ;
	if (use_sstc)
		__asm__ volatile("csrw 0x14d, %0" ::"r"(next));
	else
		sbi_set_timer(next);
}

void timer_interrupt(void)
{
	if (this_hart->index == 0)
		jiffies++;
	this_hart->ticks++;
	timer_arm();
}

void timer_init(uint64_t dt_timebase_hz, bool sstc)
{
	if (dt_timebase_hz)
		timebase_hz = dt_timebase_hz;
	use_sstc = sstc;
	pr_info("timer: %lu Hz timebase, %d Hz tick through %s", (unsigned long)timebase_hz, HZ,
		sstc ? "Sstc" : "SBI TIME");
}

void timer_init_hart(void) { timer_arm(); }
