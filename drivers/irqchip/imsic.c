// SPDX-License-Identifier: MIT
/*
 * RISC-V IMSIC (incoming MSI controller, AIA 1.0 chapter 3), found in the DT as riscv,imsics: the
 * MSI controller (an irq_domain with msi_alloc/msi_compose, include/rvmm/irq.h).
 *
 * Every hart has an S-level interrupt file: a 4 KiB page a device writes an interrupt identity
 * to (seteipnum_le at offset 0), and behind it pending (eip) and enable (eie) bits that only
 * that hart reaches, through siselect/sireg (asm/aia.h). The hart takes an S-mode external
 * interrupt while an enabled identity is pending above eithreshold, and claims the highest one
 * through stopei. Identities are the domain's lines (hwirq).
 *
 * Where the files are: the node's interrupts-extended lists the harts in order, file i being at
 * i << (guest-index-bits + 12) bytes into the concatenation of the reg regions. With several
 * sockets each socket's files form one region, and the group index (the socket) sits in the
 * address bits at riscv,group-index-shift. An APLIC in MSI mode names a file by its hart index,
 * group << hart-index-bits | hart, which imsic_hart_index_of() derives from the file's address.
 *
 * Vectors are delivered to the boot hart's file: enable() sets the identity's eie bit there and
 * runs on the boot hart (the domain contract), so no hart reaches into another's CSRs.
 *
 * Interface: the DT driver below, its irq_domain, imsic_hart_index_of (rvmm/irqchip.h).
 */
#include <asm/aia.h>
#include <asm/hart.h>
#include <rvmm/arch_cpu.h>
#include <rvmm/device.h>
#include <rvmm/dt.h>
#include <rvmm/errno.h>
#include <rvmm/irq.h>
#include <rvmm/msi.h>
#include <rvmm/irqchip.h>
#include <rvmm/printk.h>
#include <rvmm/spinlock.h>

#include "aia_dt.h"

#define IMSIC_MAX_IDS 2048        /* riscv,num-ids is 63..2047 */
#define IMSIC_FILE_SHIFT 12       /* an interrupt file is one 4 KiB page */
#define IMSIC_MAX_REGS 8          /* one region per socket on QEMU virt (8 sockets at most) */

struct imsic_file {
	unsigned long hartid;
	phys_addr_t pa;
};

static struct imsic {
	struct irq_domain domain;
	bool ready;
	uint32_t nr_ids;
	uint32_t guest_bits, hart_bits, group_bits, group_shift;
	struct imsic_file files[MAX_HARTS];
	unsigned nr_files;
	unsigned nr_harts_dt;       /* harts the node lists, nr_files or more (rvmm runs MAX_HARTS) */
	phys_addr_t boot_file;      /* where the vectors are written */
	uint64_t used[IMSIC_MAX_IDS / 64];  /* identities handed out by msi_alloc */
	char name[PLAT_NAME_LEN];
} imsic;

/*
 * imsic_lock: protects imsic.used (which identities are allocated). Taken by msi_alloc
 * (probe time, boot hart, through irq_request_msi). Nothing but printk's lock is taken under
 * it (class IMSIC, after the virtqueue lock). The interrupt path does not look at it: the irq
 * layer's table says who handles an identity.
 */
static spinlock_t imsic_lock = SPINLOCK_INIT("imsic_lock", LOCK_CLASS_IMSIC);

static uint32_t bits_for(uint32_t n)
{
	uint32_t b = 0;

	while ((1UL << b) < n)
		b++;
	return b;
}

static const struct imsic_file *file_of(unsigned long hartid)
{
	for (unsigned i = 0; i < imsic.nr_files; i++)
		if (imsic.files[i].hartid == hartid)
			return &imsic.files[i];
	return NULL;
}

