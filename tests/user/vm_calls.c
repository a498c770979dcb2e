// Memory calls beyond mmap: mremap (shrink, grow in place, move, FIXED,
// DONTUNMAP), mincore, msync, the mlock family with RLIMIT_MEMLOCK,
// MAP_POPULATE/MAP_LOCKED, MAP_GROWSDOWN stacks, MAP_32BIT, the fork
// advice of madvise, and SIGSEGV codes. Output is compared with Linux.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif
#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT 1
#endif

#define PG 4096

#define SHOW(label, expr)                                              \
    do {                                                               \
        errno = 0;                                                     \
        long r_ = (long)(expr);                                        \
        printf("%s -> %ld errno=%d\n", label, r_, r_ < 0 ? errno : 0); \
    } while (0)
#define SHOWP(label, expr)                                                              \
    do {                                                                                \
        errno = 0;                                                                      \
        void* p_ = (void*)(expr);                                                       \
        printf("%s -> %s errno=%d\n", label, p_ == MAP_FAILED ? "failed" : "ok",        \
               p_ == MAP_FAILED ? errno : 0);                                           \
    } while (0)

static sigjmp_buf jb;
static volatile int got_sig, got_code;
static volatile void* got_addr;

static void on_fault(int sig, siginfo_t* si, void* uc) {
    (void)uc;
    got_sig = sig;
    got_code = si->si_code;
    got_addr = si->si_addr;
    siglongjmp(jb, 1);
}

static void probe(const char* label, volatile char* p, int write) {
    got_sig = 0;
    if (sigsetjmp(jb, 1) == 0) {
        if (write) *p = 'x';
        else (void)*p;
        printf("%s: no signal\n", label);
    } else {
        printf("%s: sig=%s code=%d addr_ok=%d\n", label, got_sig == SIGBUS ? "SIGBUS" : got_sig == SIGSEGV ? "SIGSEGV" : "?",
               got_code, got_addr == (void*)p);
    }
}

// Residency of n pages as a string of 0/1.
static void show_core(const char* label, void* addr, int n) {
    unsigned char vec[64];
    errno = 0;
    int r = mincore(addr, (size_t)n * PG, vec);
    printf("%s: ", label);
    if (r < 0) {
        printf("errno=%d\n", errno);
        return;
    }
    for (int i = 0; i < n; ++i) putchar('0' + (vec[i] & 1));
    putchar('\n');
}

static char* anon(int pages, int prot, int extra) {
    return mmap(NULL, (size_t)pages * PG, prot, MAP_PRIVATE | MAP_ANONYMOUS | extra, -1, 0);
}

static void remaps(void) {
    printf("-- mremap\n");
    char* a = anon(8, PROT_READ | PROT_WRITE, 0);
    for (int i = 0; i < 8; ++i) a[i * PG] = 'A' + i;
    munmap(a + 4 * PG, 4 * PG);
    printf("shrink same=%d\n", mremap(a, 4 * PG, 2 * PG, 0) == a);
    probe("shrunk page", a + 3 * PG, 0);
    printf("grow in place same=%d\n", mremap(a, 2 * PG, 6 * PG, 0) == a);
    printf("grown: %c %c %d\n", a[0], a[PG], a[5 * PG]);
    // A neighbour right after blocks growth in place.
    mprotect(a + 4 * PG, 2 * PG, PROT_READ);
    SHOWP("grow blocked", mremap(a, 4 * PG, 5 * PG, 0));
    char* b = mremap(a, 4 * PG, 5 * PG, MREMAP_MAYMOVE);
    printf("moved=%d contents %c %c\n", b != a, b[0], b[PG]);
    show_core("old place", a, 4);
    // FIXED onto a reserved range.
    char* r = anon(4, PROT_NONE, 0);
    char* c = mremap(b, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, r);
    printf("fixed at reserve=%d contents %c %c\n", c == r, c[0], c[PG]);
    show_core("reserve tail still mapped", r + 2 * PG, 2);
    // DONTUNMAP leaves the old range mapped and empty.
    char* d = anon(2, PROT_READ | PROT_WRITE, 0);
    d[0] = 'd';
    char* e = mremap(d, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0);
    printf("dontunmap moved=%d new=%c old=%d\n", e != d, e[0], d[0]);
    SHOWP("bad flags", mremap(d, PG, PG, 8));
    SHOWP("fixed without maymove", mremap(d, PG, PG, MREMAP_FIXED, r));
    SHOWP("dontunmap other size", mremap(d, PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0));
    SHOWP("unaligned", mremap(d + 1, PG, PG, 0));
    SHOWP("new len zero", mremap(d, PG, 0, 0));
    munmap(d, 2 * PG);
    SHOWP("unmapped", mremap(d, PG, 2 * PG, MREMAP_MAYMOVE));
    SHOWP("overlapping fixed", mremap(e, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, e + PG));
    // Growing across two mappings.
    char* f = anon(4, PROT_READ | PROT_WRITE, 0);
    mprotect(f + 2 * PG, 2 * PG, PROT_READ);
    SHOWP("spanning two", mremap(f, 4 * PG, 6 * PG, MREMAP_MAYMOVE));
    SHOWP("private old len zero", mremap(f, 0, PG, MREMAP_MAYMOVE));
    // A shared mapping moved and grown keeps showing the file.
    char* s = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    s[5] = 's';
    char* s2 = mremap(s, PG, 3 * PG, MREMAP_MAYMOVE);
    printf("shared moved: %c\n", s2[5]);
    // The object behind shared anonymous memory keeps its size.
    probe("shared grown past object", s2 + 2 * PG, 1);
    char* s3 = mremap(s2, 0, PG, MREMAP_MAYMOVE);
    printf("shared duplicate: %s %c\n", s3 == MAP_FAILED ? "failed" : "ok", s3 == MAP_FAILED ? '-' : s3[5]);
}

static void cores(void) {
    printf("-- mincore\n");
    char* a = anon(4, PROT_READ | PROT_WRITE, 0);
    a[0] = 1;
    a[2 * PG] = 1;
    show_core("touched 0 and 2", a, 4);
    madvise(a, 4 * PG, MADV_DONTNEED);
    show_core("after dontneed", a, 4);
    unsigned char v[4];
    SHOW("unaligned", mincore(a + 1, PG, v));
    SHOW("bad vector", mincore(a, PG, (unsigned char*)8));
    munmap(a + 2 * PG, PG);
    SHOW("hole", mincore(a, 4 * PG, v));
    SHOW("beyond user space", mincore((void*)0x7ffffffff000, 2 * PG, v));
    SHOW("partial page length", mincore(a, 10, v));
    // File pages count when the file has them, mapped here or not.
    int fd = memfd_create("core", 0);
    ftruncate(fd, 4 * PG);
    pwrite(fd, "x", 1, PG);
    char* m = mmap(NULL, 4 * PG, PROT_READ, MAP_SHARED, fd, 0);
    show_core("file with page 1", m, 4);
    (void)*(volatile char*)(m + 3 * PG);
    show_core("after reading page 3", m, 4);
    close(fd);
    char* p = anon(3, PROT_READ | PROT_WRITE, MAP_POPULATE);
    show_core("populate", p, 3);
    char* l = anon(3, PROT_READ | PROT_WRITE, MAP_LOCKED);
    show_core("locked", l, 3);
    char* n = anon(3, PROT_READ, MAP_NORESERVE);
    show_core("noreserve", n, 3);
}

static void syncs(void) {
    printf("-- msync\n");
    char* a = anon(4, PROT_READ | PROT_WRITE, 0);
    SHOW("sync", msync(a, 4 * PG, MS_SYNC));
    SHOW("async", msync(a, 4 * PG, MS_ASYNC));
    SHOW("invalidate", msync(a, 4 * PG, MS_INVALIDATE));
    SHOW("both", msync(a, PG, MS_SYNC | MS_ASYNC));
    SHOW("unknown", msync(a, PG, 8));
    SHOW("unaligned", msync(a + 1, PG, MS_SYNC));
    SHOW("zero length", msync(a, 0, MS_SYNC));
    munmap(a + PG, PG);
    SHOW("hole sync", msync(a, 4 * PG, MS_SYNC));
    SHOW("hole async", msync(a, 4 * PG, MS_ASYNC));
    SHOW("unmapped", msync(a + PG, PG, MS_SYNC));
    mlock(a, PG);
    SHOW("invalidate locked", msync(a, PG, MS_INVALIDATE));
    SHOW("sync locked", msync(a, PG, MS_SYNC));
}

static void locks(void) {
    printf("-- mlock\n");
    struct rlimit rl;
    getrlimit(RLIMIT_MEMLOCK, &rl);
    printf("memlock limit %lu %lu\n", rl.rlim_cur, rl.rlim_max);
    char* a = anon(4, PROT_READ | PROT_WRITE, 0);
    SHOW("mlock", mlock(a + 10, PG));  // unaligned: widens to two pages
    show_core("after mlock", a, 4);
    SHOW("munlock", munlock(a, 4 * PG));
    char* b = anon(4, PROT_READ | PROT_WRITE, 0);
    SHOW("mlock2 onfault", syscall(SYS_mlock2, b, 4 * PG, MLOCK_ONFAULT));
    show_core("onfault", b, 4);
    SHOW("mlock2 bad flag", syscall(SYS_mlock2, b, PG, 2));
    munmap(b + PG, PG);
    SHOW("mlock hole", mlock(b, 4 * PG));
    SHOW("munlock hole", munlock(b, 4 * PG));
    SHOW("mlockall 0", mlockall(0));
    SHOW("mlockall onfault only", mlockall(MCL_ONFAULT));
    SHOW("mlockall unknown", mlockall(8));
    SHOW("mlockall future", mlockall(MCL_FUTURE));
    char* c = anon(3, PROT_READ | PROT_WRITE, 0);
    show_core("mapped after future", c, 3);
    SHOW("munlockall", munlockall());
    char* d = anon(3, PROT_READ | PROT_WRITE, 0);
    show_core("mapped after munlockall", d, 3);
    pid_t pid = fork();
    if (pid == 0) {
        rl.rlim_cur = rl.rlim_max = 64 * 1024;
        setrlimit(RLIMIT_MEMLOCK, &rl);
        setuid(1000);
        char* e = anon(32, PROT_READ | PROT_WRITE, 0);
        SHOW("user mlock 32k", mlock(e, 32 * 1024));
        SHOW("user mlock same again", mlock(e, 32 * 1024));
        SHOW("user mlock 64k more", mlock(e + 32 * 1024, 64 * 1024));
        SHOW("user mlockall current", mlockall(MCL_CURRENT));
        SHOW("user map locked over", (long)mmap(NULL, 128 * 1024, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0) < 0 ? -1 : 0);
        rl.rlim_cur = 0;
        setrlimit(RLIMIT_MEMLOCK, &rl);
        SHOW("user mlock limit 0", mlock(e + 64 * 1024, PG));
        SHOW("user mlockall limit 0", mlockall(MCL_FUTURE));
        SHOWP("user map locked limit 0", mmap(NULL, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0));
        _exit(0);
    }
    waitpid(pid, NULL, 0);
}

static void stacks(void) {
    printf("-- growsdown\n");
    // A growsdown mapping with nothing near below it grows on touch.
    char* base = anon(1024, PROT_NONE, 0);  // 4 MiB of room
    munmap(base, 1024 * PG);
    char* g = mmap(base + 1000 * PG, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN | MAP_FIXED,
                   -1, 0);
    probe("touch below", g - PG, 1);
    probe("touch 16 pages below", g - 16 * PG, 1);
    show_core("grown range", g - 16 * PG, 2);
    // A mapping within the guard gap stops growth.
    char* h = mmap(base + 100 * PG, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN | MAP_FIXED,
                   -1, 0);
    mmap(base + 90 * PG, 4 * PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    probe("touch within guard gap", h - 2 * PG, 1);
    printf("-- 32bit\n");
    char* lo = anon(2, PROT_READ | PROT_WRITE, MAP_32BIT);
    printf("below 2GiB=%d\n", lo != MAP_FAILED && (uintptr_t)lo + 2 * PG <= 0x80000000ul);
}

static void faults(void) {
    printf("-- faults\n");
    char* a = anon(2, PROT_READ, 0);
    probe("write read-only", a, 1);
    probe("read read-only", a + PG, 0);
    mprotect(a, PG, PROT_NONE);
    probe("read prot none", a, 0);
    munmap(a + PG, PG);
    probe("read unmapped", a + PG, 0);
    // PROT_NONE keeps the contents for when access returns.
    char* b = anon(1, PROT_READ | PROT_WRITE, 0);
    b[7] = 'k';
    mprotect(b, PG, PROT_NONE);
    mprotect(b, PG, PROT_READ);
    printf("kept across prot none: %c\n", b[7]);
}

static void fork_advice(void) {
    printf("-- fork advice\n");
    char* dontfork = anon(1, PROT_READ | PROT_WRITE, 0);
    char* wipe = anon(1, PROT_READ | PROT_WRITE, 0);
    char* keep = anon(1, PROT_READ | PROT_WRITE, 0);
    dontfork[0] = 'd', wipe[0] = 'w', keep[0] = 'k';
    SHOW("dontfork", madvise(dontfork, PG, MADV_DONTFORK));
    SHOW("wipeonfork", madvise(wipe, PG, MADV_WIPEONFORK));
    SHOW("wipeonfork then keep", madvise(keep, PG, MADV_WIPEONFORK));
    SHOW("keeponfork", madvise(keep, PG, MADV_KEEPONFORK));
    char* shared = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    SHOW("wipeonfork shared", madvise(shared, PG, MADV_WIPEONFORK));
    SHOW("dontfork unmapped", madvise((void*)0x10000, PG, MADV_DONTFORK));
    pid_t pid = fork();
    if (pid == 0) {
        printf("child: wipe=%d keep=%c\n", wipe[0], keep[0]);
        probe("child dontfork", dontfork, 0);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    printf("parent: dontfork=%c wipe=%c\n", dontfork[0], wipe[0]);
    SHOW("dofork", madvise(dontfork, PG, MADV_DOFORK));
    pid = fork();
    if (pid == 0) {
        printf("child after dofork: %c\n", dontfork[0]);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    setvbuf(stdout, NULL, _IONBF, 0);
    remaps();
    cores();
    syncs();
    locks();
    stacks();
    faults();
    fork_advice();
    printf("done\n");
    return 0;
}
