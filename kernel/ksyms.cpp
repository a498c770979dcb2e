// Lookup in the symbol table that tools/gen_ksyms.py embeds at link time.
#include "kernel/panic.h"

extern "C" {
extern const keel::u64 ksyms_count;
extern const keel::u64 ksyms_addrs[];
extern const keel::u32 ksyms_name_offsets[];
extern const char ksyms_names[];
}

namespace keel {

const char* ksym_lookup(uptr addr, uptr* offset) {
    u64 n = ksyms_count;
    if (n == 0 || addr < ksyms_addrs[0]) return nullptr;
    // Last symbol whose address is <= addr.
    u64 lo = 0, hi = n;
    while (hi - lo > 1) {
        u64 mid = lo + (hi - lo) / 2;
        if (ksyms_addrs[mid] <= addr) lo = mid;
        else hi = mid;
    }
    *offset = addr - ksyms_addrs[lo];
    return ksyms_names + ksyms_name_offsets[lo];
}

}  // namespace keel
