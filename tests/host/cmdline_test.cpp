// kernel/cmdline: Linux command-line semantics and hostile input.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "kernel/cmdline.h"

using namespace keel;

namespace {

std::string S(StringView v) { return std::string(v.data(), v.size()); }

std::vector<std::string> list(const char* const* v, usize n) {
    std::vector<std::string> out;
    for (usize i = 0; i < n; ++i) out.emplace_back(v[i]);
    EXPECT_EQ(v[n], nullptr) << "list not NULL-terminated";
    return out;
}
std::vector<std::string> argv(const Cmdline& c) { return list(c.init_argv(), c.init_argc()); }
std::vector<std::string> envp(const Cmdline& c) { return list(c.init_envp(), c.init_envc()); }

const StringView kKnown[] = {"console", "init", "quiet", "panic", "loglevel", "log_buf_len", "root"};

// Cmdline holds several KiB of fixed storage; keep it off the test's stack.
// Taking std::string lets tests embed NUL bytes.
std::unique_ptr<Cmdline> parsed(const std::string& text) {
    auto c = std::make_unique<Cmdline>();
    c->parse(StringView(text.data(), text.size()), kKnown);
    return c;
}

}  // namespace

TEST(Cmdline, KeysValuesAndBareWords) {
    auto c = parsed("console=ttyS0,115200  quiet\tloglevel=7\n root=");
    EXPECT_EQ(c->errors(), 0u);
    EXPECT_EQ(S(c->get("console").value()), "ttyS0,115200");
    EXPECT_TRUE(c->has("quiet"));
    EXPECT_TRUE(c->get("quiet").value().empty());
    EXPECT_TRUE(c->has("root"));  // `root=` is present with an empty value
    EXPECT_FALSE(c->has("nosmp"));
    EXPECT_FALSE(c->get("nosmp"));
    EXPECT_EQ(c->get_int("loglevel", 4), 7);
    ASSERT_EQ(c->param_count(), 4u);
    EXPECT_FALSE(c->param(1).has_value);
    EXPECT_TRUE(c->param(3).has_value);
    EXPECT_TRUE(argv(*c).empty());
    EXPECT_TRUE(envp(*c).empty());
    // Values are C strings in place.
    EXPECT_STREQ(c->get("console").value().data(), "ttyS0,115200");
}

TEST(Cmdline, QuotesGroupAndAreRemoved) {
    auto c = parsed("init=\"/bin/sh -x\" \"quoted=a b\" msg=\"x=y\"z \"\"");
    EXPECT_EQ(S(c->get("init").value()), "/bin/sh -x");
    EXPECT_STREQ(c->get("init").value().data(), "/bin/sh -x");
    EXPECT_EQ(S(c->get("quoted").value()), "a b");
    EXPECT_EQ(S(c->get("msg").value()), "x=yz");
    EXPECT_EQ(c->errors(), u32(Cmdline::kEmptyKey));  // the lone "" before --
}

TEST(Cmdline, UnknownParametersGoToInit) {
    auto c = parsed("quiet single LANG=C TERM=vt100 console=tty0 emergency LANG=de_DE usbcore.autosuspend=-1 mod.flag");
    EXPECT_EQ(argv(*c), (std::vector<std::string>{"single", "emergency"}));
    // A later LANG replaces the earlier one in place; module parameters
    // (a '.' in the key) are for the kernel only.
    EXPECT_EQ(envp(*c), (std::vector<std::string>{"LANG=de_DE", "TERM=vt100"}));
    EXPECT_EQ(c->get_int("usbcore.autosuspend", 0), -1);
}

TEST(Cmdline, DoubleDashEndsKernelParameters) {
    auto c = parsed("quiet LANG=C -- --verbose a=b \"two words\" -- quiet");
    EXPECT_EQ(argv(*c), (std::vector<std::string>{"--verbose", "a=b", "two words", "--", "quiet"}));
    EXPECT_EQ(envp(*c), (std::vector<std::string>{"LANG=C"}));
    EXPECT_FALSE(c->has("a"));
    EXPECT_EQ(c->param_count(), 2u);
    // A quoted "--" is still the separator (quotes are removed first), and
    // an empty argument after it is kept.
    auto d = parsed("\"--\" \"\" x");
    EXPECT_EQ(argv(*d), (std::vector<std::string>{"", "x"}));
    EXPECT_EQ(d->errors(), 0u);
}

