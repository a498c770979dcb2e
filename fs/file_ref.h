// FileRef: one reference to an open file description, dropped when the
// FileRef goes. A system call holds one for as long as it works on a
// descriptor's file, so that another thread's close(2), dup2(2) or exec
// cannot free the file underneath it (proc::FdTable::get hands them out).
#pragma once

#include "fs/file.h"

namespace keel::fs {

class FileRef {
public:
    FileRef() = default;
    // Takes a new reference; the caller keeps whatever it had.
    explicit FileRef(OpenFile* f) : f_(f) {
        if (f_) f_->get();
    }
    // Wraps a reference the caller already owns.
    static FileRef adopt(OpenFile* f) {
        FileRef r;
        r.f_ = f;
        return r;
    }
    FileRef(FileRef&& o) : f_(o.leak()) {}
    FileRef& operator=(FileRef&& o) {
        if (this != &o) {
            reset();
            f_ = o.leak();
        }
        return *this;
    }
    FileRef(const FileRef&) = delete;
    FileRef& operator=(const FileRef&) = delete;
    ~FileRef() { reset(); }

    void reset() {
        if (OpenFile* f = leak()) f->put();
    }
    // Gives up ownership without dropping the reference.
    OpenFile* leak() {
        OpenFile* f = f_;
        f_ = nullptr;
        return f;
    }

    OpenFile* get() const { return f_; }
    OpenFile* operator->() const { return f_; }
    OpenFile& operator*() const { return *f_; }
    explicit operator bool() const { return f_ != nullptr; }

private:
    OpenFile* f_ = nullptr;
};

}  // namespace keel::fs
