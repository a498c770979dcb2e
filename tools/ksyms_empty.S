/* Pass-1 symbol table: empty. See tools/gen_ksyms.py. */
    .section .ksyms, "a"
    .balign 8
    .globl ksyms_count, ksyms_addrs, ksyms_name_offsets, ksyms_names
ksyms_count: .quad 0
ksyms_addrs:
ksyms_name_offsets:
ksyms_names:
