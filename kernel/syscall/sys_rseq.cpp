// rseq(2): registering a thread's restartable-sequence area.
#include "kernel/process/rseq.h"
#include "kernel/syscall/syscall.h"

namespace keel {

SYSCALL(rseq) {
    constexpr int FLAG_UNREGISTER = 1;
    uptr area = args.a0;
    u32 len = static_cast<u32>(args.a1);
    int flags = static_cast<int>(args.a2);
    u32 sig = static_cast<u32>(args.a3);
    if (flags & FLAG_UNREGISTER) {
        if (flags & ~FLAG_UNREGISTER) return Error(EINVAL);
        TRY(rseq::unregister_area(area, len, sig));
        return 0;
    }
    if (flags) return Error(EINVAL);
    TRY(rseq::register_area(area, len, sig));
    return 0;
}

}  // namespace keel
