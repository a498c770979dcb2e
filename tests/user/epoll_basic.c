// epoll: level/edge triggering, EPOLLONESHOT, EPOLLEXCLUSIVE rules, nested
// instances and the loop limit, close semantics (items go with the open
// file description), timeouts, signals, and the errno cases.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SHOW(label, expr)                                              \
    do {                                                               \
        errno = 0;                                                     \
        long r_ = (long)(expr);                                        \
        printf("%s -> %ld errno=%d\n", label, r_, r_ < 0 ? errno : 0); \
    } while (0)

static int add(int ep, int fd, uint32_t events, uint64_t data) {
    struct epoll_event ev = {.events = events, .data.u64 = data};
    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static int mod(int ep, int fd, uint32_t events, uint64_t data) {
    struct epoll_event ev = {.events = events, .data.u64 = data};
    return epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
}

// Waits and prints what came back.
static void show_wait(const char* label, int ep, int max, int timeout) {
    struct epoll_event evs[8];
    errno = 0;
    int n = epoll_wait(ep, evs, max, timeout);
    printf("%s -> %d errno=%d", label, n, n < 0 ? errno : 0);
    for (int i = 0; i < n; ++i) printf(" [%#x data=%llu]", evs[i].events, (unsigned long long)evs[i].data.u64);
    printf("\n");
}

static void on_signal(int sig) { printf("handler %d\n", sig); }

static void errno_cases(void) {
    SHOW("epoll_create(0)", epoll_create(0));
    SHOW("epoll_create(-1)", epoll_create(-1));
    SHOW("epoll_create1(1)", epoll_create1(1));
    SHOW("epoll_create1(O_NONBLOCK)", epoll_create1(O_NONBLOCK));
    int ep = epoll_create1(EPOLL_CLOEXEC);
    printf("cloexec flag %d\n", fcntl(ep, F_GETFD));
    int legacy = epoll_create(1);
    printf("legacy cloexec flag %d\n", fcntl(legacy, F_GETFD));
    struct stat st;
    fstat(ep, &st);
    printf("st_mode %o\n", st.st_mode);
    char buf[8];
    SHOW("read epoll fd", read(ep, buf, 8));
    SHOW("write epoll fd", write(ep, buf, 8));
    SHOW("lseek epoll fd", lseek(ep, 0, SEEK_SET));

    int p[2];
    pipe(p);
    int file = open("/epoll_plain", O_CREAT | O_RDWR, 0600);
    int dir = open("/", O_RDONLY | O_DIRECTORY);
    SHOW("add regular file", add(ep, file, EPOLLIN, 0));
    SHOW("add directory", add(ep, dir, EPOLLIN, 0));
    SHOW("add itself", add(ep, ep, EPOLLIN, 0));
    SHOW("ctl on a pipe", add(p[0], p[1], EPOLLIN, 0));
    SHOW("bad epfd", add(99, p[0], EPOLLIN, 0));
    SHOW("bad fd", add(ep, 99, EPOLLIN, 0));
    SHOW("regular file as epfd", add(file, p[0], EPOLLIN, 0));
    SHOW("add", add(ep, p[0], EPOLLIN, 1));
    SHOW("add again", add(ep, p[0], EPOLLIN, 1));
    SHOW("mod absent", mod(ep, p[1], EPOLLOUT, 2));
    SHOW("del absent", epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL));
    SHOW("bad op", epoll_ctl(ep, 99, p[0], &(struct epoll_event){0}));
    SHOW("add null event", epoll_ctl(ep, EPOLL_CTL_ADD, p[1], NULL));
    SHOW("bad op null event", epoll_ctl(ep, 99, p[1], NULL));
    SHOW("del", epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL));
    SHOW("del again", epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL));
    SHOW("exclusive mod", mod(ep, p[0], EPOLLIN | EPOLLEXCLUSIVE, 0));
    SHOW("exclusive oneshot", add(ep, p[0], EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT, 0));
    SHOW("exclusive rdhup", add(ep, p[0], EPOLLIN | EPOLLEXCLUSIVE | EPOLLRDHUP, 0));
    SHOW("exclusive pri", add(ep, p[0], EPOLLPRI | EPOLLEXCLUSIVE, 0));
    int inner = epoll_create1(0);
    SHOW("exclusive epoll target", add(ep, inner, EPOLLIN | EPOLLEXCLUSIVE, 0));
    SHOW("exclusive in|et", add(ep, p[0], EPOLLIN | EPOLLEXCLUSIVE | EPOLLET, 3));
    SHOW("mod of an exclusive item", mod(ep, p[0], EPOLLIN, 3));
    SHOW("wakeup flag (root)", add(ep, p[1], EPOLLOUT | EPOLLWAKEUP, 4));
    show_wait("exclusive item and writable end", ep, 8, 0);

    struct epoll_event evs[2];
    SHOW("wait maxevents 0", epoll_wait(ep, evs, 0, 0));
    SHOW("wait maxevents -1", epoll_wait(ep, evs, -1, 0));
    SHOW("wait maxevents huge", epoll_wait(ep, evs, 0x7fffffff, 0));
    SHOW("wait on a pipe", epoll_wait(p[0], evs, 2, 0));
    SHOW("wait bad fd", epoll_wait(99, evs, 2, 0));
    SHOW("wait null events, one ready", epoll_wait(ep, NULL, 2, 0));
    SHOW("wait kernel address", epoll_wait(ep, (void*)0xffffffff80000000ul, 2, 0));
    sigset_t empty;
    sigemptyset(&empty);
    SHOW("pwait bad sigset size", syscall(SYS_epoll_pwait, ep, evs, 2, 0, &empty, 4));
    struct timespec bad = {0, -1};
    SHOW("pwait2 bad timespec", syscall(SYS_epoll_pwait2, ep, evs, 2, &bad, NULL, 8));
    SHOW("pwait2 bad timespec pointer", syscall(SYS_epoll_pwait2, ep, evs, 2, (void*)1, NULL, 8));
    close(ep);
    close(legacy);
    close(inner);
    close(file);
    close(dir);
    close(p[0]);
    close(p[1]);
}

