#include "arch/x86_64/fpu.h"

#include "arch/x86_64/cpu.h"
#include "lib/result.h"
#include "mm/slab.h"

namespace keel::arch {

namespace {

constexpr u64 CR0_MP = 1u << 1;
constexpr u64 CR0_EM = 1u << 2;
constexpr u64 CR0_TS = 1u << 3;
constexpr u64 CR4_OSFXSR = 1u << 9;
constexpr u64 CR4_OSXMMEXCPT = 1u << 10;
constexpr u64 CR4_OSXSAVE = 1u << 18;
// User state components Keel manages: x87, SSE, AVX, AVX-512 (opmask,
// ZMM_Hi256, Hi16_ZMM) and PKRU.
constexpr u64 XCR0_WANTED = 0x1 | 0x2 | 0x4 | 0x20 | 0x40 | 0x80 | 0x200;

bool use_xsave = false;
u32 mxcsr_mask = 0xffbf;  // without DAZ, unless the CPU reports more
u64 xcr0 = 0;
usize state_size = 512;

void xsetbv(u32 reg, u64 v) { asm volatile("xsetbv" ::"c"(reg), "a"(u32(v)), "d"(u32(v >> 32))); }

}  // namespace

void fpu_init_cpu() {
    write_cr0((read_cr0() & ~(CR0_EM | CR0_TS)) | CR0_MP);
    u64 cr4 = read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT;
    use_xsave = cpuid(1).ecx & (1u << 26);
    if (use_xsave) cr4 |= CR4_OSXSAVE;
    write_cr4(cr4);
    if (use_xsave) {
        auto d = cpuid(0xd, 0);
        xcr0 = ((u64(d.edx) << 32) | d.eax) & XCR0_WANTED;
        xsetbv(0, xcr0);
        state_size = cpuid(0xd, 0).ebx;  // for the components now enabled
    }
    asm volatile("fninit");
    alignas(16) u8 probe[512] = {};
    asm volatile("fxsave64 (%0)" ::"r"(probe) : "memory");
    u32 mask;
    __builtin_memcpy(&mask, probe + 28, 4);
    if (mask) mxcsr_mask = mask;
}

usize fpu_state_size() { return state_size; }

Result<void*> fpu_state_alloc() {
    // kmalloc's power-of-two classes are naturally aligned, so a size of at
    // least 64 gives the 64-byte alignment XSAVE needs.
    void* a = TRY(mm::kzalloc(max<usize>(state_size, 1024)));
    auto* legacy = static_cast<u8*>(a);
    *reinterpret_cast<u16*>(legacy) = 0x37f;           // x87 control word
    *reinterpret_cast<u32*>(legacy + 24) = 0x1f80;     // MXCSR
    return a;
}

void fpu_state_free(void* area) { mm::kfree(area); }

void fpu_state_copy(void* dst, const void* src) { __builtin_memcpy(dst, src, state_size); }

void fpu_save(void* area) {
    if (use_xsave) asm volatile("xsave64 (%0)" ::"r"(area), "a"(u32(xcr0)), "d"(u32(xcr0 >> 32)) : "memory");
    else asm volatile("fxsave64 (%0)" ::"r"(area) : "memory");
}

u64 fpu_xfeatures() { return use_xsave ? xcr0 : 0x3; }

void fpu_sanitize(void* area) {
    auto* b = static_cast<u8*>(area);
    u32 mxcsr;
    __builtin_memcpy(&mxcsr, b + 24, 4);
    mxcsr &= mxcsr_mask;  // a reserved bit set would fault the restore
    __builtin_memcpy(b + 24, &mxcsr, 4);
    if (!use_xsave) return;
    // The XSAVE header: XSTATE_BV (features present), XCOMP_BV, reserved.
    u64 bv;
    __builtin_memcpy(&bv, b + 512, 8);
    bv &= xcr0;
    __builtin_memcpy(b + 512, &bv, 8);
    __builtin_memset(b + 520, 0, 56);
}

void fpu_restore(const void* area) {
    if (use_xsave) {
        u64 bv, comp;
        __builtin_memcpy(&bv, static_cast<const u8*>(area) + 512, 8);
        __builtin_memcpy(&comp, static_cast<const u8*>(area) + 520, 8);
        // A bad image would fault in the kernel: catch it with a message.
        KASSERT_MSG(!(bv & ~xcr0) && comp == 0, "fpu: corrupt state image (freed or overwritten)");
    }
    if (use_xsave) asm volatile("xrstor64 (%0)" ::"r"(area), "a"(u32(xcr0)), "d"(u32(xcr0 >> 32)) : "memory");
    else asm volatile("fxrstor64 (%0)" ::"r"(area) : "memory");
}

}  // namespace keel::arch
