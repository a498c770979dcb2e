#include "kernel/cgroup/parse.h"

namespace keel::cgroup {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

int digit_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return 99;
}

// Digits in base 0 from the start of s: how many characters were used
// (0: none), the value in *out; *overflow when it did not fit in u64.
usize scan_unsigned(StringView s, u64* out, bool* overflow) {
    usize i = 0;
    u32 base = 10;
    if (s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && s.size() > 2 && digit_value(s[2]) < 16) {
        base = 16;
        i = 2;
    } else if (!s.empty() && s[0] == '0') {
        base = 8;
    }
    u64 v = 0;
    usize start = i;
    *overflow = false;
    for (; i < s.size(); ++i) {
        int d = digit_value(s[i]);
        if (d >= static_cast<int>(base)) break;
        u64 next;
        if (__builtin_mul_overflow(v, base, &next) || __builtin_add_overflow(next, static_cast<u64>(d), &next))
            *overflow = true;
        v = next;
    }
    *out = v;
    return i == start ? 0 : i;
}

// kstrto*'s tolerance: the number may be followed by a single newline.
StringView drop_newline(StringView s) {
    if (!s.empty() && s[s.size() - 1] == '\n') return s.substr(0, s.size() - 1);
    return s;
}

}  // namespace

StringView strip(StringView s) {
    while (!s.empty() && is_space(s[0])) s = s.substr(1);
    while (!s.empty() && is_space(s[s.size() - 1])) s = s.substr(0, s.size() - 1);
    return s;
}

Result<u64> parse_u64(StringView s) {
    s = drop_newline(s);
    if (!s.empty() && s[0] == '+') s = s.substr(1);
    u64 v;
    bool overflow;
    usize used = scan_unsigned(s, &v, &overflow);
    if (!used || used != s.size()) return Error(EINVAL);
    if (overflow) return Error(ERANGE);
    return v;
}

Result<i64> parse_i64(StringView s) {
    StringView t = drop_newline(s);
    bool neg = !t.empty() && t[0] == '-';
    u64 v = TRY(parse_u64(neg ? t.substr(1) : t));
    if (neg) {
        if (v > (1ull << 63)) return Error(ERANGE);
        return static_cast<i64>(0 - v);
    }
    if (v > static_cast<u64>(__INT64_MAX__)) return Error(ERANGE);
    return static_cast<i64>(v);
}

Result<u64> parse_max_or_u64(StringView s, int negative_errno) {
    s = strip(s);
    if (s == "max") return UNLIMITED;
    i64 v = TRY(parse_i64(s));
    if (v < 0) return Error(negative_errno);
    return static_cast<u64>(v);
}

Result<u64> parse_bytes_or_max(StringView s) {
    s = strip(s);
    if (s == "max") return UNLIMITED;
    // memparse reads what it can; page_counter_memparse then wants nothing
    // after the suffix.
    u64 v;
    bool overflow;
    usize used = scan_unsigned(s, &v, &overflow);
    if (!used) return Error(EINVAL);
    StringView rest = s.substr(used);
    u32 shift = 0;
    if (!rest.empty()) {
        switch (rest[0]) {
        case 'E': case 'e': shift = 60; break;
        case 'P': case 'p': shift = 50; break;
        case 'T': case 't': shift = 40; break;
        case 'G': case 'g': shift = 30; break;
        case 'M': case 'm': shift = 20; break;
        case 'K': case 'k': shift = 10; break;
        default: return Error(EINVAL);
        }
        rest = rest.substr(1);
    }
    if (!rest.empty()) return Error(EINVAL);
    if (overflow || (shift && v > (UNLIMITED >> shift))) return UNLIMITED;
    return v << shift;
}

Result<ControlChange> parse_subtree_control(StringView s, const char* const* names, usize count) {
    ControlChange c;
    usize i = 0;
    while (i < s.size()) {
        while (i < s.size() && is_space(s[i])) ++i;
        if (i == s.size()) break;
        usize start = i;
        while (i < s.size() && !is_space(s[i])) ++i;
        StringView tok = s.substr(start, i - start);
        bool plus = tok[0] == '+';
        if (!plus && tok[0] != '-') return Error(EINVAL);
        StringView name = tok.substr(1);
        usize which = count;
        for (usize k = 0; k < count; ++k)
            if (name == StringView(names[k])) which = k;
        if (which == count) return Error(EINVAL);
        u32 bit = 1u << which;
        if (plus) {
            c.enable |= bit;
            c.disable &= ~bit;
        } else {
            c.disable |= bit;
            c.enable &= ~bit;
        }
    }
    return c;
}

Result<CpuMax> parse_cpu_max(StringView s, u64 period_us) {
    s = strip(s);
    usize sp = 0;
    while (sp < s.size() && !is_space(s[sp])) ++sp;
    StringView quota = s.substr(0, sp);
    StringView period = strip(s.substr(sp));
    if (quota.empty()) return Error(EINVAL);
    CpuMax m{UNLIMITED, period_us};
    if (!period.empty()) {
        bool overflow;
        if (!scan_unsigned(period, &m.period_us, &overflow)) return Error(EINVAL);
    }
    u64 q;
    bool overflow;
    if (scan_unsigned(quota, &q, &overflow)) m.quota_us = q;
    else if (quota != "max") return Error(EINVAL);
    return m;
}

Result<u64> parse_cpu_list(StringView s, u32 nbits) {
    s = strip(s);
    u64 mask = 0;
    usize i = 0;
    // Decimal numbers only: a leading 0 does not mean octal here.
    auto number = [&](u64* out) {
        usize start = i;
        u64 v = 0;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9' && v < (1ull << 32)) v = v * 10 + static_cast<u64>(s[i++] - '0');
        *out = v;
        return i > start;
    };
    while (i < s.size()) {
        u64 lo, hi;
        if (!number(&lo)) return Error(EINVAL);
        hi = lo;
        if (i < s.size() && s[i] == '-') {
            ++i;
            if (!number(&hi)) return Error(EINVAL);
        }
        if (lo > hi) return Error(EINVAL);
        if (hi >= nbits) return Error(ERANGE);
        for (u64 c = lo; c <= hi; ++c) mask |= 1ull << c;
        if (i < s.size()) {
            if (s[i] != ',') return Error(EINVAL);
            ++i;
        }
    }
    return mask;
}

}  // namespace keel::cgroup
