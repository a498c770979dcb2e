#include "difftest.h"
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
        /* Regression: a range that is one huge hole (4 GiB .. 112 TiB) is
         * ENOMEM at once (Keel walked it a page at a time). */
        CK("madv_dontneed_huge_hole", madvise((void *)0x100000000ul, 0x700000000000ul - 0x100000000ul, MADV_DONTNEED));
        CK("madv_normal_huge_hole", madvise((void *)0x100000000ul, 0x700000000000ul - 0x100000000ul, MADV_NORMAL));
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