TEST(Cmdline, LaterDuplicatesOverride) {
    auto c = parsed("panic=10 loglevel=3 panic=-1 log-buf-len=1 log_buf_len=2");
    EXPECT_EQ(c->get_int("panic", 0), -1);
    EXPECT_EQ(c->get_int("log_buf_len", 0), 2);
    EXPECT_EQ(c->get_int("log-buf-len", 0), 2);  // '-' and '_' are the same in keys
    EXPECT_EQ(c->param_count(), 5u);
    EXPECT_TRUE(argv(*c).empty());
    EXPECT_TRUE(envp(*c).empty());  // log-buf-len is known under either spelling
}

TEST(Cmdline, GetIntChecksSyntaxAndRange) {
    auto c = parsed(
        "a=42 b=-17 c=+5 d=0x1F e=9223372036854775807 f=-9223372036854775808 g=9223372036854775808 "
        "h=12abc i= j k=-0x10 l=0x m=- n=99999999999999999999999 o=\" 1\"");
    EXPECT_EQ(c->get_int("a", 0), 42);
    EXPECT_EQ(c->get_int("b", 0), -17);
    EXPECT_EQ(c->get_int("c", 0), 5);
    EXPECT_EQ(c->get_int("d", 0), 31);
    EXPECT_EQ(c->get_int("e", 0), INT64_MAX);
    EXPECT_EQ(c->get_int("f", 0), INT64_MIN);
    EXPECT_EQ(c->get_int("k", 0), -16);
    for (const char* bad : {"g", "h", "i", "j", "l", "m", "n", "o", "missing"})
        EXPECT_EQ(c->get_int(bad, 77), 77) << bad;
}

TEST(Cmdline, ParseIntDirect) {
    i64 v = 5;
    EXPECT_FALSE(Cmdline::parse_int("", v));
    EXPECT_FALSE(Cmdline::parse_int("-9223372036854775809", v));
    EXPECT_FALSE(Cmdline::parse_int("0xffffffffffffffff", v));
    EXPECT_EQ(v, 5);
    EXPECT_TRUE(Cmdline::parse_int("0x7fffffffffffffff", v));
    EXPECT_EQ(v, INT64_MAX);
    EXPECT_TRUE(Cmdline::parse_int("-0", v));
    EXPECT_EQ(v, 0);
}

TEST(Cmdline, UnterminatedQuoteRunsToTheEnd) {
    auto c = parsed("quiet init=\"/bin/sh -c  x");
    EXPECT_EQ(c->errors(), u32(Cmdline::kUnterminatedQuote));
    EXPECT_EQ(S(c->get("init").value()), "/bin/sh -c  x");
}

TEST(Cmdline, EmptyKeysAreDropped) {
    auto c = parsed("=x == =  ok=1");
    EXPECT_EQ(c->errors(), u32(Cmdline::kEmptyKey));
    EXPECT_EQ(c->param_count(), 1u);
    EXPECT_EQ(c->get_int("ok", 0), 1);
    EXPECT_TRUE(envp(*c) == std::vector<std::string>{"ok=1"});
}

TEST(Cmdline, EmptyAndBlankInput) {
    for (const char* text : {"", "   ", "\t\n\r\v\f"}) {
        auto c = parsed(text);
        EXPECT_EQ(c->errors(), 0u);
        EXPECT_EQ(c->param_count(), 0u);
        EXPECT_EQ(c->init_argc(), 0u);
    }
    Cmdline c;
    EXPECT_EQ(c.parse(static_cast<const char*>(nullptr)), 0u);
    EXPECT_EQ(c.raw().size(), 0u);
}

TEST(Cmdline, NulEndsTheCommandLine) {
    std::string text("quiet\0init=/evil", 16);
    auto c = parsed(text);
    EXPECT_EQ(c->errors(), u32(Cmdline::kEmbeddedNul));
    EXPECT_FALSE(c->has("init"));
    EXPECT_TRUE(c->has("quiet"));
    // Trailing NUL padding from a boot loader is not an error.
    std::string padded("quiet\0\0\0", 8);
    auto d = parsed(padded);
    EXPECT_EQ(d->errors(), 0u);
    EXPECT_EQ(S(d->raw()), "quiet");
}

