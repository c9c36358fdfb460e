/* SPDX-License-Identifier: MIT */
/*
 * Calls into the SBI firmware (OpenSBI): console before the UART is up, timer, IPIs, remote
 * fences, hart start (HSM) and system reset. Errors come back as negative errno.
 *
 * Interface: sbi_init, sbi_console_putc, sbi_set_timer, sbi_send_ipi, sbi_remote_sfence_vma,
 * sbi_hart_start, sbi_hart_stop, sbi_hart_status, sbi_shutdown.
 */
#ifndef ASM_SBI_H
#define ASM_SBI_H

#include <rvmm/types.h>

void sbi_init(void);
void sbi_console_putc(char c);
void sbi_console_write(const char *s, size_t len);
int sbi_set_timer(uint64_t stime_value);
/* hart_mask bit i = hart (hart_mask_base + i). */
int sbi_send_ipi(unsigned long hart_mask, unsigned long hart_mask_base);
int sbi_remote_sfence_vma(unsigned long hart_mask, unsigned long hart_mask_base, uintptr_t start,
			  size_t size);
int sbi_hart_start(unsigned long hartid, phys_addr_t start_pa, unsigned long opaque);
/* Give this hart back to the firmware (HSM hart_stop); without HSM, park it. Never returns. */
__noreturn void sbi_hart_stop(void);
/* SBI_HSM_* state, or a negative errno. */
long sbi_hart_status(unsigned long hartid);
__noreturn void sbi_shutdown(void);
/* "OpenSBI 1.5" and the like, for `version`. */
const char *sbi_impl_name(void);
unsigned long sbi_spec_version(void);
unsigned long sbi_impl_version(void);

#define SBI_HSM_STARTED 0
#define SBI_HSM_STOPPED 1
#define SBI_HSM_START_PENDING 2

#endif
