// Fallible heap allocation for code shared by the kernel and the host:
// heap_alloc/heap_free are kmalloc/kfree in the kernel and malloc/free in
// host tests. make<T>() constructs in place and returns ENOMEM on failure.
// The _accounted forms charge the current thread's memory cgroup (ENOMEM
// over its limit): for objects a program makes the kernel keep (VMAs,
// files, dentries, inodes, epoll items...), as Linux's GFP_KERNEL_ACCOUNT.
#pragma once

#include "lib/result.h"

namespace keel {

// Zeroed memory, or nullptr.
void* heap_alloc(usize size);
void* heap_alloc_accounted(usize size);
void heap_free(void* p);

template <typename T, typename... Args>
Result<T*> make(Args&&... args) {
    void* mem = heap_alloc(sizeof(T));
    if (!mem) return Error(ENOMEM);
    return new (mem) T(forward<Args>(args)...);
}

template <typename T, typename... Args>
Result<T*> make_accounted(Args&&... args) {
    void* mem = heap_alloc_accounted(sizeof(T));
    if (!mem) return Error(ENOMEM);
    return new (mem) T(forward<Args>(args)...);
}

template <typename T>
void destroy(T* p) {
    if (!p) return;
    p->~T();
    heap_free(p);
}

}  // namespace keel
