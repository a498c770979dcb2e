#include "kernel/process/exec.h"

#include <linux/elf.h>
#include <linux/mman.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/fpu.h"
#include "arch/x86_64/segments.h"
#include "kernel/exec/elf.h"
#include "kernel/printk.h"
#include "kernel/process/process.h"
#include "kernel/random.h"
#include "kernel/vdso.h"
#include "mm/slab.h"

namespace keel::proc {

namespace {

constexpr u64 STACK_LIMIT = exec::kDefaultStackLimit;

// The new image's segments, in the new address space (already current).
Status load_segments(mm::AddressSpace& as, const exec::ElfInfo& info, u64 bias, const ExecFile& file) {
    for (exec::LoadSegment s : exec::elf_segments(info, bias)) {
        if (s.file_end > s.start)
            TRY(as.map(s.start, s.file_end - s.start, s.prot, MAP_PRIVATE | MAP_FIXED, file.backing, s.file_offset));
        if (s.zero_start < s.file_end) TRY(as.poke_zero(s.zero_start, s.file_end - s.zero_start));
        if (s.end > s.file_end)
            TRY(as.map(s.file_end, s.end - s.file_end, s.anon_prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, nullptr, 0));
    }
    return {};
}

exec::AuxValues aux_for(const exec::LoadPlan& plan, const exec::ElfInfo& info) {
    exec::AuxValues aux;
    aux.hwcap = arch::cpuid(1).edx;
    aux.phdr = plan.phdr_addr;
    aux.phnum = info.phnum;
    aux.entry = plan.entry;
    // The signal frame holds the FPU state plus about 1 KiB of context.
    aux.minsigstksz = arch::fpu_state_size() + 1024;
    return aux;
}

Result<exec::UserStack> build_stack(mm::AddressSpace& as, const exec::ExecArgs& args, exec::AuxValues aux,
                                    usize size) {
    aux.sysinfo_ehdr = TRY(vdso::map_into(as));
    u8 random[16];
    random_bytes(random, sizeof(random));
    u8* buf = static_cast<u8*>(TRY(mm::kzalloc(size)));
    exec::UserStackSpec spec{args, aux, random, STACK_LIMIT, mm::USER_TOP};
    auto st = exec::user_stack_build(spec, buf, size);
    Status poked = st.is_ok() ? as.poke(mm::USER_TOP - size, buf, size) : Status(st.error());
    mm::kfree(buf);
    TRY(poked);
    return st.release_value();
}

// What execve can still refuse with an error: the file, the arguments,
// where the image goes. Nothing of the calling process changes.
struct ExecPlan {
    exec::ElfInfo info;
    exec::LoadPlan load;
    u64 bias = 0;
    usize stack_size = 0;
};

Result<ExecPlan> plan_exec(mm::AddressSpace& as, const ExecFile& file, const exec::ExecArgs& args) {
    TRY(exec::exec_args_check(args, STACK_LIMIT));
    exec::ElfImage image;
    image.head = file.data;
    image.head_size = file.head_size;
    image.file_size = file.size;
    ExecPlan plan;
    plan.info = TRY(exec::elf_parse(image));
    const exec::ElfInfo& info = plan.info;
    if (info.has_interp) {
        // Dynamic executables need their interpreter loaded; Keel runs static
        // and static-PIE programs so far.
        pr_warn("exec: %.*s needs the interpreter %.*s: not supported yet", static_cast<int>(args.execfn.size()),
                args.execfn.data(), static_cast<int>(info.interp.size()), info.interp.data());
        return Error(ENOEXEC);
    }
    if (info.type == ET_DYN) {
        // A static PIE goes where mmap would put an area of its size.
        uptr area = TRY(as.map(0, info.map_size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, nullptr, 0));
        plan.bias = exec::elf_bias_for_area(info, area);
        (void)as.unmap(area, info.map_size);
    }
    plan.load = TRY(exec::elf_plan(info, plan.bias));
    // The vDSO's address comes later; its auxv entry counts now.
    exec::AuxValues aux = aux_for(plan.load, info);
    aux.sysinfo_ehdr = 1;
    plan.stack_size = align_up<usize>(TRY(exec::user_stack_size(args, aux, STACK_LIMIT)), 16);
    return plan;
}

// Past the point of no return: the new image in the new address space,
// which the calling thread already runs on.
Result<exec::UserStack> build_image(Process& p, mm::AddressSpace& as, const ExecPlan& plan, const ExecFile& file,
                                    const exec::ExecArgs& args) {
    TRY(load_segments(as, plan.info, plan.bias, file));
    TRY(as.map(mm::USER_TOP - STACK_LIMIT, STACK_LIMIT, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_GROWSDOWN, nullptr, 0));
    as.init_brk(plan.load.brk);
    exec::UserStack stk = TRY(build_stack(as, args, aux_for(plan.load, plan.info), plan.stack_size));
    as.stack_top = mm::USER_TOP;
    const exec::LoadPlan& lp = plan.load;
    p.layout = ExecLayout{lp.start_code, lp.end_code, lp.start_data, lp.end_data, lp.brk, stk.sp,
                          stk.arg_start, stk.arg_end, stk.env_start, stk.env_end};
    return stk;
}

// The old image goes before the new one is built, as on Linux (exec_mmap):
// a process near its cgroup's memory.max execs in the room its old image
// leaves, without an OOM kill. The other threads end first.
Status replace_image(Process& p, const ExecFile& file, mm::AddressSpace* as) {
    TRY(become_sole_thread());
    mm::AddressSpace* old = p.mm;
    fs::Path old_exe = file.path;  // the previous one is dropped unlocked
    lock_tree();  // /proc takes its references under it (proc_info.cpp)
    swap(p.exe, old_exe);
    p.mm = as;
    unlock_tree();
    sched::Thread* self = sched::current();
    mm::AddressSpace* old_mine = self->mm;
    as->get();
    __atomic_store_n(&self->mm, as, __ATOMIC_RELEASE);
    as->activate();
    if (old_mine) old_mine->put();
    if (old) old->put();
    if (p.vfork_done) {
        // The vfork parent may run again: the child no longer uses its memory.
        p.vfork_done->complete();
        p.vfork_done = nullptr;
    }
    return {};
}

Status exec_elf(Process& p, const ExecFile& file, const exec::ExecArgs& args, arch::TrapFrame& frame) {
    mm::AddressSpace* as = TRY(mm::AddressSpace::create());
    Result<ExecPlan> plan = plan_exec(*as, file, args);
    if (plan.is_error()) {
        as->put();
        return plan.error();
    }
    // Point of no return: from here a failure kills the process, with
    // SIGSEGV as on Linux (unless it is already dying of a fatal signal).
    Status installed = replace_image(p, file, as);
    if (installed.is_error()) as->put();  // not installed
    Result<exec::UserStack> stk = installed.is_ok() ? build_image(p, *as, plan.value(), file, args)
                                                    : Result<exec::UserStack>(installed.error());
    if (stk.is_error()) {
        if (!sig::fatal_signal_pending()) sig::force_fatal_signal(SIGSEGV);
        return stk.error();
    }
    frame = arch::TrapFrame{};
    frame.rip = plan.value().load.entry;
    frame.rsp = stk.value().sp;
    frame.cs = arch::USER_CS;
    frame.ss = arch::USER_DS;
    frame.rflags = arch::FLAGS_IF | 0x2;  // bit 1 is always set
    return {};
}

constexpr usize BINPRM_BUF_SIZE = 256;  // how much of a "#!" line Linux reads
constexpr int MAX_INTERP_DEPTH = 4;     // nested interpreters before ELOOP

bool blank(char c) { return c == ' ' || c == '\t'; }

Status exec_depth(Process& p, const ExecFile& file, const exec::ExecArgs& args, arch::TrapFrame& frame, int depth) {
    if (file.head_size < 2 || file.data[0] != '#' || file.data[1] != '!') return exec_elf(p, file, args, frame);
    if (depth >= MAX_INTERP_DEPTH) return Error(ELOOP);
    // "#!interp [one optional argument]" on the first line, within 256 bytes.
    usize n = min<usize>(file.head_size, BINPRM_BUF_SIZE);
    const char* line = reinterpret_cast<const char*>(file.data);
    usize end = 2;
    while (end < n && line[end] != '\n') ++end;
    bool complete = end < n;
    usize i = 2;
    while (i < end && blank(line[i])) ++i;
    usize interp_start = i;
    while (i < end && !blank(line[i])) ++i;
    StringView interp(line + interp_start, i - interp_start);
    // A name cut off by the buffer end would run the wrong program.
    if (interp.empty() || (!complete && i == end)) return Error(ENOEXEC);
    while (i < end && blank(line[i])) ++i;
    usize arg_end = end;
    while (arg_end > i && blank(line[arg_end - 1])) --arg_end;
    StringView interp_arg(line + i, arg_end - i);

    // argv becomes: interp, [arg], the script's path, original argv[1..].
    constexpr usize MAX_ARGS = 4096;
    if (args.argc + 2 > MAX_ARGS) return Error(E2BIG);
    auto* argv = static_cast<StringView*>(TRY(mm::kzalloc((args.argc + 2) * sizeof(StringView))));
    usize argc = 0;
    argv[argc++] = interp;
    if (!interp_arg.empty()) argv[argc++] = interp_arg;
    argv[argc++] = args.execfn;
    for (usize k = 1; k < args.argc; ++k) argv[argc++] = args.argv[k];
    exec::ExecArgs next{argv, argc, args.envp, args.envc, args.execfn};

    char path[BINPRM_BUF_SIZE + 1];
    __builtin_memcpy(path, interp.data(), interp.size());
    path[interp.size()] = 0;
    Status st;
    auto interp_file = open_exec(StringView(path, interp.size()));
    if (interp_file.is_error()) {
        st = interp_file.error();
    } else {
        st = exec_depth(p, interp_file.value(), next, frame, depth + 1);
        interp_file.value().backing->put();
    }
    mm::kfree(argv);
    return st;
}

}  // namespace

Status exec_file(Process& p, const ExecFile& file, const exec::ExecArgs& args, arch::TrapFrame& frame) {
    return exec_depth(p, file, args, frame, 0);
}

}  // namespace keel::proc
