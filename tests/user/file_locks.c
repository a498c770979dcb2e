// flock(2) and fcntl record locks (POSIX and OFD) between a parent and a
// child: conflicts, conversions, merging and splitting, F_GETLK output,
// release on close, blocking waits, EINTR and EDEADLK.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#define SHOW(label, expr)                                              \
    do {                                                               \
        errno = 0;                                                     \
        long r_ = (long)(expr);                                        \
        printf("%s -> %ld errno=%d\n", label, r_, r_ < 0 ? errno : 0); \
    } while (0)

static pid_t parent_pid;

static int lk(int fd, int cmd, short type, off_t start, off_t len) {
    struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
    return fcntl(fd, cmd, &fl);
}

// F_GETLK and what it reported.
static void show_getlk(const char* label, int fd, int cmd, short type, off_t start, off_t len) {
    struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
    errno = 0;
    int r = fcntl(fd, cmd, &fl);
    if (r < 0) {
        printf("%s -> -1 errno=%d\n", label, errno);
        return;
    }
    const char* t = fl.l_type == F_RDLCK ? "RD" : fl.l_type == F_WRLCK ? "WR" : fl.l_type == F_UNLCK ? "UN" : "?";
    const char* who = fl.l_pid == parent_pid ? "parent" : fl.l_pid == -1 ? "-1" : fl.l_pid == 0 ? "0" : "other";
    printf("%s -> %s whence=%d start=%ld len=%ld pid=%s\n", label, t, fl.l_whence, (long)fl.l_start, (long)fl.l_len,
           fl.l_type == F_UNLCK ? "-" : who);
}

static void on_alarm(int sig) { (void)sig; }

static void wait_child(pid_t c) {
    int st;
    waitpid(c, &st, 0);
}

static void flock_cases(void) {
    int a = open("/lk_flock", O_CREAT | O_RDWR, 0644);
    int b = open("/lk_flock", O_RDWR);
    SHOW("flock a EX", flock(a, LOCK_EX));
    SHOW("flock b EX|NB", flock(b, LOCK_EX | LOCK_NB));
    SHOW("flock b SH|NB", flock(b, LOCK_SH | LOCK_NB));
    SHOW("flock a EX again", flock(a, LOCK_EX));
    int d = dup(a);
    SHOW("unlock through a dup", flock(d, LOCK_UN));
    close(d);
    SHOW("flock b SH|NB", flock(b, LOCK_SH | LOCK_NB));
    SHOW("flock a SH|NB", flock(a, LOCK_SH | LOCK_NB));
    SHOW("convert a to EX|NB", flock(a, LOCK_EX | LOCK_NB));
    int c = open("/lk_flock", O_RDONLY);
    SHOW("flock c EX|NB (b holds SH)", flock(c, LOCK_EX | LOCK_NB));
    SHOW("flock b UN", flock(b, LOCK_UN));
    SHOW("flock c EX|NB (a lost its SH)", flock(c, LOCK_EX | LOCK_NB));
    SHOW("flock 0", flock(a, 0));
    SHOW("flock SH|EX", flock(a, LOCK_SH | LOCK_EX));
    SHOW("flock LOCK_MAND", flock(a, 32 | LOCK_SH));
    SHOW("flock bad fd", flock(99, LOCK_SH));
    SHOW("unlock without a lock", flock(b, LOCK_UN));
    close(c);
    SHOW("flock b EX|NB after close", flock(b, LOCK_EX | LOCK_NB));

    // The child shares b's description: its unlock is the parent's.
    pid_t ch = fork();
    if (ch == 0) {
        int own = open("/lk_flock", O_RDONLY);
        SHOW("child own description EX|NB", flock(own, LOCK_EX | LOCK_NB));
        SHOW("child inherited description EX|NB", flock(b, LOCK_EX | LOCK_NB));
        SHOW("child unlocks inherited", flock(b, LOCK_UN));
        SHOW("child own description EX|NB", flock(own, LOCK_EX | LOCK_NB));
        _exit(0);
    }
    wait_child(ch);
    SHOW("parent b EX|NB (child's lock died with it)", flock(b, LOCK_EX | LOCK_NB));

    // Blocking: the child waits until the parent unlocks.
    ch = fork();
    if (ch == 0) {
        int own = open("/lk_flock", O_RDONLY);
        SHOW("child blocking EX", flock(own, LOCK_EX));
        _exit(0);
    }
    usleep(50000);
    printf("parent unlocks\n");
    flock(b, LOCK_UN);
    wait_child(ch);

    // A signal ends the wait with EINTR.
    flock(b, LOCK_EX);
    ch = fork();
    if (ch == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_alarm;
        sigaction(SIGALRM, &sa, NULL);
        alarm(1);
        int own = open("/lk_flock", O_RDONLY);
        SHOW("child blocking EX interrupted", flock(own, LOCK_EX));
        _exit(0);
    }
    wait_child(ch);
    close(a);
    close(b);
}

