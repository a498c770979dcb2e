// Result<T>: a value or a Linux errno. Errors are values in Keel: no
// exceptions. The syscall layer is the one place that turns an Error into
// -errno for user space.
#pragma once

#include "lib/errno.h"
#include "lib/initializer_list.h"
#include "lib/utility.h"

namespace keel {

void assert_failed(const char* expr, const char* file, int line);

#define KASSERT(cond)                                                   \
    do {                                                                \
        if (!(cond)) [[unlikely]]                                       \
            ::keel::assert_failed(#cond, __FILE__, __LINE__);           \
    } while (0)

// KASSERT with a message that says what went wrong ("double free") rather
// than the expression that caught it.
#define KASSERT_MSG(cond, msg)                                          \
    do {                                                                \
        if (!(cond)) [[unlikely]]                                       \
            ::keel::assert_failed(msg, __FILE__, __LINE__);             \
    } while (0)

class Error {
public:
    constexpr explicit Error(int errno_value) : errno_(errno_value) {}
    constexpr int code() const { return errno_; }
    constexpr bool operator==(const Error&) const = default;

private:
    int errno_;
};

// Lets a function write `return Error(ENOMEM);` or `return ENOMEM;`-free code
// with the intent explicit at the call site.
template <typename T>
class [[nodiscard]] Result {
public:
    Result(const T& v) : ok_(true) { new (&storage_) T(v); }
    Result(T&& v) : ok_(true) { new (&storage_) T(move(v)); }
    Result(Error e) : ok_(false), error_(e) {}

    Result(Result&& o) : ok_(o.ok_), error_(o.error_) {
        if (ok_) new (&storage_) T(move(o.value_ref()));
    }
    Result(const Result&) = delete;
    Result& operator=(const Result&) = delete;
    ~Result() {
        if (ok_) value_ref().~T();
    }

    bool is_ok() const { return ok_; }
    bool is_error() const { return !ok_; }
    Error error() const {
        KASSERT(!ok_);
        return error_;
    }
    T& value() {
        KASSERT(ok_);
        return value_ref();
    }
    const T& value() const {
        KASSERT(ok_);
        return value_ref();
    }
    T release_value() {
        KASSERT(ok_);
        return move(value_ref());
    }

private:
    T& value_ref() { return *reinterpret_cast<T*>(&storage_); }
    const T& value_ref() const { return *reinterpret_cast<const T*>(&storage_); }

    alignas(T) unsigned char storage_[sizeof(T)];
    bool ok_;
    Error error_{0};
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() : error_(0) {}
    Result(Error e) : error_(e) {}
    bool is_ok() const { return error_.code() == 0; }
    bool is_error() const { return error_.code() != 0; }
    Error error() const {
        KASSERT(is_error());
        return error_;
    }
    void release_value() {}

private:
    Error error_;
};

using Status = Result<void>;

}  // namespace keel

// TRY(expr): evaluate a Result; on error return the error from the enclosing
// function, otherwise yield the value.
#define TRY(expr)                                               \
    ({                                                          \
        auto _keel_try = (expr);                                \
        if (_keel_try.is_error()) [[unlikely]]                  \
            return _keel_try.error();                           \
        _keel_try.release_value();                              \
    })

// MUST(expr): the error is impossible here; assert instead of propagating.
#define MUST(expr)                                              \
    ({                                                          \
        auto _keel_must = (expr);                               \
        KASSERT(_keel_must.is_ok());                            \
        _keel_must.release_value();                             \
    })
