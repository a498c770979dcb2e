/* Interrupt and exception entry: one stub per vector pushes a uniform
 * (error code, vector) pair, then the common path saves the registers into a
 * TrapFrame (arch/x86_64/trapframe.h) and calls trap_dispatch(frame). */

#include "arch/x86_64/regs.S.inc"
#include "arch/x86_64/smap.S.inc"

    .section .text.entry, "ax"
    .code64

/* Vectors where the CPU pushes an error code itself. */
#define HAS_ERROR(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

    .altmacro
    .macro ISR_STUB v
    .balign 16
isr_stub_\v:
    .if HAS_ERROR(\v) == 0
    pushq $0
    .endif
    pushq $\v
    jmp isr_common
    .endm

    .set vec, 0
    .rept 256
    ISR_STUB %vec
    .set vec, vec + 1
    .endr

    .macro STUB_ADDR v
    .quad isr_stub_\v
    .endm

    .section .rodata
    .balign 8
    .globl isr_stub_table
isr_stub_table:
    .set vec, 0
    .rept 256
    STUB_ADDR %vec
    .set vec, vec + 1
    .endr

    .section .text.entry, "ax"
isr_common:
    /* Interrupts do not clear RFLAGS.AC: a fault inside a user copy must
     * not run its handler with SMAP lifted. */
    USER_ACCESS_END
    /* From user mode the kernel's GS base is in KERNEL_GS_BASE: swap. */
    testb $3, 24(%rsp)
    jz 1f
    swapgs
1:  PUSH_GPRS
    cld
    movq %rsp, %rdi
    /* Link a frame so that backtraces walk through the interrupted code. */
    pushq 16*8+8(%rsp)          /* rip of the interrupted context */
    pushq %rbp
    movq %rsp, %rbp
    call trap_dispatch
    addq $16, %rsp
    .globl trap_return
trap_return:
    POP_GPRS
    testb $3, 24(%rsp)
    jz 2f
    swapgs
2:  addq $16, %rsp
    iretq
