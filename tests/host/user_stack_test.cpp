// kernel/exec/user_stack: the initial stack layout, Linux's argument limits,
// and (where the host allows tracing) a byte-for-byte comparison with the
// stack the host kernel builds for the same execve.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <linux/auxvec.h>
#include <signal.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "kernel/exec/user_stack.h"

#ifndef AT_RSEQ_FEATURE_SIZE
#define AT_RSEQ_FEATURE_SIZE 27
#define AT_RSEQ_ALIGN 28
#endif

using namespace keel;
using namespace keel::exec;

namespace {

constexpr u64 kTop = 0x7ffffffff000;
const u8 kRandom[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

std::vector<StringView> views(const std::vector<std::string>& v) {
    std::vector<StringView> out;
    for (const std::string& s : v) out.emplace_back(s.data(), s.size());
    return out;
}

// A built stack and readers for its words and strings by user address.
struct Built {
    std::vector<u8> buf;
    u64 top = kTop;
    UserStack st;

    u64 word(u64 addr) const {
        u64 v;
        std::memcpy(&v, &buf[addr - (top - buf.size())], 8);
        return v;
    }
    std::string str(u64 addr) const { return reinterpret_cast<const char*>(&buf[addr - (top - buf.size())]); }
    std::vector<std::pair<u64, u64>> auxv() const {
        std::vector<std::pair<u64, u64>> out;
        for (usize i = 0; i < st.auxv_words; i += 2) out.push_back({word(st.auxv + 8 * i), word(st.auxv + 8 * i + 8)});
        return out;
    }
    u64 aux(u64 type) const {
        for (auto [k, v] : auxv())
            if (k == type) return v;
        return ~u64{0};
    }
};

struct Spec {
    std::vector<std::string> argv{"prog", "-x"};
    std::vector<std::string> envp{"A=1", "HOME=/root"};
    std::string execfn = "/bin/prog";
    AuxValues aux;
    u64 rlimit = kDefaultStackLimit;
    usize buf_size = 64 * 1024;
    usize misalign = 0;  // start the buffer at an odd address
};

Result<Built> build(const Spec& s) {
    std::vector<StringView> a = views(s.argv), e = views(s.envp);
    UserStackSpec spec;
    spec.args = {a.data(), a.size(), e.data(), e.size(), StringView(s.execfn.data(), s.execfn.size())};
    spec.aux = s.aux;
    spec.random = kRandom;
    spec.stack_rlimit = s.rlimit;
    spec.stack_top = kTop;
    std::vector<u8> storage(s.buf_size + s.misalign, 0xcc);
    auto r = user_stack_build(spec, storage.data() + s.misalign, s.buf_size);
    if (r.is_error()) return r.error();
    Built b;
    b.buf.assign(storage.begin() + s.misalign, storage.end());
    b.st = r.release_value();
    return b;
}

int check_errno(const std::vector<std::string>& argv, const std::vector<std::string>& envp, const std::string& execfn,
                u64 rlimit) {
    std::vector<StringView> a = views(argv), e = views(envp);
    auto r = exec_args_check({a.data(), a.size(), e.data(), e.size(), StringView(execfn.data(), execfn.size())}, rlimit);
    return r.is_ok() ? 0 : r.error().code();
}

}  // namespace

TEST(UserStack, Layout) {
    Spec s;
    s.aux.phdr = 0x400040;
    s.aux.phnum = 9;
    s.aux.entry = 0x401000;
    s.aux.base = 0x7ffff7fc3000;
    s.aux.sysinfo_ehdr = 0x7ffff7fc1000;
    s.aux.minsigstksz = 3376;
    s.aux.hwcap = 0x178bfbff;
    s.aux.hwcap2 = 2;
    s.aux.uid = 1000;
    s.aux.egid = 100;
    auto r = build(s);
    ASSERT_TRUE(r.is_ok()) << r.error().code();
    const Built& b = r.value();
    const UserStack& st = b.st;

    // From the top down: a zero word, execfn, envp strings, argv strings.
    EXPECT_EQ(b.word(kTop - 8), 0u);
    EXPECT_EQ(st.execfn, kTop - 8 - 10);
    EXPECT_EQ(b.str(st.execfn), "/bin/prog");
    EXPECT_EQ(st.env_end, st.execfn);
    EXPECT_EQ(st.env_start, st.env_end - (4 + 11));
    EXPECT_EQ(st.arg_end, st.env_start);
    EXPECT_EQ(st.arg_start, st.arg_end - (5 + 3));
    EXPECT_EQ(b.str(st.arg_start), "prog");
    EXPECT_EQ(b.str(st.arg_start + 5), "-x");
    EXPECT_EQ(b.str(st.env_start), "A=1");
    EXPECT_EQ(b.str(st.env_start + 4), "HOME=/root");

    // Platform string below the 16-aligned end of the strings, then the
    // random bytes right under it.
    EXPECT_EQ(st.platform, (st.arg_start & ~u64{15}) - 7);
    EXPECT_EQ(b.str(st.platform), "x86_64");
    EXPECT_EQ(st.random, st.platform - 16);
    EXPECT_EQ(std::memcmp(&b.buf[st.random - (kTop - b.buf.size())], kRandom, 16), 0);

    // rsp: argc, argv, NULL, envp, NULL, auxv.
    EXPECT_EQ(st.sp % 16, 0u);
    EXPECT_EQ(st.argc, 2u);
    EXPECT_EQ(b.word(st.sp), 2u);
    EXPECT_EQ(st.argv, st.sp + 8);
    EXPECT_EQ(b.word(st.argv), st.arg_start);
    EXPECT_EQ(b.word(st.argv + 8), st.arg_start + 5);
    EXPECT_EQ(b.word(st.argv + 16), 0u);
    EXPECT_EQ(st.envp, st.argv + 24);
    EXPECT_EQ(b.word(st.envp), st.env_start);
    EXPECT_EQ(b.word(st.envp + 8), st.env_start + 4);
    EXPECT_EQ(b.word(st.envp + 16), 0u);
    EXPECT_EQ(st.auxv, st.envp + 24);
    EXPECT_LE(st.auxv + 8 * st.auxv_words, st.random);
    // The lowest 16-aligned address with room for auxv and the vectors.
    EXPECT_EQ(st.sp, (st.random - 8 * (st.auxv_words + 2 + 1 + 2 + 1 + 1)) & ~u64{15});

    const std::vector<std::pair<u64, u64>> want = {
        {AT_SYSINFO_EHDR, 0x7ffff7fc1000}, {AT_MINSIGSTKSZ, 3376}, {AT_HWCAP, 0x178bfbff},
        {AT_PAGESZ, 4096}, {AT_CLKTCK, 100}, {AT_PHDR, 0x400040}, {AT_PHENT, 56}, {AT_PHNUM, 9},
        {AT_BASE, 0x7ffff7fc3000}, {AT_FLAGS, 0}, {AT_ENTRY, 0x401000}, {AT_UID, 1000}, {AT_EUID, 0},
        {AT_GID, 0}, {AT_EGID, 100}, {AT_SECURE, 0}, {AT_RANDOM, st.random}, {AT_HWCAP2, 2},
        {AT_EXECFN, st.execfn}, {AT_PLATFORM, st.platform}, {AT_RSEQ_FEATURE_SIZE, 28},
        {AT_RSEQ_ALIGN, 32}, {AT_NULL, 0}};
    EXPECT_EQ(b.auxv(), want);

    std::vector<StringView> a = views(s.argv), e = views(s.envp);
    ExecArgs args{a.data(), a.size(), e.data(), e.size(), StringView("/bin/prog")};
    EXPECT_EQ(user_stack_size(args, s.aux, kDefaultStackLimit).value(), kTop - st.sp);
}

TEST(UserStack, OptionalAuxEntries) {
    Spec s;
    s.aux.has_execfd = true;
    s.aux.execfd = 3;
    s.aux.rseq_feature_size = 0;
    auto b = build(s).release_value();
    std::vector<u64> types;
    for (auto [k, v] : b.auxv()) types.push_back(k);
    // No vDSO: AT_SYSINFO_EHDR is left out; AT_EXECFD follows AT_PLATFORM.
    const std::vector<u64> want = {AT_MINSIGSTKSZ, AT_HWCAP, AT_PAGESZ, AT_CLKTCK, AT_PHDR, AT_PHENT, AT_PHNUM,
                                   AT_BASE, AT_FLAGS, AT_ENTRY, AT_UID, AT_EUID, AT_GID, AT_EGID, AT_SECURE,
                                   AT_RANDOM, AT_HWCAP2, AT_EXECFN, AT_PLATFORM, AT_EXECFD, AT_NULL};
    EXPECT_EQ(types, want);
    EXPECT_EQ(b.aux(AT_EXECFD), 3u);
}

TEST(UserStack, NoArgumentsGetAnEmptyArgv0) {
    Spec s;
    s.argv = {};
    auto b = build(s).release_value();
    EXPECT_EQ(b.st.argc, 1u);
    EXPECT_EQ(b.word(b.st.sp), 1u);
    EXPECT_EQ(b.word(b.st.argv), b.st.arg_start);
    EXPECT_EQ(b.str(b.st.arg_start), "");
    EXPECT_EQ(b.word(b.st.argv + 8), 0u);
    EXPECT_EQ(b.st.arg_end, b.st.arg_start + 1);
    EXPECT_EQ(b.st.env_start, b.st.arg_end);
    EXPECT_EQ(b.st.envp, b.st.argv + 16);
    EXPECT_EQ(b.word(b.st.envp), b.st.env_start);
}

TEST(UserStack, EmptyEnvironmentAndAlignments) {
    // Every string length modulo 16 gives a 16-aligned rsp and auxv right
    // after envp's NULL.
    for (usize n = 0; n < 40; ++n) {
        Spec s;
        s.argv = {std::string(n, 'a')};
        s.envp = {};
        s.execfn = "/x";
        auto b = build(s).release_value();
        EXPECT_EQ(b.st.sp % 16, 0u) << n;
        EXPECT_EQ(b.st.auxv, b.st.sp + 8 * 4) << n;
        EXPECT_EQ(b.word(b.st.envp), 0u) << n;
        EXPECT_EQ(b.str(b.st.arg_start), std::string(n, 'a'));
        EXPECT_EQ(b.aux(AT_RANDOM), b.st.random);
        EXPECT_EQ(b.str(b.aux(AT_EXECFN)), "/x");
        EXPECT_EQ(b.str(b.aux(AT_PLATFORM)), "x86_64");
    }
}

TEST(UserStack, BufferSizeAndAlignment) {
    Spec s;
    std::vector<StringView> a = views(s.argv), e = views(s.envp);
    usize need = user_stack_size({a.data(), a.size(), e.data(), e.size(), StringView("/bin/prog")}, s.aux,
                                 kDefaultStackLimit)
                     .value();
    s.buf_size = need;
    EXPECT_TRUE(build(s).is_ok());
    s.buf_size = need - 1;
    EXPECT_EQ(build(s).error().code(), EFAULT);
    // A buffer at an odd address holds the same bytes.
    s.buf_size = need;
    Built aligned = build(s).release_value();
    s.misalign = 3;
    Built odd = build(s).release_value();
    EXPECT_EQ(aligned.buf, odd.buf);
}

TEST(UserStack, StringLimits) {
    const std::string max(kMaxArgStrlen - 1, 'x');  // with its NUL, exactly MAX_ARG_STRLEN
    const std::string over(kMaxArgStrlen, 'x');
    EXPECT_EQ(check_errno({"a", max}, {}, "/a", kDefaultStackLimit), 0);
    EXPECT_EQ(check_errno({"a", over}, {}, "/a", kDefaultStackLimit), E2BIG);
    EXPECT_EQ(check_errno({"a"}, {over}, "/a", kDefaultStackLimit), E2BIG);
    EXPECT_EQ(check_errno({"a"}, {}, over, kDefaultStackLimit), E2BIG);
    EXPECT_EQ(check_errno({}, {max}, "/a", kDefaultStackLimit), 0);
}

// argv {"a", fillers..., last} for execfn "/a" such that strings (NULs
// included) plus 8 bytes per pointer add up to exactly `budget`.
std::vector<std::string> argv_filling(u64 budget) {
    std::vector<std::string> argv{"a"};
    u64 used = 3 + 2 + 8;  // "/a", "a" and its pointer
    while (budget - used > kMaxArgStrlen + 8) {
        argv.emplace_back(kMaxArgStrlen - 1, 'y');
        used += kMaxArgStrlen + 8;
    }
    argv.emplace_back(budget - used - 8 - 1, 'z');
    return argv;
}

TEST(UserStack, TotalLimits) {
    // The budget is rlimit / 4, at least ARG_MAX and at most 6 MiB.
    struct Case {
        u64 rlimit, budget;
    };
    for (Case c : {Case{kDefaultStackLimit, 2 * MiB}, Case{0, kArgMax}, Case{256 * KiB, kArgMax},
                   Case{1 * MiB, 256 * KiB}, Case{~u64{0}, 6 * MiB}, Case{64 * MiB, 6 * MiB}}) {
        std::vector<std::string> argv = argv_filling(c.budget);
        EXPECT_EQ(check_errno(argv, {}, "/a", c.rlimit), 0) << c.rlimit;
        argv.back().push_back('z');
        EXPECT_EQ(check_errno(argv, {}, "/a", c.rlimit), E2BIG) << c.rlimit;
    }
    // Empty strings cost their pointer and a NUL. execfn "" takes 1 byte.
    const u64 n = (kArgMax - 1) / 9;
    EXPECT_EQ(check_errno(std::vector<std::string>(n, ""), {}, "", 0), 0);
    EXPECT_EQ(check_errno(std::vector<std::string>(n + 1, ""), {}, "", 0), E2BIG);
    // argc 0: argv[0] = "" still takes a pointer and a byte.
    const u64 m = (kArgMax - 10) / 9;
    EXPECT_EQ(check_errno({}, std::vector<std::string>(m, ""), "", 0), 0);
    EXPECT_EQ(check_errno({}, std::vector<std::string>(m + 1, ""), "", 0), E2BIG);
    // Pointers alone can use up the budget.
    EXPECT_EQ(check_errno(std::vector<std::string>(kArgMax / 8, ""), {}, "", 0), E2BIG);
}

// ---- The same execve on the host kernel ----

namespace {

std::vector<u8> read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return std::vector<u8>(std::istreambuf_iterator<char>(f), {});
}

// Runs execve(path, argv, envp) with RLIMIT_STACK `rlimit`: 0 when it
// succeeded, else its errno; -1 if the test could not tell.
int host_exec_status(const std::string& path, const std::vector<std::string>& argv,
                     const std::vector<std::string>& envp, u64 rlimit) {
    std::vector<char*> a, e;
    for (const std::string& s : argv) a.push_back(const_cast<char*>(s.c_str()));
    for (const std::string& s : envp) e.push_back(const_cast<char*>(s.c_str()));
    a.push_back(nullptr);
    e.push_back(nullptr);
    pid_t pid = fork();
    if (pid == 0) {
        rlimit64 rl{rlimit, RLIM64_INFINITY};
        if (setrlimit64(RLIMIT_STACK, &rl) != 0) _exit(200);
        syscall(SYS_execve, path.c_str(), a.data(), e.data());
        _exit(errno);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) >= 200) return -1;
    return WEXITSTATUS(status);  // /bin/true exits 0
}

}  // namespace

