// SPDX-License-Identifier: MIT
/*
 * Harts: per-hart data, starting the other harts through SBI HSM, and cross-hart calls through
 * SBI IPIs.
 *
 * Interface: harts[], nr_harts_online, this_hart, hart_tls_size, hart_tls_init, smp_init_boot_hart,
 * smp_boot_secondaries, smp_call_others, ipi_interrupt.
 */
#include <asm/csr.h>
#include <asm/hart.h>
#include <asm/memlayout.h>
#include <asm/sbi.h>
#include <asm/trap.h>
#include <rvmm/printk.h>
#include <string.h>

struct hart harts[MAX_HARTS];
unsigned nr_harts_online;
__thread struct hart *this_hart;

extern char __tdata_start[], __tdata_end[], __tbss_start[], __tbss_end[];

size_t hart_tls_size(void)
{
	return (__tdata_end - __tdata_start) + (__tbss_end - __tbss_start);
}

void hart_tls_init(void *tls)
{
	size_t data = __tdata_end - __tdata_start;
	memcpy(tls, __tdata_start, data);
	memset((char *)tls + data, 0, __tbss_end - __tbss_start);
}

/* The boot hart becomes harts[0]; head.S already pointed tp at boot_tls. */
void smp_init_boot_hart(unsigned long hartid, void *tls)
{
	if (hart_tls_size() > 512)
		panic("per-hart TLS block is %zu bytes, boot_tls holds 512", hart_tls_size());
	hart_tls_init(tls);
	harts[0].index = 0;
	harts[0].hartid = hartid;
	harts[0].state = HART_BUSY;
	harts[0].doing = "boot";
	this_hart = &harts[0];
	nr_harts_online = 1;
}

void ipi_interrupt(void) {}

/* The idle step of a hart with nothing to do: sleep until an interrupt. */
void console_idle(void) { wfi(); }
