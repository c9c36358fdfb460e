// SPDX-License-Identifier: MIT
/*
 * Boot, as a flat list of steps: each one either works or says why we cannot go on.
 * head.S has set up a stack, the first page tables (early_vm.c) and jumped to the upper half.
 */
#include <asm/csr.h>
#include <asm/hart.h>
#include <asm/sbi.h>
#include <asm/setup.h>
#include <asm/trap.h>
#include <rvmm/arch_mm.h>
#include <rvmm/arch_cpu.h>
#include <rvmm/cmdline.h>
#include <rvmm/device.h>
#include <rvmm/fault_inject.h>
#include <rvmm/kernel.h>
#include <rvmm/mm.h>
#include <rvmm/page_alloc.h>
#include <rvmm/platform.h>
#include <rvmm/printk.h>
#include <string.h>

struct platform platform;
uint64_t boot_start_ticks, boot_done_ns;

extern char boot_tls[], _kimage_start[], _kimage_end[];
extern uint8_t early_dtb[];
extern uint32_t early_dtb_size;
extern phys_addr_t early_dtb_pa;

__noreturn void start_kernel(unsigned long hartid, phys_addr_t dtb_pa, uint64_t start_ticks)
{
	int rc;

	boot_start_ticks = start_ticks;
	early_identity_remove();
	smp_init_boot_hart(hartid, boot_tls);
	sbi_init();
	console_set_sink(sbi_console_write);
	arch_mm_layout_init();
	pr_info("rvmm %s: hart %lu, %s paging, %s %lu.%lu", rvmm_version, hartid, arch_paging_mode(),
		sbi_impl_name(), sbi_impl_version() >> 16, sbi_impl_version() & 0xffff);
	if (arch_pgtable_levels() < 4)
		pr_warn("this hart has no Sv48: running with Sv39 (at most %lu GiB of RAM)",
			(unsigned long)(mm_layout.max_phys >> 30));

	rc = platform_parse(&platform, early_dtb, early_dtb_size);
	if (rc)
		panic("the device tree at 0x%lx is unusable (%d): cannot go on", (unsigned long)dtb_pa, rc);
	platform.dtb_pa = early_dtb_pa;
	rc = platform_check_reserved(&platform, mm_layout.kimage_pa,
				     mm_layout.kimage_pa + (_kimage_end - _kimage_start));
	if (rc)
		panic("the device tree reserves memory rvmm is loaded in: cannot go on");
	cmdline_parse(platform.bootargs, &cmdline);
	fault_inject_set(cmdline.failalloc); /* failalloc=N: the first hot-plug step's Nth point */
	if (cmdline.loglevel >= 0)
		console_loglevel_set_linux(cmdline.loglevel);
	timer_init(platform.timebase_hz, platform.nr_harts && plat_hart_has_ext(&platform.harts[0], "sstc"));

	rc = mm_boot_init(&platform, cmdline.mem);
	if (rc)
		panic("memory set-up failed (%d): cannot go on", rc);
	if (!cmdline.deferred_init)
		while (deferred_init_step())
			; /* deferred_init=off: every descriptor now, as a kernel without lazy init would */

	/* Interrupt controllers first: every hart sets its part up as it starts (irq_init_hart). */
	if (dt_probe_stage(&platform, platform.fdt, DT_STAGE_IRQCHIP))
		pr_warn("boot: an interrupt controller failed to probe: its devices will poll");
	trap_init_hart();
	timer_init_hart();
	csr_set(sstatus, SSTATUS_SIE);
	smp_boot_secondaries(&platform, cmdline.nosmp);
	/* Then the devices, once every hart is up: a controller routes lines to online harts. */
	rc = dt_probe_stage(&platform, platform.fdt, DT_STAGE_DEVICE);
	if (rc)
		pr_warn("boot: %d device%s failed to probe (see above)", rc, rc > 1 ? "s" : "");

	boot_done_ns = arch_time_ns();
	pr_info("boot: %lu.%03lu ms from the first instruction to the prompt",
		(unsigned long)((boot_done_ns - ticks_to_ns(boot_start_ticks)) / 1000000),
		(unsigned long)((boot_done_ns - ticks_to_ns(boot_start_ticks)) / 1000 % 1000));
	this_hart->state = HART_IDLE;
	this_hart->doing = "console";
	console_loop();
}