static void posix_cases(void) {
    int fd = open("/lk_posix", O_CREAT | O_RDWR | O_TRUNC, 0644);
    write(fd, "0123456789abcdefghij", 20);
    SHOW("parent WR [0,10)", lk(fd, F_SETLK, F_WRLCK, 0, 10));
    show_getlk("parent GETLK own range", fd, F_GETLK, F_WRLCK, 0, 10);
    pid_t ch = fork();
    if (ch == 0) {
        show_getlk("child GETLK [5,6)", fd, F_GETLK, F_WRLCK, 5, 1);
        SHOW("child SETLK WR [5,6)", lk(fd, F_SETLK, F_WRLCK, 5, 1));
        SHOW("child SETLK RD [20,25)", lk(fd, F_SETLK, F_RDLCK, 20, 5));
        show_getlk("child GETLK RD [10,+inf)", fd, F_GETLK, F_RDLCK, 10, 0);
        _exit(0);
    }
    wait_child(ch);
    SHOW("parent WR [10,20) (merges)", lk(fd, F_SETLK, F_WRLCK, 10, 10));
    SHOW("parent UN [5,8) (splits)", lk(fd, F_SETLK, F_UNLCK, 5, 3));
    SHOW("parent RD [100,+inf)", lk(fd, F_SETLK, F_RDLCK, 100, 0));
    struct flock back = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 60, .l_len = -10};
    SHOW("parent RD negative length [50,60)", fcntl(fd, F_SETLK, &back));
    lseek(fd, 40, SEEK_SET);
    struct flock cur = {.l_type = F_WRLCK, .l_whence = SEEK_CUR, .l_start = -2, .l_len = 2};
    SHOW("parent WR SEEK_CUR [38,40)", fcntl(fd, F_SETLK, &cur));
    ch = fork();
    if (ch == 0) {
        show_getlk("child GETLK [0,+inf)", fd, F_GETLK, F_WRLCK, 0, 0);
        show_getlk("child GETLK [5,+inf)", fd, F_GETLK, F_WRLCK, 5, 0);
        show_getlk("child GETLK [8,+inf)", fd, F_GETLK, F_RDLCK, 8, 0);
        show_getlk("child GETLK RD [21,+inf)", fd, F_GETLK, F_RDLCK, 21, 0);
        show_getlk("child GETLK WR [21,+inf)", fd, F_GETLK, F_WRLCK, 21, 0);
        show_getlk("child GETLK WR [45,55)", fd, F_GETLK, F_WRLCK, 45, 10);
        show_getlk("child GETLK WR [200,201)", fd, F_GETLK, F_WRLCK, 200, 1);
        struct flock end = {.l_type = F_WRLCK, .l_whence = SEEK_END, .l_start = 0, .l_len = 1};
        fcntl(fd, F_GETLK, &end);
        printf("child GETLK SEEK_END -> type %s start %ld\n", end.l_type == F_UNLCK ? "UN" : "locked",
               (long)end.l_start);
        _exit(0);
    }
    wait_child(ch);

    // Closing any descriptor of the file drops the process's locks.
    int other = open("/lk_posix", O_RDONLY);
    close(other);
    ch = fork();
    if (ch == 0) {
        show_getlk("child GETLK after parent closed another fd", fd, F_GETLK, F_WRLCK, 0, 0);
        _exit(0);
    }
    wait_child(ch);

    // F_SETLKW waits for the holder.
    lk(fd, F_SETLK, F_WRLCK, 0, 1);
    ch = fork();
    if (ch == 0) {
        SHOW("child SETLKW [0,1)", lk(fd, F_SETLKW, F_WRLCK, 0, 1));
        _exit(0);
    }
    usleep(50000);
    printf("parent unlocks [0,1)\n");
    lk(fd, F_SETLK, F_UNLCK, 0, 1);
    wait_child(ch);

    // Deadlock: the child holds [1,2) and waits for [0,1), which the parent
    // holds; the parent asking for [1,2) would close the cycle.
    lk(fd, F_SETLK, F_WRLCK, 0, 1);
    int sync[2];
    pipe(sync);
    ch = fork();
    if (ch == 0) {
        lk(fd, F_SETLK, F_WRLCK, 1, 1);
        write(sync[1], "x", 1);
        SHOW("child SETLKW [0,1) (after the parent's EDEADLK)", lk(fd, F_SETLKW, F_WRLCK, 0, 1));
        _exit(0);
    }
    char c;
    read(sync[0], &c, 1);
    usleep(100000);
    SHOW("parent SETLKW [1,2)", lk(fd, F_SETLKW, F_WRLCK, 1, 1));
    SHOW("parent SETLK [1,2)", lk(fd, F_SETLK, F_WRLCK, 1, 1));
    lk(fd, F_SETLK, F_UNLCK, 0, 1);
    wait_child(ch);
    close(sync[0]);
    close(sync[1]);

    // SETLKW interrupted by a signal.
    lk(fd, F_SETLK, F_WRLCK, 0, 1);
    ch = fork();
    if (ch == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_alarm;
        sigaction(SIGALRM, &sa, NULL);
        alarm(1);
        SHOW("child SETLKW interrupted", lk(fd, F_SETLKW, F_WRLCK, 0, 1));
        _exit(0);
    }
    wait_child(ch);

    struct flock bad = {.l_type = F_RDLCK, .l_whence = 7, .l_start = 0, .l_len = 1};
    SHOW("bad whence", fcntl(fd, F_SETLK, &bad));
    SHOW("GETLK of F_UNLCK", lk(fd, F_GETLK, F_UNLCK, 0, 1));
    SHOW("SETLK type 7", lk(fd, F_SETLK, 7, 0, 1));
    SHOW("negative start", lk(fd, F_SETLK, F_RDLCK, -1, 1));
    SHOW("negative length before 0", lk(fd, F_SETLK, F_RDLCK, 2, -5));
    SHOW("overflowing length", lk(fd, F_SETLK, F_RDLCK, 0x7ffffffffffffff0, 0x100));
    SHOW("bad pointer", fcntl(fd, F_SETLK, (void*)1));
    int ro = open("/lk_posix", O_RDONLY);
    SHOW("WR on a read-only fd", lk(ro, F_SETLK, F_WRLCK, 0, 1));
    int wo = open("/lk_posix", O_WRONLY);
    SHOW("RD on a write-only fd", lk(wo, F_SETLK, F_RDLCK, 0, 1));
    SHOW("UN on a read-only fd", lk(ro, F_SETLK, F_UNLCK, 0, 1));
    close(ro);
    close(wo);
    close(fd);
}

