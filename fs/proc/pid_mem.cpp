// The memory side of /proc/<pid>: maps, the figures stat/statm/status
// share, and cmdline/environ read out of the process's own memory.
#include "arch/x86_64/paging.h"
#include "fs/core/file.h"
#include "lib/alloc.h"
#include "fs/proc/procfs_internal.h"
#include "fs/proc/pid_mem.h"
#include "kernel/process/proc_info.h"
#include "mm/address_space.h"
#include "mm/layout.h"

namespace keel::fs::procfs {

namespace {

constexpr u64 PAGE = mm::PAGE_SIZE;

// Present pages in [start, end) of a page table, and the leaf tables seen.
u64 present_pages(u64 pml4, uptr start, uptr end, u64* tables) {
    u64 n = 0;
    uptr last_table = ~0ull;
    for (uptr va = start; va < end;) {
        u64* e = arch::pte_lookup(pml4, va);
        if (!e) {
            va = align_down<uptr>(va, 2 * MiB) + 2 * MiB;  // no leaf table here
            continue;
        }
        uptr t = align_down<uptr>(va, 2 * MiB);
        if (t != last_table) {
            ++*tables;
            last_table = t;
        }
        if (*e & arch::pte::P) ++n;
        va += PAGE;
    }
    return n;
}

bool is_stack(const mm::Vma& v, const ExecLayoutView& l) { return v.start <= l.start_stack && v.end >= l.start_stack; }

}  // namespace

Status mem_usage(int tgid, MemUsage& out) {
    out = MemUsage{};
    proc::TaskInfo info;
    TRY(proc::task_info(tgid, 0, info));
    auto got = proc::get_mm(tgid);
    if (got.is_error()) return {};  // zombies and kernel threads have no memory
    mm::AddressSpace* as = got.value();
    out.has_mm = true;
    ExecLayoutView l{info.layout.start_stack};
    u64 pml4 = as->page_table();
    u64 tables = 0;
    as->for_each_vma([&](const mm::Vma& v, const mm::VmaFileInfo* fi) {
        u64 size = v.end - v.start;
        out.vm_size += size;
        if (v.fixed_phys) return;  // the vDSO: not counted as resident
        u64 rss = present_pages(pml4, v.start, v.end, &tables) * PAGE;
        bool shared = v.flags & MAP_SHARED;
        if (fi || v.backing) out.rss_file += shared ? 0 : rss;
        if (shared) out.rss_shmem += rss;
        else if (!fi && !v.backing) out.rss_anon += rss;
        bool stack = is_stack(v, l) || (v.flags & MAP_GROWSDOWN);
        if (stack) out.vm_stk += size;
        else if ((v.prot & PROT_WRITE) && !shared) out.vm_data += size;
        else if ((v.prot & PROT_EXEC) && !(v.prot & PROT_WRITE)) out.vm_exec += size;
    });
    as->put();
    // A page-table page per 2 MiB region in use, plus the upper levels (at
    // least one of each).
    out.vm_pte = (tables + 3) * PAGE;
    out.vm_exe = (align_up<u64>(info.layout.end_code, PAGE) - align_down<u64>(info.layout.start_code, PAGE));
    if (out.vm_exe > out.vm_exec) out.vm_exe = out.vm_exec;
    out.vm_lib = out.vm_exec - out.vm_exe;
    return {};
}

Status read_process_memory(int tgid, uptr start, uptr end, SeqBuf& out) {
    if (end <= start) return {};
    auto got = proc::get_mm(tgid);
    if (got.is_error()) return {};
    mm::AddressSpace* as = got.value();
    u64 pml4 = as->page_table();
    for (uptr va = start; va < end;) {
        u64* e = arch::pte_lookup(pml4, va);
        if (!e || !(*e & arch::pte::P)) break;  // never touched: nothing to show
        uptr page_end = min<uptr>(align_down<uptr>(va, PAGE) + PAGE, end);
        const u8* src = mm::phys_to_ptr<u8>((*e & arch::pte::ADDR_MASK) + (va & (PAGE - 1)));
        out.write(src, page_end - va);
        va = page_end;
    }
    as->put();
    return {};
}

Result<usize> read_mem(const Target& t, u64 off, DataBuffer& out, usize at, usize n) {
    mm::AddressSpace* as = TRY(proc::get_mm(t.tgid));
    // Through a kernel page: copying to the reader's memory may fault on
    // the very space being read, whose lock peek() takes.
    u8* bounce = static_cast<u8*>(heap_alloc(PAGE));
    if (!bounce) {
        as->put();
        return Error(ENOMEM);
    }
    usize done = 0;
    bool fault = false;
    while (done < n) {
        usize want = min<usize>(n - done, PAGE);
        usize got = as->peek(static_cast<uptr>(off + done), bounce, want);
        if (got && out.copy_out(at + done, bounce, got) != got) {
            fault = true;
            break;
        }
        done += got;
        if (got < want) break;
    }
    heap_free(bounce);
    as->put();
    // Nothing readable at the offset is EIO (a faulting buffer EFAULT).
    if (!done) return Error(fault ? EFAULT : EIO);
    return done;
}

Status show_cmdline(SeqBuf& out, const Target& t) {
    proc::TaskInfo info;
    TRY(proc::task_info(t.tgid, 0, info));
    TRY(read_process_memory(t.tgid, info.layout.arg_start, info.layout.arg_end, out));
    return out.status();
}

Status show_environ(SeqBuf& out, const Target& t) {
    proc::TaskInfo info;
    TRY(proc::task_info(t.tgid, 0, info));
    TRY(read_process_memory(t.tgid, info.layout.env_start, info.layout.env_end, out));
    return out.status();
}

Status show_maps(SeqBuf& out, const Target& t) {
    proc::TaskInfo info;
    TRY(proc::task_info(t.tgid, 0, info));
    auto got = proc::get_mm(t.tgid);
    if (got.is_error()) return {};
    mm::AddressSpace* as = got.value();
    uptr brk = as->set_brk(0);  // below the break's start: only reports it
    u64 start_brk = info.layout.start_brk;
    auto exe = proc::get_path(t.tgid, proc::PathKind::Exe);
    u64 exe_dev = 0, exe_ino = 0;
    if (exe.is_ok()) {
        DevId d = exe.value().inode()->sb().dev();
        exe_dev = (static_cast<u64>(dev_major(d)) << 32) | dev_minor(d);
        exe_ino = exe.value().inode()->ino();
    }
    // Names are rendered after the space's lock is dropped: collect first.
    struct Line {
        uptr start, end;
        u64 offset, dev, ino;
        u32 prot, flags;
        const char* special;
        RefPtr<fs::File> file;  // zeroed memory is a valid null RefPtr
        bool exe;
    };
    constexpr usize MAX_LINES = 4096;
    Line* lines = static_cast<Line*>(heap_alloc(sizeof(Line) * MAX_LINES));
    if (!lines) {
        as->put();
        return Error(ENOMEM);
    }
    usize n = 0;
    as->for_each_vma([&](const mm::Vma& v, const mm::VmaFileInfo* fi) {
        if (n == MAX_LINES) return;
        Line& L = lines[n++];
        L.start = v.start, L.end = v.end, L.prot = v.prot, L.flags = v.flags;
        if (fi) {
            L.file = RefPtr<fs::File>(fi->file);
            L.offset = fi->offset;
            DevId d = fi->file->inode().sb().dev();
            L.dev = (static_cast<u64>(dev_major(d)) << 32) | dev_minor(d);
            L.ino = fi->file->inode().ino();
        } else if (v.backing) {
            // exec's private copies of the program file.
            L.offset = v.offset;
            L.dev = exe_dev;
            L.ino = exe_ino;
            L.exe = exe.is_ok();
        } else if (v.fixed_phys) {
            L.special = (v.prot & PROT_EXEC) ? "[vdso]" : "[vvar]";
        } else if (v.start < brk && v.end > start_brk) {
            L.special = "[heap]";
        } else if (v.start <= info.layout.start_stack && v.end >= info.layout.start_stack) {
            L.special = "[stack]";
        }
    });
    // File names are rendered with the space's lock dropped (path rendering
    // takes file system locks).
    Status st;
    for (usize i = 0; i < n && st.is_ok(); ++i) {
        Line& L = lines[i];
        usize before = out.size();
        out.printf("%08lx-%08lx %c%c%c%c %08llx %02x:%02x %llu ", L.start, L.end, (L.prot & PROT_READ) ? 'r' : '-',
                   (L.prot & PROT_WRITE) ? 'w' : '-', (L.prot & PROT_EXEC) ? 'x' : '-',
                   (L.flags & MAP_SHARED) && !L.special ? 's' : 'p', static_cast<unsigned long long>(L.offset),
                   static_cast<u32>(L.dev >> 32), static_cast<u32>(L.dev & 0xffffffff),
                   static_cast<unsigned long long>(L.ino));
        bool named = L.special || L.exe || L.ino;
        if (named) {
            usize used = out.size() - before;
            for (; used < 73; ++used) out.putc(' ');
            if (L.special) {
                out.puts(L.special);
            } else if (L.exe || L.file) {
                SeqBuf name;
                if (put_path(name, L.file ? L.file->path() : exe.value()).is_ok())
                    out.put_escaped(name.view(), "\n");
            }
        }
        out.putc('\n');
    }
    for (usize i = 0; i < n; ++i) lines[i].file = nullptr;
    heap_free(lines);
    as->put();
    TRY(st);
    return out.status();
}

}  // namespace keel::fs::procfs
