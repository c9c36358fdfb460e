/* SPDX-License-Identifier: MIT */
/*
 * Kernel entry. OpenSBI jumps here in S-mode with the MMU off: a0 = hart id, a1 = DTB physical
 * address. Until satp is written everything runs at the physical load address, so this code and
 * early_vm.c use only PC-relative addressing.
 */
#include <asm/memlayout.h>

	.section .text.head, "ax"
	.globl _start
_start:
	/* Two instructions of "header" space would go here for a Linux-style image; none needed. */
	csrw	sie, zero
	csrw	sip, zero
	/* Only one hart runs this: OpenSBI starts the boot hart, others wait for SBI HSM. */
	rdtime	s3             /* boot time is measured from here */
	mv	s0, a0
	mv	s1, a1

	lla	sp, boot_stack_top

	/* Clear .bss (at its physical address: la is PC-relative). */
	lla	t0, _bss
	lla	t1, _ebss
1:	bgeu	t0, t1, 2f
	sd	zero, 0(t0)
	addi	t0, t0, 8
	j	1b
2:
	/* Build the first page tables and switch satp (Sv48, or Sv39 if the hart lacks it). */
	mv	a0, s0
	mv	a1, s1
	call	early_setup_vm
	/* a0 = offset to add to a physical image address to get its virtual address. */
	mv	s2, a0

	/* Now jump to the upper half: from here the identity mapping is no longer needed. */
	lla	t0, 3f
	add	t0, t0, s2
	jr	t0
3:
	add	sp, sp, s2
	/* Boot hart's per-hart block (tp): picolibc's errno and our __thread variables live there. */
	lla	a0, boot_tls
	mv	tp, a0
	lla	t0, trap_entry
	csrw	stvec, t0
	mv	a0, s0
	mv	a1, s1
	mv	a2, s3
	/* fp is s0: clear it (end of backtraces) only after the hart id left s0. */
	mv	fp, zero
	call	start_kernel
	/* start_kernel does not return. */
4:	wfi
	j	4b

/*
 * Secondary harts enter here from SBI HSM hart_start with the MMU off: a0 = hart id, a1 = opaque
 * = physical address of their struct hart_boot (satp, stack, tp, entry), filled by smp.c.
 */
	.globl secondary_entry
secondary_entry:
	csrw	sie, zero
	ld	t0, 0(a1)      /* satp */
	ld	sp, 8(a1)      /* stack top (virtual) */
	ld	tp, 16(a1)     /* per-hart block (virtual) */
	ld	t1, 24(a1)     /* C entry (virtual) */
	ld	t2, 32(a1)     /* offset virtual - physical of the image */
	ld	a0, 40(a1)     /* hart index: secondary_start's argument */
	/* Switch on translation while still running at our physical address: the identity map
	 * of the image's gigabyte is kept in the boot table smp.c passes us. */
	sfence.vma
	csrw	satp, t0
	sfence.vma
	lla	t3, 5f
	add	t3, t3, t2
	jr	t3
5:
	lla	t3, trap_entry
	csrw	stvec, t3
	mv	fp, zero
	li	ra, 0          /* backtraces end at secondary_start */
	jr	t1

	.section .bss
	.balign 16
boot_stack:
	.space BOOT_STACK_SIZE
	.globl boot_stack_top
boot_stack_top:
	.balign 64
	.globl boot_tls
boot_tls:
	.space 512
