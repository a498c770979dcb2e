// Finding an executable's bytes by path.
//
// Until the VFS is in place programs are found directly in the cpio archive
// the boot loader passed (symbolic links followed); exec goes through the
// same ExecFile interface the VFS will provide, so only this file changes.
#include <linux/stat.h>

#include "kernel/initramfs.h"
#include "kernel/process/exec.h"
#include "lib/alloc.h"
#include "lib/cpio.h"
#include "mm/layout.h"

namespace keel::proc {

namespace {

// Pages of a file that sits in kernel memory for good (the initramfs).
class StaticBacking final : public mm::VmBacking {
public:
    StaticBacking(const u8* data, u64 size) : data_(data), size_(size) {}
    Status read_page(u64 offset, void* page) override {
        __builtin_memset(page, 0, mm::PAGE_SIZE);
        if (offset < size_) __builtin_memcpy(page, data_ + offset, min<u64>(mm::PAGE_SIZE, size_ - offset));
        return {};
    }
    void get() override { __atomic_add_fetch(&refs_, 1, __ATOMIC_RELAXED); }
    void put() override {
        if (__atomic_sub_fetch(&refs_, 1, __ATOMIC_ACQ_REL) == 0) destroy(this);
    }

private:
    const u8* data_;
    u64 size_;
    u32 refs_ = 1;
};

StringView normalize(StringView p) {
    while (!p.empty() && (p[0] == '/' || (p.size() > 1 && p[0] == '.' && p[1] == '/')))
        p = p.substr(p[0] == '/' ? 1 : 2);
    return p;
}

// Finds `path` in the initramfs, following symbolic links (40 at most,
// Linux's limit). Relative link targets are taken from the link's directory.
Result<CpioEntry> find_in_initramfs(StringView path) {
    InitramfsImage img = TRY(initramfs_image());
    const u8* data = img.data;
    char buf[512];
    for (int links = 0; links <= 40; ++links) {
        StringView want = normalize(path);
        CpioReader r(data, img.size);
        bool found = false;
        CpioEntry e;
        for (;;) {
            auto next = r.next();
            if (next.is_error()) break;
            if (normalize(next.value().name) == want) {
                e = next.value();
                found = true;  // keep going: a later entry replaces an earlier one
            }
        }
        if (!found) return Error(ENOENT);
        if ((e.mode & S_IFMT) != S_IFLNK) return e;
        StringView target(reinterpret_cast<const char*>(e.data), e.size);
        usize n = 0;
        if (!target.empty() && target[0] != '/') {
            usize slash = want.rfind('/');
            if (slash != StringView::npos) {
                n = min<usize>(slash + 1, sizeof(buf) - 1);
                __builtin_memcpy(buf, want.data(), n);
            }
        }
        usize k = min<usize>(target.size(), sizeof(buf) - 1 - n);
        __builtin_memcpy(buf + n, target.data(), k);
        path = StringView(buf, n + k);
    }
    return Error(ELOOP);
}

}  // namespace

Result<ExecFile> open_exec(StringView path) {
    CpioEntry e = TRY(find_in_initramfs(path));
    if ((e.mode & S_IFMT) == S_IFDIR) return Error(EACCES);
    if ((e.mode & S_IFMT) != S_IFREG) return Error(EACCES);
    if (!(e.mode & 0111)) return Error(EACCES);
    StaticBacking* b = TRY(make<StaticBacking>(e.data, static_cast<u64>(e.size)));
    return ExecFile{e.data, e.size, b};
}

}  // namespace keel::proc
