#include "lib/ktap.h"

namespace keel {

void Ktap::indent() { sink_.repeat(' ', 2 * depth_); }

void Ktap::begin(usize planned) {
    levels_[0] = Level{};
    levels_[0].planned = planned;
    depth_ = 0;
    overflow_ = 0;
    format_to(sink_, "KTAP version 1\n1..%zu\n", planned);
}

void Ktap::begin_subtest(StringView name, usize planned) {
    if (depth_ == kMaxDepth) {
        // Too deep to track: its cases land in the enclosing level, whose
        // plan then no longer matches, so the misuse shows as a failure.
        ++overflow_;
        diag("subtest nested deeper than %zu levels: %.*s", kMaxDepth, static_cast<int>(min<usize>(name.size(), 256)),
             name.data());
        return;
    }
    ++depth_;
    Level& level = levels_[depth_];
    level = Level{};
    level.planned = planned;
    usize n = min(name.size(), kMaxNameLength);
    for (usize i = 0; i < n; ++i) level.name[i] = name[i];
    level.name[n] = '\0';

    indent();
    sink_.write("KTAP version 1\n", 15);
    // "# Subtest:" is a diagnostic line to a strict v1 parser but names the
    // test before its results, which kunit.py and TAP14 readers rely on.
    indent();
    sink_.write("# Subtest: ", 11);
    write_sanitized(StringView(level.name), true);
    sink_.put('\n');
    indent();
    format_to(sink_, "1..%zu\n", planned);
}

TestResult Ktap::end_subtest() {
    if (overflow_ > 0) {
        --overflow_;
        return TestResult::Pass;
    }
    if (depth_ == 0) {
        diag("end_subtest without begin_subtest");
        return TestResult::Fail;
    }
    Level& level = levels_[depth_];
    TestResult r = TestResult::Pass;
    if (level.counts.fail > 0 || level.reported != level.planned)
        r = TestResult::Fail;
    else if (level.reported > 0 && level.counts.skip == level.reported)
        r = TestResult::Skip;
    if (level.reported != level.planned)
        diag("planned %zu tests but ran %zu", level.planned, level.reported);

    // The summary result belongs to the parent and is printed at its depth.
    --depth_;
    emit_result(levels_[depth_], r, StringView(level.name), r == TestResult::Skip ? "all cases skipped" : "");
    return r;
}

void Ktap::result(TestResult r, StringView name, StringView note) {
    if (r == TestResult::Pass) ++totals_.pass;
    if (r == TestResult::Fail) ++totals_.fail;
    if (r == TestResult::Skip) ++totals_.skip;
    emit_result(levels_[depth_], r, name, note);
}

void Ktap::emit_result(Level& level, TestResult r, StringView name, StringView note) {
    ++level.reported;
    if (r == TestResult::Pass) ++level.counts.pass;
    if (r == TestResult::Fail) ++level.counts.fail;
    if (r == TestResult::Skip) ++level.counts.skip;

    indent();
    // A skip is "ok" with a SKIP directive: it did not fail.
    format_to(sink_, "%s %zu ", r == TestResult::Fail ? "not ok" : "ok", level.reported);
    write_sanitized(name, true);
    if (r == TestResult::Skip) {
        sink_.write(" # SKIP", 7);
        if (!note.empty()) sink_.put(' ');
    } else if (!note.empty()) {
        sink_.write(" # ", 3);
    }
    write_sanitized(note, false);
    sink_.put('\n');
}

// A line break inside a name or note would end the result line early and a
// '#' in a name would start the directive, so both are replaced.
void Ktap::write_sanitized(StringView text, bool in_description) {
    usize run = 0;
    for (usize i = 0; i <= text.size(); ++i) {
        char c = i < text.size() ? text[i] : '\0';
        bool bad = c == '\n' || c == '\r' || (in_description && c == '#');
        if (i < text.size() && !bad) continue;
        sink_.write(text.data() + run, i - run);
        if (bad) sink_.put(c == '#' ? '_' : ' ');
        run = i + 1;
    }
}

// Sink callback for diag(): re-emits the indentation and "# " after every
// newline. A newline is held back until more text follows, so a message
// ending in '\n' does not leave an empty diagnostic line.
bool Ktap::diag_write(void* ctx, const char* data, usize len) {
    auto* self = static_cast<Ktap*>(ctx);
    usize run = 0;
    for (usize i = 0; i < len; ++i) {
        if (self->diag_newline_pending_) {
            self->sink_.put('\n');
            self->indent();
            self->sink_.write("# ", 2);
            self->diag_newline_pending_ = false;
        }
        if (data[i] == '\n') {
            self->sink_.write(data + run, i - run);
            run = i + 1;
            self->diag_newline_pending_ = true;
        }
    }
    self->sink_.write(data + run, len - run);
    return true;
}

void Ktap::diag(const char* fmt, ...) {
    indent();
    sink_.write("# ", 2);
    diag_newline_pending_ = false;
    Sink lines(&Ktap::diag_write, this);
    va_list ap;
    va_start(ap, fmt);
    vformat_to(lines, fmt, ap);
    va_end(ap);
    sink_.put('\n');
    diag_newline_pending_ = false;
}

void Ktap::finish() {
    diag("Totals: pass:%zu fail:%zu skip:%zu", totals_.pass, totals_.fail, totals_.skip);
}

}  // namespace keel
