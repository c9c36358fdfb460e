// SPDX-License-Identifier: MIT
/*
 * RISC-V IMSIC (incoming MSI controller, AIA 1.0 chapter 3), found in the DT as riscv,imsics.
 *
 * Every hart has an S-level interrupt file: a 4 KiB page a device writes an interrupt identity
 * to (seteipnum_le at offset 0), and behind it pending (eip) and enable (eie) bits that only
 * that hart reaches, through siselect/sireg. The hart takes an S-mode external interrupt while an
 * enabled identity is pending, and claims the highest one through stopei.
 *
 * Where the files are: the node's interrupts-extended lists the harts in order, file i being at
 * i << (guest-index-bits + 12) bytes into the concatenation of the reg regions. With several
 * sockets each socket's files form one region, and the group index (the socket) sits in the
 * address bits at riscv,group-index-shift.
 *
 * Policy: every identity 1..num-ids is enabled in every hart's file from the start, so that no
 * hart has to reach into another's CSRs when a vector is allocated; a message nobody asked for is
 * reported by the hart that receives it. Vectors are allocated for the boot hart's file.
 *
 * Interface: imsic_probe, imsic_init_hart, imsic_handle_irq, imsic_hart_index, imsic_dump, and
 * msi.h (msi_available, msi_alloc, msi_free).
 */
#include <asm/aia.h>
#include <asm/hart.h>
#include <rvmm/errno.h>
#include <rvmm/irqchip.h>
#include <rvmm/msi.h>
#include <rvmm/printk.h>
#include <rvmm/spinlock.h>

#include "irqchip_dt.h"

#define IMSIC_MAX_IDS 2048        /* riscv,num-ids is 63..2047 */
#define IMSIC_FILE_SHIFT 12       /* an interrupt file is one 4 KiB page */
#define IMSIC_MAX_REGS 8          /* one region per socket on QEMU virt (8 sockets at most) */
#define S_EXT_CAUSE 9             /* interrupts-extended cause of the S-level files */
#define M_EXT_CAUSE 11

struct imsic_file {
	uint32_t hartid;
	phys_addr_t pa;
};

static struct {
	bool ready;
	uint32_t nr_ids;
	uint32_t guest_bits, hart_bits, group_bits, group_shift;
	struct imsic_file files[MAX_HARTS];
	unsigned nr_files;
	phys_addr_t boot_file;      /* where vectors from msi_alloc() are written */
	char name[IRQCHIP_DT_PATH_LEN];
	/* handler[id] and arg[id] for each allocated identity; NULL: free. */
	void (*handler[IMSIC_MAX_IDS])(void *arg);
	void *arg[IMSIC_MAX_IDS];
	unsigned nr_allocated;
	unsigned long unexpected;   /* identities claimed without a handler */
} imsic;

/*
 * imsic_lock: protects the allocation of identities (handler/arg slots and nr_allocated).
 * Taken by msi_alloc/msi_free (probe time, any hart). The interrupt path reads handler[]
 * without it: a slot is filled before its identity is given to a device, and cleared only after
 * the device stopped using it. A leaf lock: nothing is taken while holding it.
 */
static spinlock_t imsic_lock = SPINLOCK_INIT("imsic_lock", LOCK_CLASS_NONE);

static uint32_t bits_for(uint32_t n)
{
	uint32_t b = 0;

	while ((1UL << b) < n)
		b++;
	return b;
}

// One optional cell with a default and a range; -EINVAL after a message if out of range.
static int read_param(const void *fdt, int node, const char *prop, uint32_t dflt, uint32_t max,
		      uint32_t *out)
{
	int rc = irqchip_dt_u32(fdt, node, prop, out);

	if (rc == -ENOENT) {
		*out = dflt;
		return 0;
	}
	if (rc || *out > max) {
		pr_err("imsic: %s: %s %s, ignored", imsic.name, prop,
		       rc ? "is not one cell" : "is out of range");
		return -EINVAL;
	}
	return 0;
}

