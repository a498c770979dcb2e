#include "kernel/crashtest.h"

#include "kernel/panic.h"
#include "kernel/printk.h"
#include "kernel/spinlock.h"
#include "mm/slab.h"

namespace keel {

namespace {

// The address comes through a volatile so the compiler cannot see the bug.
volatile uptr bad_address = 0x10;

[[gnu::noinline]] void crash_pagefault() { (void)*reinterpret_cast<volatile u64*>(bad_address); }

[[gnu::noinline]] void crash_divide() {
    // In assembly: the compiler may rewrite 1 / x as x == 1.
    u64 zero = 0;
    asm volatile("xorl %%edx, %%edx; movl $1, %%eax; divq %0" ::"r"(zero) : "rax", "rdx");
}

// Recursion with a run-time stop the compiler cannot prove is never met.
volatile u64 recursion_limit = ~0ull;

[[gnu::noinline]] u64 crash_recurse(u64 depth) {
    volatile u8 pad[512];
    pad[0] = static_cast<u8>(depth);
    if (depth >= recursion_limit) return pad[0];
    return crash_recurse(depth + 1) + pad[0];
}

[[gnu::noinline]] void crash_doublefree() {
    void* p = MUST(mm::kmalloc(64));
    mm::kfree(p);
    mm::kfree(p);
}

[[gnu::noinline]] void crash_useafterfree() {
    auto* p = static_cast<volatile u8*>(MUST(mm::kmalloc(64)));
    mm::kfree(const_cast<u8*>(p));
    p[8] = 1;
    // The freed object is the first one handed out again; the check notices.
    mm::kfree(MUST(mm::kmalloc(64)));
}

[[gnu::noinline]] void crash_lockrank() {
    static Spinlock inner(LockRank::Timer);
    static Spinlock outer(LockRank::WaitQueue);
    SpinlockGuard a(inner);
    SpinlockGuard b(outer);  // lower rank inside a higher one
}

}  // namespace

void crashtest_run(StringView name) {
    pr_emerg("crashtest: %.*s", static_cast<int>(name.size()), name.data());
    if (name == StringView("pagefault")) crash_pagefault();
    else if (name == StringView("divide")) crash_divide();
    else if (name == StringView("stackoverflow")) crash_recurse(0);
    else if (name == StringView("doublefree")) crash_doublefree();
    else if (name == StringView("useafterfree")) crash_useafterfree();
    else if (name == StringView("lockrank")) crash_lockrank();
    else if (name == StringView("assert")) KASSERT(name.size() == 0);
    else pr_err("crashtest: unknown test");
}

}  // namespace keel
