// POSIX timers through the raw system calls: ids, clocks, sigevent kinds,
// SI_TIMER siginfo, settime/gettime/getoverrun/delete, overruns counted
// while the signal waits, CPU-time clocks, fork and exec; and glibc's
// SIGEV_THREAD on top. Times vary, so only comparisons are printed.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SHOW(label, call)                                                \
    do {                                                                 \
        errno = 0;                                                       \
        long r_ = (long)(call);                                          \
        int e_ = errno;                                                  \
        printf("%s: %ld %s\n", label, r_, r_ < 0 ? strerror(e_) : "");   \
    } while (0)

static long tcreate(clockid_t c, struct sigevent* ev, int* id) { return syscall(SYS_timer_create, c, ev, id); }
static long tset(int id, int flags, const struct itimerspec* v, struct itimerspec* old) {
    return syscall(SYS_timer_settime, id, flags, v, old);
}
static long tget(int id, struct itimerspec* v) { return syscall(SYS_timer_gettime, id, v); }
static long tover(int id) { return syscall(SYS_timer_getoverrun, id); }
static long tdel(int id) { return syscall(SYS_timer_delete, id); }

static long long ts_ns(struct timespec t) { return t.tv_sec * 1000000000LL + t.tv_nsec; }
static struct timespec ns_ts(long long ns) { return (struct timespec){ns / 1000000000, ns % 1000000000}; }
static long long now_ns(clockid_t c) {
    struct timespec t;
    clock_gettime(c, &t);
    return ts_ns(t);
}
static void sleep_ms(int ms) {
    struct timespec t = ns_ts(ms * 1000000LL);
    while (nanosleep(&t, &t)) {
    }
}
static struct itimerspec spec(long long value_ns, long long interval_ns) {
    struct itimerspec s = {ns_ts(interval_ns), ns_ts(value_ns)};
    return s;
}

static volatile int handled;
static volatile siginfo_t last;
static void on_sig(int sig, siginfo_t* si, void* uc) {
    (void)sig, (void)uc;
    memcpy((void*)&last, si, sizeof(*si));
    handled++;
}

static struct sigevent sig_event(int signo, int value) {
    struct sigevent ev;
    memset(&ev, 0, sizeof(ev));
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = signo;
    ev.sigev_value.sival_int = value;
    return ev;
}

static void print_info(const char* what, const siginfo_t* si, int id) {
    printf("%s: signo %d code SI_TIMER %s timerid match %s overrun %s value %d\n", what, si->si_signo,
           si->si_code == SI_TIMER ? "yes" : "no", si->si_timerid == id ? "yes" : "no", si->si_overrun ? ">0" : "0",
           si->si_value.sival_int);
}

static volatile unsigned long sink;

static void exec_child(void) {
    struct itimerspec v;
    SHOW("after exec: timer_gettime(0)", tget(0, &v));
    int id = -1;
    SHOW("after exec: timer_create", tcreate(CLOCK_MONOTONIC, NULL, &id));
    printf("after exec: new id %d\n", id);
    exit(0);
}

static int thread_fired;
static void thread_notify(union sigval v) { __atomic_fetch_add(&thread_fired, v.sival_int, __ATOMIC_SEQ_CST); }

static void glibc_thread_timer(void) {
    struct sigevent tev;
    memset(&tev, 0, sizeof(tev));
    tev.sigev_notify = SIGEV_THREAD;
    tev.sigev_notify_function = thread_notify;
    tev.sigev_value.sival_int = 5;
    timer_t gt;
    printf("glibc SIGEV_THREAD timer_create: %d\n", timer_create(CLOCK_MONOTONIC, &tev, &gt));
    struct itimerspec v = spec(10000000, 0);
    printf("timer_settime: %d\n", timer_settime(gt, 0, &v, NULL));
    for (int i = 0; i < 100 && !__atomic_load_n(&thread_fired, __ATOMIC_SEQ_CST); ++i) sleep_ms(10);
    printf("notify function ran with value %d\n", thread_fired);
    printf("timer_delete: %d\n", timer_delete(gt));
}

