// printf-style formatting without libc, heap or floating point. Output goes
// to a Sink, a callback that receives runs of characters, so the console can
// print without a fixed buffer; format() wraps a caller buffer in a Sink and
// behaves like snprintf.
//
// Conversions: %d %i %u %x %X %o %c %s %p %%, flags - 0 + space #, width and
// precision (digits or *), length modifiers hh h l ll z t j. Output matches
// glibc for these, including "(null)" for a null %s and "(nil)" for a null
// %p. Differences, all deliberate:
//  - %n consumes its pointer argument but writes nothing: a format string
//    must never be able to write to memory.
//  - An unsupported conversion (%f, %ls, ...) is copied to the output as
//    written and consumes no argument; the kernel has no floating point.
#pragma once

#include <stdarg.h>

#include "lib/types.h"

namespace keel {

class Sink {
public:
    // Receives the output in order, in runs of any length. Returns false once
    // it wants no more data (a full buffer); the formatter then stops calling
    // it and only counts, so even a huge field width costs nothing.
    using WriteFn = bool (*)(void* ctx, const char* data, usize len);

    constexpr Sink(WriteFn fn, void* ctx) : fn_(fn), ctx_(ctx) {}

    void write(const char* data, usize len);
    void put(char c) { write(&c, 1); }
    void repeat(char c, usize n);

    // Characters produced so far, including those the sink declined.
    usize count() const { return count_; }
    bool accepting() const { return open_; }

private:
    WriteFn fn_;
    void* ctx_;
    usize count_ = 0;
    bool open_ = true;
};

// A Sink over a fixed buffer that keeps the first size - 1 characters and
// leaves room for the terminating NUL.
class BufferSink : public Sink {
public:
    BufferSink(char* buf, usize size) : Sink(&BufferSink::append, this), buf_(buf), size_(size) {}
    BufferSink(const BufferSink&) = delete;
    BufferSink& operator=(const BufferSink&) = delete;

    // Writes the NUL after what was kept (nothing when size is 0).
    void terminate();
    usize stored() const { return used_; }

private:
    static bool append(void* ctx, const char* data, usize len);

    char* buf_;
    usize size_;
    usize used_ = 0;
};

// Formats into `sink`; returns the number of characters this call produced.
// The va_list form has its own name on purpose: were it an overload of
// format_to, `format_to(sink, "%p", nullptr)` would silently bind nullptr to
// the va_list parameter.
usize vformat_to(Sink& sink, const char* fmt, va_list ap) __attribute__((format(printf, 2, 0)));
usize format_to(Sink& sink, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

// Like snprintf: writes at most size - 1 characters and a NUL (when size > 0),
// and returns the length the complete output would have had, or -1 if that
// exceeds INT_MAX.
int format(char* buf, usize size, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
int vformat(char* buf, usize size, const char* fmt, va_list ap) __attribute__((format(printf, 3, 0)));

}  // namespace keel
