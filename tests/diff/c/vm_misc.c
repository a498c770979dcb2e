/* ---- difftest preamble: each test is self-contained, so every file carries a copy ----
 * Output: one line per check, "CHECK name: value" (tests/diff/README.md). Values must be
 * deterministic: never print pids, addresses or times, print comparisons instead. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static const char *errname(int e) {
    switch (e) {
#define E_(x) case x: return #x;
    E_(EPERM) E_(ENOENT) E_(ESRCH) E_(EINTR) E_(EIO) E_(ENXIO) E_(E2BIG) E_(ENOEXEC) E_(EBADF)
    E_(ECHILD) E_(EAGAIN) E_(ENOMEM) E_(EACCES) E_(EFAULT) E_(EBUSY) E_(EEXIST) E_(EXDEV)
    E_(ENODEV) E_(ENOTDIR) E_(EISDIR) E_(EINVAL) E_(ENFILE) E_(EMFILE) E_(ENOTTY) E_(ETXTBSY)
    E_(EFBIG) E_(ENOSPC) E_(ESPIPE) E_(EROFS) E_(EMLINK) E_(EPIPE) E_(ERANGE) E_(EDEADLK)
    E_(ENAMETOOLONG) E_(ENOSYS) E_(ENOTEMPTY) E_(ELOOP) E_(ENODATA) E_(ETIME) E_(EOVERFLOW)
    E_(EOPNOTSUPP) E_(ETIMEDOUT) E_(ENOTSOCK) E_(ECANCELED) E_(EBADFD) E_(ENOTBLK) E_(ESTALE)
    E_(EXFULL) E_(ENOMSG) E_(EIDRM) E_(ENOLCK) E_(EDOM) E_(ENOKEY) E_(EMSGSIZE)
#undef E_
    case 0: return "0";
    }
    static char b[16];
    snprintf(b, sizeof b, "E%d", e);
    return b;
}

/* CK: the result of a call that returns -1 + errno on failure: "VALUE" or "-1 ENAME". */
#define CK(name, expr) do { errno = 0; long r_ = (long)(expr); int e_ = errno; \
    if (r_ == -1) printf("CHECK %s: -1 %s\n", (name), errname(e_)); \
    else printf("CHECK %s: %ld\n", (name), r_); } while (0)
/* CKOK: like CK but a success prints "ok" (for results such as addresses or fds of no interest). */
#define CKOK(name, expr) do { errno = 0; long r_ = (long)(expr); int e_ = errno; \
    if (r_ == -1) printf("CHECK %s: -1 %s\n", (name), errname(e_)); \
    else printf("CHECK %s: ok\n", (name)); } while (0)
/* CHECK: a formatted value; the arguments are evaluated before anything is printed. */
#define CHECK(name, ...) do { char b_[4096]; snprintf(b_, sizeof b_, __VA_ARGS__); \
    printf("CHECK %s: %s\n", (name), b_); } while (0)

/* A wait status as text: "exit N", "signal N[ core]", "stopped N", "continued". */
static const char *wstr(int st) {
    static char b[48];
    if (WIFEXITED(st)) snprintf(b, sizeof b, "exit %d", WEXITSTATUS(st));
    else if (WIFSIGNALED(st)) snprintf(b, sizeof b, "signal %d%s", WTERMSIG(st), WCOREDUMP(st) ? " core" : "");
    else if (WIFSTOPPED(st)) snprintf(b, sizeof b, "stopped %d", WSTOPSIG(st));
    else if (WIFCONTINUED(st)) snprintf(b, sizeof b, "continued");
    else snprintf(b, sizeof b, "raw %#x", st);
    return b;
}

/* Runs fn in a child process and returns its wait status (fn's return value is the exit code). */
static int in_child(int (*fn)(void)) {
    fflush(stdout);
    pid_t p = fork();
    if (p == 0) { int r = fn(); fflush(stdout); _exit(r); }
    int st = -1;
    if (p > 0) while (waitpid(p, &st, 0) < 0 && errno == EINTR) {}
    return st;
}

static void setup(void) { setvbuf(stdout, NULL, _IOLBF, 0); }
/* ---- end of preamble ---- */
/* Virtual memory: brk, mremap, madvise, mincore, mlock, msync, process_vm/proc mem basics. */
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>

