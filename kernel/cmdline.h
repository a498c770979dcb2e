// The kernel command line, parsed the way Linux parses it:
//
//   console=ttyS0 quiet init="/bin/sh -x" LANG=C single -- --verbose a=b
//
//  - Whitespace separates `key` and `key=value` tokens. Double quotes group
//    whitespace into a token and are removed (`init="/bin/sh -x"` has the
//    value `/bin/sh -x`); an unterminated quote runs to the end.
//  - `--` ends the kernel's parameters; every token after it is an argument
//    for init, `=` or not.
//  - Before `--`, a token whose key the kernel does not know goes to init:
//    `key=value` into its environment (a later one replaces an earlier one of
//    the same name), a bare word into its arguments. Keys with a '.' are
//    module parameters and go to neither, as in Linux.
//  - In keys, '-' and '_' are interchangeable (`log-buf-len` = `log_buf_len`).
//  - Later duplicates override earlier ones for get()/get_int().
//
// The input is untrusted (it comes from a boot loader or a VMM). Nothing is
// allocated: the text is copied into a fixed buffer inside the object and
// every view points into that copy, so the caller's memory may be reused.
// Whatever does not fit is dropped and reported in errors().
#pragma once

#include "lib/string_view.h"
#include "lib/types.h"

namespace keel {

// The keys the kernel handles itself, which Cmdline therefore does not pass
// on to init. Built from an array, or from a pointer and a count. (One type
// rather than pointer + count parameters so that a string literal and an
// array can never bind to the wrong overload of Cmdline::parse.)
struct KnownParams {
    const StringView* keys = nullptr;
    usize count = 0;
    constexpr KnownParams() = default;
    constexpr KnownParams(const StringView* k, usize n) : keys(k), count(n) {}
    template <usize N>
    constexpr KnownParams(const StringView (&k)[N]) : keys(k), count(N) {}
};

class Cmdline {
public:
    // Linux's COMMAND_LINE_SIZE on x86.
    static constexpr usize kMaxLength = 2048;
    static constexpr usize kMaxParams = 128;
    // Linux's MAX_INIT_ARGS/MAX_INIT_ENVS. argv[0] is not counted here: the
    // kernel supplies init's path itself.
    static constexpr usize kMaxInitArgs = 32;
    static constexpr usize kMaxInitEnvs = 32;

    // Bits of errors(). The parse goes on after each; they say what was lost.
    enum Error : u32 {
        kTruncated = 1u << 0,           // input longer than kMaxLength; a token cut in two was dropped
        kUnterminatedQuote = 1u << 1,   // a quote ran to the end (the token is kept)
        kEmptyKey = 1u << 2,            // `=value` or `""` before `--`: dropped
        kEmbeddedNul = 1u << 3,         // a NUL byte with text after it: the text is ignored
        kTooManyParams = 1u << 4,       // beyond kMaxParams: not visible to get()
        kTooManyInitArgs = 1u << 5,     // beyond kMaxInitArgs: dropped
        kTooManyInitEnvs = 1u << 6,     // beyond kMaxInitEnvs: dropped
    };
    static constexpr u32 kAllErrors = (1u << 7) - 1;
    // A short name for one Error bit ("truncated", ...), for the boot log.
    static const char* error_name(Error e);

    struct Param {
        StringView key;
        StringView value;        // empty for a bare word
        bool has_value = false;  // `key=` has an empty value; `key` has none
    };

    Cmdline() = default;
    Cmdline(const Cmdline&) = delete;
    Cmdline& operator=(const Cmdline&) = delete;

    // Parses `text` (any bytes; a NUL ends it). Parsing again replaces
    // everything. Returns errors().
    u32 parse(StringView text, KnownParams known = {});
    // For a C string from the boot protocol: never reads more than
    // kMaxLength + 1 bytes, even if the terminator is missing.
    u32 parse(const char* cstr, KnownParams known = {});

    u32 errors() const { return errors_; }

    // The command line as given (after truncation), for /proc/cmdline.
    StringView raw() const { return StringView(raw_, raw_len_); }

    // Every parameter before `--`, in order, duplicates included.
    usize param_count() const { return param_count_; }
    const Param& param(usize i) const { return params_[i]; }

    // The value of the last `key` or `key=value`; present but empty for a
    // bare `key`. Values are NUL-terminated in place, so value().data() is
    // also a C string.
    OptionalStringView get(StringView key) const;
    bool has(StringView key) const { return get(key).has_value(); }
    // The value as a decimal (or 0x-prefixed hex) integer with an optional
    // sign; `fallback` if absent, empty, malformed or out of range.
    i64 get_int(StringView key, i64 fallback) const;

    // Arguments and environment for init, NULL-terminated C strings.
    usize init_argc() const { return argc_; }
    const char* const* init_argv() const { return argv_; }
    usize init_envc() const { return envc_; }
    const char* const* init_envp() const { return envp_; }

    // Strict integer parsing as get_int() uses it. Returns false (leaving
    // `out` alone) on anything but a whole, in-range number.
    static bool parse_int(StringView text, i64& out);

private:
    void reset();
    void add_param(StringView key, StringView value, bool has_value);
    void add_init_arg(const char* token);
    void add_init_env(const char* token, usize key_len);

    char raw_[kMaxLength + 1] = {};
    usize raw_len_ = 0;
    // Tokens with quotes removed, each followed by a NUL. Never longer than
    // the raw text, hence the same size.
    char tokens_[kMaxLength + 1] = {};
    Param params_[kMaxParams];
    usize param_count_ = 0;
    const char* argv_[kMaxInitArgs + 1] = {};
    usize argc_ = 0;
    const char* envp_[kMaxInitEnvs + 1] = {};
    usize envc_ = 0;
    u32 errors_ = 0;
};

}  // namespace keel
