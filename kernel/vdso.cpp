#include "kernel/vdso.h"

#include <linux/mman.h>

#include "kernel/time.h"
#include "mm/address_space.h"
#include "mm/layout.h"
#include "vdso/vdso.h"

extern "C" const char vdso_image_start[], vdso_image_end[];

namespace keel::vdso {

namespace {
// One page, shared read-only with every process (the vDSO reads it just
// below its own image).
alignas(4096) keel_vvar vvar_page[4096 / sizeof(keel_vvar)];
}  // namespace

Result<uptr> map_into(mm::AddressSpace& as) {
    usize image_pages = static_cast<usize>(vdso_image_end - vdso_image_start + 4095) / 4096;
    // Both in one VMA each, at consecutive addresses: data page first.
    u64 vvar_phys = mm::virt_to_phys(vvar_page);
    u64 image_phys = mm::virt_to_phys(vdso_image_start);
    // Reserve room for both, then place them.
    uptr base = TRY(as.map(0, (1 + image_pages) * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, nullptr, 0));
    TRY(as.unmap(base, (1 + image_pages) * 4096));
    TRY(as.map_kernel_pages_at(base, vvar_phys, 1, PROT_READ));
    TRY(as.map_kernel_pages_at(base + 4096, image_phys, image_pages, PROT_READ | PROT_EXEC));
    return base + 4096;
}

void update_clock(u64 tsc_base, u64 ns_mult, i64 realtime_offset) {
    keel_vvar& v = vvar_page[0];
    __atomic_store_n(&v.seq, v.seq + 1, __ATOMIC_RELEASE);  // odd: in progress
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    v.tsc_base = tsc_base;
    v.ns_mult = ns_mult;
    v.realtime_offset = realtime_offset;
    v.coarse_ns = time::JIFFY_NS;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    __atomic_store_n(&v.seq, v.seq + 1, __ATOMIC_RELEASE);
}

}  // namespace keel::vdso
