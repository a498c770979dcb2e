// In-kernel tests. A test is a function registered in the .ktests.<suite>
// linker section with KTEST(suite, name); `ktest=all` or `ktest=a,b` on the
// command line runs them in a kernel thread at boot, prints KTAP, and ends
// the VM through isa-debug-exit (pass 0x10, fail 0x20).
#pragma once

#include "lib/types.h"

namespace keel {

class KTestContext {
public:
    bool check(bool ok, const char* expr, const char* file, int line);
    bool check_eq(u64 a, u64 b, const char* expr, const char* file, int line);
    void skip(const char* reason);
    bool failed() const { return failed_; }
    bool skipped() const { return skipped_; }
    const char* skip_reason() const { return skip_reason_; }

private:
    bool failed_ = false;
    bool skipped_ = false;
    const char* skip_reason_ = "";
};

// Sized to its alignment so that the linker packs registrations as an array
// (the compiler may raise the alignment of a 24-byte object to 32).
struct alignas(32) KTest {
    const char* suite;
    const char* name;
    void (*fn)(KTestContext&);
};
static_assert(sizeof(KTest) == 32);

// Runs the suites named by `spec` ("all" or a comma list). Never returns.
[[noreturn]] void ktest_run(const char* spec);

}  // namespace keel

#define KTEST(suite, name)                                                                          \
    static void ktest_fn_##suite##_##name(::keel::KTestContext& t);                                 \
    [[gnu::used, gnu::section(".ktests." #suite)]] static const ::keel::KTest ktest_reg_##suite##_##name{ \
        #suite, #name, ktest_fn_##suite##_##name};                                                  \
    static void ktest_fn_##suite##_##name([[maybe_unused]] ::keel::KTestContext& t)

#define KEXPECT(cond) t.check(static_cast<bool>(cond), #cond, __FILE__, __LINE__)
#define KEXPECT_EQ(a, b) t.check_eq(static_cast<::keel::u64>(a), static_cast<::keel::u64>(b), #a " == " #b, __FILE__, __LINE__)
#define KASSERT_TRUE(cond)                                    \
    do {                                                      \
        if (!KEXPECT(cond)) return;                           \
    } while (0)
