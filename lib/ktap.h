// A KTAP version 1 emitter (Documentation/dev-tools/ktap.rst in Linux), so
// that in-kernel test results can be read by existing tools (kunit.py, the
// kselftest runner, any TAP consumer). Output looks like:
//
//   KTAP version 1
//   1..2
//     KTAP version 1
//     # Subtest: alloc
//     1..2
//     ok 1 alloc_small
//     ok 2 alloc_huge # SKIP no memory
//   ok 1 alloc
//     KTAP version 1
//     # Subtest: cmdline
//     1..1
//     # expected 7, got 8
//     not ok 1 cmdline_duplicates
//   not ok 2 cmdline
//   # Totals: pass:1 fail:1 skip:1
//
// Each nesting level indents by two spaces, as the specification asks. Test
// numbers are assigned in order per level.
#pragma once

#include "lib/format.h"
#include "lib/string_view.h"

namespace keel {

enum class TestResult : u8 { Pass, Fail, Skip };

class Ktap {
public:
    static constexpr usize kMaxDepth = 8;
    static constexpr usize kMaxNameLength = 95;

    struct Counts {
        usize pass = 0;
        usize fail = 0;
        usize skip = 0;
    };

    explicit Ktap(Sink& sink) : sink_(sink) {}
    Ktap(const Ktap&) = delete;
    Ktap& operator=(const Ktap&) = delete;

    // The version and plan lines of the whole run; call once, first.
    void begin(usize planned);

    // Opens a nested test with `planned` cases; the results that follow
    // belong to it until end_subtest(). The name is copied (truncated to
    // kMaxNameLength). Beyond kMaxDepth, nesting is flattened, not refused:
    // results are still reported, one level too shallow.
    void begin_subtest(StringView name, usize planned);
    // Closes the innermost subtest and reports it as one result of its
    // parent: not ok if any case failed or the plan was not met, SKIP if
    // every case was skipped, ok otherwise. Returns that result.
    TestResult end_subtest();

    void pass(StringView name) { result(TestResult::Pass, name); }
    void fail(StringView name) { result(TestResult::Fail, name); }
    void skip(StringView name, StringView reason) { result(TestResult::Skip, name, reason); }
    // `note` follows a '#' on the result line: the reason for a skip, or
    // free-form diagnostic data otherwise. A skipped test is reported as
    // "ok N name # SKIP note".
    void result(TestResult r, StringView name, StringView note = {});

    // A "# " diagnostic line at the current depth; embedded newlines start
    // further diagnostic lines, so the message cannot break the format.
    void diag(const char* fmt, ...) __attribute__((format(printf, 2, 3)));

    // "# Totals: pass:P fail:F skip:S" over every leaf result so far.
    void finish();

    usize depth() const { return depth_; }
    // Leaf results (not subtest summaries) at every level so far.
    Counts totals() const { return totals_; }
    bool all_passed() const { return totals_.fail == 0; }

private:
    struct Level {
        usize planned = 0;
        usize reported = 0;
        Counts counts;
        char name[kMaxNameLength + 1] = {};
    };

    static bool diag_write(void* ctx, const char* data, usize len);

    void indent();
    void emit_result(Level& level, TestResult r, StringView name, StringView note);
    void write_sanitized(StringView text, bool in_description);

    Sink& sink_;
    // levels_[0] is the top level; levels_[depth_] is the one being filled.
    Level levels_[kMaxDepth + 1];
    usize depth_ = 0;
    usize overflow_ = 0;  // subtests opened beyond kMaxDepth
    Counts totals_;
    bool diag_newline_pending_ = false;
};

}  // namespace keel