// File i's address: i files of (1 << guest_bits) pages into the regions, in reg order.
static int file_address(const void *fdt, int node, unsigned i, phys_addr_t *pa)
{
	uint64_t off = (uint64_t)i << (imsic.guest_bits + IMSIC_FILE_SHIFT);
	uint64_t base, size;

	for (int r = 0; r < IMSIC_MAX_REGS; r++) {
		if (irqchip_dt_reg(fdt, node, r, &base, &size))
			break;
		if (off < size) {
			if (off + (1UL << IMSIC_FILE_SHIFT) > size)
				break;
			*pa = base + off;
			return 0;
		}
		off -= size;
	}
	pr_err("imsic: %s: the reg regions hold no interrupt file for hart entry %u", imsic.name, i);
	return -EINVAL;
}

// The harts of interrupts-extended, in order: file i belongs to files[i].hartid.
static int read_harts(const void *fdt, int node)
{
	static struct irqchip_hart_ctx ctx[MAX_HARTS];
	int n = irqchip_dt_hart_contexts(fdt, node, ctx, MAX_HARTS);

	if (n < 0) {
		pr_err("imsic: %s: interrupts-extended %s", imsic.name,
		       n == -ENOENT ? "is missing" : "does not name harts (or too many)");
		return -EINVAL;
	}
	if (ctx[0].cause == M_EXT_CAUSE)
		return -ENODEV; /* the M-level files: OpenSBI's */
	for (int i = 0; i < n; i++) {
		if (ctx[i].cause != S_EXT_CAUSE) {
			pr_err("imsic: %s: entry %d is local interrupt %u, not the S-level external "
			       "interrupt (9)", imsic.name, i, ctx[i].cause);
			return -EINVAL;
		}
		imsic.files[i].hartid = ctx[i].hartid;
	}
	imsic.nr_files = (unsigned)n;
	return 0;
}

static const struct imsic_file *file_of(unsigned long hartid)
{
	for (unsigned i = 0; i < imsic.nr_files; i++)
		if (imsic.files[i].hartid == hartid)
			return &imsic.files[i];
	return NULL;
}

int imsic_probe(const void *fdt, int node)
{
	const struct imsic_file *boot;
	int rc;

	if (imsic.ready)
		return -EBUSY; /* one S-level IMSIC node describes every hart's file */
	irqchip_dt_path(fdt, node, imsic.name);
	rc = read_harts(fdt, node);
	if (rc)
		return rc;
	if (irqchip_dt_u32(fdt, node, "riscv,num-ids", &imsic.nr_ids) || imsic.nr_ids < 63 ||
	    imsic.nr_ids >= IMSIC_MAX_IDS) {
		pr_err("imsic: %s: riscv,num-ids is missing or not 63..2047", imsic.name);
		return -EINVAL;
	}
	if (read_param(fdt, node, "riscv,guest-index-bits", 0, 6, &imsic.guest_bits) ||
	    read_param(fdt, node, "riscv,hart-index-bits", bits_for(imsic.nr_files), 15,
		       &imsic.hart_bits) ||
	    read_param(fdt, node, "riscv,group-index-bits", 0, 7, &imsic.group_bits) ||
	    read_param(fdt, node, "riscv,group-index-shift", 24, 55, &imsic.group_shift))
		return -EINVAL;
	for (unsigned i = 0; i < imsic.nr_files; i++)
		if (file_address(fdt, node, i, &imsic.files[i].pa))
			return -EINVAL;
	boot = file_of(harts[0].hartid);
	if (!boot) {
		pr_err("imsic: %s: no interrupt file for the boot hart %lu", imsic.name,
		       harts[0].hartid);
		return -EINVAL;
	}
	imsic.boot_file = boot->pa;
	imsic.ready = true;
	pr_info("imsic: %s: %u S-level files (%u bits hart index, %u bits group at %u), %u ids",
		imsic.name, imsic.nr_files, imsic.hart_bits, imsic.group_bits, imsic.group_shift,
		imsic.nr_ids);
	return 0;
}

