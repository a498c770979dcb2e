#include "kernel/random.h"

#include "arch/x86_64/cpu.h"

namespace keel {

namespace {

bool rdrand64(u64* out) {
    static int have = -1;
    if (have < 0) have = (arch::cpuid(1).ecx >> 30) & 1;
    if (!have) return false;
    for (int tries = 0; tries < 10; ++tries) {
        unsigned char ok;
        asm volatile("rdrand %0; setc %1" : "=r"(*out), "=qm"(ok));
        if (ok) return true;
    }
    return false;
}

// splitmix64 over the TSC: distinct values, not cryptographic.
u64 fallback_state = 0;
u64 fallback64() {
    u64 z = (__atomic_add_fetch(&fallback_state, 0x9e3779b97f4a7c15ull, __ATOMIC_RELAXED) ^ arch::rdtsc());
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

}  // namespace

void random_bytes(void* buf, usize n) {
    auto* p = static_cast<u8*>(buf);
    while (n) {
        u64 v;
        if (!rdrand64(&v)) v = fallback64();
        usize k = min<usize>(n, 8);
        __builtin_memcpy(p, &v, k);
        p += k;
        n -= k;
    }
}

}  // namespace keel
