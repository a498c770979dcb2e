// StringView: a non-owning (pointer, length) view of characters. The kernel is
// built without the C++ standard library, so this is the one string view both
// the kernel and the host tests use. It is not NUL-terminated in general.
#pragma once

#include "lib/types.h"

namespace keel {

class StringView {
public:
    static constexpr usize npos = static_cast<usize>(-1);

    constexpr StringView() = default;
    constexpr StringView(const char* data, usize size) : data_(data), size_(size) {}
    // Implicit from a C string so that `has("quiet")` reads naturally. A null
    // pointer gives the empty view rather than a crash.
    constexpr StringView(const char* cstr) : data_(cstr), size_(cstr ? __builtin_strlen(cstr) : 0) {}

    constexpr const char* data() const { return data_; }
    constexpr usize size() const { return size_; }
    constexpr bool empty() const { return size_ == 0; }
    constexpr const char* begin() const { return data_; }
    constexpr const char* end() const { return data_ + size_; }

    // Unchecked like an array; callers index below size().
    constexpr char operator[](usize i) const { return data_[i]; }
    constexpr char front() const { return data_[0]; }
    constexpr char back() const { return data_[size_ - 1]; }

    // Out-of-range arguments are clamped instead of asserted: views are cut
    // from untrusted input (the command line), and clamping keeps every view
    // inside its source buffer.
    constexpr StringView substr(usize pos, usize count = npos) const {
        if (pos > size_) pos = size_;
        usize rest = size_ - pos;
        return StringView(data_ + pos, count < rest ? count : rest);
    }
    constexpr void remove_prefix(usize n) {
        if (n > size_) n = size_;
        data_ += n;
        size_ -= n;
    }
    constexpr void remove_suffix(usize n) { size_ -= n > size_ ? size_ : n; }

    constexpr usize find(char c, usize from = 0) const {
        for (usize i = from; i < size_; ++i)
            if (data_[i] == c) return i;
        return npos;
    }
    constexpr usize rfind(char c) const {
        for (usize i = size_; i > 0; --i)
            if (data_[i - 1] == c) return i - 1;
        return npos;
    }
    constexpr bool contains(char c) const { return find(c) != npos; }

    constexpr bool starts_with(StringView p) const { return p.size_ <= size_ && substr(0, p.size_) == p; }
    constexpr bool ends_with(StringView s) const { return s.size_ <= size_ && substr(size_ - s.size_) == s; }

    constexpr bool operator==(StringView o) const {
        if (size_ != o.size_) return false;
        for (usize i = 0; i < size_; ++i)
            if (data_[i] != o.data_[i]) return false;
        return true;
    }

private:
    const char* data_ = "";
    usize size_ = 0;
};

// A StringView that may be absent: distinguishes `quiet` (present, empty
// value) from a key that was never given.
class OptionalStringView {
public:
    constexpr OptionalStringView() = default;
    constexpr OptionalStringView(StringView v) : value_(v), present_(true) {}

    constexpr bool has_value() const { return present_; }
    constexpr explicit operator bool() const { return present_; }
    // The empty view when absent, so a careless caller never reads garbage.
    constexpr StringView value() const { return value_; }
    constexpr StringView value_or(StringView fallback) const { return present_ ? value_ : fallback; }

private:
    StringView value_;
    bool present_ = false;
};

}  // namespace keel
