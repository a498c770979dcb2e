// libFuzzer target for kernel/cmdline: any bytes as the command line.
// Beyond crashes and sanitizer reports it checks the parse against a small
// reference tokenizer written with std::string, and the invariants the kernel
// relies on (views inside the object, NUL-terminated values and lists).
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "kernel/cmdline.h"
#include "tests/fuzz/fuzz_check.h"

using namespace keel;

namespace {

const StringView kKnown[] = {"console", "init", "quiet", "panic", "log_buf_len"};

bool space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }

std::string norm(std::string key) {
    for (char& c : key)
        if (c == '-') c = '_';
    return key;
}

bool known(const std::string& key) {
    static const std::vector<std::string> normalized = [] {
        std::vector<std::string> v;
        for (StringView k : kKnown) v.push_back(norm(std::string(k.data(), k.size())));
        return v;
    }();
    std::string n = norm(key);
    for (const std::string& k : normalized)
        if (n == k) return true;
    return false;
}

// The specification, restated naively: cut at NUL and at the limit, split on
// unquoted whitespace, drop quotes, drop a token the limit cut in two.
std::vector<std::string> reference_tokens(const std::string& input) {
    std::string text = input.substr(0, input.find('\0'));
    bool truncated = text.size() > Cmdline::kMaxLength;
    bool cut_at_space = truncated && space(text[Cmdline::kMaxLength]);
    if (truncated) text.resize(Cmdline::kMaxLength);
    std::vector<std::string> tokens;
    usize i = 0;
    while (i < text.size()) {
        if (space(text[i])) {
            ++i;
            continue;
        }
        std::string tok;
        bool quoted = false;
        for (; i < text.size() && (quoted || !space(text[i])); ++i) {
            if (text[i] == '"')
                quoted = !quoted;
            else
                tok += text[i];
        }
        if (i == text.size() && truncated && (quoted || !cut_at_space)) break;
        tokens.push_back(tok);
    }
    return tokens;
}

bool inside(const void* p, const Cmdline& c) {
    auto a = reinterpret_cast<uintptr_t>(p), base = reinterpret_cast<uintptr_t>(&c);
    return a >= base && a < base + sizeof c;
}

void check(const std::string& input, const Cmdline& c) {
    CHECK((c.errors() & ~Cmdline::kAllErrors) == 0);
    CHECK(c.raw().size() <= Cmdline::kMaxLength);
    CHECK(c.raw().data()[c.raw().size()] == '\0');

    // Rebuild what the parser should have produced from the reference tokens.
    std::vector<std::string> params, argv, envp;
    bool dashes = false;
    for (const std::string& tok : reference_tokens(input)) {
        if (dashes) {
            if (argv.size() < Cmdline::kMaxInitArgs) argv.push_back(tok);
            continue;
        }
        usize eq = tok.find('=');
        std::string key = tok.substr(0, eq);
        if (key.empty()) continue;
        if (tok == "--") {
            dashes = true;
            continue;
        }
        if (params.size() < Cmdline::kMaxParams) params.push_back(tok);
        if (known(key) || key.find('.') != std::string::npos) continue;
        if (eq == std::string::npos) {
            if (argv.size() < Cmdline::kMaxInitArgs) argv.push_back(tok);
            continue;
        }
        // A later NAME= replaces the earlier one; a new name needs room.
        bool replaced = false;
        for (std::string& e : envp) {
            if (e.size() > eq && e[eq] == '=' && e.compare(0, eq, key) == 0) {
                e = tok;
                replaced = true;
            }
        }
        if (!replaced && envp.size() < Cmdline::kMaxInitEnvs) envp.push_back(tok);
    }

    CHECK(c.param_count() == params.size());
    for (usize i = 0; i < c.param_count(); ++i) {
        const Cmdline::Param& p = c.param(i);
        CHECK(!p.key.empty() && inside(p.key.data(), c));
        CHECK(inside(p.value.data(), c) || p.value.empty());
        std::string got(p.key.data(), p.key.size());
        if (p.has_value) {
            CHECK(p.value.data()[p.value.size()] == '\0');
            got += "=" + std::string(p.value.data(), p.value.size());
        }
        CHECK(got == params[i]);
    }
    // get() is a linear search; checking every key would make each run
    // quadratic, so the first few and the last are enough.
    std::vector<usize> probes;
    for (usize i = 0; i < c.param_count() && i < 8; ++i) probes.push_back(i);
    if (c.param_count() > 8) probes.push_back(c.param_count() - 1);
    for (usize i : probes) {
        StringView key = c.param(i).key;
        // The last parameter with an equal key (modulo '-'/'_') wins.
        usize last = i;
        for (usize j = i + 1; j < c.param_count(); ++j)
            if (norm(std::string(c.param(j).key.data(), c.param(j).key.size())) ==
                norm(std::string(key.data(), key.size())))
                last = j;
        OptionalStringView v = c.get(key);
        StringView want = c.param(last).value;
        CHECK(v.has_value() && v.value().size() == want.size());
        CHECK(want.empty() || v.value().data() == want.data());
        (void)c.get_int(key, 0);
    }
    CHECK(c.init_argc() == argv.size() && c.init_argv()[c.init_argc()] == nullptr);
    for (usize i = 0; i < argv.size(); ++i) CHECK(inside(c.init_argv()[i], c) && argv[i] == c.init_argv()[i]);
    CHECK(c.init_envc() == envp.size() && c.init_envp()[c.init_envc()] == nullptr);
    for (usize i = 0; i < envp.size(); ++i) CHECK(inside(c.init_envp()[i], c) && envp[i] == c.init_envp()[i]);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string input(reinterpret_cast<const char*>(data), size);
    auto c = std::make_unique<Cmdline>();
    c->parse(StringView(input.data(), input.size()), kKnown);
    check(input, *c);

    // The C-string entry point. Past the limit the copy gets no terminator
    // at all and is exactly kMaxLength + 1 bytes: ASan then catches any read
    // beyond what the parser promises to touch.
    if (std::memchr(data, 0, size) == nullptr) {
        bool overlong = size > Cmdline::kMaxLength;
        usize copy = overlong ? Cmdline::kMaxLength + 1 : size;
        std::unique_ptr<char[]> raw(new char[copy + (overlong ? 0 : 1)]);
        std::memcpy(raw.get(), data, copy);
        if (!overlong) raw[copy] = '\0';
        c->parse(raw.get(), kKnown);
        check(input, *c);
    }

    i64 v;
    if (Cmdline::parse_int(StringView(input.data(), input.size()), v)) {
        // Whatever parse_int accepts must be exactly what strtoull reads.
        std::string s = input;
        bool neg = !s.empty() && s[0] == '-';
        if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.erase(0, 1);
        int base = s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') ? 16 : 10;
        errno = 0;
        char* end = nullptr;
        unsigned long long mag = std::strtoull(s.c_str(), &end, base);
        CHECK(errno == 0 && *end == '\0');
        CHECK((neg ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v)) == mag);
    }
    return 0;
}
