/* context_switch(u64* save_rsp, u64 new_rsp): saves the callee-saved
 * registers on the current stack, stores the stack pointer in *save_rsp,
 * and resumes the thread whose saved stack pointer is new_rsp. A new
 * thread's stack is laid out by sched::Thread setup so that the final `ret`
 * lands in thread_start. */
    .section .text
    .globl context_switch
context_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret

/* First code a new thread runs: r12 = entry, r13 = argument. */
    .globl thread_start_trampoline
thread_start_trampoline:
    xorl %ebp, %ebp
    movq %r12, %rdi
    movq %r13, %rsi
    call thread_first_run
    ud2

/* enter_user_asm(frame, stack_top): copy the TrapFrame to the top of this
 * thread's kernel stack, abandon everything else on it, and return to user
 * mode through the interrupt return path. `frame` must not be on this
 * stack (the caller stages it per CPU with interrupts off). */
    .globl enter_user_asm
enter_user_asm:
    cli
    leaq -22*8(%rsi), %rsp
    movq %rdi, %rsi
    movq %rsp, %rdi
    movl $22, %ecx
    rep movsq
    jmp trap_return
