// Virtually contiguous kernel mappings in the vmalloc arena, each with an
// unmapped guard page below it: kernel stacks and large buffers.
#pragma once

#include "lib/result.h"

namespace keel::mm {

void vmalloc_init();
// Maps `size` bytes (rounded up to pages) of fresh zeroed pages.
Result<void*> vmalloc(usize size);
void vfree(void* addr);

struct KernelStack {
    uptr bottom;  // lowest mapped byte; the page below is the guard
    uptr top;
};
constexpr usize KERNEL_STACK_SIZE = 16 * 1024;
Result<KernelStack> alloc_kernel_stack();
void free_kernel_stack(const KernelStack& s);

}  // namespace keel::mm
