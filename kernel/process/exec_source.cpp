// Finding an executable by path: through the VFS (the root tmpfs the
// initramfs was unpacked into). Only the headers are read up front; the
// mappings read their pages through the open file on demand, as private
// copies (there is no shared page cache yet).
#include "fs/core/file.h"
#include "fs/root.h"
#include "fs/vfs_file.h"
#include "kernel/process/exec.h"
#include "kernel/process/process.h"
#include "kernel/exec/elf.h"
#include "lib/alloc.h"
#include "mm/slab.h"
#include "mm/layout.h"

namespace keel::proc {

namespace {

// The open program file and its bytes; freed with the last mapping.
class FileBacking final : public mm::VmBacking {
public:
    FileBacking(RefPtr<fs::File> f, u8* head) : file_(move(f)), head_(head) {}
    ~FileBacking() { mm::kfree(head_); }

    Status read_page(u64 offset, void* page) override {
        __builtin_memset(page, 0, mm::PAGE_SIZE);  // past the end of the file: zeros
        fs::KernelDataBuffer buf(page, mm::PAGE_SIZE);
        TRY(fs::pread(*file_, buf, offset));
        return {};
    }
    void get() override { __atomic_add_fetch(&refs_, 1, __ATOMIC_RELAXED); }
    void put() override {
        if (__atomic_sub_fetch(&refs_, 1, __ATOMIC_ACQ_REL) == 0) destroy(this);
    }

private:
    RefPtr<fs::File> file_;
    u8* head_;
    u32 refs_ = 1;
};

// The first read covers the headers of any ordinary executable; a program
// header table further in the file gets one larger read.
constexpr usize FIRST_READ = 4096;
constexpr usize MAX_HEAD = 64 * 1024;

}  // namespace

namespace {

// The caller's credentials, or the kernel's while init is being made.
fs::Cred exec_cred() {
    Process* p = current_process();
    return p ? fs::cred_of(*p) : fs::kernel_cred();
}

}  // namespace

Result<ExecFile> open_exec(StringView path, const fs::Path* base, u32 lookup_flags) {
    Process* p = current_process();
    fs::Path root = p ? p->root() : fs::root_path();
    fs::Path cwd = base ? fs::Path() : p ? p->cwd() : fs::root_path();
    fs::Cred cred = exec_cred();
    fs::LookupRequest req{cred, root, base ? *base : cwd, path, lookup_flags};
    fs::Path target = TRY(fs::lookup(req));
    // AT_SYMLINK_NOFOLLOW: a symlink at the end is refused as O_NOFOLLOW does.
    if (!(lookup_flags & fs::LOOKUP_FOLLOW) && target.inode()->type() == S_IFLNK) return Error(ELOOP);
    return open_exec_path(target);
}

Result<ExecFile> open_exec_path(const fs::Path& target) {
    RefPtr<fs::File> file = TRY(fs::open_exec(target, exec_cred()));
    u64 size = file->inode().attr().size;  // attr() takes the inode lock
    usize want = static_cast<usize>(min<u64>(size, FIRST_READ));
    for (;;) {
        u8* head = static_cast<u8*>(TRY(mm::kmalloc(max<usize>(want, 1))));
        fs::KernelDataBuffer buf(head, want);
        auto n = fs::pread(*file, buf, 0);
        if (n.is_error()) {
            mm::kfree(head);
            return n.error();
        }
        usize got = n.value();
        auto need = exec::elf_headers_size(head, got);
        if (need.is_ok() && need.value() > got && got == want && need.value() <= MAX_HEAD &&
            need.value() <= size) {
            mm::kfree(head);
            want = static_cast<usize>(need.value());
            continue;
        }
        auto b = make<FileBacking>(move(file), head);
        if (b.is_error()) {
            mm::kfree(head);
            return b.error();
        }
        return ExecFile{head, got, size, b.value(), target};
    }
}

}  // namespace keel::proc