int imsic_hart_index_of(phys_addr_t file, uint32_t *index)
{
	uint64_t hart, group;
	bool known = false;

	for (unsigned i = 0; i < imsic.nr_files && imsic.ready; i++)
		known |= imsic.files[i].pa == file;
	if (!known)
		return -ENODEV;
	hart = (file >> (imsic.guest_bits + IMSIC_FILE_SHIFT)) & ((1UL << imsic.hart_bits) - 1);
	group = (file >> imsic.group_shift) & ((1UL << imsic.group_bits) - 1);
	*index = (uint32_t)(group << imsic.hart_bits | hart);
	return 0;
}

/* ---- the domain ----------------------------------------------------------------------------- */

static int imsic_msi_alloc(struct irq_domain *d __unused, uint32_t *hwirq)
{
	unsigned long flags = spin_lock_irqsave(&imsic_lock);
	int rc = -ENOSPC;

	for (uint32_t id = 1; id <= imsic.nr_ids; id++) {
		if (imsic.used[id / 64] >> (id % 64) & 1)
			continue;
		imsic.used[id / 64] |= 1ULL << (id % 64);
		*hwirq = id;
		rc = 0;
		break;
	}
	spin_unlock_irqrestore(&imsic_lock, flags);
	return rc;
}

static void imsic_msi_compose(struct irq_domain *d __unused, uint32_t hwirq, struct msi_msg *msg)
{
	*msg = (struct msi_msg){ .address = imsic.boot_file, .data = hwirq };
}

static int imsic_enable(struct irq_domain *d __unused, uint32_t hwirq)
{
	unsigned long flags;

	if (this_hart->hartid != harts[0].hartid) {
		pr_err("imsic: identity %u enabled on hart %lu, not on the boot hart it targets",
		       hwirq, this_hart->hartid);
		return -EINVAL;
	}
	/* siselect is shared with the interrupt path on this hart: keep it out meanwhile. */
	flags = arch_irq_save();
	aia_ireg_set(IMSIC_EIE0 + 2 * (hwirq / 64), 1UL << (hwirq % 64));
	arch_irq_restore(flags);
	return 0;
}

static void imsic_handle(struct irq_domain *d)
{
	uint32_t id;

	if (!file_of(this_hart->hartid))
		return;
	while ((id = aia_claim_topei()) != 0)
		irq_dispatch(d, id);
}

// The file delivers, nothing enabled yet: identities are enabled one by one as they are used.
static void imsic_init_hart(struct irq_domain *d __unused)
{
	unsigned long flags;

	if (!file_of(this_hart->hartid))
		return;
	flags = arch_irq_save();
	aia_ireg_write(IMSIC_EIDELIVERY, 0);
	aia_ireg_write(IMSIC_EITHRESHOLD, 0);
	for (uint32_t id = 0; id <= imsic.nr_ids; id += 64) {
		aia_ireg_write(IMSIC_EIE0 + 2 * (id / 64), 0);
		aia_ireg_write(IMSIC_EIP0 + 2 * (id / 64), 0);
	}
	aia_ireg_write(IMSIC_EIDELIVERY, 1);
	arch_irq_restore(flags);
}

static const struct irq_domain_ops imsic_ops = {
	.enable = imsic_enable,
	.handle = imsic_handle,
	.init_hart = imsic_init_hart,
	.msi_alloc = imsic_msi_alloc,
	.msi_compose = imsic_msi_compose,
};

/* ---- the DT node ---------------------------------------------------------------------------- */

// One optional cell with a default and a maximum; -EINVAL after a message if out of range.
static int read_param(const struct dt_device *dev, const char *prop, uint32_t dflt, uint32_t max,
		      uint32_t *out)
{
	int rc = dt_u32(dev->fdt, dev->node, prop, out);

	if (rc == -ENOENT) {
		*out = dflt;
		return 0;
	}
	if (rc || *out > max) {
		dt_warn(dev->plat, dev->fdt, dev->node, "%s %s, dropped", prop,
			rc ? "is not one cell" : "is out of range");
		return -EINVAL;
	}
	return 0;
}

