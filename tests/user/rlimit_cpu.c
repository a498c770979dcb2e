// RLIMIT_CPU: SIGXCPU at the soft limit and once a second after it (the
// soft limit moving up by one each time), SIGKILL at the hard limit; a
// forked child starts counting from zero.
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int xcpu;
static int report;
static void on_xcpu(int sig) {
    (void)sig;
    ++xcpu;
    struct rlimit r;
    getrlimit(RLIMIT_CPU, &r);
    dprintf(report, "SIGXCPU %d, soft limit now %ld\n", xcpu, (long)r.rlim_cur);
}

int main(void) {
    int p[2];
    pipe(p);
    pid_t c = fork();
    if (c == 0) {
        report = p[1];
        signal(SIGXCPU, on_xcpu);
        struct rlimit r = {1, 3};
        setrlimit(RLIMIT_CPU, &r);
        for (;;) {
        }
    }
    close(p[1]);
    int st;
    waitpid(c, &st, 0);
    char buf[512];
    int n, total = 0;
    while ((n = read(p[0], buf + total, sizeof(buf) - 1 - total)) > 0) total += n;
    buf[total] = 0;
    fputs(buf, stdout);
    printf("child killed by signal %d\n", WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    // Inherited: a grandchild of a limited process gets its own count.
    pipe(p);
    c = fork();
    if (c == 0) {
        struct rlimit r = {1, 1};
        setrlimit(RLIMIT_CPU, &r);
        pid_t g = fork();
        if (g == 0) {
            for (;;) {
            }
        }
        waitpid(g, &st, 0);
        printf("grandchild killed by signal %d\n", WIFSIGNALED(st) ? WTERMSIG(st) : 0);
        _exit(0);
    }
    waitpid(c, &st, 0);
    return 0;
}