static void triggering(void) {
    int ep = epoll_create1(0);
    int p[2];
    pipe(p);
    add(ep, p[0], EPOLLIN, 10);
    show_wait("LT empty", ep, 8, 0);
    write(p[1], "ab", 2);
    show_wait("LT after write", ep, 8, 0);
    show_wait("LT again", ep, 8, 0);
    char c[4];
    read(p[0], c, 1);
    show_wait("LT one byte left", ep, 8, 0);
    read(p[0], c, 1);
    show_wait("LT drained", ep, 8, 0);

    mod(ep, p[0], EPOLLIN | EPOLLET, 11);
    write(p[1], "x", 1);
    show_wait("ET after write", ep, 8, 0);
    show_wait("ET again", ep, 8, 0);
    write(p[1], "y", 1);
    show_wait("ET second write", ep, 8, 0);
    show_wait("ET again", ep, 8, 0);
    mod(ep, p[0], EPOLLIN | EPOLLET, 12);
    show_wait("ET after MOD (still readable)", ep, 8, 0);
    read(p[0], c, 2);

    int e = eventfd(0, EFD_NONBLOCK);
    add(ep, e, EPOLLIN | EPOLLONESHOT, 20);
    uint64_t one = 1;
    write(e, &one, 8);
    show_wait("ONESHOT first", ep, 8, 0);
    write(e, &one, 8);
    show_wait("ONESHOT disarmed", ep, 8, 0);
    SHOW("ONESHOT add again", add(ep, e, EPOLLIN, 0));
    mod(ep, e, EPOLLIN | EPOLLONESHOT, 21);
    show_wait("ONESHOT rearmed", ep, 8, 0);
    show_wait("ONESHOT disarmed again", ep, 8, 0);
    mod(ep, e, EPOLLIN | EPOLLOUT, 22);
    show_wait("eventfd in|out", ep, 8, 0);
    uint64_t v;
    read(e, &v, 8);
    show_wait("eventfd out only", ep, 8, 0);
    epoll_ctl(ep, EPOLL_CTL_DEL, e, NULL);

    // Two level-triggered items with maxevents 1 take turns.
    int e2 = eventfd(1, 0), e3 = eventfd(1, 0);
    add(ep, e2, EPOLLIN, 30);
    add(ep, e3, EPOLLIN, 31);
    show_wait("round robin 1", ep, 1, 0);
    show_wait("round robin 2", ep, 1, 0);
    show_wait("round robin 3", ep, 1, 0);
    show_wait("both", ep, 8, 0);
    close(e2);
    close(e3);
    show_wait("closed eventfds gone", ep, 8, 0);

    // Hang-up and error on pipe ends.
    add(ep, p[1], EPOLLOUT, 40);
    show_wait("writable end", ep, 8, 0);
    close(p[0]);
    show_wait("reader gone", ep, 8, 0);
    close(p[1]);
    int q[2];
    pipe(q);
    add(ep, q[0], EPOLLIN, 41);
    close(q[1]);
    show_wait("writer gone", ep, 8, 0);
    mod(ep, q[0], 0, 42);
    show_wait("no interest, hangup still reported", ep, 8, 0);
    close(q[0]);
    close(e);
    close(ep);
}

static void close_semantics(void) {
    int ep = epoll_create1(0);
    int p[2];
    pipe(p);
    int dupfd = dup(p[0]);
    add(ep, p[0], EPOLLIN, 50);
    close(p[0]);
    write(p[1], "z", 1);
    show_wait("closed fd, dup alive", ep, 8, 0);
    SHOW("del closed fd", epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL));
    SHOW("del via dup", epoll_ctl(ep, EPOLL_CTL_DEL, dupfd, NULL));
    SHOW("add dup", add(ep, dupfd, EPOLLIN, 51));
    show_wait("both keys", ep, 8, 0);
    close(dupfd);
    show_wait("last reference gone", ep, 8, 0);
    int q[2];
    pipe(q);  // reuses the closed descriptor numbers
    SHOW("add reused number", add(ep, q[0], EPOLLIN, 52));
    close(q[0]);
    close(q[1]);
    close(p[1]);
    close(ep);
}

