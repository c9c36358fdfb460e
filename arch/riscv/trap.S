/* SPDX-License-Identifier: MIT */
/*
 * S-mode trap entry and exit. rvmm has no user mode, so a trap always arrives on a kernel stack:
 * push a struct trap_frame (include/asm/trap.h) below sp, call trap_handler(frame), restore.
 * The CFI below describes the frame so GDB can unwind from a handler into the code it interrupted.
 */
	/* The CFI must land in .debug_frame: the linker script discards .eh_frame. */
	.cfi_sections .debug_frame

#define FRAME_SIZE (38 * 8)
#define REG(n) ((n) * 8)

	.section .text
	.balign 4
	.globl trap_entry
trap_entry:
	.cfi_startproc
	.cfi_signal_frame
	/* The interrupted pc is sepc, not ra: give it the psABI's alternate return column (64), so
	 * ra keeps its own rule and a leaf function that was interrupted unwinds right too. Until
	 * sepc is stored, the column is the sepc CSR itself (DWARF 4096 + 0x141). */
	.cfi_return_column 64
	.cfi_register 64, 4417
	addi	sp, sp, -FRAME_SIZE
	.cfi_def_cfa sp, FRAME_SIZE
	sd	ra, REG(1)(sp)
	.cfi_offset ra, REG(1) - FRAME_SIZE
	sd	gp, REG(3)(sp)
	sd	tp, REG(4)(sp)
	sd	t0, REG(5)(sp)
	sd	t1, REG(6)(sp)
	sd	t2, REG(7)(sp)
	sd	s0, REG(8)(sp)
	.cfi_offset s0, REG(8) - FRAME_SIZE
	sd	s1, REG(9)(sp)
	sd	a0, REG(10)(sp)
	sd	a1, REG(11)(sp)
	sd	a2, REG(12)(sp)
	sd	a3, REG(13)(sp)
	sd	a4, REG(14)(sp)
	sd	a5, REG(15)(sp)
	sd	a6, REG(16)(sp)
	sd	a7, REG(17)(sp)
	sd	s2, REG(18)(sp)
	sd	s3, REG(19)(sp)
	sd	s4, REG(20)(sp)
	sd	s5, REG(21)(sp)
	sd	s6, REG(22)(sp)
	sd	s7, REG(23)(sp)
	sd	s8, REG(24)(sp)
	sd	s9, REG(25)(sp)
	sd	s10, REG(26)(sp)
	sd	s11, REG(27)(sp)
	sd	t3, REG(28)(sp)
	sd	t4, REG(29)(sp)
	sd	t5, REG(30)(sp)
	sd	t6, REG(31)(sp)
	addi	t0, sp, FRAME_SIZE
	sd	t0, REG(2)(sp)          /* sp before the trap */
	csrr	t0, sepc
	sd	t0, REG(0)(sp)          /* slot 0 holds sepc: the "return address" GDB unwinds to */
	.cfi_offset 64, REG(0) - FRAME_SIZE
	csrr	t1, sstatus
	sd	t1, REG(32)(sp)
	csrr	t2, scause
	sd	t2, REG(33)(sp)
	csrr	t3, stval
	sd	t3, REG(34)(sp)
	/* A frame record {fp, ra} = {interrupted s0, sepc} at the top of the frame, and s0 pointing
	 * past it, so a frame-pointer backtrace walks from the handler into the interrupted code. */
	sd	s0, REG(36)(sp)
	sd	t0, REG(37)(sp)
	addi	s0, sp, FRAME_SIZE
	mv	a0, sp
	call	trap_handler

	ld	t0, REG(0)(sp)
	csrw	sepc, t0
	ld	t1, REG(32)(sp)
	csrw	sstatus, t1
	ld	ra, REG(1)(sp)
	ld	gp, REG(3)(sp)
	/* tp is per hart and a trap never changes hart: leave it. */
	ld	t0, REG(5)(sp)
	ld	t1, REG(6)(sp)
	ld	t2, REG(7)(sp)
	ld	s0, REG(8)(sp)
	ld	s1, REG(9)(sp)
	ld	a0, REG(10)(sp)
	ld	a1, REG(11)(sp)
	ld	a2, REG(12)(sp)
	ld	a3, REG(13)(sp)
	ld	a4, REG(14)(sp)
	ld	a5, REG(15)(sp)
	ld	a6, REG(16)(sp)
	ld	a7, REG(17)(sp)
	ld	s2, REG(18)(sp)
	ld	s3, REG(19)(sp)
	ld	s4, REG(20)(sp)
	ld	s5, REG(21)(sp)
	ld	s6, REG(22)(sp)
	ld	s7, REG(23)(sp)
	ld	s8, REG(24)(sp)
	ld	s9, REG(25)(sp)
	ld	s10, REG(26)(sp)
	ld	s11, REG(27)(sp)
	ld	t3, REG(28)(sp)
	ld	t4, REG(29)(sp)
	ld	t5, REG(30)(sp)
	ld	t6, REG(31)(sp)
	addi	sp, sp, FRAME_SIZE
	sret
	.cfi_endproc
