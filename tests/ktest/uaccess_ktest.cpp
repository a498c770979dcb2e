// User memory access from the kernel: demand paging through copies, EFAULT
// for every kind of bad pointer, and mmap/mprotect/munmap rules.
#include <linux/mman.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/paging.h"
#include "fs/vfs_file.h"
#include "kernel/ktest.h"
#include "kernel/process/process.h"
#include "kernel/sched/scheduler.h"
#include "kernel/uaccess.h"
#include "mm/address_space.h"

using namespace keel;

namespace {

// Runs the test body with a scratch address space as the thread's own.
struct ScratchProcess {
    proc::Process p;
    sched::Thread* self = sched::current();
    ScratchProcess() {
        p.mm = MUST(mm::AddressSpace::create());
        self->process = &p;  // later context switches load its page tables
        p.mm->activate();
    }
    ~ScratchProcess() {
        self->process = nullptr;
        arch::write_cr3(arch::kernel_pml4());
        p.mm->put();
    }
};

constexpr uptr BASE = 0x10000000;

}  // namespace

KTEST(uaccess, demand_paging_and_efault) {
    ScratchProcess sp;
    u64 v = 0x1122334455667788ull;
    KEXPECT_EQ(copy_to_user(BASE, &v, 8).is_error(), true);  // nothing mapped yet
    auto r = sp.p.mm->map(BASE, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, nullptr, 0);
    KASSERT_TRUE(r.is_ok());
    KEXPECT_EQ(r.value(), BASE);
    KEXPECT(copy_to_user(BASE + 4096 + 100, &v, 8).is_ok());  // faults a page in
    u64 back = 0;
    KEXPECT(copy_from_user(&back, BASE + 4096 + 100, 8).is_ok());
    KEXPECT_EQ(back, v);
    u64 zero = 1;
    KEXPECT(copy_from_user(&zero, BASE + 2 * 4096, 8).is_ok());
    KEXPECT_EQ(zero, 0);  // fresh anonymous memory reads as zeros

    // A copy that runs off the end of the mapping fails as a whole.
    u8 buf[64] = {};
    KEXPECT_EQ(copy_to_user(BASE + 3 * 4096 - 32, buf, 64).error().code(), EFAULT);
    // Kernel addresses and ranges that wrap are never user memory.
    KEXPECT_EQ(copy_from_user(buf, reinterpret_cast<uptr>(&buf), 8).error().code(), EFAULT);
    KEXPECT_EQ(copy_from_user(buf, ~0ull - 4, 8).error().code(), EFAULT);
    KEXPECT_EQ(copy_from_user(buf, 0, 8).error().code(), EFAULT);

    // Read-only: reads work, writes fault.
    KEXPECT(sp.p.mm->protect(BASE, 4096 * 2, PROT_READ).is_ok());
    KEXPECT_EQ(copy_to_user(BASE + 4096 + 100, &v, 8).error().code(), EFAULT);
    KEXPECT(copy_from_user(&back, BASE + 4096 + 100, 8).is_ok());
    KEXPECT_EQ(back, v);
    // PROT_NONE: nothing works.
    KEXPECT(sp.p.mm->protect(BASE, 4096, PROT_NONE).is_ok());
    KEXPECT_EQ(copy_from_user(&back, BASE, 8).error().code(), EFAULT);
    // Unmapped again: EFAULT.
    KEXPECT(sp.p.mm->unmap(BASE, 3 * 4096).is_ok());
    KEXPECT_EQ(copy_from_user(&back, BASE + 4096 + 100, 8).error().code(), EFAULT);
}

KTEST(uaccess, mmap_argument_rules) {
    ScratchProcess sp;
    auto& as = *sp.p.mm;
    const u32 anon = MAP_PRIVATE | MAP_ANONYMOUS;
    KEXPECT_EQ(as.map(0, 0, PROT_READ, anon, nullptr, 0).error().code(), EINVAL);
    KEXPECT_EQ(as.map(BASE + 1, 4096, PROT_READ, anon | MAP_FIXED, nullptr, 0).error().code(), EINVAL);
    // Below vm.mmap_min_addr only with CAP_SYS_RAWIO (the scratch process
    // is root, which holds it).
    auto low = as.map(0x1000, 4096, PROT_READ, anon | MAP_FIXED, nullptr, 0);
    if (fs::cred_of(sp.p).capable(CAP_SYS_RAWIO)) {
        KEXPECT(low.is_ok());
        KEXPECT(as.unmap(0x1000, 4096).is_ok());
    } else {
        KEXPECT_EQ(low.error().code(), EPERM);
    }
    KEXPECT(as.map(BASE, 8192, PROT_READ, anon | MAP_FIXED, nullptr, 0).is_ok());
    KEXPECT_EQ(as.map(BASE + 4096, 4096, PROT_READ, anon | MAP_FIXED_NOREPLACE, nullptr, 0).error().code(), EEXIST);
    // Without MAP_FIXED a taken hint is only a hint.
    auto moved = as.map(BASE, 4096, PROT_READ, anon, nullptr, 0);
    KEXPECT(moved.is_ok() && moved.value() != BASE);
    // mprotect needs the whole range mapped, and rejects unknown bits.
    KEXPECT_EQ(as.protect(BASE, 3 * 4096, PROT_READ).error().code(), ENOMEM);
    KEXPECT_EQ(as.protect(BASE, 4096, 0x100).error().code(), EINVAL);
    KEXPECT_EQ(as.unmap(BASE + 1, 4096).error().code(), EINVAL);
    KEXPECT(as.unmap(BASE, 4096).is_ok());  // splits the mapping
    KEXPECT(as.map(BASE, 4096, PROT_READ, anon | MAP_FIXED_NOREPLACE, nullptr, 0).is_ok());
}

KTEST(uaccess, strncpy_from_user_limits) {
    ScratchProcess sp;
    KASSERT_TRUE(sp.p.mm->map(BASE, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, nullptr, 0)
                     .is_ok());
    const char text[] = "hello";
    KEXPECT(copy_to_user(BASE, text, sizeof(text)).is_ok());
    char out[16];
    auto n = strncpy_from_user(out, BASE, sizeof(out), ENAMETOOLONG);
    KEXPECT(n.is_ok() && n.value() == 5);
    KEXPECT_EQ(strncpy_from_user(out, BASE, 5, ENAMETOOLONG).error().code(), ENAMETOOLONG);
    // A string running into unmapped memory is EFAULT.
    u8 fill[8] = {'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a'};
    KEXPECT(copy_to_user(BASE + 4096 - 8, fill, 8).is_ok());
    KEXPECT_EQ(strncpy_from_user(out, BASE + 4096 - 8, sizeof(out), ENAMETOOLONG).error().code(), EFAULT);
}