TEST(UserStackHost, LimitsMatchTheHostKernel) {
    const std::string path = "/bin/true";
    if (access(path.c_str(), X_OK) != 0) GTEST_SKIP() << "no /bin/true";
    for (u64 rlimit : {u64{1 * MiB}, u64{256 * KiB}, u64{8 * MiB}}) {
        // Largest argv that fits per exec_args_check, then one byte more.
        std::vector<std::string> argv{path};
        while (check_errno(argv, {}, path, rlimit) == 0) argv.push_back(std::string(kMaxArgStrlen - 1, 'q'));
        argv.pop_back();
        std::string tail;
        usize lo = 0, hi = kMaxArgStrlen - 1;
        while (lo < hi) {  // longest last string that still fits
            usize mid = (lo + hi + 1) / 2;
            argv.push_back(std::string(mid, 'r'));
            bool ok = check_errno(argv, {}, path, rlimit) == 0;
            argv.pop_back();
            (ok ? lo : hi) = ok ? mid : mid - 1;
        }
        argv.push_back(std::string(lo, 'r'));
        int fits = host_exec_status(path, argv, {}, rlimit);
        if (fits < 0) GTEST_SKIP() << "cannot run children here";
        EXPECT_EQ(fits, 0) << rlimit;
        argv.back().push_back('r');
        EXPECT_EQ(check_errno(argv, {}, path, rlimit), E2BIG);
        EXPECT_EQ(host_exec_status(path, argv, {}, rlimit), E2BIG) << rlimit;
    }
    EXPECT_EQ(host_exec_status(path, {path, std::string(kMaxArgStrlen - 1, 's')}, {}, kDefaultStackLimit), 0);
    EXPECT_EQ(host_exec_status(path, {path}, {std::string(kMaxArgStrlen, 's')}, kDefaultStackLimit), E2BIG);
}

