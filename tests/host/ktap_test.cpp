// lib/ktap: exact output for the line types of KTAP version 1.
#include <gtest/gtest.h>

#include <string>

#include "lib/ktap.h"

using namespace keel;

namespace {

struct Captured {
    std::string text;
    Sink sink{[](void* ctx, const char* data, usize len) {
                  static_cast<std::string*>(ctx)->append(data, len);
                  return true;
              },
              &text};
};

}  // namespace

TEST(Ktap, FlatRun) {
    Captured out;
    Ktap ktap(out.sink);
    ktap.begin(3);
    ktap.pass("boots");
    ktap.fail("parses");
    ktap.skip("needs_smp", "single CPU");
    ktap.finish();
    EXPECT_EQ(out.text,
              "KTAP version 1\n"
              "1..3\n"
              "ok 1 boots\n"
              "not ok 2 parses\n"
              "ok 3 needs_smp # SKIP single CPU\n"
              "# Totals: pass:1 fail:1 skip:1\n");
    EXPECT_FALSE(ktap.all_passed());
    EXPECT_EQ(ktap.totals().pass, 1u);
    EXPECT_EQ(ktap.totals().fail, 1u);
    EXPECT_EQ(ktap.totals().skip, 1u);
}

TEST(Ktap, NestedSubtestsIndentTwoSpacesPerLevel) {
    Captured out;
    Ktap ktap(out.sink);
    ktap.begin(2);
    ktap.begin_subtest("mm", 2);
    ktap.pass("buddy");
    ktap.begin_subtest("slab", 1);
    EXPECT_EQ(ktap.depth(), 2u);
    ktap.pass("kmalloc");
    EXPECT_EQ(ktap.end_subtest(), TestResult::Pass);
    EXPECT_EQ(ktap.end_subtest(), TestResult::Pass);
    ktap.begin_subtest("sched", 1);
    ktap.fail("eevdf");
    EXPECT_EQ(ktap.end_subtest(), TestResult::Fail);
    EXPECT_EQ(ktap.depth(), 0u);
    EXPECT_EQ(out.text,
              "KTAP version 1\n"
              "1..2\n"
              "  KTAP version 1\n"
              "  # Subtest: mm\n"
              "  1..2\n"
              "  ok 1 buddy\n"
              "    KTAP version 1\n"
              "    # Subtest: slab\n"
              "    1..1\n"
              "    ok 1 kmalloc\n"
              "  ok 2 slab\n"
              "ok 1 mm\n"
              "  KTAP version 1\n"
              "  # Subtest: sched\n"
              "  1..1\n"
              "  not ok 1 eevdf\n"
              "not ok 2 sched\n");
    // Totals count leaf cases only, not the subtest summaries.
    EXPECT_EQ(ktap.totals().pass, 2u);
    EXPECT_EQ(ktap.totals().fail, 1u);
}

TEST(Ktap, SubtestOfSkipsIsSkippedAndPlanMismatchFails) {
    Captured out;
    Ktap ktap(out.sink);
    ktap.begin(2);
    ktap.begin_subtest("net", 2);
    ktap.skip("tcp", "no device");
    ktap.skip("udp", "");
    EXPECT_EQ(ktap.end_subtest(), TestResult::Skip);
    ktap.begin_subtest("fs", 3);
    ktap.pass("open");
    EXPECT_EQ(ktap.end_subtest(), TestResult::Fail);
    EXPECT_EQ(out.text,
              "KTAP version 1\n"
              "1..2\n"
              "  KTAP version 1\n"
              "  # Subtest: net\n"
              "  1..2\n"
              "  ok 1 tcp # SKIP no device\n"
              "  ok 2 udp # SKIP\n"
              "ok 1 net # SKIP all cases skipped\n"
              "  KTAP version 1\n"
              "  # Subtest: fs\n"
              "  1..3\n"
              "  ok 1 open\n"
              "  # planned 3 tests but ran 1\n"
              "not ok 2 fs\n");
}

TEST(Ktap, DiagnosticsSplitLinesAndFormat) {
    Captured out;
    Ktap ktap(out.sink);
    ktap.begin(1);
    ktap.begin_subtest("s", 1);
    ktap.diag("expected %d, got %d", 1, 2);
    ktap.diag("two\nlines\n");
    ktap.diag("%s", "a\n\nb");
    ktap.result(TestResult::Fail, "t", "see above");
    ktap.end_subtest();
    EXPECT_EQ(out.text,
              "KTAP version 1\n"
              "1..1\n"
              "  KTAP version 1\n"
              "  # Subtest: s\n"
              "  1..1\n"
              "  # expected 1, got 2\n"
              "  # two\n"
              "  # lines\n"
              "  # a\n"
              "  # \n"
              "  # b\n"
              "  not ok 1 t # see above\n"
              "not ok 1 s\n");
}

TEST(Ktap, NamesCannotBreakTheFormat) {
    Captured out;
    Ktap ktap(out.sink);
    ktap.begin(2);
    ktap.pass("evil\nok 99 injected # x");
    ktap.skip("s", "reason\nnot ok 5");
    EXPECT_EQ(out.text,
              "KTAP version 1\n"
              "1..2\n"
              "ok 1 evil ok 99 injected _ x\n"
              "ok 2 s # SKIP reason not ok 5\n");
}

TEST(Ktap, LongNamesAreTruncatedAndDeepNestingFlattened) {
    Captured out;
    Ktap ktap(out.sink);
    ktap.begin(1);
    std::string long_name(300, 'n');
    for (usize i = 0; i < Ktap::kMaxDepth; ++i) ktap.begin_subtest(long_name.c_str(), 1);
    EXPECT_EQ(ktap.depth(), Ktap::kMaxDepth);
    ktap.begin_subtest("too_deep", 1);
    EXPECT_EQ(ktap.depth(), Ktap::kMaxDepth);
    ktap.pass("leaf");
    ktap.end_subtest();  // the flattened one
    for (usize i = 0; i < Ktap::kMaxDepth; ++i) ktap.end_subtest();
    EXPECT_EQ(ktap.depth(), 0u);
    EXPECT_NE(out.text.find("ok 1 " + std::string(Ktap::kMaxNameLength, 'n') + "\n"), std::string::npos);
    EXPECT_EQ(out.text.find(std::string(Ktap::kMaxNameLength + 1, 'n')), std::string::npos);
    EXPECT_NE(out.text.find("# subtest nested deeper than 8 levels: too_deep\n"), std::string::npos);
    // Unbalanced end_subtest is reported, not a crash.
    EXPECT_EQ(ktap.end_subtest(), TestResult::Fail);
}