static void ofd_cases(void) {
    int a = open("/lk_ofd", O_CREAT | O_RDWR | O_TRUNC, 0644);
    int b = open("/lk_ofd", O_RDWR);
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10, .l_pid = 1};
    SHOW("OFD_SETLK with l_pid", fcntl(a, F_OFD_SETLK, &fl));
    SHOW("OFD_GETLK with l_pid", fcntl(a, F_OFD_GETLK, &fl));
    SHOW("OFD a WR [0,10)", lk(a, F_OFD_SETLK, F_WRLCK, 0, 10));
    show_getlk("OFD_GETLK through b", b, F_OFD_GETLK, F_RDLCK, 0, 1);
    SHOW("OFD b WR [5,6)", lk(b, F_OFD_SETLK, F_WRLCK, 5, 1));
    show_getlk("POSIX GETLK in the same process", b, F_GETLK, F_WRLCK, 0, 0);
    SHOW("POSIX SETLK in the same process", lk(b, F_SETLK, F_WRLCK, 0, 1));
    close(b);
    b = open("/lk_ofd", O_RDWR);
    show_getlk("closing another fd keeps OFD locks", b, F_OFD_GETLK, F_WRLCK, 0, 0);
    pid_t ch = fork();
    if (ch == 0) {
        show_getlk("child OFD_GETLK on the shared description", a, F_OFD_GETLK, F_WRLCK, 0, 0);
        show_getlk("child OFD_GETLK on its copy of b", b, F_OFD_GETLK, F_WRLCK, 0, 0);
        _exit(0);
    }
    wait_child(ch);
    ch = fork();
    if (ch == 0) {
        close(a);  // the description (and its lock) lives while any copy does
        SHOW("child OFD_SETLKW waits for the parent's close", lk(b, F_OFD_SETLKW, F_WRLCK, 0, 1));
        _exit(0);
    }
    usleep(50000);
    printf("parent closes a\n");
    close(a);
    wait_child(ch);
    show_getlk("after the child's exit", b, F_OFD_GETLK, F_WRLCK, 0, 0);
    close(b);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    parent_pid = getpid();
    flock_cases();
    posix_cases();
    ofd_cases();
    printf("done\n");
    return 0;
}
