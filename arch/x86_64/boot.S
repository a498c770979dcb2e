/* PVH entry: the loader (QEMU microvm/q35, Firecracker, Cloud Hypervisor)
 * jumps here in 32-bit protected mode, paging off, with %ebx holding the
 * physical address of struct hvm_start_info. We build temporary page tables
 * (identity and direct map of the first 4 GiB, kernel at -2 GiB), enter long
 * mode and call kmain() on the boot stack. kmain replaces these tables. */

#define CR0_PE 0x00000001
#define CR0_WP 0x00010000
#define CR0_PG 0x80000000
#define CR4_PAE 0x00000020
#define CR4_PGE 0x00000080
#define MSR_EFER 0xc0000080
#define EFER_LME 0x100
#define EFER_NXE 0x800
#define PTE_P 0x1
#define PTE_W 0x2
#define PTE_PS 0x80
#define KERNEL_VIRT 0xffffffff80000000

    .section .note.Xen, "a"
    .balign 4
    .long 4             /* name size: "Xen\0" */
    .long 8             /* descriptor size: a 64-bit pointer, as QEMU reads it */
    .long 18            /* XEN_ELFNOTE_PHYS32_ENTRY */
    .asciz "Xen"
    .balign 4
    .quad pvh_start32
    .balign 4

    .section .boot.text, "ax"
    .code32
    .globl pvh_start32
pvh_start32:
    cli
    cld
    movl %ebx, pvh_start_info_phys
    movl $boot32_stack_top, %esp

    /* Long mode is required; without it say so on COM1 and stop. */
    movl $0x80000000, %eax
    cpuid
    cmpl $0x80000001, %eax
    jb no_long_mode
    movl $0x80000001, %eax
    cpuid
    btl $29, %edx
    jnc no_long_mode
    movl %edx, %esi             /* keep: bit 20 says NX */

    /* Clear the table pages: a loader need not zero NOLOAD memory. */
    movl $boot_pml4, %edi
    xorl %eax, %eax
    movl $(7 * 4096 / 4), %ecx
    rep stosl

    movl $boot_pdpt_low, %eax
    orl $(PTE_P | PTE_W), %eax
    movl %eax, boot_pml4                    /* identity */
    movl %eax, boot_pml4 + 273 * 8          /* direct map at 0xffff888000000000 */
    movl $boot_pdpt_high, %eax
    orl $(PTE_P | PTE_W), %eax
    movl %eax, boot_pml4 + 511 * 8

    /* Four page directories of 2 MiB pages cover 4 GiB. */
    xorl %ecx, %ecx
1:  movl %ecx, %eax
    shll $12, %eax
    addl $boot_pd, %eax
    orl $(PTE_P | PTE_W), %eax
    movl %eax, boot_pdpt_low(, %ecx, 8)
    incl %ecx
    cmpl $4, %ecx
    jb 1b

    xorl %ecx, %ecx                         /* entry index over 4 * 512 */
2:  movl %ecx, %eax
    shll $21, %eax
    orl $(PTE_P | PTE_W | PTE_PS), %eax
    movl %ecx, %edx
    shrl $11, %edx                          /* bits 32+ of the address */
    movl %eax, boot_pd(, %ecx, 8)
    movl %edx, boot_pd + 4(, %ecx, 8)
    incl %ecx
    cmpl $2048, %ecx
    jb 2b

    /* -2 GiB maps physical 0..2 GiB. */
    movl $boot_pd, %eax
    orl $(PTE_P | PTE_W), %eax
    movl %eax, boot_pdpt_high + 510 * 8
    addl $4096, %eax
    movl %eax, boot_pdpt_high + 511 * 8

    movl %cr4, %eax
    orl $(CR4_PAE | CR4_PGE), %eax
    movl %eax, %cr4
    movl $boot_pml4, %eax
    movl %eax, %cr3

    movl $MSR_EFER, %ecx
    rdmsr
    orl $EFER_LME, %eax
    btl $20, %esi
    jnc 3f
    orl $EFER_NXE, %eax
3:  wrmsr

    movl %cr0, %eax
    orl $(CR0_PE | CR0_WP | CR0_PG), %eax
    movl %eax, %cr0

    lgdt boot_gdt_desc
    ljmp $0x08, $long_mode_entry

no_long_mode:
    movl $msg_no_lm, %esi
4:  lodsb
    testb %al, %al
    jz 5f
    movw $0x3f8, %dx
    outb %al, %dx
    jmp 4b
5:  hlt
    jmp 5b

    .code64
long_mode_entry:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    xorw %ax, %ax
    movw %ax, %fs
    movw %ax, %gs
    movabsq $kernel_entry64, %rax
    jmp *%rax

    .balign 8
boot_gdt:
    .quad 0
    .quad 0x00af9a000000ffff    /* 0x08: 64-bit code */
    .quad 0x00cf92000000ffff    /* 0x10: data */
boot_gdt_end:
boot_gdt_desc:
    .word boot_gdt_end - boot_gdt - 1
    .long boot_gdt

msg_no_lm:
    .asciz "keel: this CPU has no 64-bit long mode; cannot boot\r\n"

    .globl pvh_start_info_phys
    .balign 4
pvh_start_info_phys:
    .long 0

    .section .boot.bss, "aw", @nobits
    .balign 4096
    .globl boot_pml4
boot_pml4:      .skip 4096
boot_pdpt_low:  .skip 4096
boot_pdpt_high: .skip 4096
boot_pd:        .skip 4 * 4096
    .skip 1024
boot32_stack_top:

    .section .text.entry, "ax"
    .globl kernel_entry64
kernel_entry64:
    movabsq $boot_stack_top, %rsp
    xorl %ebp, %ebp
    movl pvh_start_info_phys, %edi
    call kmain
6:  cli
    hlt
    jmp 6b

    /* The boot CPU's stack, with an unmapped guard page below it once the
     * final page tables are in place. */
    .section .bss.boot_stack, "aw", @nobits
    .balign 4096
    .globl boot_stack_guard, boot_stack_bottom, boot_stack_top
boot_stack_guard:
    .skip 4096
boot_stack_bottom:
    .skip 16384
boot_stack_top:
