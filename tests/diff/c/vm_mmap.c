#include "difftest.h"
/* Virtual memory: mmap/munmap/mprotect errors, faults and their si_code, file mappings. */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>

#define PG 4096UL
static long raw_mmap(void *a, size_t l, int prot, int flags, int fd, long off) {
    return syscall(SYS_mmap, a, l, prot, flags, fd, off);
}

static sigjmp_buf jb;
static volatile int fault_sig, fault_code;
static volatile void *fault_addr;
static void on_fault(int s, siginfo_t *si, void *uc) {
    (void)uc;
    fault_sig = s;
    fault_code = si->si_code;
    fault_addr = si->si_addr;
    siglongjmp(jb, 1);
}

/* Touches p (read or write) and reports "none" or "SIG code addr_match". */
static const char *probe(volatile char *p, int write) {
    static char b[64];
    fault_sig = 0;
    if (sigsetjmp(jb, 1) == 0) {
        if (write) *p = 1; else (void)*p;
        return "none";
    }
    snprintf(b, sizeof b, "sig=%d code=%d addr_match=%d", fault_sig, fault_code, fault_addr == (void *)p);
    return b;
}

int main(void) {
    setup();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);

    int A = MAP_PRIVATE | MAP_ANONYMOUS;
    CKOK("mmap_len0", raw_mmap(NULL, 0, PROT_READ, A, -1, 0));
    CKOK("mmap_no_type", raw_mmap(NULL, PG, PROT_READ, MAP_ANONYMOUS, -1, 0));
    CKOK("mmap_both_types_is_validate", raw_mmap(NULL, PG, PROT_READ, MAP_SHARED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    CKOK("mmap_fixed_unaligned", raw_mmap((void *)0x10000001, PG, PROT_READ, A | MAP_FIXED, -1, 0));
    CKOK("mmap_bad_fd", raw_mmap(NULL, PG, PROT_READ, MAP_PRIVATE, 999, 0));
    CKOK("mmap_unaligned_offset", raw_mmap(NULL, PG, PROT_READ, MAP_PRIVATE, 0, 100));
    CKOK("mmap_huge_len", raw_mmap(NULL, 1UL << 50, PROT_READ, A, -1, 0));
    CKOK("mmap_len_overflow", raw_mmap(NULL, (size_t)-PG, PROT_READ, A, -1, 0));
    CKOK("mmap_unknown_prot_bit", raw_mmap(NULL, PG, 0x10, A, -1, 0));
    CKOK("mmap_fixed_above_tasksize", raw_mmap((void *)(1UL << 47), PG, PROT_READ, A | MAP_FIXED, -1, 0));
    CKOK("mmap_fixed_zero_page", raw_mmap((void *)0, PG, PROT_READ, A | MAP_FIXED, -1, 0));
    munmap((void *)0, PG);
    munmap((void *)(1UL << 47), PG);
    CKOK("mmap_shared_validate_bad_flag", raw_mmap(NULL, PG, PROT_READ, MAP_SHARED_VALIDATE | MAP_ANONYMOUS | 0x400000, -1, 0));

    char *p = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, A, -1, 0);
    CHECK("mmap_anon_page_aligned", "%d", ((uintptr_t)p & (PG - 1)) == 0);
    int zero = 1;
    for (size_t i = 0; i < 4 * PG; i++) zero &= p[i] == 0;
    CHECK("mmap_anon_zeroed", "%d", zero);
    CKOK("mmap_noreplace_existing", raw_mmap(p, PG, PROT_READ, A | MAP_FIXED_NOREPLACE, -1, 0));
    CKOK("mmap_noreplace_partial_overlap", raw_mmap(p - PG, 2 * PG, PROT_READ, A | MAP_FIXED_NOREPLACE, -1, 0));
    {
        char *f = mmap(NULL, 3 * PG, PROT_NONE, A, -1, 0);
        munmap(f, 3 * PG);
        CHECK("mmap_noreplace_free_returns_addr", "%d", raw_mmap(f + PG, PG, PROT_READ, A | MAP_FIXED_NOREPLACE, -1, 0) == (long)(f + PG));
        munmap(f + PG, PG);
    }
    CHECK("mmap_fixed_replaces", "%d", raw_mmap(p + PG, PG, PROT_READ | PROT_WRITE, A | MAP_FIXED, -1, 0) == (long)(p + PG));
    /* guard page: PROT_NONE in the middle */
    CK("mprotect_none", mprotect(p + PG, PG, PROT_NONE));
    CHECK("fault_read_prot_none", "%s", probe(p + PG + 10, 0));
    CHECK("fault_write_prot_none", "%s", probe(p + PG + 10, 1));
    CK("mprotect_ro", mprotect(p + 2 * PG, PG, PROT_READ));
    CHECK("fault_read_ro", "%s", probe(p + 2 * PG, 0));
    CHECK("fault_write_ro", "%s", probe(p + 2 * PG + 5, 1));
    CK("munmap_last", munmap(p + 3 * PG, PG));
    CHECK("fault_unmapped", "%s", probe(p + 3 * PG + 1, 0));
    CHECK("fault_null", "%s", probe((char *)16, 0));
    CHECK("fault_kernel_address", "%s", probe((char *)0xffffffff81000000UL, 0));
    CHECK("fault_noncanonical", "%s", probe((char *)0x0000900000000000UL, 0) );
    CK("mprotect_unaligned", mprotect(p + 1, PG, PROT_READ));
    CK("mprotect_unmapped", mprotect(p + 3 * PG, PG, PROT_READ));
    CK("mprotect_bad_prot", mprotect(p, PG, 0x100));
    CK("mprotect_len0", mprotect(p, 0, PROT_READ));
    CK("mprotect_growsdown_on_anon", mprotect(p, PG, PROT_READ | PROT_GROWSDOWN));
    CK("munmap_unaligned", munmap(p + 1, PG));
    CK("munmap_len0", munmap(p, 0));
    CK("munmap_already_unmapped", munmap(p + 3 * PG, PG));
    CK("munmap_above_tasksize", munmap((void *)(1UL << 47), PG));
    /* hint is honoured when free */
    {
        char *q = mmap(NULL, 2 * PG, PROT_READ, A, -1, 0);
        munmap(q, 2 * PG);
        char *r = mmap(q, PG, PROT_READ, A, -1, 0);
        CHECK("mmap_hint_honoured", "%d", r == q);
        munmap(r, PG);
    }
    /* file mappings */
    {
        int fd = open("f", O_RDWR | O_CREAT | O_TRUNC, 0644);
        ftruncate(fd, PG + 100);
        char *s = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        strcpy(s, "shared-write");
        char buf[16] = "";
        pread(fd, buf, 12, 0);
        CHECK("shared_write_visible_to_read", "%s", buf);
        CHECK("tail_of_last_page_zero", "%d", s[PG + 100] == 0 && s[PG + 4095] == 0);
        CHECK("no_fault_in_eof_page", "%s", probe(s + PG + 100, 1));
        CHECK("fault_page_beyond_eof", "%s", probe(s + PG * 2 + 8, 0));
        char *pr = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
        pr[0] = 'X';
        pread(fd, buf, 1, 0);
        CHECK("private_write_not_in_file", "%c", buf[0]);
        pwrite(fd, "Q", 1, 1);
        CHECK("file_write_visible_in_private_unmodified_page", "%c%c", pr[0], pr[1]);
        CK("msync_shared", msync(s, PG, MS_SYNC));
        CK("msync_bad_flags", msync(s, PG, MS_SYNC | MS_ASYNC));
        CK("msync_unaligned", msync(s + 1, PG, MS_SYNC));
        munmap(s, 3 * PG);
        munmap(pr, PG);
        CK("msync_unmapped", msync(s, PG, MS_SYNC));
        int ro = open("f", O_RDONLY);
        CKOK("mmap_shared_write_on_rdonly_fd", raw_mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0));
        CKOK("mmap_private_write_on_rdonly_fd", raw_mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, ro, 0));
        char *rs = mmap(NULL, PG, PROT_READ, MAP_SHARED, ro, 0);
        CK("mprotect_write_on_ro_shared", mprotect(rs, PG, PROT_READ | PROT_WRITE));
        int wo = open("f", O_WRONLY);
        CKOK("mmap_on_wronly_fd", raw_mmap(NULL, PG, PROT_READ, MAP_SHARED, wo, 0));
        int dfd = open(".", O_RDONLY);
        CKOK("mmap_directory", raw_mmap(NULL, PG, PROT_READ, MAP_PRIVATE, dfd, 0));
        int pfd[2];
        pipe(pfd);
        CKOK("mmap_pipe", raw_mmap(NULL, PG, PROT_READ, MAP_PRIVATE, pfd[0], 0));
        close(fd); close(ro); close(wo); close(dfd); close(pfd[0]); close(pfd[1]);
    }
    /* shared anonymous memory survives fork */
    {
        int *sh = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        int *pv = mmap(NULL, PG, PROT_READ | PROT_WRITE, A, -1, 0);
        *sh = 1; *pv = 1;
        fflush(stdout);
        pid_t c = fork();
        if (c == 0) { *sh = 2; *pv = 2; _exit(0); }
        waitpid(c, NULL, 0);
        CHECK("fork_shared_anon_visible", "%d", *sh);
        CHECK("fork_private_anon_cow", "%d", *pv);
        /* MADV_DONTFORK / WIPEONFORK */
        CK("madv_wipeonfork", madvise(pv, PG, MADV_WIPEONFORK));
        c = fork();
        if (c == 0) _exit(*pv);
        int st;
        waitpid(c, &st, 0);
        CHECK("wipeonfork_child_sees_zero", "%s", wstr(st));
        CK("madv_wipeonfork_on_shared", madvise(sh, PG, MADV_WIPEONFORK));
    }
    /* a fault that is not handled kills with the right signal */
    {
        fflush(stdout);
        pid_t c = fork();
        if (c == 0) { signal(SIGSEGV, SIG_DFL); *(volatile int *)0 = 1; _exit(0); }
        int st;
        waitpid(c, &st, 0);
        CHECK("null_write_kills", "%s", wstr(st));
    }
    /* PROT_EXEC works: run a ret instruction */
    {
        unsigned char *code = mmap(NULL, PG, PROT_READ | PROT_WRITE, A, -1, 0);
        code[0] = 0xb8; code[1] = 42; code[2] = 0; code[3] = 0; code[4] = 0; code[5] = 0xc3; /* mov eax,42; ret */
        fault_sig = 0;
        if (sigsetjmp(jb, 1) == 0) {
            int (*fn)(void) = (int (*)(void))code;
            int v = fn();
            CHECK("nx_enforced", "no (ran, %d)", v);
        } else {
            CHECK("nx_enforced", "sig=%d code=%d addr_match=%d", fault_sig, fault_code, fault_addr == code);
        }
        mprotect(code, PG, PROT_READ | PROT_EXEC);
        int (*fn)(void) = (int (*)(void))code;
        CHECK("exec_after_mprotect", "%d", fn());
    }
    return 0;
}
