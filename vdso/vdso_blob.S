/* The vDSO image, page-aligned in the kernel's read-only data: every
 * process maps these pages read-only and executable. */
    .section .rodata.vdso, "a"
    .balign 4096
    .globl vdso_image_start, vdso_image_end
vdso_image_start:
    .incbin KEEL_VDSO_PATH  /* a quoted path from the build */
vdso_image_end:
    .balign 4096