// The harts of interrupts-extended, in order: file i is hart files[i].hartid's.
static int read_harts(const struct dt_device *dev)
{
	static unsigned long hartid[MAX_HARTS];
	int n = aia_dt_harts(dev, hartid, MAX_HARTS, &imsic.nr_harts_dt);

	for (int i = 0; i < n; i++)
		imsic.files[i].hartid = hartid[i];
	imsic.nr_files = n > 0 ? (unsigned)n : 0;
	return n < 0 ? n : 0;
}

// File i's address: i files of (1 << guest_bits) pages into the regions, in reg order.
static int file_address(const struct dt_device *dev, unsigned i, phys_addr_t *pa)
{
	uint64_t off = (uint64_t)i << (imsic.guest_bits + IMSIC_FILE_SHIFT);
	uint64_t base, size;

	for (int r = 0; r < IMSIC_MAX_REGS; r++) {
		if (dt_reg_phys(dev->plat, dev->fdt, dev->node, r, &base, &size))
			break;
		if (off < size) {
			if (off + (1UL << IMSIC_FILE_SHIFT) > size)
				break;
			*pa = base + off;
			return 0;
		}
		off -= size;
	}
	dt_warn(dev->plat, dev->fdt, dev->node, "reg holds no interrupt file for entry %u, dropped",
		i);
	return -EINVAL;
}

static int imsic_probe(const struct dt_device *dev)
{
	const struct imsic_file *boot;
	int rc;

	if (imsic.ready) {
		pr_warn("imsic: %s: a second S-level IMSIC node, ignored", dev->name);
		return -ENODEV;
	}
	rc = read_harts(dev);
	if (rc)
		return rc;
	rc = dt_u32(dev->fdt, dev->node, "riscv,num-ids", &imsic.nr_ids);
	if (rc || imsic.nr_ids < 63 || imsic.nr_ids >= IMSIC_MAX_IDS) {
		dt_warn(dev->plat, dev->fdt, dev->node, "riscv,num-ids is missing or not 63..2047, "
			"dropped");
		return -EINVAL;
	}
	if (read_param(dev, "riscv,guest-index-bits", 0, 6, &imsic.guest_bits) ||
	    read_param(dev, "riscv,hart-index-bits", bits_for(imsic.nr_harts_dt), 15,
		       &imsic.hart_bits) ||
	    read_param(dev, "riscv,group-index-bits", 0, 7, &imsic.group_bits) ||
	    read_param(dev, "riscv,group-index-shift", 24, 55, &imsic.group_shift))
		return -EINVAL;
	for (unsigned i = 0; i < imsic.nr_files; i++)
		if (file_address(dev, i, &imsic.files[i].pa))
			return -EINVAL;
	boot = file_of(harts[0].hartid);
	if (!boot) {
		dt_warn(dev->plat, dev->fdt, dev->node, "no interrupt file for the boot hart %lu, "
			"dropped", harts[0].hartid);
		return -EINVAL;
	}
	imsic.boot_file = boot->pa;
	dt_copy(imsic.name, sizeof(imsic.name), dev->name);
	imsic.domain = (struct irq_domain){ .name = imsic.name, .ops = &imsic_ops,
					    .phandle = fdt_get_phandle(dev->fdt, dev->node) };
	imsic.ready = true;
	rc = irq_domain_register(&imsic.domain);
	if (rc) {
		imsic.ready = false;
		return rc;
	}
	pr_info("imsic: %s: %u S-level files (%u bits hart index, %u bits group at %u), %u ids",
		imsic.name, imsic.nr_files, imsic.hart_bits, imsic.group_bits, imsic.group_shift,
		imsic.nr_ids);
	return 0;
}

static const char *const imsic_compatible[] = { "riscv,imsics", NULL };

DT_DRIVER(imsic, .name = "imsic", .compatible = imsic_compatible, .stage = DT_STAGE_IRQCHIP,
	  .probe = imsic_probe);
