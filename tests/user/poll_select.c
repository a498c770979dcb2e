// poll, ppoll, select and pselect on pipes: readiness, timeouts, HUP, ERR,
// NVAL, EBADF, a sleeping poll woken by another process, and a poll
// interrupted by a signal.
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SHOW(label, expr)                                              \
    do {                                                               \
        errno = 0;                                                     \
        long r_ = (long)(expr);                                        \
        printf("%s -> %ld errno=%d\n", label, r_, r_ < 0 ? errno : 0); \
    } while (0)

static void on_alrm(int s) { (void)s; }

int main(void) {
    int p[2];
    pipe(p);
    struct pollfd fds[3] = {{p[0], POLLIN, 0}, {p[1], POLLOUT, 0}, {99, POLLIN, 0}};
    SHOW("poll empty pipe", poll(fds, 3, 0));
    printf("revents: read=%#x write=%#x bad=%#x\n", fds[0].revents, fds[1].revents, fds[2].revents);
    write(p[1], "a", 1);
    SHOW("poll after write", poll(fds, 2, 0));
    printf("revents: read=%#x write=%#x\n", fds[0].revents, fds[1].revents);
    SHOW("poll negative fd ignored", poll((struct pollfd[]){{-1, POLLIN, 0}}, 1, 0));

    struct timespec a, b;
    char c;
    read(p[0], &c, 1);
    clock_gettime(CLOCK_MONOTONIC, &a);
    SHOW("poll timeout 50ms", poll(fds, 1, 50));
    clock_gettime(CLOCK_MONOTONIC, &b);
    long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
    printf("waited at least 50 ms: %d\n", ms >= 50);

    pid_t pid = fork();
    if (pid == 0) {
        usleep(30000);
        write(p[1], "b", 1);
        _exit(0);
    }
    SHOW("poll woken by a writer", poll(fds, 1, 5000));
    printf("revents read=%#x\n", fds[0].revents);
    waitpid(pid, NULL, 0);
    read(p[0], &c, 1);

    close(p[1]);
    SHOW("poll after writer closed", poll(fds, 1, 0));
    printf("revents read=%#x\n", fds[0].revents);
    int q[2];
    pipe(q);
    close(q[0]);
    struct pollfd w = {q[1], POLLOUT, 0};
    SHOW("poll write end without readers", poll(&w, 1, 0));
    printf("revents write=%#x\n", w.revents);

    int r[2];
    pipe(r);
    fd_set rs, ws;
    FD_ZERO(&rs);
    FD_ZERO(&ws);
    FD_SET(r[0], &rs);
    FD_SET(r[1], &ws);
    struct timeval tv = {0, 0};
    SHOW("select", select(r[1] + 1, &rs, &ws, NULL, &tv));
    printf("readable=%d writable=%d\n", FD_ISSET(r[0], &rs), FD_ISSET(r[1], &ws));
    FD_ZERO(&rs);
    FD_SET(50, &rs);
    tv = (struct timeval){0, 0};
    SHOW("select bad fd", select(51, &rs, NULL, NULL, &tv));
    tv = (struct timeval){0, 20000};
    FD_ZERO(&rs);
    FD_SET(r[0], &rs);
    SHOW("select timeout", select(r[0] + 1, &rs, NULL, NULL, &tv));
    printf("timeval left zero: %d\n", tv.tv_sec == 0 && tv.tv_usec == 0);
    struct timespec ts = {0, 10000000};
    FD_ZERO(&rs);
    FD_SET(r[0], &rs);
    SHOW("pselect timeout", pselect(r[0] + 1, &rs, NULL, NULL, &ts, NULL));

    signal(SIGALRM, on_alrm);
    struct itimerval it = {{0, 0}, {0, 30000}};
    setitimer(ITIMER_REAL, &it, NULL);
    struct pollfd rd = {r[0], POLLIN, 0};
    SHOW("poll interrupted", poll(&rd, 1, 5000));
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGALRM);
    sigprocmask(SIG_BLOCK, &block, NULL);
    sigset_t none;
    sigemptyset(&none);
    setitimer(ITIMER_REAL, &it, NULL);
    SHOW("ppoll lets the blocked signal in", ppoll(&rd, 1, &(struct timespec){5, 0}, &none));
    struct pollfd* big = (struct pollfd*)0; /* never read: the size check comes first */
    SHOW("poll nfds too big", poll(big, 100000, 0));
    return 0;
}