int main(int argc, char** argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc > 1 && !strcmp(argv[1], "exec-child")) exec_child();

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_sig;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    sigaction(SIGRTMIN, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGUSR2, &sa, NULL);

    // Ids count up from 0 per process and are not reused.
    int a = -1, b = -1, c = -1;
    SHOW("create REALTIME default event", tcreate(CLOCK_REALTIME, NULL, &a));
    struct sigevent ev = sig_event(SIGRTMIN, 42);
    SHOW("create MONOTONIC SIGRTMIN", tcreate(CLOCK_MONOTONIC, &ev, &b));
    printf("ids %d %d\n", a, b);
    SHOW("delete first", tdel(a));
    SHOW("create BOOTTIME", tcreate(CLOCK_BOOTTIME, &ev, &c));
    printf("next id %d\n", c);
    SHOW("delete again", tdel(a));
    SHOW("delete 12345", tdel(12345));
    SHOW("delete -1", tdel(-1));

    // Clocks.
    int x;
    SHOW("create clock 99", tcreate(99, NULL, &x));
    SHOW("create clock 10", tcreate(10, NULL, &x));
    SHOW("create MONOTONIC_RAW", tcreate(CLOCK_MONOTONIC_RAW, NULL, &x));
    SHOW("create REALTIME_COARSE", tcreate(CLOCK_REALTIME_COARSE, NULL, &x));
    SHOW("create TAI", tcreate(CLOCK_TAI, NULL, &x));
    tdel(x);
    SHOW("create PROCESS_CPUTIME", tcreate(CLOCK_PROCESS_CPUTIME_ID, NULL, &x));
    tdel(x);
    SHOW("create THREAD_CPUTIME", tcreate(CLOCK_THREAD_CPUTIME_ID, NULL, &x));
    tdel(x);
    SHOW("create pid 99999 CPU clock", tcreate((clockid_t)((~99999u << 3) | 2), NULL, &x));
    SHOW("create CPU clock with which 3", tcreate((clockid_t)((~0u << 3) | 3), NULL, &x));

    // sigevent checks; a rejected event still uses up an id, as in Linux.
    struct sigevent bad = sig_event(0, 0);
    SHOW("signal 0", tcreate(CLOCK_MONOTONIC, &bad, &x));
    bad.sigev_signo = 65;
    SHOW("signal 65", tcreate(CLOCK_MONOTONIC, &bad, &x));
    bad.sigev_signo = SIGUSR1;
    bad.sigev_notify = 99;
    SHOW("notify 99", tcreate(CLOCK_MONOTONIC, &bad, &x));
    bad.sigev_notify = SIGEV_THREAD_ID;
    bad._sigev_un._tid = 99999;
    SHOW("THREAD_ID 99999", tcreate(CLOCK_MONOTONIC, &bad, &x));
    SHOW("bad sigevent pointer", tcreate(CLOCK_MONOTONIC, (struct sigevent*)8, &x));
    SHOW("bad id pointer", tcreate(CLOCK_MONOTONIC, NULL, (int*)8));
    struct sigevent none;
    memset(&none, 0, sizeof(none));
    none.sigev_notify = SIGEV_NONE;
    int n = -1;
    SHOW("SIGEV_NONE with signal 0", tcreate(CLOCK_MONOTONIC, &none, &n));
    printf("SIGEV_NONE id %d\n", n);

    // One-shot with SIGRTMIN, taken by sigwaitinfo.
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGRTMIN);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGALRM);
    sigprocmask(SIG_BLOCK, &set, &old);
    struct itimerspec v = spec(50000000, 0), cur;
    SHOW("settime 50ms", tset(b, 0, &v, NULL));
    tget(b, &cur);
    printf("gettime: value in (40ms, 50ms] %s, interval 0 %s\n",
           ts_ns(cur.it_value) > 40000000 && ts_ns(cur.it_value) <= 50000000 ? "yes" : "no",
           ts_ns(cur.it_interval) == 0 ? "yes" : "no");
    siginfo_t si;
    long long t0 = now_ns(CLOCK_MONOTONIC);
    sigwaitinfo(&set, &si);
    long long waited = now_ns(CLOCK_MONOTONIC) - t0;
    print_info("one-shot", &si, b);
    printf("waited >= 40ms %s\n", waited >= 40000000 ? "yes" : "no");
    tget(b, &cur);
    printf("gettime after: %lld %lld\n", ts_ns(cur.it_value), ts_ns(cur.it_interval));
    SHOW("getoverrun", tover(b));

    // Periodic, signal blocked meanwhile: the expiries missed are counted.
    v = spec(10000000, 10000000);
    tset(b, 0, &v, NULL);
    sleep_ms(105);
    tget(b, &cur);
    printf("pending periodic gettime: value in (0, 10ms] %s\n",
           ts_ns(cur.it_value) > 0 && ts_ns(cur.it_value) <= 10000000 ? "yes" : "no");
    sigwaitinfo(&set, &si);
    print_info("periodic (overrun masked)", &si, b);
    printf("overrun >= 5 %s, getoverrun == si_overrun %s\n", si.si_overrun >= 5 ? "yes" : "no",
           tover(b) == si.si_overrun ? "yes" : "no");
    sigwaitinfo(&set, &si);
    printf("next expiry: overrun small %s\n", si.si_overrun <= 2 ? "yes" : "no");
    struct itimerspec zero = spec(0, 0), prev;
    SHOW("disarm with old value", tset(b, 0, &zero, &prev));
    printf("old: interval %lld, value in (0, 10ms] %s\n", ts_ns(prev.it_interval),
           ts_ns(prev.it_value) > 0 && ts_ns(prev.it_value) <= 10000000 ? "yes" : "no");
    tget(b, &cur);
    printf("disarmed: %lld %lld, getoverrun %ld\n", ts_ns(cur.it_value), ts_ns(cur.it_interval), tover(b));
    // Throw away a signal that may have been queued before the disarm.
    struct timespec zero_ts = {0, 0};
    while (sigtimedwait(&set, &si, &zero_ts) > 0) {
    }

    // A standard signal (SIGUSR1) also counts overruns while pending.
    struct sigevent ev1 = sig_event(SIGUSR1, 7);
    int u = -1;
    tcreate(CLOCK_MONOTONIC, &ev1, &u);
    v = spec(5000000, 5000000);
    tset(u, 0, &v, NULL);
    sleep_ms(60);
    sigwaitinfo(&set, &si);
    print_info("SIGUSR1 periodic", &si, u);
    printf("SIGUSR1 overrun >= 5 %s\n", si.si_overrun >= 5 ? "yes" : "no");
    tdel(u);
    while (sigtimedwait(&set, &si, &zero_ts) > 0) {
    }

    // Default event: SIGALRM with si_value = the id.
    int d = -1;
    tcreate(CLOCK_MONOTONIC, NULL, &d);
    v = spec(1000000, 0);
    tset(d, 0, &v, NULL);
    sigwaitinfo(&set, &si);
    printf("default event: SIGALRM %s, value is the id %s, code SI_TIMER %s\n", si.si_signo == SIGALRM ? "yes" : "no",
           si.si_value.sival_int == d ? "yes" : "no", si.si_code == SI_TIMER ? "yes" : "no");

    // TIMER_ABSTIME on MONOTONIC and REALTIME, also in the past.
    v = spec(now_ns(CLOCK_MONOTONIC) + 20000000, 0);
    tset(d, TIMER_ABSTIME, &v, NULL);
    t0 = now_ns(CLOCK_MONOTONIC);
    sigwaitinfo(&set, &si);
    printf("absolute MONOTONIC: waited >= 15ms %s\n", now_ns(CLOCK_MONOTONIC) - t0 >= 15000000 ? "yes" : "no");
    v = spec(1, 0);
    tset(d, TIMER_ABSTIME, &v, NULL);
    sigwaitinfo(&set, &si);
    printf("absolute in the past fires: %s\n", si.si_signo == SIGALRM ? "yes" : "no");
    int r = -1;
    tcreate(CLOCK_REALTIME, NULL, &r);
    v = spec(now_ns(CLOCK_REALTIME) + 20000000, 0);
    tset(r, TIMER_ABSTIME, &v, NULL);
    tget(r, &cur);
    printf("absolute REALTIME gettime in (0, 20ms] %s\n",
           ts_ns(cur.it_value) > 0 && ts_ns(cur.it_value) <= 20000000 ? "yes" : "no");
    sigwaitinfo(&set, &si);
    printf("absolute REALTIME fires: %s\n", si.si_timerid == r ? "yes" : "no");
    tdel(r);
    tdel(d);

    // settime errors.
    SHOW("settime NULL value", syscall(SYS_timer_settime, b, 0, NULL, NULL));
    struct itimerspec bv = spec(0, 0);
    bv.it_value.tv_nsec = 1000000000;
    SHOW("settime nsec 1e9", tset(b, 0, &bv, NULL));
    bv = spec(0, 0);
    bv.it_interval.tv_sec = -1;
    SHOW("settime interval -1s", tset(b, 0, &bv, NULL));
    SHOW("settime bad pointer", syscall(SYS_timer_settime, b, 0, (void*)8, NULL));
    SHOW("settime unknown id", tset(777, 0, &v, NULL));
    SHOW("gettime unknown id", tget(777, &cur));
    SHOW("gettime bad pointer", syscall(SYS_timer_gettime, b, (void*)8));
    SHOW("getoverrun unknown id", tover(777));

    // SIGEV_NONE: nothing is sent; gettime still counts down.
    v = spec(30000000, 0);
    tset(n, 0, &v, NULL);
    tget(n, &cur);
    printf("SIGEV_NONE armed: value in (20ms, 30ms] %s\n",
           ts_ns(cur.it_value) > 20000000 && ts_ns(cur.it_value) <= 30000000 ? "yes" : "no");
    sleep_ms(40);
    tget(n, &cur);
    printf("SIGEV_NONE expired: %lld\n", ts_ns(cur.it_value));
    v = spec(10000000, 10000000);
    tset(n, 0, &v, NULL);
    sleep_ms(35);
    tget(n, &cur);
    printf("SIGEV_NONE periodic: value in (0, 10ms] %s, interval %lld\n",
           ts_ns(cur.it_value) > 0 && ts_ns(cur.it_value) <= 10000000 ? "yes" : "no", ts_ns(cur.it_interval));
    struct timespec pending_ts = {0, 0};
    printf("SIGEV_NONE sent nothing: %s\n", sigtimedwait(&set, &si, &pending_ts) < 0 ? "yes" : "no");
    tdel(n);

    // SIGEV_THREAD_ID to the calling thread.
    struct sigevent te = sig_event(SIGUSR1, 9);
    te.sigev_notify = SIGEV_THREAD_ID;
    te._sigev_un._tid = gettid();
    int t = -1;
    SHOW("create THREAD_ID self", tcreate(CLOCK_MONOTONIC, &te, &t));
    v = spec(5000000, 0);
    tset(t, 0, &v, NULL);
    sigwaitinfo(&set, &si);
    print_info("THREAD_ID", &si, t);
    tdel(t);

    // Delivered to a handler.
    sigprocmask(SIG_SETMASK, &old, NULL);
    v = spec(5000000, 0);
    tset(b, 0, &v, NULL);
    while (!handled) pause();
    print_info("handler", (siginfo_t*)&last, b);

    // CPU-time clocks: sleeping does not advance them; spinning does.
    int p = -1, th = -1;
    struct sigevent pe = sig_event(SIGUSR2, 1);
    tcreate(CLOCK_PROCESS_CPUTIME_ID, &pe, &p);
    v = spec(50000000, 0);
    handled = 0;
    tset(p, 0, &v, NULL);
    sleep_ms(100);
    tget(p, &cur);
    printf("process CPU timer after sleeping: not fired %s, value in (40ms, 50ms] %s\n", handled == 0 ? "yes" : "no",
           ts_ns(cur.it_value) > 40000000 && ts_ns(cur.it_value) <= 50000000 ? "yes" : "no");
    long long c0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
    while (!handled) sink++;
    printf("process CPU timer fired after >= 40ms of CPU %s, code SI_TIMER %s\n",
           now_ns(CLOCK_PROCESS_CPUTIME_ID) - c0 >= 40000000 ? "yes" : "no", last.si_code == SI_TIMER ? "yes" : "no");
    tdel(p);
    pe.sigev_value.sival_int = 2;
    tcreate(CLOCK_THREAD_CPUTIME_ID, &pe, &th);
    v = spec(20000000, 20000000);
    handled = 0;
    tset(th, 0, &v, NULL);
    while (handled < 3) sink++;
    tset(th, 0, &zero, NULL);
    printf("thread CPU timer periodic: 3 signals, value %d\n", last.si_value.sival_int);
    tdel(th);
    clockid_t pc;
    clock_getcpuclockid(getpid(), &pc);
    int pt = -1;
    SHOW("create on own pid clock", tcreate(pc, &pe, &pt));
    v = spec(10000000, 0);
    handled = 0;
    tset(pt, 0, &v, NULL);
    while (!handled) sink++;
    printf("pid clock timer fired\n");
    tdel(pt);

    // fork: the child has no timers and starts from id 0.
    pid_t pid = fork();
    if (pid == 0) {
        SHOW("child: gettime of parent's timer", tget(b, &cur));
        int cid = -1;
        tcreate(CLOCK_MONOTONIC, NULL, &cid);
        printf("child: first id %d\n", cid);
        fflush(stdout);
        execl("/init", "init", "exec-child", (char*)NULL);
        _exit(1);
    }
    waitpid(pid, NULL, 0);

    // glibc's SIGEV_THREAD: a helper thread runs the function (in a child,
    // so that init ends single-threaded).
    pid = fork();
    if (pid == 0) {
        sigprocmask(SIG_SETMASK, &old, NULL);
        glibc_thread_timer();
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    tdel(b);
    tdel(c);
    printf("done\n");
    return 0;
}
