// eventfd, timerfd and signalfd: counters, semaphores, blocking and
// non-blocking reads, expirations, masks, poll.
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
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

int main(void) {
    uint64_t v;
    int e = eventfd(3, EFD_NONBLOCK);
    SHOW("eventfd read", read(e, &v, 8));
    printf("value %llu\n", (unsigned long long)v);
    SHOW("eventfd read empty", read(e, &v, 8));
    SHOW("eventfd short read", read(e, &v, 4));
    v = 5;
    SHOW("eventfd write", write(e, &v, 8));
    v = 0xffffffffffffffffull;
    SHOW("eventfd write max", write(e, &v, 8));
    int s = eventfd(2, EFD_SEMAPHORE);
    read(s, &v, 8);
    printf("semaphore read %llu\n", (unsigned long long)v);
    struct pollfd pf = {s, POLLIN, 0};
    SHOW("poll semaphore", poll(&pf, 1, 0));
    SHOW("eventfd bad flags", eventfd(0, 0x12345));

    int t = timerfd_create(CLOCK_MONOTONIC, 0);
    struct itimerspec its = {{0, 20000000}, {0, 20000000}};
    SHOW("timerfd_settime", timerfd_settime(t, 0, &its, NULL));
    SHOW("timerfd read", read(t, &v, 8));
    printf("expirations >= 1: %d\n", v >= 1);
    usleep(70000);
    read(t, &v, 8);
    printf("expirations after 70 ms >= 2: %d\n", v >= 2);
    struct itimerspec cur;
    timerfd_gettime(t, &cur);
    printf("interval kept: %ld ns\n", cur.it_interval.tv_nsec);
    its = (struct itimerspec){{0, 0}, {0, 0}};
    timerfd_settime(t, 0, &its, NULL);
    int tn = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    SHOW("disarmed nonblocking read", read(tn, &v, 8));
    SHOW("timerfd bad clock", timerfd_create(99, 0));
    SHOW("settime on an eventfd", timerfd_settime(e, 0, &its, NULL));

    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGUSR1);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    int sf = signalfd(-1, &mask, SFD_NONBLOCK);
    struct signalfd_siginfo si;
    SHOW("signalfd empty", read(sf, &si, sizeof(si)));
    kill(getpid(), SIGUSR1);
    struct pollfd sp = {sf, POLLIN, 0};
    SHOW("poll signalfd", poll(&sp, 1, 0));
    SHOW("signalfd read", read(sf, &si, sizeof(si)));
    printf("signo=%u code_is_user=%d pid_ok=%d\n", si.ssi_signo, si.ssi_code == SI_USER, si.ssi_pid == (uint32_t)getpid());
    int sb = signalfd(-1, &mask, 0);
    pid_t child = fork();
    if (child == 0) {
        usleep(30000);
        kill(getppid(), SIGUSR1);
        _exit(0);
    }
    SHOW("blocking signalfd read", read(sb, &si, sizeof(si)));
    waitpid(child, NULL, 0);
    SHOW("signalfd on non-signalfd", signalfd(e, &mask, 0));
    return 0;
}
