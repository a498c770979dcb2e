#include "kernel/cmdline.h"

#include "lib/string.h"

namespace keel {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }

// Parameter names treat '-' and '_' alike, so `log-buf-len` finds
// `log_buf_len` whichever of the two spellings each side used.
bool key_equal(StringView a, StringView b) {
    if (a.size() != b.size()) return false;
    for (usize i = 0; i < a.size(); ++i) {
        char x = a[i] == '-' ? '_' : a[i];
        char y = b[i] == '-' ? '_' : b[i];
        if (x != y) return false;
    }
    return true;
}

bool is_known(StringView key, KnownParams known) {
    for (usize i = 0; i < known.count; ++i)
        if (key_equal(key, known.keys[i])) return true;
    return false;
}

int digit_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return 99;
}

}  // namespace

const char* Cmdline::error_name(Error e) {
    switch (e) {
    case kTruncated: return "truncated";
    case kUnterminatedQuote: return "unterminated quote";
    case kEmptyKey: return "empty key";
    case kEmbeddedNul: return "embedded NUL";
    case kTooManyParams: return "too many parameters";
    case kTooManyInitArgs: return "too many init arguments";
    case kTooManyInitEnvs: return "too many init environment variables";
    }
    return "unknown error";
}

void Cmdline::reset() {
    raw_len_ = 0;
    raw_[0] = '\0';
    param_count_ = 0;
    argc_ = 0;
    envc_ = 0;
    argv_[0] = nullptr;
    envp_[0] = nullptr;
    errors_ = 0;
}

u32 Cmdline::parse(const char* cstr, KnownParams known) {
    // Reading one byte past the limit is how truncation is noticed.
    usize len = cstr ? str_nlen(cstr, kMaxLength + 1) : 0;
    return parse(StringView(cstr, len), known);
}

u32 Cmdline::parse(StringView text, KnownParams known) {
    reset();

    // The command line ends at the first NUL, as the boot protocols define
    // it; only real text hidden behind the NUL is worth reporting.
    usize len = text.find('\0');
    if (len == StringView::npos) {
        len = text.size();
    } else {
        for (usize i = len; i < text.size(); ++i)
            if (text[i] != '\0') {
                errors_ |= kEmbeddedNul;
                break;
            }
    }
    bool truncated = len > kMaxLength;
    // Whether the text continues with a separator right after the cut, in
    // which case the last kept token is complete.
    bool cut_at_space = truncated && is_space(text[kMaxLength]);
    if (truncated) {
        errors_ |= kTruncated;
        len = kMaxLength;
    }
    mem_copy(raw_, text.data(), len);
    raw_[len] = '\0';
    raw_len_ = len;
    mem_copy(tokens_, raw_, len + 1);

    bool after_dashes = false;
    usize r = 0;  // read position in tokens_
    usize w = 0;  // write position: quote removal only ever shrinks a token
    while (r < len) {
        if (is_space(tokens_[r])) {
            ++r;
            continue;
        }
        usize start = w;
        bool quoted = false;
        for (; r < len; ++r) {
            char c = tokens_[r];
            if (c == '"') {
                quoted = !quoted;
            } else if (is_space(c) && !quoted) {
                break;
            } else {
                tokens_[w++] = c;
            }
        }
        bool at_end = r == len;
        // w <= r, and tokens_[r] is either the separator just consumed or
        // the final NUL, so this never overwrites unread text.
        tokens_[w] = '\0';
        ++r;
        const char* token = tokens_ + start;
        StringView tok(token, w - start);
        w++;

        if (at_end && quoted) errors_ |= kUnterminatedQuote;
        // A token the truncation cut in two would be a different, possibly
        // dangerous, parameter (`init=/bin/bash` cut to `init=/bin/ba`).
        if (at_end && truncated && (quoted || !cut_at_space)) break;

        if (after_dashes) {
            add_init_arg(token);
            continue;
        }
        usize eq = tok.find('=');
        StringView key = tok.substr(0, eq);
        bool has_value = eq != StringView::npos;
        StringView value = has_value ? tok.substr(eq + 1) : StringView();
        if (key.empty()) {
            errors_ |= kEmptyKey;
            continue;
        }
        if (!has_value && tok == "--") {
            after_dashes = true;
            continue;
        }
        add_param(key, value, has_value);
        if (is_known(key, known) || key.contains('.')) continue;
        if (has_value)
            add_init_env(token, key.size());
        else
            add_init_arg(token);
    }
    return errors_;
}

void Cmdline::add_param(StringView key, StringView value, bool has_value) {
    if (param_count_ == kMaxParams) {
        errors_ |= kTooManyParams;
        return;
    }
    params_[param_count_++] = Param{key, value, has_value};
}

void Cmdline::add_init_arg(const char* token) {
    if (argc_ == kMaxInitArgs) {
        errors_ |= kTooManyInitArgs;
        return;
    }
    argv_[argc_++] = token;
    argv_[argc_] = nullptr;
}

// A later `NAME=...` replaces an earlier one instead of adding a duplicate
// that init would see in unpredictable order.
void Cmdline::add_init_env(const char* token, usize key_len) {
    for (usize i = 0; i < envc_; ++i) {
        if (str_ncmp(envp_[i], token, key_len + 1) == 0) {
            envp_[i] = token;
            return;
        }
    }
    if (envc_ == kMaxInitEnvs) {
        errors_ |= kTooManyInitEnvs;
        return;
    }
    envp_[envc_++] = token;
    envp_[envc_] = nullptr;
}

OptionalStringView Cmdline::get(StringView key) const {
    for (usize i = param_count_; i > 0; --i)
        if (key_equal(params_[i - 1].key, key)) return params_[i - 1].value;
    return {};
}

i64 Cmdline::get_int(StringView key, i64 fallback) const {
    i64 v = 0;
    OptionalStringView value = get(key);
    if (value && parse_int(value.value(), v)) return v;
    return fallback;
}

bool Cmdline::parse_int(StringView text, i64& out) {
    bool negative = false;
    if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
        negative = text[0] == '-';
        text.remove_prefix(1);
    }
    u64 base = 10;
    if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        base = 16;
        text.remove_prefix(2);
    }
    if (text.empty()) return false;
    // Accumulate the magnitude in u64 and check each step, then fit it to
    // i64: the negative range is one larger than the positive one.
    constexpr u64 kMaxMagnitude = static_cast<u64>(INT64_MAX) + 1;
    u64 magnitude = 0;
    for (char c : text) {
        u64 d = static_cast<u64>(digit_value(c));
        if (d >= base) return false;
        if (magnitude > (kMaxMagnitude - d) / base) return false;
        magnitude = magnitude * base + d;
    }
    if (negative) {
        out = magnitude == kMaxMagnitude ? INT64_MIN : -static_cast<i64>(magnitude);
    } else {
        if (magnitude > static_cast<u64>(INT64_MAX)) return false;
        out = static_cast<i64>(magnitude);
    }
    return true;
}

}  // namespace keel