static void nesting(void) {
    int inner = epoll_create1(0), outer = epoll_create1(0);
    int p[2];
    pipe(p);
    add(inner, p[0], EPOLLIN, 60);
    SHOW("add inner to outer", add(outer, inner, EPOLLIN, 61));
    SHOW("add outer to inner (loop)", add(inner, outer, EPOLLIN, 0));
    show_wait("outer idle", outer, 8, 0);
    struct pollfd pf = {inner, POLLIN, 0};
    SHOW("poll inner idle", poll(&pf, 1, 0));
    write(p[1], "n", 1);
    show_wait("outer sees inner", outer, 8, 0);
    SHOW("poll inner ready", poll(&pf, 1, 0));
    printf("revents %#x\n", pf.revents);
    show_wait("inner", inner, 8, 0);
    char c;
    read(p[0], &c, 1);
    SHOW("poll inner drained", poll(&pf, 1, 0));
    show_wait("outer drained", outer, 8, 0);

    // A wake-up through two levels reaches a sleeper.
    pid_t child = fork();
    if (child == 0) {
        usleep(50000);
        write(p[1], "w", 1);
        _exit(0);
    }
    show_wait("outer blocking", outer, 8, -1);
    waitpid(child, NULL, 0);
    read(p[0], &c, 1);
    child = fork();
    if (child == 0) {
        usleep(50000);
        write(p[1], "w", 1);
        _exit(0);
    }
    SHOW("poll on outer blocking", poll(&(struct pollfd){outer, POLLIN, 0}, 1, -1));
    waitpid(child, NULL, 0);
    read(p[0], &c, 1);

    // A chain of instances: how deep may it go?
    int chain[8];
    chain[0] = epoll_create1(0);
    add(chain[0], p[0], EPOLLIN, 0);
    for (int i = 1; i < 8; ++i) {
        chain[i] = epoll_create1(0);
        errno = 0;
        int r = add(chain[i], chain[i - 1], EPOLLIN, 0);
        printf("chain %d -> %d errno=%d\n", i, r, r < 0 ? errno : 0);
    }
    // Adding above the bottom of a chain counts the levels above too.
    int top = epoll_create1(0), mid = epoll_create1(0);
    add(top, mid, EPOLLIN, 0);
    SHOW("add chain[3] under a two-level pair", add(mid, chain[3], EPOLLIN, 0));
    SHOW("add chain[2] under a two-level pair", add(mid, chain[2], EPOLLIN, 0));
    for (int i = 0; i < 8; ++i) close(chain[i]);
    close(top);
    close(mid);
    close(inner);
    close(outer);
    close(p[0]);
    close(p[1]);
}

static void sleeping(void) {
    int ep = epoll_create1(0);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    show_wait("timeout 50 ms", ep, 8, 50);
    clock_gettime(CLOCK_MONOTONIC, &b);
    long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
    printf("waited >= 50 ms: %d\n", ms >= 49);
    struct epoll_event evs[2];
    struct timespec ts = {0, 20000000};
    SHOW("pwait2 20 ms", syscall(SYS_epoll_pwait2, ep, evs, 2, &ts, NULL, 8));
    struct timespec zero = {0, 0};
    SHOW("pwait2 zero", syscall(SYS_epoll_pwait2, ep, evs, 2, &zero, NULL, 8));

    int t = timerfd_create(CLOCK_MONOTONIC, 0);
    struct itimerspec its = {{0, 0}, {0, 30000000}};
    timerfd_settime(t, 0, &its, NULL);
    add(ep, t, EPOLLIN, 70);
    show_wait("timerfd fires", ep, 8, -1);
    close(t);

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;  // epoll_wait is never restarted anyway
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval itv = {{0, 0}, {0, 30000}};
    setitimer(ITIMER_REAL, &itv, NULL);
    show_wait("interrupted by SIGALRM", ep, 8, -1);

    // epoll_pwait's mask: SIGUSR1 blocked, pending, let in for the wait.
    sigaction(SIGUSR1, &sa, NULL);
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigprocmask(SIG_BLOCK, &block, NULL);
    raise(SIGUSR1);
    sigset_t empty;
    sigemptyset(&empty);
    SHOW("pwait with SIGUSR1 unblocked", epoll_pwait(ep, evs, 2, -1, &empty));
    sigprocmask(SIG_BLOCK, NULL, &old);
    printf("SIGUSR1 blocked again: %d\n", sigismember(&old, SIGUSR1));
    SHOW("pwait timeout 0 keeps the mask", epoll_pwait(ep, evs, 2, 0, &block));
    raise(SIGUSR1);
    SHOW("pwait ready with mask", epoll_pwait(ep, evs, 2, 0, &block));
    sigprocmask(SIG_UNBLOCK, &block, NULL);
    close(ep);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    errno_cases();
    triggering();
    close_semantics();
    nesting();
    sleeping();
    printf("done\n");
    return 0;
}
