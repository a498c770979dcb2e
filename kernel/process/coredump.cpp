#include "kernel/process/coredump.h"

#include <linux/elf.h>
#include <linux/fcntl.h>
#include <linux/mman.h>
#include <linux/resource.h>

#include "arch/x86_64/fpu.h"
#include "fs/core/file.h"
#include "fs/vfs_file.h"
#include "kernel/process/process.h"
#include "kernel/signal/handlers.h"
#include "mm/address_space.h"
#include "mm/slab.h"

namespace keel::coredump {

namespace {

constexpr u64 PAGE = 4096;

// The x86-64 note payloads, laid out as Linux writes them.
struct ElfSiginfo {
    i32 si_signo, si_code, si_errno;
};
struct Timeval {
    i64 sec, usec;
};
struct Prstatus {
    ElfSiginfo info;
    i16 cursig;
    u64 sigpend;
    u64 sighold;
    i32 pid, ppid, pgrp, sid;
    Timeval utime, stime, cutime, cstime;
    u64 regs[27];  // user_regs_struct
    i32 fpvalid;
};
static_assert(sizeof(Prstatus) == 336);
struct Prpsinfo {
    char state, sname, zomb, nice;
    u64 flag;
    u32 uid, gid;
    i32 pid, ppid, pgrp, sid;
    char fname[16];
    char psargs[80];
};
static_assert(sizeof(Prpsinfo) == 136);
constexpr usize FXSAVE_SIZE = 512;  // NT_PRFPREG: the legacy FXSAVE area

// One segment of the dump: a VMA, and how much of it goes in the file.
struct Segment {
    u64 start, end, dump_len;
    u32 flags;  // PF_*
};

// What Linux's default coredump_filter (0x33) keeps of a mapping: private
// and shared anonymous memory whole, the first page of a private file
// mapping at offset 0 (an ELF header, for build ids), the vDSO, and
// nothing of shared file mappings or of the vvar page.
u64 dump_length(const mm::Vma& v) {
    u64 len = v.end - v.start;
    if (v.fixed_phys) return (v.prot & PROT_EXEC) ? len : 0;
    if (v.shared()) return (v.vm & mm::VM_SHMEM) ? len : 0;
    if (!v.file && !v.backing) return len;
    if (v.prot & PROT_WRITE) return len;
    return v.offset == 0 && (v.prot & PROT_READ) ? PAGE : 0;
}

// A file opened for the dump, written at explicit offsets (holes where
// nothing is written) and never past RLIMIT_CORE.
class CoreFile {
public:
    CoreFile(RefPtr<fs::File> f, const fs::Cred& cred, u64 limit) : file_(move(f)), cred_(cred), limit_(limit) {}

    bool write(u64 off, const void* data, usize n) {
        if (off >= limit_) return false;
        n = static_cast<usize>(min<u64>(n, limit_ - off));
        fs::KernelDataBuffer buf(data, n);
        auto r = fs::pwrite(*file_, buf, off, cred_);
        return r.is_ok() && r.value() == n;
    }
    void set_size(u64 size) { (void)fs::ftruncate(*file_, static_cast<i64>(min<u64>(size, limit_)), cred_); }

private:
    RefPtr<fs::File> file_;
    fs::Cred cred_;
    u64 limit_;
};

struct NoteWriter {
    u8* buf;
    usize pos = 0;

