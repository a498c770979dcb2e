// lib/alloc.h's heap in the kernel: kmalloc.
#include "lib/alloc.h"
#include "mm/slab.h"

namespace keel {

void* heap_alloc(usize size) {
    auto r = mm::kzalloc(size);
    return r.is_ok() ? r.value() : nullptr;
}

void* heap_alloc_accounted(usize size) {
    auto r = mm::kzalloc_account(size);
    return r.is_ok() ? r.value() : nullptr;
}

void heap_free(void* p) { mm::kfree(p); }

}  // namespace keel
