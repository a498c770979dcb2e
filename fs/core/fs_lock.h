// The mutex the VFS core sleeps on. In the kernel it is the scheduler's
// sleeping mutex (file system work may block, and may copy to and from user
// memory under some of these locks); in host tests a std::mutex, so that the
// tests can run the core from several threads.
//
// The lock rules themselves are described once, in fs/core/vfs.h.
#pragma once

#if defined(KEEL_HOST)
#include <mutex>
#else
#include "kernel/sched/wait.h"
#endif

namespace keel::fs {

#if defined(KEEL_HOST)
class FsMutex {
public:
    void lock() { m_.lock(); }
    void unlock() { m_.unlock(); }
    bool try_lock() { return m_.try_lock(); }
    bool held_by_current() const { return false; }

private:
    std::mutex m_;
};
#else
class FsMutex {
public:
    void lock() {
        m_.lock();
        owner_ = sched::current();
    }
    void unlock() {
        owner_ = nullptr;
        m_.unlock();
    }
    bool try_lock() {
        if (!m_.try_lock()) return false;
        owner_ = sched::current();
        return true;
    }
    // Whether the calling thread holds it: a page fault on a mapping of a
    // file taken while read(2) or write(2) copies that file's data.
    bool held_by_current() const { return __atomic_load_n(&owner_, __ATOMIC_RELAXED) == sched::current(); }

private:
    sched::Mutex m_;
    sched::Thread* owner_ = nullptr;
};
#endif

class FsLockGuard {
public:
    explicit FsLockGuard(FsMutex& m) : m_(m) { m_.lock(); }
    ~FsLockGuard() { m_.unlock(); }
    FsLockGuard(const FsLockGuard&) = delete;
    FsLockGuard& operator=(const FsLockGuard&) = delete;

private:
    FsMutex& m_;
};

}  // namespace keel::fs
