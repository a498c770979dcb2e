#include "difftest.h"
/* Time: clock_getres, clock_gettime monotonicity, nanosleep EINTR, TIMER_ABSTIME in the past,
 * POSIX timers (timer_create/settime/overrun), times(), gettimeofday sanity. */
#include <signal.h>
#include <stdint.h>
#include <sys/time.h>
#include <sys/times.h>
#include <time.h>

static volatile int ticks;
static void on_tick(int s) { (void)s; ticks++; }

static long long ns(struct timespec t) { return t.tv_sec * 1000000000LL + t.tv_nsec; }

int main(void) {
    setup();
    struct { const char *n; clockid_t c; } clocks[] = {
        {"REALTIME", CLOCK_REALTIME}, {"MONOTONIC", CLOCK_MONOTONIC},
        {"PROCESS_CPUTIME_ID", CLOCK_PROCESS_CPUTIME_ID}, {"THREAD_CPUTIME_ID", CLOCK_THREAD_CPUTIME_ID},
        {"MONOTONIC_RAW", CLOCK_MONOTONIC_RAW}, {"REALTIME_COARSE", CLOCK_REALTIME_COARSE},
        {"MONOTONIC_COARSE", CLOCK_MONOTONIC_COARSE}, {"BOOTTIME", CLOCK_BOOTTIME},
        {"REALTIME_ALARM", CLOCK_REALTIME_ALARM}, {"BOOTTIME_ALARM", CLOCK_BOOTTIME_ALARM}, {"TAI", CLOCK_TAI},
    };
    for (size_t i = 0; i < sizeof clocks / sizeof clocks[0]; i++) {
        struct timespec r = {-1, -1};
        char name[64];
        snprintf(name, sizeof name, "clock_getres_%s", clocks[i].n);
        errno = 0;
        long rc = syscall(SYS_clock_getres, clocks[i].c, &r);
        if (rc) CHECK(name, "-1 %s", errname(errno));
        else CHECK(name, "%ld.%09ld", (long)r.tv_sec, r.tv_nsec);
        struct timespec a, b;
        snprintf(name, sizeof name, "clock_gettime_ok_%s", clocks[i].n);
        CK(name, syscall(SYS_clock_gettime, clocks[i].c, &a));
        syscall(SYS_clock_gettime, clocks[i].c, &b);
        snprintf(name, sizeof name, "clock_nondecreasing_%s", clocks[i].n);
        CHECK(name, "%d", ns(b) >= ns(a));
    }
    {
        struct timespec t;
        CK("clock_gettime_bad_clock", syscall(SYS_clock_gettime, 99, &t));
        CK("clock_getres_bad_clock", syscall(SYS_clock_getres, 99, &t));
        CK("clock_gettime_efault", syscall(SYS_clock_gettime, CLOCK_MONOTONIC, (void *)8));
        CK("clock_getres_null_ok", syscall(SYS_clock_getres, CLOCK_MONOTONIC, NULL));
        CK("clock_settime_monotonic", clock_settime(CLOCK_MONOTONIC, &t));
        struct timespec bad = {0, 1000000000};
        CK("clock_settime_bad_nsec", clock_settime(CLOCK_REALTIME, &bad));
        /* per-process/thread cpu clocks of another pid */
        clockid_t cid;
        CK("clock_getcpuclockid_self", clock_getcpuclockid(0, &cid));
    }
    /* monotonic increases over a sleep; realtime is after 2020 */
    {
        struct timespec a, b, c;
        clock_gettime(CLOCK_MONOTONIC, &a);
        struct timespec d = {0, 20 * 1000 * 1000};
        CK("nanosleep_20ms", nanosleep(&d, NULL));
        clock_gettime(CLOCK_MONOTONIC, &b);
        CHECK("clock_monotonic_increases", "%d", ns(b) > ns(a));
        CHECK("nanosleep_slept_at_least_20ms", "%d", ns(b) - ns(a) >= 20000000);
        clock_gettime(CLOCK_REALTIME, &c);
        CHECK("realtime_after_2020", "%d", c.tv_sec > 1577836800);
        struct timeval tv;
        gettimeofday(&tv, NULL);
        CHECK("gettimeofday_close_to_realtime", "%d", tv.tv_sec - c.tv_sec < 5 && tv.tv_sec - c.tv_sec > -5);
        time_t t = time(NULL);
        CHECK("time_close_to_realtime", "%d", t - c.tv_sec < 5 && t - c.tv_sec > -5);
        clock_gettime(CLOCK_BOOTTIME, &b);
        clock_gettime(CLOCK_MONOTONIC, &a);
        CHECK("boottime_ge_monotonic_approx", "%d", ns(b) + 1000000 >= ns(a));
    }
    /* nanosleep errors and EINTR with the remaining time */
    {
        struct timespec bad = {0, 1000000000}, neg = {-1, 0}, rem;
        CK("nanosleep_bad_nsec", nanosleep(&bad, NULL));
        CK("nanosleep_negative", nanosleep(&neg, NULL));
        CK("nanosleep_zero", nanosleep(&(struct timespec){0, 0}, NULL));
        signal(SIGALRM, on_tick);
        struct itimerval it = {{0, 0}, {0, 50000}};
        setitimer(ITIMER_REAL, &it, NULL);
        struct timespec long_sleep = {5, 0};
        CK("nanosleep_eintr", nanosleep(&long_sleep, &rem));
        CHECK("nanosleep_rem_sane", "%d", rem.tv_sec <= 5 && (rem.tv_sec > 3 || (rem.tv_sec == 4)));
        setitimer(ITIMER_REAL, &it, NULL);
        CHECK("clock_nanosleep_eintr_returns_errno", "%s", errname(clock_nanosleep(CLOCK_MONOTONIC, 0, &long_sleep, &rem)));
        /* TIMER_ABSTIME in the past returns at once */
        /* 1 ns after boot: past on any kernel, however fast it booted */
        struct timespec past = {0, 1};
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        CHECK("clock_nanosleep_abstime_past", "%d", clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &past, NULL));
        clock_gettime(CLOCK_MONOTONIC, &b);
        CHECK("abstime_past_returns_quickly", "%d", ns(b) - ns(a) < 500000000LL);
        CHECK("clock_nanosleep_bad_clock", "%s", errname(clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &past, NULL)));
        CHECK("clock_nanosleep_bad_flags_ok", "%s", errname(clock_nanosleep(CLOCK_MONOTONIC, 0x4, &(struct timespec){0, 1}, NULL)));
        clock_gettime(CLOCK_MONOTONIC, &a);
        struct timespec soon = {a.tv_sec, a.tv_nsec + 10000000};
        if (soon.tv_nsec >= 1000000000) { soon.tv_sec++; soon.tv_nsec -= 1000000000; }
        CHECK("clock_nanosleep_abstime_future", "%d", clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &soon, NULL));
        clock_gettime(CLOCK_MONOTONIC, &b);
        CHECK("abstime_future_reached", "%d", ns(b) >= ns(soon));
    }
    /* POSIX timers */
    {
        timer_t t;
        struct sigevent sev;
        memset(&sev, 0, sizeof sev);
        sev.sigev_notify = SIGEV_SIGNAL;
        sev.sigev_signo = SIGUSR1;
        CK("timer_create", timer_create(CLOCK_MONOTONIC, &sev, &t));
        CK("timer_create_bad_clock", timer_create(99, &sev, &(timer_t){0}));
        struct sigevent bad = sev;
        bad.sigev_notify = 99;
        CK("timer_create_bad_notify", timer_create(CLOCK_MONOTONIC, &bad, &(timer_t){0}));
        bad = sev;
        bad.sigev_signo = 100;
        CK("timer_create_bad_signo", timer_create(CLOCK_MONOTONIC, &bad, &(timer_t){0}));
        sigset_t s;
        sigemptyset(&s);
        sigaddset(&s, SIGUSR1);
        sigprocmask(SIG_BLOCK, &s, NULL);
        struct itimerspec its = {{0, 2 * 1000 * 1000}, {0, 2 * 1000 * 1000}};
        CK("timer_settime", timer_settime(t, 0, &its, NULL));
        struct timespec sl = {0, 50 * 1000 * 1000};
        nanosleep(&sl, NULL);
        siginfo_t si;
        CK("timer_signal_pending", sigwaitinfo(&s, &si));
        CHECK("timer_siginfo", "code=%d overrun_ge_5=%d", si.si_code, si.si_overrun >= 5);
        CHECK("timer_getoverrun_after_delivery_ge_5", "%d", timer_getoverrun(t) >= 5);
        struct itimerspec cur;
        CK("timer_gettime", timer_gettime(t, &cur));
        CHECK("timer_gettime_interval", "%ld.%09ld", (long)cur.it_interval.tv_sec, cur.it_interval.tv_nsec);
        struct itimerspec zero = {{0, 0}, {0, 0}};
        timer_settime(t, 0, &zero, NULL);
        timer_gettime(t, &cur);
        CHECK("timer_disarmed", "%ld %ld", (long)cur.it_value.tv_sec, cur.it_value.tv_nsec);
        /* the periodic timer may have queued its signal again before it was disarmed: drain */
        struct timespec none = {0, 0};
        while (sigtimedwait(&s, &si, &none) > 0) {}
        struct itimerspec badv = {{0, 0}, {0, 1000000000}};
        CK("timer_settime_bad_nsec", timer_settime(t, 0, &badv, NULL));
        /* absolute expiry in the past fires at once */
        struct itimerspec abs_past = {{0, 0}, {1, 0}};
        CK("timer_settime_abstime_past", timer_settime(t, TIMER_ABSTIME, &abs_past, NULL));
        struct timespec ts = {1, 0};
        CK("timer_abstime_past_fires", sigtimedwait(&s, &si, &ts));
        CK("timer_delete", timer_delete(t));
        CK("timer_delete_again", syscall(SYS_timer_delete, 0x7fffff));
        while (sigtimedwait(&s, &si, &none) > 0) {}
        sigprocmask(SIG_UNBLOCK, &s, NULL);
    }
    /* process cpu time advances; times() */
    {
        struct timespec a, b;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
        volatile uint64_t x = 0;
        for (int i = 0; i < 5000000; i++) x += i;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
        CHECK("process_cputime_advances", "%d", ns(b) > ns(a));
        struct tms tm;
        CHECK("times_ok", "%d", times(&tm) != (clock_t)-1);
        CHECK("sysconf_clk_tck", "%ld", sysconf(_SC_CLK_TCK));
    }
    return 0;
}