TEST(UserStackHost, SameBytesAsTheHostKernel) {
    const std::string path = "/bin/true";
    if (access(path.c_str(), X_OK) != 0) GTEST_SKIP() << "no /bin/true";
    const std::vector<std::string> argv{"true", "first arg", "", "x"};
    const std::vector<std::string> envp{"A=1", "LONGER_NAME=some value", "E="};

    // The child stops right after its execve, before any user instruction,
    // without address randomization so that the layout is deterministic.
    pid_t pid = fork();
    if (pid == 0) {
        std::vector<char*> a, e;
        for (const std::string& s : argv) a.push_back(const_cast<char*>(s.c_str()));
        for (const std::string& s : envp) e.push_back(const_cast<char*>(s.c_str()));
        a.push_back(nullptr);
        e.push_back(nullptr);
        if (ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) != 0 || personality(ADDR_NO_RANDOMIZE) < 0) _exit(100);
        syscall(SYS_execve, path.c_str(), a.data(), e.data());
        _exit(101);
    }
    ASSERT_GT(pid, 0);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    if (!WIFSTOPPED(status)) GTEST_SKIP() << "cannot trace children here";
    struct Reap {
        pid_t pid;
        ~Reap() {
            int st;
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
        }
    } reap{pid};

    std::string proc = "/proc/" + std::to_string(pid);
    std::vector<u8> raw = read_file(proc + "/auxv");
    std::vector<std::pair<u64, u64>> auxv;
    for (usize i = 0; i + 16 <= raw.size(); i += 16) {
        u64 kv[2];
        std::memcpy(kv, &raw[i], 16);
        auxv.push_back({kv[0], kv[1]});
    }
    auto aux = [&](u64 type) {
        for (auto [k, v] : auxv)
            if (k == type) return v;
        return u64{0};
    };
    std::vector<u8> statb = read_file(proc + "/stat");
    std::string stat(statb.begin(), statb.end());
    std::istringstream fields(stat.substr(stat.rfind(')') + 2));
    std::vector<u64> f(3, 0);  // f[i] is field i (1-based; pid and comm skipped)
    for (std::string tok; fields >> tok;) f.push_back(std::strtoull(tok.c_str(), nullptr, 10));
    ASSERT_GE(f.size(), 52u);

    int mem = open((proc + "/mem").c_str(), O_RDONLY);
    ASSERT_GE(mem, 0);
    u64 top = aux(AT_EXECFN) + path.size() + 1 + 8;
    u64 sp = f[28];
    std::vector<u8> real(top - sp);
    ASSERT_EQ(pread(mem, real.data(), real.size(), static_cast<off_t>(sp)), static_cast<ssize_t>(real.size()));
    u8 random[16];
    ASSERT_EQ(pread(mem, random, 16, static_cast<off_t>(aux(AT_RANDOM))), 16);
    close(mem);
    EXPECT_EQ(top % 4096, 0u);

    AuxValues values;
    values.sysinfo_ehdr = aux(AT_SYSINFO_EHDR);
    values.minsigstksz = aux(AT_MINSIGSTKSZ);
    values.hwcap = aux(AT_HWCAP);
    values.pagesz = aux(AT_PAGESZ);
    values.clktck = aux(AT_CLKTCK);
    values.phdr = aux(AT_PHDR);
    values.phent = aux(AT_PHENT);
    values.phnum = aux(AT_PHNUM);
    values.base = aux(AT_BASE);
    values.flags = aux(AT_FLAGS);
    values.entry = aux(AT_ENTRY);
    values.uid = aux(AT_UID);
    values.euid = aux(AT_EUID);
    values.gid = aux(AT_GID);
    values.egid = aux(AT_EGID);
    values.secure = aux(AT_SECURE);
    values.hwcap2 = aux(AT_HWCAP2);
    values.rseq_feature_size = aux(AT_RSEQ_FEATURE_SIZE);
    values.rseq_align = aux(AT_RSEQ_ALIGN);

    std::vector<StringView> a = views(argv), e = views(envp);
    UserStackSpec spec;
    spec.args = {a.data(), a.size(), e.data(), e.size(), StringView(path.data(), path.size())};
    spec.aux = values;
    spec.random = random;
    spec.stack_top = top;
    std::vector<u8> buf(64 * 1024);
    auto r = user_stack_build(spec, buf.data(), buf.size());
    ASSERT_TRUE(r.is_ok()) << r.error().code();
    const UserStack& st = r.value();
    EXPECT_EQ(st.sp, sp);
    EXPECT_EQ(st.arg_start, f[48]);
    EXPECT_EQ(st.arg_end, f[49]);
    EXPECT_EQ(st.env_start, f[50]);
    EXPECT_EQ(st.env_end, f[51]);
    EXPECT_EQ(st.random, aux(AT_RANDOM));
    EXPECT_EQ(st.platform, aux(AT_PLATFORM));
    ASSERT_GE(buf.size(), real.size());
    std::vector<u8> mine(buf.end() - static_cast<std::ptrdiff_t>(real.size()), buf.end());
    EXPECT_EQ(mine, real);
    // The whole auxv, as /proc/<pid>/auxv reports it.
    EXPECT_EQ(st.auxv_words * 8, raw.size());
}
