// Intrusive reference counting. The count lives inside the object
// (RefCounted) and RefPtr<T> owns one reference, so sharing an object never
// allocates and a raw pointer can always be turned back into an owning one.
//
// Counts are atomic: references are taken and dropped on any CPU. What
// happens when the last one goes is up to the type: by default the object is
// destroyed with destroy() (lib/alloc.h); a type that declares
//     static void release_last_ref(T* object);
// is handed the object instead (to free a chain of parents without
// recursion, to return it to a cache, ...). Either way the releasing code
// runs in whatever context dropped the reference, so it must not take locks
// that a reference holder could be holding.
#pragma once

#include "lib/alloc.h"

namespace keel {

class RefCounted {
public:
    RefCounted(const RefCounted&) = delete;
    RefCounted& operator=(const RefCounted&) = delete;

    void ref() const { __atomic_add_fetch(&refs_, 1, __ATOMIC_RELAXED); }

    // Drops one reference; true when it was the last, and the caller now
    // owns the object's end. Acquire-release so that every write made under
    // any reference is visible to whoever frees the object.
    [[nodiscard]] bool unref() const {
        u32 old = __atomic_fetch_sub(&refs_, 1, __ATOMIC_ACQ_REL);
        KASSERT_MSG(old != 0, "reference count underflow");
        return old == 1;
    }

    u32 ref_count() const { return __atomic_load_n(&refs_, __ATOMIC_ACQUIRE); }

protected:
    RefCounted() = default;
    ~RefCounted() = default;

private:
    mutable u32 refs_ = 0;
};

template <typename T>
class RefPtr {
public:
    RefPtr() = default;
    RefPtr(decltype(nullptr)) {}
    // Takes a new reference; the caller keeps whatever it had.
    explicit RefPtr(T* p) : p_(p) {
        if (p_) p_->ref();
    }
    RefPtr(const RefPtr& o) : p_(o.p_) {
        if (p_) p_->ref();
    }
    RefPtr(RefPtr&& o) : p_(o.p_) { o.p_ = nullptr; }
    template <typename U>
    RefPtr(const RefPtr<U>& o) : p_(o.get()) {
        if (p_) p_->ref();
    }
    template <typename U>
    RefPtr(RefPtr<U>&& o) : p_(o.leak()) {}
    ~RefPtr() { reset(); }

    RefPtr& operator=(const RefPtr& o) {
        RefPtr tmp(o);
        swap(p_, tmp.p_);
        return *this;
    }
    RefPtr& operator=(RefPtr&& o) {
        if (this != &o) {
            reset();
            p_ = o.p_;
            o.p_ = nullptr;
        }
        return *this;
    }
    RefPtr& operator=(decltype(nullptr)) {
        reset();
        return *this;
    }

    // Wraps a reference the caller already owns (count unchanged).
    static RefPtr adopt(T* p) {
        RefPtr r;
        r.p_ = p;
        return r;
    }
    // Gives up ownership without dropping the reference.
    T* leak() {
        T* p = p_;
        p_ = nullptr;
        return p;
    }

    void reset() {
        if (T* p = leak()) release(p);
    }

    T* get() const { return p_; }
    T* operator->() const { return p_; }
    T& operator*() const { return *p_; }
    explicit operator bool() const { return p_ != nullptr; }
    bool operator==(const RefPtr& o) const { return p_ == o.p_; }
    bool operator==(const T* p) const { return p_ == p; }

    static void release(T* p) {
        if (!p->unref()) return;
        if constexpr (requires { T::release_last_ref(p); })
            T::release_last_ref(p);
        else
            destroy(p);
    }

private:
    T* p_ = nullptr;
};

template <typename T, typename... Args>
Result<RefPtr<T>> make_ref(Args&&... args) {
    T* p = TRY(make<T>(forward<Args>(args)...));
    return RefPtr<T>(p);
}

}  // namespace keel
