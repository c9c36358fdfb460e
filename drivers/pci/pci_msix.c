// SPDX-License-Identifier: MIT
/*
 * MSI-X (PCI Local Bus 3.0, 6.8.2): the function's MSI-X capability names a table in one of its
 * memory BARs; each 16-byte entry holds the message address and data the function writes to
 * raise that vector, and a mask bit. Messages come from the MSI controller the PCI host's node
 * names (msi-parent; irq_request_msi, include/rvmm/irq.h).
 *
 * While MSI-X is enabled the function does not use INTx, so INTx is disabled in COMMAND too
 * (QEMU's devices follow either bit). Entries start masked and are unmasked one by one as their
 * handlers are installed.
 *
 * pci_msi=off on the command line keeps every function on INTx.
 *
 * Interface: pci_msix_enable, pci_msix_set_vector, pci_msix_disable (see rvmm/pci.h).
 */
#include <rvmm/cmdline.h>
#include <rvmm/errno.h>
#include <rvmm/io.h>
#include <rvmm/irq.h>
#include <rvmm/msi.h>
#include <rvmm/pci.h>
#include <rvmm/printk.h>

#define PCI_MSIX_FLAGS 2             /* message control */
#define  PCI_MSIX_FLAGS_QSIZE 0x7ff  /* table size - 1 */
#define  PCI_MSIX_FLAGS_MASKALL 0x4000
#define  PCI_MSIX_FLAGS_ENABLE 0x8000
#define PCI_MSIX_TABLE 4             /* BIR in bits 2:0, offset (8-byte aligned) above */
#define  PCI_MSIX_BIR_MASK 0x7
#define PCI_MSIX_ENTRY_SIZE 16
#define  ENTRY_ADDR_LO 0
#define  ENTRY_ADDR_HI 4
#define  ENTRY_DATA 8
#define  ENTRY_CTRL 12
#define   ENTRY_CTRL_MASKED 0x1

static volatile uint8_t *entry(struct pci_dev *dev, unsigned i)
{
	return dev->msix.table + (size_t)i * PCI_MSIX_ENTRY_SIZE;
}

// The table: its BAR must be a memory BAR holding all of it. NULL after a message if not.
static volatile uint8_t *map_table(struct pci_dev *dev, unsigned cap, unsigned size)
{
	uint32_t t = pci_read_config32(dev, cap + PCI_MSIX_TABLE);
	unsigned bir = t & PCI_MSIX_BIR_MASK;
	uint64_t off = t & ~(uint32_t)PCI_MSIX_BIR_MASK;
	uint8_t *bar;

	if (bir >= PCI_NUM_BARS || !dev->bar[bir].size || dev->bar[bir].io ||
	    off + (uint64_t)size * PCI_MSIX_ENTRY_SIZE > dev->bar[bir].size) {
		pr_err("pci %s: MSI-X table (%u entries at 0x%lx in BAR%u) is not inside a memory BAR",
		       dev->name, size, (unsigned long)off, bir);
		return NULL;
	}
	bar = pci_iomap(dev, bir);
	return bar ? bar + off : NULL;
}

int pci_msix_enable(struct pci_dev *dev, unsigned nvec)
{
	unsigned cap = pci_find_capability(dev, PCI_CAP_ID_MSIX);
	uint16_t flags;
	unsigned size;

	if (!cap || !dev->msi || !cmdline.pci_msi)
		return -ENODEV;
	if (dev->msix.enabled)
		return -EBUSY;
	flags = pci_read_config16(dev, cap + PCI_MSIX_FLAGS);
	size = (flags & PCI_MSIX_FLAGS_QSIZE) + 1u;
	if (nvec == 0 || nvec > size || nvec > PCI_MSIX_MAX_VECTORS)
		return -ENOSPC;
	dev->msix.table = map_table(dev, cap, size);
	if (!dev->msix.table)
		return -EINVAL;
	dev->msix.cap = cap;
	dev->msix.table_size = size;
	dev->msix.nr_vectors = nvec;
	for (unsigned i = 0; i < size; i++)
		writel(ENTRY_CTRL_MASKED, entry(dev, i) + ENTRY_CTRL);
	pci_write_config16(dev, PCI_COMMAND,
			   pci_read_config16(dev, PCI_COMMAND) | PCI_COMMAND_INTX_DISABLE);
	pci_write_config16(dev, cap + PCI_MSIX_FLAGS,
			   (flags | PCI_MSIX_FLAGS_ENABLE) & ~PCI_MSIX_FLAGS_MASKALL);
	dev->msix.enabled = true;
	return 0;
}

int pci_msix_set_vector(struct pci_dev *dev, unsigned vec, void (*handler)(void *arg), void *arg)
{
	struct msi_msg *msg;
	volatile uint8_t *e;
	int rc;

	if (!dev->msix.enabled || vec >= dev->msix.nr_vectors)
		return -EINVAL;
	msg = &dev->msix.msg[vec];
	if (msg->data)
		return -EBUSY;
	rc = irq_request_msi(dev->msi, handler, arg, msg);
	if (rc)
		return rc;
	e = entry(dev, vec);
	writel((uint32_t)msg->address, e + ENTRY_ADDR_LO);
	writel((uint32_t)(msg->address >> 32), e + ENTRY_ADDR_HI);
	writel(msg->data, e + ENTRY_DATA);
	writel(0, e + ENTRY_CTRL);
	return 0;
}

void pci_msix_disable(struct pci_dev *dev)
{
	if (!dev->msix.enabled)
		return;
	for (unsigned i = 0; i < dev->msix.table_size; i++)
		writel(ENTRY_CTRL_MASKED, entry(dev, i) + ENTRY_CTRL);
	pci_write_config16(dev, dev->msix.cap + PCI_MSIX_FLAGS,
			   pci_read_config16(dev, dev->msix.cap + PCI_MSIX_FLAGS) &
				   ~PCI_MSIX_FLAGS_ENABLE);
	pci_write_config16(dev, PCI_COMMAND,
			   pci_read_config16(dev, PCI_COMMAND) & ~PCI_COMMAND_INTX_DISABLE);
	/* The vectors stay allocated (the irq layer never unregisters), unused: the function can
	 * no longer send them. */
	dev->msix = (struct pci_msix){ 0 };
}