TEST(Cmdline, OverlongInputIsTruncatedAndTheCutTokenDropped) {
    std::string text = "quiet";
    text.resize(Cmdline::kMaxLength - 4, ' ');
    text += "init=/bin/bash";  // straddles the limit
    auto c = parsed(text);
    EXPECT_EQ(c->errors(), u32(Cmdline::kTruncated));
    EXPECT_EQ(c->raw().size(), Cmdline::kMaxLength);
    EXPECT_TRUE(c->has("quiet"));
    EXPECT_FALSE(c->has("init"));  // never the partial "init"
    EXPECT_EQ(c->init_argc(), 0u);

    // Cut exactly at a separator: the last token is complete and kept.
    std::string exact(Cmdline::kMaxLength - 6, ' ');
    exact += "last=1 more";
    auto d = parsed(exact);
    EXPECT_EQ(d->errors(), u32(Cmdline::kTruncated));
    EXPECT_EQ(d->get_int("last", 0), 1);
    EXPECT_FALSE(d->has("more"));

    // Cut inside quotes, right before a quoted space: still incomplete.
    std::string quoted(Cmdline::kMaxLength - 13, ' ');
    quoted += "init=\"/bin/sh -x\"";
    auto e = parsed(quoted);
    EXPECT_FALSE(e->has("init"));
    EXPECT_EQ(e->errors(), u32(Cmdline::kTruncated | Cmdline::kUnterminatedQuote));
}

TEST(Cmdline, CStringParseReadsAtMostOneBytePastTheLimit) {
    // A buffer with no terminator at all, exactly limit + 1 bytes long: ASan
    // would flag any read beyond it.
    std::vector<char> buf(Cmdline::kMaxLength + 1, 'a');
    auto c = std::make_unique<Cmdline>();
    EXPECT_EQ(c->parse(buf.data()), u32(Cmdline::kTruncated));
    EXPECT_EQ(c->param_count(), 0u);
}

TEST(Cmdline, CapacityLimitsAreReported) {
    std::string many;
    for (int i = 0; i < 200; ++i) many += "w" + std::to_string(i) + " ";
    auto c = parsed(many);
    EXPECT_EQ(c->param_count(), Cmdline::kMaxParams);
    EXPECT_EQ(c->init_argc(), Cmdline::kMaxInitArgs);
    EXPECT_EQ(c->errors(), u32(Cmdline::kTooManyParams | Cmdline::kTooManyInitArgs));
    EXPECT_TRUE(c->has("w127"));
    EXPECT_FALSE(c->has("w128"));

    std::string env;
    for (int i = 0; i < 40; ++i) env += "V" + std::to_string(i) + "=1 ";
    auto d = parsed(env);
    EXPECT_EQ(d->init_envc(), Cmdline::kMaxInitEnvs);
    EXPECT_EQ(d->errors(), u32(Cmdline::kTooManyInitEnvs));
}

TEST(Cmdline, ReparseReplacesEverythingAndCallerMemoryIsNotReferenced) {
    auto c = std::make_unique<Cmdline>();
    {
        std::string text = "root=/dev/vda foo=bar x";
        c->parse(StringView(text.data(), text.size()), kKnown);
        text.assign(text.size(), '#');  // the parser must have copied it
        EXPECT_EQ(S(c->get("root").value()), "/dev/vda");
        EXPECT_EQ(S(c->raw()), "root=/dev/vda foo=bar x");
    }
    c->parse("quiet y", kKnown);  // the C-string overload, still with the known list
    EXPECT_FALSE(c->has("root"));
    EXPECT_EQ(argv(*c), std::vector<std::string>{"y"});
    EXPECT_EQ(c->init_envc(), 0u);
}

TEST(Cmdline, ErrorNames) {
    for (u32 bit = 1; bit & Cmdline::kAllErrors; bit <<= 1)
        EXPECT_STRNE(Cmdline::error_name(static_cast<Cmdline::Error>(bit)), "unknown error");
}
