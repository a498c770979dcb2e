#include "kernel/exec/user_stack.h"

#include <asm/auxvec.h>
#include <linux/auxvec.h>

#include "lib/string.h"

// Older uapi headers lack the rseq entries (Linux 6.3).
#ifndef AT_RSEQ_FEATURE_SIZE
#define AT_RSEQ_FEATURE_SIZE 27
#endif
#ifndef AT_RSEQ_ALIGN
#define AT_RSEQ_ALIGN 28
#endif

namespace keel::exec {

namespace {

constexpr char kPlatform[] = "x86_64";
constexpr usize kRandomBytes = 16;

// Addresses on the new stack, computed before anything is written so that
// the size is known in advance.
struct Layout {
    u64 execfn, env_start, arg_start, platform, random, sp, auxv;
    usize argc, items, auxv_words;
};

usize block_size(const StringView* strings, usize count) {
    usize total = 0;
    for (usize i = 0; i < count; ++i) total += strings[i].size() + 1;
    return total;
}

// The auxiliary vector in the order Linux 6.12 emits it on x86-64 (the
// architecture's entries first). Counts the words when `out` is null.
usize write_auxv(const AuxValues& aux, u64 random, u64 execfn, u64 platform, u64* out) {
    usize n = 0;
    auto put = [&](u64 type, u64 value) {
        if (out) {
            out[n] = type;
            out[n + 1] = value;
        }
        n += 2;
    };
    if (aux.sysinfo_ehdr != 0) put(AT_SYSINFO_EHDR, aux.sysinfo_ehdr);
    put(AT_MINSIGSTKSZ, aux.minsigstksz);
    put(AT_HWCAP, aux.hwcap);
    put(AT_PAGESZ, aux.pagesz);
    put(AT_CLKTCK, aux.clktck);
    put(AT_PHDR, aux.phdr);
    put(AT_PHENT, aux.phent);
    put(AT_PHNUM, aux.phnum);
    put(AT_BASE, aux.base);
    put(AT_FLAGS, aux.flags);
    put(AT_ENTRY, aux.entry);
    put(AT_UID, aux.uid);
    put(AT_EUID, aux.euid);
    put(AT_GID, aux.gid);
    put(AT_EGID, aux.egid);
    put(AT_SECURE, aux.secure);
    put(AT_RANDOM, random);
    put(AT_HWCAP2, aux.hwcap2);
    put(AT_EXECFN, execfn);
    put(AT_PLATFORM, platform);
    if (aux.has_execfd) put(AT_EXECFD, aux.execfd);
    if (aux.rseq_feature_size != 0) {
        put(AT_RSEQ_FEATURE_SIZE, aux.rseq_feature_size);
        put(AT_RSEQ_ALIGN, aux.rseq_align);
    }
    put(AT_NULL, 0);
    return n;
}

// Sizes must have passed exec_args_check, which keeps every sum small.
Layout compute_layout(const ExecArgs& args, const AuxValues& aux, u64 top) {
    Layout l;
    l.argc = max(args.argc, usize{1});
    u64 p = top - sizeof(u64);
    l.execfn = p -= args.execfn.size() + 1;
    l.env_start = p -= block_size(args.envp, args.envc);
    // With no arguments Linux supplies "" as argv[0]: one NUL byte.
    l.arg_start = p -= (args.argc == 0 ? 1 : block_size(args.argv, args.argc));
    p = align_down(p, u64{16});
    l.platform = p -= sizeof kPlatform;
    l.random = p -= kRandomBytes;
    l.auxv_words = write_auxv(aux, 0, 0, 0, nullptr);
    // argc, argv and envp with their NULLs: Linux rounds rsp down from
    // below the auxv, so the auxv lands right after envp's NULL.
    l.items = (l.argc + 1) + (args.envc + 1) + 1;
    l.sp = align_down(p - (l.auxv_words + l.items) * sizeof(u64), u64{16});
    l.auxv = l.sp + l.items * sizeof(u64);
    return l;
}

class StackWriter {
public:
    StackWriter(u8* buf, u64 base) : buf_(buf), base_(base) {}
    void bytes(u64 addr, const void* src, usize n) { mem_copy(buf_ + (addr - base_), src, n); }
    void word(u64 addr, u64 value) { bytes(addr, &value, sizeof value); }
    // Writes the strings with their NULs from `addr` up, a pointer to each
    // at `ptrs`, then a NULL pointer. Returns the end of the strings.
    u64 strings(u64 addr, const StringView* s, usize count, u64 ptrs) {
        for (usize i = 0; i < count; ++i) {
            word(ptrs + i * sizeof(u64), addr);
            bytes(addr, s[i].data(), s[i].size());
            addr += s[i].size() + 1;  // the NUL is already there: the area was cleared
        }
        word(ptrs + count * sizeof(u64), 0);
        return addr;
    }

private:
    u8* buf_;
    u64 base_;
};

}  // namespace

Status exec_args_check(const ExecArgs& args, u64 stack_rlimit) {
    u64 limit = max(min(kDefaultStackLimit / 4 * 3, stack_rlimit / 4), kArgMax);
    // Room for the pointers is reserved first; argc 0 still needs argv[0].
    u64 pointers;
    if (__builtin_add_overflow(u64{max(args.argc, usize{1})}, u64{args.envc}, &pointers) ||
        __builtin_mul_overflow(pointers, u64{sizeof(u64)}, &pointers) || limit <= pointers)
        return Error(E2BIG);
    limit -= pointers;
    u64 used = 0;
    // `used` stays under 6 MiB and each length under 128 KiB: no overflow.
    auto take = [&](usize len) { return len < kMaxArgStrlen && (used += len + 1) <= limit; };
    if (!take(args.execfn.size())) return Error(E2BIG);
    for (usize i = 0; i < args.envc; ++i)
        if (!take(args.envp[i].size())) return Error(E2BIG);
    for (usize i = 0; i < args.argc; ++i)
        if (!take(args.argv[i].size())) return Error(E2BIG);
    if (args.argc == 0 && !take(0)) return Error(E2BIG);
    return {};
}

Result<usize> user_stack_size(const ExecArgs& args, const AuxValues& aux, u64 stack_rlimit) {
    TRY(exec_args_check(args, stack_rlimit));
    // Any 16-byte-aligned top gives the same size.
    constexpr u64 kTop = 1ull << 47;
    return static_cast<usize>(kTop - compute_layout(args, aux, kTop).sp);
}

Result<UserStack> user_stack_build(const UserStackSpec& spec, u8* buf, usize buf_size) {
    KASSERT(spec.stack_top % 16 == 0 && spec.random != nullptr);
    const ExecArgs& args = spec.args;
    TRY(exec_args_check(args, spec.stack_rlimit));
    Layout l = compute_layout(args, spec.aux, spec.stack_top);
    usize size = static_cast<usize>(spec.stack_top - l.sp);
    if (size > buf_size) return Error(EFAULT);

    u64 base = spec.stack_top - buf_size;
    StackWriter w(buf, base);
    // Fresh stack pages are zero: padding, NULs and the top word stay so.
    mem_set(buf + (l.sp - base), 0, size);

    UserStack st;
    st.sp = l.sp;
    st.argc = l.argc;
    st.argv = l.sp + sizeof(u64);
    st.envp = st.argv + (l.argc + 1) * sizeof(u64);
    st.auxv = l.auxv;
    st.auxv_words = l.auxv_words;
    st.execfn = l.execfn;
    st.random = l.random;
    st.platform = l.platform;

    w.word(l.sp, l.argc);
    st.arg_start = l.arg_start;
    if (args.argc == 0) {
        w.word(st.argv, l.arg_start);  // the empty argv[0]
        w.word(st.argv + sizeof(u64), 0);
        st.arg_end = l.arg_start + 1;
    } else {
        st.arg_end = w.strings(l.arg_start, args.argv, args.argc, st.argv);
    }
    st.env_start = l.env_start;
    st.env_end = w.strings(l.env_start, args.envp, args.envc, st.envp);
    KASSERT(st.arg_end == st.env_start && st.env_end == l.execfn);
    w.bytes(l.execfn, args.execfn.data(), args.execfn.size());
    w.bytes(l.platform, kPlatform, sizeof kPlatform);
    w.bytes(l.random, spec.random, kRandomBytes);

    u64 auxv[64];
    static_assert(sizeof auxv / sizeof auxv[0] >= 2 * 26, "room for every entry write_auxv emits");
    usize words = write_auxv(spec.aux, l.random, l.execfn, l.platform, auxv);
    KASSERT(words == l.auxv_words);
    w.bytes(l.auxv, auxv, words * sizeof(u64));
    return st;
}

}  // namespace keel::exec
