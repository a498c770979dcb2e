// PR_SET_CHILD_SUBREAPER and PR_SET_PDEATHSIG: orphans go to the nearest
// subreaper ancestor (else init), and a child that asked is signalled when
// its parent dies; the flags across fork and exec.
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define SHOW(label, expr)                                              \
    do {                                                               \
        errno = 0;                                                     \
        long r_ = (long)(expr);                                        \
        printf("%s -> %ld errno=%d\n", label, r_, r_ < 0 ? errno : 0); \
    } while (0)

static int report_fd;
static void on_usr1(int sig, siginfo_t* si, void* ctx) {
    (void)ctx;
    char msg[64];
    int n = snprintf(msg, sizeof(msg), "pdeath sig=%d code=%d\n", sig, si->si_code);
    write(report_fd, msg, n);
}

// Forks a middle process that forks a grandchild and exits; returns what
// the grandchild reported through the pipe: its parent after the orphaning,
// and the death signal it got.
static void orphan_round(const char* label, pid_t me, int use_pdeath) {
    int p[2];
    pipe(p);
    pid_t middle = fork();
    if (middle == 0) {
        pid_t grand = fork();
        if (grand == 0) {
            report_fd = p[1];
            if (use_pdeath) {
                struct sigaction sa;
                memset(&sa, 0, sizeof(sa));
                sa.sa_sigaction = on_usr1;
                sa.sa_flags = SA_SIGINFO;
                sigaction(SIGUSR1, &sa, NULL);
                prctl(PR_SET_PDEATHSIG, SIGUSR1);
                int got = 0;
                prctl(PR_GET_PDEATHSIG, &got);
                dprintf(p[1], "grandchild pdeathsig %d\n", got);
            }
            dprintf(p[1], "ready\n");
            while (getppid() == getpid() - 1 || getppid() != 1) {
                if (getppid() == me) break;
                usleep(10000);
            }
            usleep(100000);
            dprintf(p[1], "%s: reparented to %s\n", label, getppid() == me ? "subreaper" : getppid() == 1 ? "init" : "other");
            _exit(0);
        }
        usleep(100000);
        _exit(0);
    }
    close(p[1]);
    waitpid(middle, NULL, 0);
    char buf[512];
    int total = 0, n;
    while ((n = read(p[0], buf + total, sizeof(buf) - 1 - total)) > 0) total += n;
    buf[total] = 0;
    fputs(buf, stdout);
    close(p[0]);
    // The grandchild is ours now when we are the subreaper.
    int st;
    pid_t w;
    int reaped = 0;
    while ((w = waitpid(-1, &st, WNOHANG)) > 0) ++reaped;
    usleep(50000);
    while ((w = waitpid(-1, &st, WNOHANG)) > 0) ++reaped;
    printf("%s: reaped %d more\n", label, reaped);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    // Run below init so that "init" and "subreaper" are different processes.
    pid_t top = fork();
    if (top > 0) {
        waitpid(top, NULL, 0);
        return 0;
    }
    pid_t me = getpid();
    int v = -1;
    SHOW("get subreaper", prctl(PR_GET_CHILD_SUBREAPER, &v));
    printf("subreaper %d\n", v);
    orphan_round("no subreaper", me, 0);
    SHOW("set subreaper", prctl(PR_SET_CHILD_SUBREAPER, 1));
    SHOW("get subreaper", prctl(PR_GET_CHILD_SUBREAPER, &v));
    printf("subreaper %d\n", v);
    orphan_round("subreaper", me, 0);
    orphan_round("subreaper+pdeath", me, 1);
    SHOW("pdeathsig bad", prctl(PR_SET_PDEATHSIG, 65));
    SHOW("pdeathsig ok", prctl(PR_SET_PDEATHSIG, SIGTERM));
    pid_t c = fork();
    if (c == 0) {
        int got = -1;
        prctl(PR_GET_PDEATHSIG, &got);
        printf("child inherits pdeathsig: %d\n", got);
        _exit(0);
    }
    waitpid(c, NULL, 0);
    c = fork();
    if (c == 0) {
        int got = -1;
        prctl(PR_GET_CHILD_SUBREAPER, &got);
        printf("child inherits subreaper: %d\n", got);
        _exit(0);
    }
    waitpid(c, NULL, 0);
    _exit(0);
}