#define PG 4096UL

int main(void) {
    setup();
    /* brk */
    {
        long b0 = syscall(SYS_brk, 0);
        CHECK("brk_query_nonzero", "%d", b0 > 0);
        long b1 = syscall(SYS_brk, b0 + 3 * PG);
        CHECK("brk_grow_returns_new", "%d", b1 == b0 + (long)(3 * PG));
        char *z = (char *)b0;
        int zero = 1;
        for (size_t i = 0; i < 3 * PG; i++) zero &= z[i] == 0;
        CHECK("brk_memory_zeroed", "%d", zero);
        memset(z, 0x5a, 3 * PG);
        long b2 = syscall(SYS_brk, b0 + PG);
        CHECK("brk_shrink_returns_new", "%d", b2 == b0 + (long)PG);
        long b3 = syscall(SYS_brk, b0 + 3 * PG);
        CHECK("brk_regrow_zeroed", "%d", z[2 * PG] == 0 && b3 == b0 + (long)(3 * PG));
        CHECK("brk_kept_below", "%d", (unsigned char)z[10] == 0x5a);
        long b4 = syscall(SYS_brk, 1UL << 46);
        CHECK("brk_huge_fails_returns_old", "%d", b4 == b3);
        long b5 = syscall(SYS_brk, 4096);
        CHECK("brk_below_start_returns_old", "%d", b5 == b3);
        long b6 = syscall(SYS_brk, b0 + 3 * PG + 100);
        CHECK("brk_unaligned_returns_exact", "%d", b6 == b0 + (long)(3 * PG) + 100);
        /* brk into an existing mapping fails */
        char *m = mmap((void *)((b6 + 16 * PG) & ~(PG - 1)), PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
        if (m != MAP_FAILED) {
            long b7 = syscall(SYS_brk, (long)m + (long)PG);
            CHECK("brk_into_mapping_fails", "%d", b7 == b6);
            munmap(m, PG);
        } else {
            CHECK("brk_into_mapping_fails", "mmap %s", errname(errno));
        }
        /* RLIMIT_DATA limits brk */
        struct rlimit old, rl;
        getrlimit(RLIMIT_DATA, &old);
        rl.rlim_cur = 1 << 20; rl.rlim_max = old.rlim_max;
        setrlimit(RLIMIT_DATA, &rl);
        long b8 = syscall(SYS_brk, b0 + (8L << 20));
        CHECK("brk_beyond_rlimit_data", "%d", b8 == b6);
        setrlimit(RLIMIT_DATA, &old);
        syscall(SYS_brk, b0);
    }
    /* mremap */
    {
        char *p = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        strcpy(p, "keep me");
        strcpy(p + PG, "second");
        char *q = mremap(p, 2 * PG, PG, 0);
        CHECK("mremap_shrink_same_addr", "%d", q == p);
        char *r = mremap(p, PG, 64 * PG, MREMAP_MAYMOVE);
        CHECK("mremap_grow_maymove_ok", "%d", r != MAP_FAILED);
        CHECK("mremap_contents_kept", "%s", r);
        CHECK("mremap_new_part_zero", "%d", r[PG] == 0 && r[63 * PG] == 0);
        CKOK("mremap_unaligned", mremap(r + 1, PG, 2 * PG, MREMAP_MAYMOVE));
        CKOK("mremap_fixed_without_maymove", mremap(r, PG, PG, MREMAP_FIXED, r + 128 * PG));
        CKOK("mremap_bad_flags", mremap(r, PG, PG, 0x80));
        CKOK("mremap_new_len0", mremap(r, PG, 0, MREMAP_MAYMOVE));
        CKOK("mremap_unmapped", mremap((void *)PG, PG, 2 * PG, MREMAP_MAYMOVE));
        CKOK("mremap_old0_private", mremap(r, 0, PG, MREMAP_MAYMOVE));
        /* grow without MAYMOVE into an occupied neighbour: ENOMEM */
        char *a = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        munmap(a + PG, PG);
        mmap(a + PG, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        munmap(a + 2 * PG, PG);
        CKOK("mremap_grow_blocked", mremap(a, PG, 2 * PG, 0));
        /* MREMAP_FIXED moves to the given address */
        char *dst = mmap(NULL, 4 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        strcpy(r, "moved");
        char *m = mremap(r, PG, PG, MREMAP_MAYMOVE | MREMAP_FIXED, dst + PG);
        CHECK("mremap_fixed_to_addr", "%d %s", m == dst + PG, m == dst + PG ? m : "");
        CHECK("mremap_old_gone", "%d", mincore(r, PG, (unsigned char[1]){0}) == -1 && errno == ENOMEM);
        /* MREMAP_DONTUNMAP leaves the old range mapped and empty */
        char *d = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        strcpy(d, "dontunmap");
        long d2 = syscall(SYS_mremap, d, PG, PG, MREMAP_MAYMOVE | 4 /* MREMAP_DONTUNMAP */, 0);
        CHECK("mremap_dontunmap", "%d %s old=%d", d2 != -1, d2 != -1 ? (char *)d2 : errname(errno), d[0]);
        CKOK("mremap_dontunmap_size_change", syscall(SYS_mremap, d, PG, 2 * PG, MREMAP_MAYMOVE | 4, 0));
        CKOK("mremap_raw_garbage_new_addr", syscall(SYS_mremap, d, PG, PG, MREMAP_MAYMOVE, 0x1234000));
    }
    /* madvise */
    {
        char *p = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        memset(p, 7, 4 * PG);
        CK("madv_dontneed", madvise(p, PG, MADV_DONTNEED));
        CHECK("madv_dontneed_zeroes_anon", "%d %d", p[0], p[PG]);
        CK("madv_normal", madvise(p, 4 * PG, MADV_NORMAL));
        CK("madv_random", madvise(p, 4 * PG, MADV_RANDOM));
        CK("madv_sequential", madvise(p, 4 * PG, MADV_SEQUENTIAL));
        CK("madv_willneed", madvise(p, 4 * PG, MADV_WILLNEED));
        CK("madv_free", madvise(p + 2 * PG, PG, MADV_FREE));
        CK("madv_bad_advice", madvise(p, PG, 9999));
        CK("madv_unaligned", madvise(p + 1, PG, MADV_NORMAL));
        CK("madv_len0", madvise(p, 0, MADV_NORMAL));
        CK("madv_unmapped", madvise((void *)PG, PG, MADV_NORMAL));
        CK("madv_dontfork", madvise(p, PG, MADV_DONTFORK));
        CK("madv_dofork", madvise(p, PG, MADV_DOFORK));
        int fd = open("/dev/null", O_RDONLY);
        close(fd);
        /* mincore */
        unsigned char vec[4] = {9, 9, 9, 9};
        char *q = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        q[0] = 1;
        q[2 * PG] = 1;
        CK("mincore", mincore(q, 4 * PG, vec));
        CHECK("mincore_vec", "%d %d %d %d", vec[0] & 1, vec[1] & 1, vec[2] & 1, vec[3] & 1);
        CK("mincore_unaligned", mincore(q + 1, PG, vec));
        CK("mincore_unmapped", mincore((void *)PG, PG, vec));
        CK("mincore_efault_vec", mincore(q, PG, (unsigned char *)8));
        /* mlock */
        CK("mlock", mlock(q, 2 * PG));
        CK("munlock", munlock(q, 2 * PG));
        CK("mlock_unmapped", mlock((void *)PG, PG));
        CK("mlockall_bad_flags", mlockall(0));
        CK("mlockall_current", mlockall(MCL_CURRENT));
        CK("munlockall", munlockall());
        CK("mlock2_bad_flags", syscall(SYS_mlock2, q, PG, 0x10));
    }
    /* /proc/self/mem reads our own memory */
    {
        static char secret[] = "proc-mem-read";
        int fd = open("/proc/self/mem", O_RDONLY);
        char buf[32] = "";
        pread(fd, buf, sizeof secret, (off_t)(uintptr_t)secret);
        CHECK("proc_self_mem_read", "%s", buf);
        close(fd);
    }
    /* getpagesize and sysconf */
    CHECK("getpagesize", "%d", getpagesize());
    CHECK("sysconf_pagesize", "%ld", sysconf(_SC_PAGESIZE));
    return 0;
}
