#include "lib/format.h"

#include "lib/string.h"

namespace keel {

void Sink::write(const char* data, usize len) {
    count_ += len;
    if (open_ && len > 0) open_ = fn_(ctx_, data, len);
}

void Sink::repeat(char c, usize n) {
    char chunk[32];
    for (char& x : chunk) x = c;
    while (n > 0 && open_) {
        usize k = n < sizeof chunk ? n : sizeof chunk;
        write(chunk, k);
        n -= k;
    }
    count_ += n;  // whatever a closed sink no longer takes is only counted
}

bool BufferSink::append(void* ctx, const char* data, usize len) {
    auto* self = static_cast<BufferSink*>(ctx);
    if (self->size_ == 0) return false;
    usize room = self->size_ - 1 - self->used_;
    usize n = len < room ? len : room;
    mem_copy(self->buf_ + self->used_, data, n);
    self->used_ += n;
    return self->used_ < self->size_ - 1;
}

void BufferSink::terminate() {
    if (size_ > 0) buf_[used_] = '\0';
}

namespace {

enum class Length : u8 { None, HH, H, L, LL, Z, T, J };

struct Spec {
    bool left = false;
    bool zero = false;
    bool plus = false;
    bool space = false;
    bool alt = false;
    bool has_precision = false;
    usize width = 0;
    usize precision = 0;
    Length length = Length::None;
};

// The largest result format() can report (INT_MAX). Fields wider than that
// saturate one beyond it: the count stays finite, and the total is then
// certain to exceed INT_MAX, so format() returns -1 as snprintf does.
constexpr usize kMaxResult = 0x7fffffff;
constexpr usize kMaxField = kMaxResult + 1;

usize parse_decimal(const char*& p) {
    usize v = 0;
    for (; *p >= '0' && *p <= '9'; ++p) {
        v = v * 10 + static_cast<usize>(*p - '0');
        if (v > kMaxField) v = kMaxField;
    }
    return v;
}

// Lays out [spaces][prefix][zeros][body][spaces] for one conversion.
void emit_field(Sink& sink, const Spec& spec, const char* prefix, usize prefix_len, usize zeros, const char* body,
                usize body_len, bool zero_fill) {
    usize len = prefix_len + zeros + body_len;
    usize fill = spec.width > len ? spec.width - len : 0;
    if (!spec.left && zero_fill) {
        zeros += fill;
        fill = 0;
    }
    if (!spec.left) sink.repeat(' ', fill);
    sink.write(prefix, prefix_len);
    sink.repeat('0', zeros);
    sink.write(body, body_len);
    if (spec.left) sink.repeat(' ', fill);
}

// `show_sign` is true for the signed conversions (and %p, where glibc also
// honours + and space); `force_hex_prefix` is %p's unconditional 0x.
void emit_integer(Sink& sink, const Spec& spec, u64 magnitude, bool negative, unsigned base, bool upper,
                  bool show_sign, bool force_hex_prefix = false) {
    const char* digit_set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char digits[24];  // 22 octal digits cover 64 bits
    char* end = digits + sizeof digits;
    char* d = end;
    bool is_zero = magnitude == 0;
    // An explicit precision of 0 prints no digits for the value 0.
    if (!(is_zero && spec.has_precision && spec.precision == 0)) {
        do {
            *--d = digit_set[magnitude % base];
            magnitude /= base;
        } while (magnitude != 0);
    }
    usize ndigits = static_cast<usize>(end - d);

    usize zeros = spec.has_precision && spec.precision > ndigits ? spec.precision - ndigits : 0;
    // '#' with %o means "the first digit is 0", raising the precision if needed.
    if (spec.alt && base == 8 && zeros == 0 && (ndigits == 0 || *d != '0')) zeros = 1;

    char prefix[3];
    usize plen = 0;
    if (negative)
        prefix[plen++] = '-';
    else if (show_sign && spec.plus)
        prefix[plen++] = '+';
    else if (show_sign && spec.space)
        prefix[plen++] = ' ';
    if (base == 16 && (force_hex_prefix || (spec.alt && !is_zero))) {
        prefix[plen++] = '0';
        prefix[plen++] = upper ? 'X' : 'x';
    }
    // The 0 flag is ignored when a precision is given (C11 7.21.6.1p6).
    emit_field(sink, spec, prefix, plen, zeros, d, ndigits, spec.zero && !spec.has_precision);
}

void emit_string(Sink& sink, const Spec& spec, const char* s, usize len) {
    emit_field(sink, spec, nullptr, 0, 0, s, len, false);
}

// The argument list travels by pointer: a va_list passed by value may not be
// used by the caller after the callee has read from it.
i64 fetch_signed(Length length, va_list* args) {
    switch (length) {
    case Length::HH: return static_cast<signed char>(va_arg(*args, int));
    case Length::H: return static_cast<short>(va_arg(*args, int));
    case Length::L: return va_arg(*args, long);
    case Length::LL: return va_arg(*args, long long);
    case Length::Z:  // the signed type of size_t's width
    case Length::T: return va_arg(*args, ptrdiff_t);
    case Length::J: return va_arg(*args, intmax_t);
    case Length::None: break;
    }
    return va_arg(*args, int);
}

u64 fetch_unsigned(Length length, va_list* args) {
    switch (length) {
    case Length::HH: return static_cast<unsigned char>(va_arg(*args, unsigned));
    case Length::H: return static_cast<unsigned short>(va_arg(*args, unsigned));
    case Length::L: return va_arg(*args, unsigned long);
    case Length::LL: return va_arg(*args, unsigned long long);
    case Length::Z: return va_arg(*args, size_t);
    case Length::T: return static_cast<u64>(va_arg(*args, ptrdiff_t));
    case Length::J: return va_arg(*args, uintmax_t);
    case Length::None: break;
    }
    return va_arg(*args, unsigned);
}

const char* parse_flags(const char* p, Spec& spec) {
    for (;; ++p) {
        switch (*p) {
        case '-': spec.left = true; break;
        case '0': spec.zero = true; break;
        case '+': spec.plus = true; break;
        case ' ': spec.space = true; break;
        case '#': spec.alt = true; break;
        default: return p;
        }
    }
}

const char* parse_length(const char* p, Spec& spec) {
    switch (*p) {
    case 'h':
        if (p[1] == 'h') {
            spec.length = Length::HH;
            return p + 2;
        }
        spec.length = Length::H;
        return p + 1;
    case 'l':
        if (p[1] == 'l') {
            spec.length = Length::LL;
            return p + 2;
        }
        spec.length = Length::L;
        return p + 1;
    case 'z': spec.length = Length::Z; return p + 1;
    case 't': spec.length = Length::T; return p + 1;
    case 'j': spec.length = Length::J; return p + 1;
    default: return p;
    }
}

// An unsupported conversion is copied through from its '%' to its
// conversion character, as glibc does.
const char* emit_verbatim(Sink& sink, const char* percent, const char* conversion) {
    sink.write(percent, static_cast<usize>(conversion + 1 - percent));
    return conversion + 1;
}

// Parses the conversion starting at `percent`, emits it, and returns
// where the literal text resumes.
const char* convert(Sink& sink, const char* percent, va_list* args) {
    Spec spec;
    const char* p = parse_flags(percent + 1, spec);

    if (*p == '*') {
        int w = va_arg(*args, int);
        // A negative * width means '-' plus its magnitude; widen before
        // negating so that INT_MIN does not overflow.
        i64 wide = w;
        if (wide < 0) {
            spec.left = true;
            wide = -wide;
        }
        spec.width = min(static_cast<usize>(wide), kMaxField);
        ++p;
    } else {
        spec.width = parse_decimal(p);
    }

    if (*p == '.') {
        ++p;
        spec.has_precision = true;
        if (*p == '*') {
            int prec = va_arg(*args, int);
            // A negative * precision is taken as if it were omitted.
            spec.has_precision = prec >= 0;
            spec.precision = prec >= 0 ? static_cast<usize>(prec) : 0;
            ++p;
        } else {
            spec.precision = parse_decimal(p);  // "%.d" means precision 0
        }
    }

    p = parse_length(p, spec);

    switch (*p) {
    case 'd':
    case 'i': {
        i64 v = fetch_signed(spec.length, args);
        // Negate in unsigned arithmetic: -INT64_MIN does not fit in i64.
        u64 magnitude = v < 0 ? 0 - static_cast<u64>(v) : static_cast<u64>(v);
        emit_integer(sink, spec, magnitude, v < 0, 10, false, true);
        break;
    }
    case 'u': emit_integer(sink, spec, fetch_unsigned(spec.length, args), false, 10, false, false); break;
    case 'x': emit_integer(sink, spec, fetch_unsigned(spec.length, args), false, 16, false, false); break;
    case 'X': emit_integer(sink, spec, fetch_unsigned(spec.length, args), false, 16, true, false); break;
    case 'o': emit_integer(sink, spec, fetch_unsigned(spec.length, args), false, 8, false, false); break;
    case 'c': {
        int v = va_arg(*args, int);
        // Wide characters would need a locale: printed as written instead,
        // the argument still consumed so that later ones stay aligned.
        if (spec.length == Length::L) return emit_verbatim(sink, percent, p);
        char c = static_cast<char>(v);
        emit_string(sink, spec, &c, 1);
        break;
    }
    case 's': {
        const char* s = va_arg(*args, const char*);
        if (spec.length == Length::L) return emit_verbatim(sink, percent, p);  // wide string, as %lc
        // glibc prints "(null)" only when the precision lets all of it show.
        if (s == nullptr) s = (!spec.has_precision || spec.precision >= 6) ? "(null)" : "";
        usize len = spec.has_precision ? str_nlen(s, spec.precision) : str_len(s);
        emit_string(sink, spec, s, len);
        break;
    }
    case 'p': {
        const void* ptr = va_arg(*args, const void*);
        if (ptr == nullptr) {
            Spec nil = spec;
            nil.has_precision = false;
            emit_string(sink, nil, "(nil)", 5);
        } else {
            emit_integer(sink, spec, reinterpret_cast<uptr>(ptr), false, 16, false, true, true);
        }
        break;
    }
    case '%': sink.put('%'); break;
    case 'n':
        // Never write through the pointer: format strings must not be able
        // to poke memory. Consume it so that later arguments stay aligned.
        (void)va_arg(*args, void*);
        break;
    case '\0':
        // A lone '%' or a truncated spec at the end: print it as written.
        sink.write(percent, static_cast<usize>(p - percent));
        return p;
    default: return emit_verbatim(sink, percent, p);
    }
    return p + 1;
}

}  // namespace

usize vformat_to(Sink& sink, const char* fmt, va_list ap) {
    usize before = sink.count();
    if (fmt == nullptr) return 0;
    va_list args;
    va_copy(args, ap);
    const char* p = fmt;
    while (*p) {
        const char* run = p;
        while (*p && *p != '%') ++p;
        sink.write(run, static_cast<usize>(p - run));
        if (*p == '%') p = convert(sink, p, &args);
    }
    va_end(args);
    return sink.count() - before;
}

usize format_to(Sink& sink, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    usize n = vformat_to(sink, fmt, ap);
    va_end(ap);
    return n;
}

int vformat(char* buf, usize size, const char* fmt, va_list ap) {
    BufferSink sink(buf, size);
    usize n = vformat_to(sink, fmt, ap);
    sink.terminate();
    return n > kMaxResult ? -1 : static_cast<int>(n);
}

int format(char* buf, usize size, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vformat(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

}  // namespace keel
