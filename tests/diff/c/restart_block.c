#include "difftest.h"
/* Calls interrupted by a signal that runs no handler (here a stop and
 * SIGCONT) go on as if nothing happened, towards their original deadline:
 * nanosleep, clock_nanosleep and poll with a relative timeout and a timed
 * FUTEX_WAIT go on through restart_syscall (Linux's restart block), ppoll
 * restarts with the time left written back (the time stopped comes on top).
 * With a handler they fail with
 * EINTR (SA_RESTART or not), nanosleep reporting the time left. Times are
 * printed as "about T" when within the window a correct kernel lands in. */
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <time.h>

#define FUTEX_WAIT_PRIVATE 128 /* FUTEX_WAIT | FUTEX_PRIVATE_FLAG; musl has no <linux/futex.h> */
#define SLEEP 0.5 /* every timeout, seconds */

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void nap(double s) {
    struct timespec ts = {(time_t)s, (long)((s - (time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {}
}

/* "about X" when t is within [X - 0.05, X + 0.2), else "early" or "late". */
static const char *about(double t, double x) {
    static char b[32];
    if (t < x - 0.05) return "early";
    if (t >= x + 0.2) return "late";
    snprintf(b, sizeof b, "about %.2f", x);
    return b;
}

static double t0;
static volatile uint32_t word;
static const char *label = ".stopped"; /* in the check names of a run */

/* ppoll restarts with the time left when the stop began, so the time it
 * was stopped comes on top: it ends at about 0.7 s on Linux. */
static void report_at(const char *what, long r, int e, double ended, double expect) {
    char name[128];
    snprintf(name, sizeof name, "%s%s.result", what, label);
    if (r == -1) printf("CHECK %s: -1 %s\n", name, errname(e));
    else printf("CHECK %s: %ld\n", name, r);
    snprintf(name, sizeof name, "%s%s.ended_after", what, label);
    CHECK(name, "%s", about(ended, expect));
}

static void report(const char *what, long r, int e, double ended) { report_at(what, r, e, ended, SLEEP); }

static struct timespec half = {0, 500000000};
static int c_nanosleep(void) {
    struct timespec rem = {9, 9};
    long r = nanosleep(&half, &rem);
    int e = errno;
    report("nanosleep", r, e, now_s() - t0);
    return 0;
}
static int c_clock_nanosleep(void) {
    struct timespec rem;
    int r = clock_nanosleep(CLOCK_MONOTONIC, 0, &half, &rem);
    report("clock_nanosleep", r ? -1 : 0, r, now_s() - t0);
    return 0;
}
static int c_futex(void) {
    long r = syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, &half, NULL, 0);
    int e = errno;
    report("FUTEX_WAIT", r, e, now_s() - t0);
    return 0;
}
static int c_poll(void) {
    long r = poll(NULL, 0, 500);
    int e = errno;
    report("poll", r, e, now_s() - t0);
    return 0;
}
static int c_ppoll(void) {
    struct timespec ts = half;
    long r = syscall(SYS_ppoll, NULL, 0, &ts, NULL, 8);
    int e = errno;
    report_at("ppoll", r, e, now_s() - t0, 0.7);
    CHECK("ppoll.stopped.timeout_written_back", "%s", ts.tv_sec == 0 && ts.tv_nsec == 0 ? "0" : "other");
    return 0;
}

/* Runs fn in a child that the parent stops from `stop` to `cont` seconds
 * after the fork, or sends SIGUSR1 at `stop` when cont is 0. */
static void run(int (*fn)(void), double stop, double cont) {
    fflush(stdout);
    t0 = now_s();
    pid_t p = fork();
    if (p == 0) _exit(fn());
    nap(stop - (now_s() - t0));
    int st;
    if (cont > 0) {
        kill(p, SIGSTOP);
        waitpid(p, &st, WUNTRACED);
        nap(cont - (now_s() - t0));
        kill(p, SIGCONT);
    } else {
        kill(p, SIGUSR1);
    }
    while (waitpid(p, &st, 0) < 0 && errno == EINTR) {}
    if (!WIFEXITED(st) || WEXITSTATUS(st)) CHECK("child", "%s", wstr(st));
}

static void on_usr1(int s) { (void)s; }

static int c_nanosleep_handler(void) {
    struct timespec rem = {9, 9};
    long r = nanosleep(&half, &rem);
    int e = errno;
    if (r == -1) printf("CHECK nanosleep.handler: -1 %s\n", errname(e));
    else printf("CHECK nanosleep.handler: %ld\n", r);
    double left = rem.tv_sec + rem.tv_nsec / 1e9;
    CHECK("nanosleep.handler.time_left", "%s", left > 0.2 && left < 0.4 ? "about 0.3" : "other");
    return 0;
}
static int c_futex_handler(void) {
    long r = syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, &half, NULL, 0);
    int e = errno;
    if (r == -1) printf("CHECK FUTEX_WAIT.sa_restart_handler: -1 %s\n", errname(e));
    else printf("CHECK FUTEX_WAIT.sa_restart_handler: %ld\n", r);
    return 0;
}
static int c_poll_handler(void) {
    long r = poll(NULL, 0, 500);
    int e = errno;
    if (r == -1) printf("CHECK poll.sa_restart_handler: -1 %s\n", errname(e));
    else printf("CHECK poll.sa_restart_handler: %ld\n", r);
    return 0;
}

int main(void) {
    setup();
    /* Stopped from 0.1 to 0.3 s: each still ends at about 0.5 s. */
    run(c_nanosleep, 0.1, 0.3);
    run(c_clock_nanosleep, 0.1, 0.3);
    run(c_futex, 0.1, 0.3);
    run(c_poll, 0.1, 0.3);
    run(c_ppoll, 0.1, 0.3);
    /* Stopped past the deadline: it ends as soon as it runs again. */
    label = ".stopped_past_end";
    run(c_nanosleep, 0.1, 0.5);
    run(c_futex, 0.1, 0.5);

    struct sigaction sa = {0};
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    run(c_nanosleep_handler, 0.2, 0);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    run(c_futex_handler, 0.2, 0);
    run(c_poll_handler, 0.2, 0);

    /* With nothing to continue. */
    CK("restart_syscall.nothing_to_continue", syscall(SYS_restart_syscall));
    return 0;
}
