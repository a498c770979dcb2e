// clock_nanosleep on CPU-time clocks: the process clock while another
// thread spins, a child's clock, TIMER_ABSTIME in the past, and the
// thread clock (EINVAL).
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile int stop;
static void* spin(void* arg) {
    (void)arg;
    while (!stop) {
    }
    return NULL;
}

static long long ns(struct timespec t) { return t.tv_sec * 1000000000LL + t.tv_nsec; }

int main(void) {
    pthread_t th;
    pthread_create(&th, NULL, spin, NULL);
    struct timespec a, b, d = {0, 200000000};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
    int r = clock_nanosleep(CLOCK_PROCESS_CPUTIME_ID, 0, &d, NULL);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
    printf("relative on process clock: %d, advanced >= 200ms %d\n", r, ns(b) - ns(a) >= 200000000LL);
    struct timespec past = {0, 1};
    printf("abstime in the past: %d\n", clock_nanosleep(CLOCK_PROCESS_CPUTIME_ID, TIMER_ABSTIME, &past, NULL));
    printf("thread clock: %d\n", clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &d, NULL));
    stop = 1;
    pthread_join(th, NULL);
    pid_t c = fork();
    if (c == 0) {
        for (;;) {
        }
    }
    clockid_t cc;
    clock_getcpuclockid(c, &cc);
    clock_gettime(cc, &a);
    struct timespec until = {a.tv_sec, a.tv_nsec + 100000000};
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    r = clock_nanosleep(cc, TIMER_ABSTIME, &until, NULL);
    clock_gettime(cc, &b);
    printf("absolute on a child's clock: %d, reached %d\n", r, ns(b) >= ns(until));
    kill(c, SIGKILL);
    waitpid(c, NULL, 0);
    return 0;
}
