#include "mm/ioremap.h"

#include "arch/x86_64/paging.h"
#include "kernel/spinlock.h"
#include "mm/layout.h"

namespace keel {

namespace {
// The top 1 GiB of the vmalloc arena is kept for MMIO, handed out upwards.
constexpr uptr MMIO_BASE = mm::VMALLOC_BASE + mm::VMALLOC_SIZE - GiB;
constexpr uptr MMIO_END = mm::VMALLOC_BASE + mm::VMALLOC_SIZE;
constinit SpinlockProtected<uptr> next_va(LockRank::Vmem, MMIO_BASE);
}  // namespace

Result<void*> ioremap(u64 phys, usize size) {
    u64 first = align_down(phys, u64(mm::PAGE_SIZE));
    u64 len = align_up(phys + size, u64(mm::PAGE_SIZE)) - first;
    uptr va = next_va.with([&](uptr& next) -> uptr {
        if (MMIO_END - next < len) return 0;
        uptr v = next;
        next += len;
        return v;
    });
    if (!va) return Error(ENOMEM);
    using namespace arch::pte;
    TRY(arch::map_range(arch::kernel_pml4(), va, first, len, W | PCD | PWT | NX, false));
    return reinterpret_cast<void*>(va + (phys - first));
}

}  // namespace keel
