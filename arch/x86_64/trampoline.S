/* AP start-up code. Copied to TRAMPOLINE_PHYS (0x8000) and entered by the
 * start-up IPI in real mode: switch to protected mode, then long mode with
 * the kernel's page tables, then jump to ap_entry(arg) on its own stack.
 * The data block at the end is filled in by smpboot.cpp for each AP. */

#define TRAMPOLINE_PHYS 0x8000
#define TR(x) ((x) - ap_trampoline_start + TRAMPOLINE_PHYS)

    .section .rodata
    .code16
    .balign 16
    .globl ap_trampoline_start, ap_trampoline_end, ap_trampoline_data
ap_trampoline_start:
    cli
    cld
    xorw %ax, %ax
    movw %ax, %ds
    lgdtl TR(tr_gdt_desc)
    movl %cr0, %eax
    orl $1, %eax
    movl %eax, %cr0
    ljmpl $0x08, $TR(tr_32)

    .code32
tr_32:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movl %cr4, %eax
    orl $0xa0, %eax             /* PAE | PGE */
    movl %eax, %cr4
    movl TR(tr_cr3), %eax
    movl %eax, %cr3
    movl $0xc0000080, %ecx
    rdmsr
    orl TR(tr_efer), %eax       /* LME, and NXE if the BSP uses it */
    wrmsr
    movl %cr0, %eax
    orl $0x80010000, %eax       /* PG | WP */
    movl %eax, %cr0
    ljmp $0x18, $TR(tr_64)

    .code64
tr_64:
    movq TR(tr_stack), %rsp
    movq TR(tr_arg), %rdi
    movq TR(tr_entry), %rax
    xorl %ebp, %ebp
    call *%rax                  /* a call, so the entry sees an ABI-aligned stack */
    ud2

    .balign 8
tr_gdt:
    .quad 0
    .quad 0x00cf9a000000ffff    /* 0x08: 32-bit code */
    .quad 0x00cf92000000ffff    /* 0x10: data */
    .quad 0x00af9a000000ffff    /* 0x18: 64-bit code */
tr_gdt_desc:
    .word 31
    .long TR(tr_gdt)
    .balign 8
ap_trampoline_data:
tr_cr3:   .quad 0
tr_stack: .quad 0
tr_arg:   .quad 0
tr_entry: .quad 0
tr_efer:  .long 0
    .long 0
ap_trampoline_end:
