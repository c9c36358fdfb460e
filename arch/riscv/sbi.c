// SPDX-License-Identifier: MIT
/*
 * SBI calls (RISC-V SBI spec v2.0). Each extension is probed once at sbi_init(); a call to an
 * absent extension returns -ENOTSUP. SBI error codes become negative errno at this boundary.
 */
#include <asm/sbi.h>
#include <rvmm/errno.h>

#define EXT_BASE 0x10
#define EXT_TIME 0x54494D45
#define EXT_IPI 0x735049
#define EXT_RFENCE 0x52464E43
#define EXT_HSM 0x48534D
#define EXT_SRST 0x53525354
#define EXT_DBCN 0x4442434E
#define EXT_LEGACY_PUTCHAR 0x01

struct sbiret {
	long error;
	long value;
};

static struct {
	bool time, ipi, rfence, hsm, srst, dbcn;
	unsigned long spec_version, impl_id, impl_version;
} sbi;

static struct sbiret sbi_call(unsigned long ext, unsigned long fid, unsigned long a0,
			      unsigned long a1, unsigned long a2, unsigned long a3)
{
	register unsigned long r0 __asm__("a0") = a0;
	register unsigned long r1 __asm__("a1") = a1;
	register unsigned long r2 __asm__("a2") = a2;
	register unsigned long r3 __asm__("a3") = a3;
	register unsigned long r6 __asm__("a6") = fid;
	register unsigned long r7 __asm__("a7") = ext;
	__asm__ volatile("ecall"
			 : "+r"(r0), "+r"(r1)
			 : "r"(r2), "r"(r3), "r"(r6), "r"(r7)
			 : "memory");
	return (struct sbiret){ (long)r0, (long)r1 };
}

static int sbi_errno(long error)
{
	switch (error) {
	case 0: return 0;
	case -2: return -ENOTSUP;   /* SBI_ERR_NOT_SUPPORTED */
	case -3: return -EINVAL;    /* SBI_ERR_INVALID_PARAM */
	case -4: return -EPERM;     /* SBI_ERR_DENIED */
	case -5: return -EFAULT;    /* SBI_ERR_INVALID_ADDRESS */
	case -6: return -EBUSY;     /* SBI_ERR_ALREADY_AVAILABLE */
	case -7: return -EBUSY;     /* SBI_ERR_ALREADY_STARTED */
	case -8: return -EAGAIN;    /* SBI_ERR_ALREADY_STOPPED */
	default: return -EIO;
	}
}

static bool probe(unsigned long ext) { return sbi_call(EXT_BASE, 3, ext, 0, 0, 0).value != 0; }

void sbi_init(void)
{
	sbi.spec_version = sbi_call(EXT_BASE, 0, 0, 0, 0, 0).value;
	sbi.impl_id = sbi_call(EXT_BASE, 1, 0, 0, 0, 0).value;
	sbi.impl_version = sbi_call(EXT_BASE, 2, 0, 0, 0, 0).value;
	sbi.time = probe(EXT_TIME);
	sbi.ipi = probe(EXT_IPI);
	sbi.rfence = probe(EXT_RFENCE);
	sbi.hsm = probe(EXT_HSM);
	sbi.srst = probe(EXT_SRST);
	sbi.dbcn = probe(EXT_DBCN);
}

void sbi_console_putc(char c)
{
	if (sbi.dbcn)
		sbi_call(EXT_DBCN, 2, (unsigned char)c, 0, 0, 0);
	else
		sbi_call(EXT_LEGACY_PUTCHAR, 0, (unsigned char)c, 0, 0, 0);
}

void sbi_console_write(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		sbi_console_putc(s[i]);
}

int sbi_set_timer(uint64_t stime_value)
{
	if (!sbi.time)
		return sbi_errno(sbi_call(0x00, 0, stime_value, 0, 0, 0).error);
	return sbi_errno(sbi_call(EXT_TIME, 0, stime_value, 0, 0, 0).error);
}

int sbi_send_ipi(unsigned long hart_mask, unsigned long hart_mask_base)
{
	if (!sbi.ipi)
		return -ENOTSUP;
	return sbi_errno(sbi_call(EXT_IPI, 0, hart_mask, hart_mask_base, 0, 0).error);
}

int sbi_remote_sfence_vma(unsigned long hart_mask, unsigned long hart_mask_base, uintptr_t start,
			  size_t size)
{
	if (!sbi.rfence)
		return -ENOTSUP;
	return sbi_errno(sbi_call(EXT_RFENCE, 1, hart_mask, hart_mask_base, start, size).error);
}

int sbi_hart_start(unsigned long hartid, phys_addr_t start_pa, unsigned long opaque)
{
	if (!sbi.hsm)
		return -ENOTSUP;
	return sbi_errno(sbi_call(EXT_HSM, 0, hartid, start_pa, opaque, 0).error);
}

__noreturn void sbi_hart_stop(void)
{
	if (sbi.hsm)
		sbi_call(EXT_HSM, 1, 0, 0, 0, 0); /* returns only on failure */
	for (;;)
		__asm__ volatile("wfi");
}

long sbi_hart_status(unsigned long hartid)
{
	if (!sbi.hsm)
		return -ENOTSUP;
	struct sbiret r = sbi_call(EXT_HSM, 2, hartid, 0, 0, 0);
	return r.error ? sbi_errno(r.error) : r.value;
}

__noreturn void sbi_shutdown(void)
{
	if (sbi.srst)
		sbi_call(EXT_SRST, 0, 0 /* shutdown */, 0 /* no reason */, 0, 0);
	sbi_call(0x08, 0, 0, 0, 0, 0); /* legacy shutdown */
	for (;;)
		__asm__ volatile("wfi");
}

const char *sbi_impl_name(void)
{
	switch (sbi.impl_id) {
	case 0: return "BBL";
	case 1: return "OpenSBI";
	case 2: return "Xvisor";
	case 3: return "KVM";
	case 4: return "RustSBI";
	default: return "unknown SBI";
	}
}

unsigned long sbi_spec_version(void) { return sbi.spec_version; }
unsigned long sbi_impl_version(void) { return sbi.impl_version; }