int imsic_hart_index(unsigned long hartid, uint32_t *index)
{
	const struct imsic_file *f = imsic.ready ? file_of(hartid) : NULL;
	uint64_t hart, group;

	if (!f)
		return -ENODEV;
	hart = (f->pa >> (imsic.guest_bits + IMSIC_FILE_SHIFT)) & ((1UL << imsic.hart_bits) - 1);
	group = (f->pa >> imsic.group_shift) & ((1UL << imsic.group_bits) - 1);
	*index = (uint32_t)(group << imsic.hart_bits | hart);
	return 0;
}

void imsic_init_hart(void)
{
	if (!imsic.ready || !file_of(this_hart->hartid))
		return;
	/* Interrupts are still off on this hart: siselect is not shared with a handler yet. */
	aia_ireg_write(IMSIC_EIDELIVERY, 0);
	aia_ireg_write(IMSIC_EITHRESHOLD, 0);
	for (uint32_t id = 0; id <= imsic.nr_ids; id += 64) {
		unsigned long bits = ~0UL;

		if (id == 0)
			bits &= ~1UL; /* identity 0 does not exist */
		if (imsic.nr_ids - id < 63)
			bits &= (2UL << (imsic.nr_ids - id)) - 1;
		aia_ireg_write(IMSIC_EIP0 + 2 * (id / 64), 0);
		aia_ireg_write(IMSIC_EIE0 + 2 * (id / 64), bits);
	}
	aia_ireg_write(IMSIC_EIDELIVERY, 1);
}

bool imsic_handle_irq(void)
{
	bool any = false;
	uint32_t id;

	if (!imsic.ready)
		return false;
	while ((id = aia_claim_topei()) != 0) {
		void (*handler)(void *) = id < IMSIC_MAX_IDS ? READ_ONCE(imsic.handler[id]) : NULL;

		any = true;
		if (handler) {
			handler(imsic.arg[id]);
		} else if (imsic.unexpected++ < 8) {
			pr_warn("imsic: hart %lu: identity %u has no handler (ignored)",
				this_hart->hartid, id);
		}
	}
	return any;
}

void imsic_dump(void)
{
	if (!imsic.ready)
		return;
	kprintf("imsic %s: %u files, ids 1..%u, %u allocated, %lu unexpected\n", imsic.name,
		imsic.nr_files, imsic.nr_ids, imsic.nr_allocated, imsic.unexpected);
}

bool msi_available(void)
{
	return imsic.ready;
}

int msi_alloc(void (*handler)(void *arg), void *arg, struct msi_msg *msg)
{
	unsigned long flags;
	int rc = -ENOSPC;

	if (!imsic.ready)
		return -ENODEV;
	flags = spin_lock_irqsave(&imsic_lock);
	for (uint32_t id = 1; id <= imsic.nr_ids; id++) {
		if (imsic.handler[id])
			continue;
		imsic.arg[id] = arg;
		WRITE_ONCE(imsic.handler[id], handler);
		imsic.nr_allocated++;
		*msg = (struct msi_msg){ .address = imsic.boot_file, .data = id };
		rc = 0;
		break;
	}
	spin_unlock_irqrestore(&imsic_lock, flags);
	return rc;
}

void msi_free(const struct msi_msg *msg)
{
	unsigned long flags;

	if (!imsic.ready || msg->data == 0 || msg->data > imsic.nr_ids)
		return;
	flags = spin_lock_irqsave(&imsic_lock);
	if (imsic.handler[msg->data]) {
		WRITE_ONCE(imsic.handler[msg->data], NULL);
		imsic.nr_allocated--;
	}
	spin_unlock_irqrestore(&imsic_lock, flags);
}
