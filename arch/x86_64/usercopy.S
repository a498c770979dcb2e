/* Copies between kernel and user memory that survive bad user pointers:
 * each instruction that touches user memory has an exception-table entry,
 * so a fault resumes at the fixup, which reports how much was NOT copied.
 * SMAP is lifted (stac) only for the duration of the copy.
 *
 * usize arch_copy_user(void* dst, const void* src, usize n)
 *   returns the number of bytes left uncopied (0 on success)
 * long arch_strncpy_from_user(char* dst, const char* src, usize n)
 *   returns the length (< n) on success, n if no NUL within n, -1 on fault */

#include "arch/x86_64/smap.S.inc"

    .section .text
    .globl arch_copy_user
arch_copy_user:
    movq %rdx, %rcx
    USER_ACCESS_BEGIN
1:  rep movsb
    USER_ACCESS_END
    movq %rcx, %rax
    ret
2:  USER_ACCESS_END
    movq %rcx, %rax             /* rcx still counts what was not copied */
    ret

    .globl arch_strncpy_from_user
arch_strncpy_from_user:
    xorl %eax, %eax
    USER_ACCESS_BEGIN
3:  cmpq %rdx, %rax
    je 5f
4:  movb (%rsi, %rax), %cl
    movb %cl, (%rdi, %rax)
    testb %cl, %cl
    jz 5f
    incq %rax
    jmp 3b
5:  USER_ACCESS_END
    ret
6:  USER_ACCESS_END
    movq $-1, %rax
    ret

    .section .extable, "a"
    .balign 8
    .quad 1b, 2b
    .quad 4b, 6b
