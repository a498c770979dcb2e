#include "difftest.h"
/* Files: dup/dup2/dup3, fcntl (GETFL/SETFL/GETFD/DUPFD_CLOEXEC, locks), close_range, fd table. */
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/file.h>
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif

static const char *acc(int fl) {
    switch (fl & O_ACCMODE) { case O_RDONLY: return "RDONLY"; case O_WRONLY: return "WRONLY"; case O_RDWR: return "RDWR"; }
    return "?";
}

int main(void) {
    setup();
    int fd = open("f", O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK("first_fd_is_3", "%d", fd);
    CK("dup_lowest", dup(fd));
    CK("dup_bad", dup(999));
    CK("dup2_same", dup2(fd, fd));
    CK("dup2_same_bad", dup2(999, 999));
    CK("dup2_to_20", dup2(fd, 20));
    CK("dup2_bad_old", dup2(999, 21));
    CK("dup2_huge_new", dup2(fd, 1 << 30));
    CK("dup3_same", dup3(fd, fd, 0));
    CK("dup3_bad_flags", dup3(fd, 22, O_NONBLOCK));
    CK("dup3_cloexec", dup3(fd, 22, O_CLOEXEC));
    CK("fd22_cloexec", fcntl(22, F_GETFD));
    CK("fd20_no_cloexec", fcntl(20, F_GETFD));
    CK("dupfd_min_10", fcntl(fd, F_DUPFD, 10));
    CK("dupfd_cloexec_min_10", fcntl(fd, F_DUPFD_CLOEXEC, 10));
    CK("dupfd_cloexec_flag", fcntl(11, F_GETFD));
    CK("dupfd_negative", fcntl(fd, F_DUPFD, -1));
    CK("dupfd_beyond_limit", fcntl(fd, F_DUPFD, 1 << 30));
    /* shared file offset between duplicates */
    write(fd, "abcdef", 6);
    CK("dup_shares_offset", lseek(4, 0, SEEK_CUR));
    lseek(20, 2, SEEK_SET);
    CK("dup2_shares_offset", lseek(fd, 0, SEEK_CUR));
    /* F_GETFL / F_SETFL */
    CHECK("getfl_rdwr", "%s", acc(fcntl(fd, F_GETFL)));
    CHECK("getfl_has_largefile", "%d", (fcntl(fd, F_GETFL) & 0100000) != 0);
    CK("setfl_append_nonblock", fcntl(fd, F_SETFL, O_APPEND | O_NONBLOCK));
    CHECK("getfl_after_set", "%#o", fcntl(fd, F_GETFL) & (O_APPEND | O_NONBLOCK | O_ACCMODE));
    CHECK("getfl_shared_by_dup", "%#o", fcntl(20, F_GETFL) & (O_APPEND | O_NONBLOCK));
    CK("setfl_ignores_accmode", fcntl(fd, F_SETFL, O_WRONLY));
    CHECK("getfl_accmode_unchanged", "%s", acc(fcntl(fd, F_GETFL)));
    CK("getfd_bad", fcntl(999, F_GETFD));
    CK("fcntl_bad_cmd", fcntl(fd, 9999));
    CK("setfd_cloexec", fcntl(fd, F_SETFD, FD_CLOEXEC));
    CK("getfd_after", fcntl(fd, F_GETFD));
    CK("getfd_dup_not_shared", fcntl(4, F_GETFD));
    {
        int ro = open("f", O_RDONLY);
        CHECK("getfl_rdonly", "%s", acc(fcntl(ro, F_GETFL)));
        int p = open("f", O_PATH);
        CHECK("getfl_opath", "%#o", fcntl(p, F_GETFL) & ~0100000);
        char c;
        CK("read_opath", read(p, &c, 1));
        CK("fstat_opath_ok", ({ struct stat st; fstat(p, &st); }));
        close(ro); close(p);
    }
    /* close */
    CK("close_ok", close(20));
    CK("close_again", close(20));
    CK("close_negative", close(-1));
    /* lowest free fd is reused */
    CK("reuse_lowest", dup(fd));
    /* close_range */
    CK("close_range_cloexec", syscall(SYS_close_range, 10, 11, CLOSE_RANGE_CLOEXEC));
    CK("fd10_cloexec_now", fcntl(10, F_GETFD));
    CK("close_range", syscall(SYS_close_range, 10, ~0U, 0));
    CK("fd10_closed", fcntl(10, F_GETFD));
    CK("fd22_closed", fcntl(22, F_GETFD));
    CK("close_range_bad_order", syscall(SYS_close_range, 11, 10, 0));
    CK("close_range_bad_flags", syscall(SYS_close_range, 10, 11, 0x80));
    /* advisory locks */
    {
        struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
        CK("setlk_wrlck", fcntl(fd, F_SETLK, &fl));
        fflush(stdout);
        pid_t c = fork();
        if (c == 0) {
            int f2 = open("f", O_RDWR);
            struct flock t = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 5, .l_len = 1};
            errno = 0;
            int r = fcntl(f2, F_SETLK, &t);
            printf("CHECK child_setlk_conflict: %d %s\n", r, errname(errno));
            t.l_type = F_WRLCK;
            fcntl(f2, F_GETLK, &t);
            printf("CHECK child_getlk: type=%d start=%ld len=%ld pid_is_parent=%d\n", t.l_type, (long)t.l_start,
                   (long)t.l_len, t.l_pid == getppid());
            t.l_start = 20;
            printf("CHECK child_setlk_other_range: %d\n", fcntl(f2, F_SETLK, &t));
            struct flock o = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
            o.l_pid = 0;
            errno = 0;
            r = fcntl(f2, F_OFD_SETLK, &o);
            printf("CHECK child_ofd_conflict: %d %s\n", r, errname(errno));
            fflush(stdout);
            _exit(0);
        }
        waitpid(c, NULL, 0);
        fl.l_type = F_UNLCK;
        CK("setlk_unlock", fcntl(fd, F_SETLK, &fl));
        fl.l_type = 99;
        CK("setlk_bad_type", fcntl(fd, F_SETLK, &fl));
        CK("flock_ex", flock(fd, LOCK_EX));
        int f3 = open("f", O_RDONLY);
        CK("flock_other_ofd_nb", flock(f3, LOCK_EX | LOCK_NB));
        CK("flock_bad_op", flock(fd, 77));
        CK("flock_un", flock(fd, LOCK_UN));
        CK("flock_other_now_ok", flock(f3, LOCK_SH | LOCK_NB));
        close(f3);
    }
    /* fd limit from /proc/self/fd */
    CK("fcntl_getown", fcntl(fd, F_GETOWN));
    CK("fcntl_getsig", fcntl(fd, F_GETSIG));
    CK("fcntl_getlease", fcntl(fd, F_GETLEASE));
    CK("fcntl_get_seals_not_memfd", fcntl(fd, F_GET_SEALS));
    CK("fcntl_getpipe_sz_on_file", fcntl(fd, F_GETPIPE_SZ));
    return 0;
}
