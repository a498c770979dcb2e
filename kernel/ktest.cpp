#include "kernel/ktest.h"

#include "arch/x86_64/debug_exit.h"
#include "kernel/panic.h"
#include "kernel/printk.h"
#include "lib/format.h"
#include "lib/ktap.h"
#include "lib/string.h"

extern "C" const keel::KTest __ktests_start[], __ktests_end[];

namespace keel {

namespace {

bool console_sink(void*, const char* data, usize len) {
    console_write(data, len);
    return true;
}

bool same(const char* a, const char* b) { return str_cmp(a, b) == 0; }

// Is `suite` named in the comma-separated spec?
bool selected(StringView spec, const char* suite) {
    if (spec == StringView("all")) return true;
    usize start = 0;
    while (start <= spec.size()) {
        usize end = start;
        while (end < spec.size() && spec[end] != ',') ++end;
        if (spec.substr(start, end - start) == StringView(suite)) return true;
        start = end + 1;
    }
    return false;
}

bool suite_exists(StringView name) {
    for (const KTest* k = __ktests_start; k < __ktests_end; ++k)
        if (StringView(k->suite) == name) return true;
    return false;
}

}  // namespace

bool KTestContext::check(bool ok, const char* expr, const char* file, int line) {
    if (!ok) {
        failed_ = true;
        char buf[256];
        int n = format(buf, sizeof(buf), "    # FAIL %s at %s:%d\n", expr, file, line);
        console_write(buf, min<usize>(n, sizeof(buf) - 1));
    }
    return ok;
}

bool KTestContext::check_eq(u64 a, u64 b, const char* expr, const char* file, int line) {
    if (a != b) {
        failed_ = true;
        char buf[320];
        int n = format(buf, sizeof(buf), "    # FAIL %s (%llu != %llu) at %s:%d\n", expr,
                       static_cast<unsigned long long>(a), static_cast<unsigned long long>(b), file, line);
        console_write(buf, min<usize>(n, sizeof(buf) - 1));
    }
    return a == b;
}

void KTestContext::skip(const char* reason) {
    skipped_ = true;
    skip_reason_ = reason;
}

void ktest_run(const char* spec_cstr) {
    StringView spec(spec_cstr);
    // Reject unknown suite names before running anything.
    if (spec != StringView("all")) {
        usize start = 0;
        while (start <= spec.size()) {
            usize end = start;
            while (end < spec.size() && spec[end] != ',') ++end;
            StringView name = spec.substr(start, end - start);
            if (!suite_exists(name)) {
                pr_err("ktest: unknown suite '%.*s'", static_cast<int>(name.size()), name.data());
                panic("ktest: unknown test suite requested on the command line");
            }
            start = end + 1;
        }
    }

    Sink sink(console_sink, nullptr);
    Ktap ktap(sink);
    // Suites are contiguous: the linker sorts .ktests.<suite> sections.
    usize nsuites = 0;
    for (const KTest* k = __ktests_start; k < __ktests_end; ++k)
        if ((k == __ktests_start || !same(k[-1].suite, k->suite)) && selected(spec, k->suite)) ++nsuites;
    ktap.begin(nsuites);
    for (const KTest* k = __ktests_start; k < __ktests_end;) {
        const KTest* end = k;
        while (end < __ktests_end && same(end->suite, k->suite)) ++end;
        if (selected(spec, k->suite)) {
            ktap.begin_subtest(k->suite, static_cast<usize>(end - k));
            for (const KTest* c = k; c < end; ++c) {
                KTestContext ctx;
                c->fn(ctx);
                if (ctx.skipped() && !ctx.failed()) ktap.skip(c->name, ctx.skip_reason());
                else ktap.result(ctx.failed() ? TestResult::Fail : TestResult::Pass, c->name);
            }
            ktap.end_subtest();
        }
        k = end;
    }
    ktap.finish();
    auto totals = ktap.totals();
    char line[128];
    int n = format(line, sizeof(line), "ktest: %zu passed, %zu failed, %zu skipped\n", totals.pass, totals.fail,
                   totals.skip);
    console_write(line, min<usize>(n, sizeof(line) - 1));
    arch::qemu_debug_exit(ktap.all_passed() ? arch::DEBUG_EXIT_PASS : arch::DEBUG_EXIT_FAIL);
    // No debug-exit device: follow panic= like any other end of the kernel.
    panic("ktest finished without a debug-exit device");
}

}  // namespace keel
