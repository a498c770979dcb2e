// Kernel virtual address layout (x86-64, 4-level paging).
//   0x0000000000000000 - 0x00007fffffffffff  user space
//   0xffff888000000000 -                     direct map of all RAM (NX)
//   0xffffc90000000000 - +1 TiB              vmalloc arena: kernel stacks with
//                                            guard pages, vmalloc, MMIO
//   0xffffffff80000000 -                     kernel image (phys + base)
#pragma once

#include "lib/types.h"

namespace keel::mm {

constexpr uptr DIRECT_MAP_BASE = 0xffff888000000000ull;
constexpr uptr VMALLOC_BASE = 0xffffc90000000000ull;
constexpr uptr VMALLOC_SIZE = 1ull << 40;
constexpr uptr KERNEL_VIRT_BASE = 0xffffffff80000000ull;
constexpr uptr USER_END = 0x0000800000000000ull;

constexpr usize PAGE_SIZE = 4096;
constexpr unsigned PAGE_SHIFT = 12;

inline void* phys_to_virt(u64 pa) { return reinterpret_cast<void*>(pa + DIRECT_MAP_BASE); }
template <typename T>
inline T* phys_to_ptr(u64 pa) { return static_cast<T*>(phys_to_virt(pa)); }
inline u64 virt_to_phys(const void* va) {
    uptr v = reinterpret_cast<uptr>(va);
    return v >= KERNEL_VIRT_BASE ? v - KERNEL_VIRT_BASE : v - DIRECT_MAP_BASE;
}

}  // namespace keel::mm