    void add(u32 type, const void* desc, usize size) {
        Elf64_Nhdr h{5, static_cast<Elf64_Word>(size), type};
        __builtin_memcpy(buf + pos, &h, sizeof(h));
        pos += sizeof(h);
        __builtin_memcpy(buf + pos, "CORE\0\0\0", 8);  // "CORE" and its NUL, padded to 4
        pos += 8;
        __builtin_memcpy(buf + pos, desc, size);
        pos += align_up<usize>(size, 4);
    }
    static usize size_of(usize desc) { return sizeof(Elf64_Nhdr) + 8 + align_up<usize>(desc, 4); }
};

void fill_regs(u64 (&r)[27], const arch::TrapFrame& f, const sched::Thread& t) {
    u64 regs[27] = {f.r15, f.r14, f.r13, f.r12, f.rbp, f.rbx, f.r11, f.r10, f.r9, f.r8, f.rax, f.rcx, f.rdx, f.rsi,
                    f.rdi, f.vector == 0x100 ? f.error_code : ~0ull, f.rip, f.cs, f.rflags, f.rsp, f.ss,
                    t.fs_base, t.gs_base, 0, 0, 0, 0};
    for (int i = 0; i < 27; ++i) r[i] = regs[i];
}

Result<RefPtr<fs::File>> create_core(proc::Process& p, const fs::Cred& cred) {
    fs::Path root = p.root();
    fs::Path cwd = p.cwd();
    fs::LookupRequest req{cred, root, cwd, StringView("core")};
    // An old core goes first; the new one is made exclusively, so a link
    // planted in its place is never followed.
    (void)fs::unlink(req);
    RefPtr<fs::File> f = TRY(fs::open(req, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_LARGEFILE, 0600 & ~p.umask));
    if (!f->inode().is_reg()) return Error(EINVAL);
    return f;
}

}  // namespace

bool dump(const siginfo_t& info, const arch::TrapFrame& regs) {
    proc::Process& p = *proc::current_process();
    sched::Thread& t = *sched::current();
    u64 limit = p.rlimits[RLIMIT_CORE].cur;
    if (limit < PAGE || !p.dumpable || !p.mm) return false;
    fs::Cred cred = fs::cred_of(p);
    cred.fsize_limit = ~0ull;  // RLIMIT_CORE bounds the dump, not RLIMIT_FSIZE
    auto opened = create_core(p, cred);
    if (opened.is_error()) return false;
    CoreFile core(move(opened.value()), cred, limit == RLIM_INFINITY ? ~0ull : limit);

    // The mappings, copied out first: writing the file must not happen
    // under the address space's lock.
    usize nseg = 0;
    p.mm->for_each_vma([&](mm::Vma&, mm::VmaFileInfo*) { ++nseg; });
    auto segmem = mm::kmalloc(max<usize>(nseg, 1) * sizeof(Segment));
    if (segmem.is_error()) return false;
    auto* segs = static_cast<Segment*>(segmem.value());
    usize n = 0;
    p.mm->for_each_vma([&](mm::Vma& v, mm::VmaFileInfo*) {
        if (n == nseg) return;
        u32 fl = ((v.prot & PROT_READ) ? PF_R : 0) | ((v.prot & PROT_WRITE) ? PF_W : 0) | ((v.prot & PROT_EXEC) ? PF_X : 0);
        segs[n++] = Segment{v.start, v.end, dump_length(v), fl};
    });

    // Notes: the dying thread's status and FPU registers, the process, the
    // signal.
    Prstatus st{};
    st.info = {info.si_signo, info.si_code, info.si_errno};
    st.cursig = static_cast<i16>(info.si_signo);
    st.sigpend = t.signals.pending.set | p.sighand->shared.set;
    st.sighold = t.signals.blocked;
    st.pid = t.user_tid;
    st.ppid = p.parent ? p.parent->pid : 0;
    st.pgrp = p.pgid;
    st.sid = p.sid;
    fill_regs(st.regs, regs, t);
    u8 fx[FXSAVE_SIZE] = {};
    if (auto area = arch::fpu_state_alloc(); area.is_ok()) {
        arch::fpu_save(area.value());
        __builtin_memcpy(fx, area.value(), FXSAVE_SIZE);
        arch::fpu_state_free(area.value());
        st.fpvalid = 1;
    }
    Prpsinfo ps{};
    ps.state = 0;
    ps.sname = 'R';
    ps.uid = p.cred.ruid;
    ps.gid = p.cred.rgid;
    ps.pid = p.pid;
    ps.ppid = st.ppid;
    ps.pgrp = p.pgid;
    ps.sid = p.sid;
    __builtin_memcpy(ps.fname, p.comm, sizeof(ps.fname));
    // The command line as exec laid it out, every NUL a space (the last
    // one too, as Linux).
    if (p.layout.arg_end > p.layout.arg_start) {
        usize len = static_cast<usize>(min<u64>(p.layout.arg_end - p.layout.arg_start, sizeof(ps.psargs) - 1));
        len = p.mm->peek(p.layout.arg_start, ps.psargs, len);
        for (usize i = 0; i < len; ++i)
            if (!ps.psargs[i]) ps.psargs[i] = ' ';
    }
    usize notes_size = NoteWriter::size_of(sizeof(st)) + NoteWriter::size_of(sizeof(ps)) +
                       NoteWriter::size_of(sizeof(siginfo_t)) + NoteWriter::size_of(FXSAVE_SIZE);

    usize headers = sizeof(Elf64_Ehdr) + (n + 1) * sizeof(Elf64_Phdr);
    auto headmem = mm::kmalloc(headers + notes_size);
    if (headmem.is_error()) {
        mm::kfree(segs);
        return false;
    }
    u8* head = static_cast<u8*>(headmem.value());
    __builtin_memset(head, 0, headers + notes_size);
    auto* eh = reinterpret_cast<Elf64_Ehdr*>(head);
    __builtin_memcpy(eh->e_ident, ELFMAG, SELFMAG);
    eh->e_ident[EI_CLASS] = ELFCLASS64;
    eh->e_ident[EI_DATA] = ELFDATA2LSB;
    eh->e_ident[EI_VERSION] = EV_CURRENT;
    eh->e_ident[EI_OSABI] = ELFOSABI_NONE;
    eh->e_type = ET_CORE;
    eh->e_machine = EM_X86_64;
    eh->e_version = EV_CURRENT;
    eh->e_phoff = sizeof(Elf64_Ehdr);
    eh->e_ehsize = sizeof(Elf64_Ehdr);
    eh->e_phentsize = sizeof(Elf64_Phdr);
    eh->e_phnum = static_cast<Elf64_Half>(n + 1);
    auto* ph = reinterpret_cast<Elf64_Phdr*>(head + sizeof(Elf64_Ehdr));
    ph[0].p_type = PT_NOTE;
    ph[0].p_offset = headers;
    ph[0].p_filesz = notes_size;
    ph[0].p_align = 4;
    NoteWriter notes{head + headers};
    notes.add(NT_PRSTATUS, &st, sizeof(st));
    notes.add(NT_PRPSINFO, &ps, sizeof(ps));
    notes.add(NT_SIGINFO, &info, sizeof(info));
    notes.add(NT_PRFPREG, fx, FXSAVE_SIZE);
    u64 off = align_up<u64>(headers + notes_size, PAGE);
    for (usize i = 0; i < n; ++i) {
        Elf64_Phdr& s = ph[i + 1];
        s.p_type = PT_LOAD;
        s.p_flags = segs[i].flags;
        s.p_offset = off;
        s.p_vaddr = segs[i].start;
        s.p_filesz = segs[i].dump_len;
        s.p_memsz = segs[i].end - segs[i].start;
        s.p_align = PAGE;
        off += segs[i].dump_len;
    }
    bool ok = core.write(0, head, headers + notes_size);

    // The contents: resident pages are copied, the others left as holes
    // (zeros when read), as Linux skips pages it cannot get.
    auto pagemem = mm::kmalloc(PAGE);
    if (ok && pagemem.is_ok()) {
        void* page = pagemem.value();
        for (usize i = 0; i < n && ok; ++i) {
            for (u64 a = 0; a < segs[i].dump_len && ok; a += PAGE) {
                u8 resident = 0;
                if (p.mm->residency(segs[i].start + a, 1, &resident).is_error() || !(resident & 1)) continue;
                if (p.mm->peek(segs[i].start + a, page, PAGE) != PAGE) continue;
                ok = core.write(ph[i + 1].p_offset + a, page, PAGE);
            }
        }
        mm::kfree(page);
    }
    // The file's size covers the holes at the end too (or stops at the
    // limit: a dump cut short there does not count as written, as Linux).
    u64 total = n ? ph[n].p_offset + ph[n].p_filesz : headers + notes_size;
    core.set_size(total);
    mm::kfree(head);
    mm::kfree(segs);
    return ok && pagemem.is_ok();
}

}  // namespace keel::coredump
