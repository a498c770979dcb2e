/* SYSCALL entry. The CPU left the user RIP in %rcx and RFLAGS in %r11 and
 * did not switch stacks: switch to the thread's kernel stack (per-CPU
 * kernel_rsp at %gs:16), build a TrapFrame exactly like isr.S does (vector
 * 0x100 marks a system call), and call syscall_dispatch(frame). Return with
 * SYSRET when the frame allows it, else through the interrupt return path. */

#include "arch/x86_64/regs.S.inc"

#define USER_CS 0x33
#define USER_DS 0x2b

    .section .text.entry, "ax"
    .globl syscall_entry
syscall_entry:
    swapgs
    movq %rsp, %gs:8
    movq %gs:16, %rsp
    pushq $USER_DS
    pushq %gs:8
    pushq %r11
    pushq $USER_CS
    pushq %rcx
    pushq %rax                  /* "error code": the syscall number, for restarts */
    pushq $0x100                /* vector: system call */
    PUSH_GPRS
    cld
    movq %rsp, %rdi
    pushq 17*8(%rsp)            /* link a frame for backtraces */
    pushq %rbp
    movq %rsp, %rbp
    call syscall_dispatch       /* turns interrupts on once it has stamped the entry */
    cli
    addq $16, %rsp

    /* SYSRET needs RCX = RIP and R11 = RFLAGS, a canonical RIP (else it
     * faults in kernel mode), and the usual selectors. Anything else (a
     * signal frame, exec, ptrace-like edits) takes the IRET path. */
    movq 17*8(%rsp), %rcx       /* rip */
    cmpq %rcx, 12*8(%rsp)       /* SYSRET would clobber rcx: must equal rip */
    jne 1f
    movq 19*8(%rsp), %r11       /* and r11 must equal rflags */
    cmpq %r11, 4*8(%rsp)
    jne 1f
    movq %rcx, %r11
    sarq $47, %r11
    jnz 1f                      /* non-canonical or kernel address */
    cmpq $USER_CS, 18*8(%rsp)
    jne 1f
    cmpq $USER_DS, 21*8(%rsp)
    jne 1f
    movq 19*8(%rsp), %r11       /* rflags */
    testq $0x10100, %r11        /* RF and TF need IRET semantics */
    jnz 1f
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    addq $8, %rsp               /* r11: becomes rflags */
    popq %r10
    popq %r9
    popq %r8
    popq %rbp
    popq %rdi
    popq %rsi
    popq %rdx
    addq $8, %rsp               /* rcx: becomes rip */
    popq %rbx
    popq %rax
    movq 5*8(%rsp), %rsp        /* user rsp: after vector, error, rip, cs, rflags */
    swapgs
    sysretq
1:  jmp trap_return
