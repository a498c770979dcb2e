// wait4 and waitid report the reaped child's CPU time in their rusage;
// getrusage(RUSAGE_CHILDREN) then includes it.
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>

static void spin_ms(long ms) {
    struct timespec a, b;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
    do clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
    while ((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000 < ms);
}

static long ms_of(struct timeval tv) { return tv.tv_sec * 1000 + tv.tv_usec / 1000; }

int main(void) {
    pid_t c = fork();
    if (c == 0) {
        spin_ms(200);
        _exit(3);
    }
    int st;
    struct rusage ru;
    pid_t w = wait4(c, &st, 0, &ru);
    printf("wait4 reaped child %d status %d\n", w == c, WEXITSTATUS(st));
    long u = ms_of(ru.ru_utime), s = ms_of(ru.ru_stime);
    printf("wait4 rusage: cpu >= 150ms %d, cpu <= 1000ms %d\n", u + s >= 150, u + s <= 1000);
    c = fork();
    if (c == 0) {
        spin_ms(100);
        _exit(0);
    }
    siginfo_t si;
    struct rusage ru2;
    int r = syscall(SYS_waitid, P_PID, c, &si, WEXITED, &ru2);
    printf("waitid %d rusage cpu >= 50ms %d\n", r, ms_of(ru2.ru_utime) + ms_of(ru2.ru_stime) >= 50);
    struct rusage all;
    getrusage(RUSAGE_CHILDREN, &all);
    printf("children total >= 250ms %d\n", ms_of(all.ru_utime) + ms_of(all.ru_stime) >= 250);
    struct rusage none;
    c = fork();
    if (c == 0) _exit(0);
    w = wait4(-1, &st, WNOHANG, &none);
    while (w == 0) w = wait4(-1, &st, WNOHANG, &none);
    printf("quick child reaped %d\n", w == c);
    return 0;
}
