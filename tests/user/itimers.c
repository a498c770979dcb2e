// CPU-time accounting (user/system split in getrusage, times, the CPU-time
// clocks and /proc/<pid>/stat) and the interval timers of setitimer(2):
// ITIMER_REAL, ITIMER_VIRTUAL (user time, SIGVTALRM) and ITIMER_PROF
// (user+system, SIGPROF). CPU times vary, so only comparisons are printed.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/times.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile int got_vt, got_prof, got_alrm;
static volatile int last_code;

static void on_signal(int sig, siginfo_t* si, void* uc) {
    (void)uc;
    last_code = si->si_code;
    if (sig == SIGVTALRM) got_vt++;
    if (sig == SIGPROF) got_prof++;
    if (sig == SIGALRM) got_alrm++;
}

// Prints a call's result and errno (evaluated in that order).
#define SHOW(label, call)                                                    \
    do {                                                                     \
        errno = 0;                                                           \
        long r_ = (long)(call);                                              \
        int e_ = errno;                                                      \
        printf("%s: %ld %s\n", label, r_, r_ < 0 ? strerror(e_) : "");     \
    } while (0)

static long long ns_of(struct timeval tv) { return tv.tv_sec * 1000000000LL + tv.tv_usec * 1000LL; }

static long long cpu_ns(clockid_t c) {
    struct timespec ts;
    if (clock_gettime(c, &ts)) return -1;
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long long mono_ns(void) { return cpu_ns(CLOCK_MONOTONIC); }

static volatile unsigned long sink;

// Spins in user mode for about `ms` of CPU time.
static void spin_user(int ms) {
    long long end = cpu_ns(CLOCK_THREAD_CPUTIME_ID) + ms * 1000000LL;
    while (cpu_ns(CLOCK_THREAD_CPUTIME_ID) < end)
        for (int i = 0; i < 200000; ++i) sink += i;
}

// Spends about `ms` mostly in the kernel (copying from /dev/zero).
static void spin_kernel(int ms) {
    static char buf[1 << 16];
    int fd = open("/dev/zero", O_RDONLY);
    long long end = cpu_ns(CLOCK_THREAD_CPUTIME_ID) + ms * 1000000LL;
    while (cpu_ns(CLOCK_THREAD_CPUTIME_ID) < end)
        for (int i = 0; i < 16; ++i) (void)!read(fd, buf, sizeof(buf));
    close(fd);
}

static void exec_child(void) {
    struct itimerval v;
    getitimer(ITIMER_VIRTUAL, &v);
    printf("after exec: ITIMER_VIRTUAL kept %s\n", ns_of(v.it_value) > 0 ? "yes" : "no");
    getitimer(ITIMER_PROF, &v);
    printf("after exec: ITIMER_PROF kept %s, interval %ld.%06ld\n", ns_of(v.it_value) > 0 ? "yes" : "no",
           (long)v.it_interval.tv_sec, (long)v.it_interval.tv_usec);
    getitimer(ITIMER_REAL, &v);
    printf("after exec: ITIMER_REAL kept %s\n", ns_of(v.it_value) > 0 ? "yes" : "no");
    exit(0);
}

static void check_times(void) {
    struct rusage r0, r1, r2;
    getrusage(RUSAGE_SELF, &r0);
    spin_user(300);
    getrusage(RUSAGE_SELF, &r1);
    long long du = ns_of(r1.ru_utime) - ns_of(r0.ru_utime), ds = ns_of(r1.ru_stime) - ns_of(r0.ru_stime);
    printf("busy loop: utime grew %s, stime < utime %s\n", du > 100000000 ? "yes" : "no", ds < du ? "yes" : "no");
    spin_kernel(300);
    getrusage(RUSAGE_SELF, &r2);
    long long du2 = ns_of(r2.ru_utime) - ns_of(r1.ru_utime), ds2 = ns_of(r2.ru_stime) - ns_of(r1.ru_stime);
    (void)du2;
    printf("copy loop: stime grew %s\n", ds2 > 100000000 ? "yes" : "no");

    struct rusage rt;
    getrusage(RUSAGE_THREAD, &rt);
    printf("RUSAGE_THREAD: utime > 0 %s, stime > 0 %s\n", ns_of(rt.ru_utime) > 0 ? "yes" : "no",
           ns_of(rt.ru_stime) > 0 ? "yes" : "no");
    SHOW("getrusage(99)", getrusage(99, &rt));

    struct tms t;
    clock_t c = times(&t);
    printf("times: ok %s, utime > 0 %s, stime > 0 %s, children 0 %s\n", c != (clock_t)-1 ? "yes" : "no",
           t.tms_utime > 0 ? "yes" : "no", t.tms_stime > 0 ? "yes" : "no",
           t.tms_cutime == 0 && t.tms_cstime == 0 ? "yes" : "no");

    long long proc = cpu_ns(CLOCK_PROCESS_CPUTIME_ID), thr = cpu_ns(CLOCK_THREAD_CPUTIME_ID);
    struct rusage rs;
    getrusage(RUSAGE_SELF, &rs);
    long long ru = ns_of(rs.ru_utime) + ns_of(rs.ru_stime);
    printf("CPU clocks: process >= 600ms %s, thread <= process %s, rusage within 20ms %s\n",
           proc >= 600000000 ? "yes" : "no", thr <= cpu_ns(CLOCK_PROCESS_CPUTIME_ID) ? "yes" : "no",
           llabs(ru - proc) < 20000000 ? "yes" : "no");
    clockid_t pc, tc;
    printf("clock_getcpuclockid(self): %d\n", clock_getcpuclockid(getpid(), &pc));
    long long viapid = cpu_ns(pc);
    printf("pid clock agrees %s\n", viapid >= proc && viapid - proc < 50000000 ? "yes" : "no");
    printf("clock_getcpuclockid(99999): %s\n", strerror(clock_getcpuclockid(99999, &pc)));
    // The thread clock of the calling thread, made by hand (pthread_getcpuclockid's encoding).
    tc = (clockid_t)((~(unsigned)gettid() << 3) | 4 | 2);
    long long viatid = cpu_ns(tc);
    printf("tid clock agrees %s\n", viatid >= thr && viatid - thr < 50000000 ? "yes" : "no");
    // PROF (0) and VIRT (1) flavours of the pid clock.
    clockid_t prof = (clockid_t)((~(unsigned)getpid() << 3) | 0), virt = (clockid_t)((~(unsigned)getpid() << 3) | 1);
    long long p = cpu_ns(prof), v = cpu_ns(virt);
    printf("pid PROF clock >= VIRT clock %s, VIRT > 0 %s\n", p >= v ? "yes" : "no", v > 0 ? "yes" : "no");
    struct timespec res;
    clock_getres(prof, &res);
    printf("PROF clock resolution %ld ns\n", res.tv_nsec);
    clock_getres(pc, &res);
    printf("SCHED clock resolution %ld ns\n", res.tv_nsec);
    SHOW("clock_gettime(PROF|VIRT thread clock 0 with which 3)", clock_gettime((clockid_t)((~0u << 3) | 3 | 4), &res));
    SHOW("clock_gettime(pid clock of 99999)", clock_gettime((clockid_t)((~99999u << 3) | 2), &res));
    SHOW("clock_gettime(tid clock of 99999)", clock_gettime((clockid_t)((~99999u << 3) | 6), &res));

    // A child's time shows up as the children's once it is reaped.
    pid_t pid = fork();
    if (pid == 0) {
        spin_user(100);
        spin_kernel(100);
        _exit(0);
    }
    struct rusage rc0;
    getrusage(RUSAGE_CHILDREN, &rc0);
    printf("children before wait: 0 %s\n", ns_of(rc0.ru_utime) + ns_of(rc0.ru_stime) == 0 ? "yes" : "no");
    waitpid(pid, NULL, 0);
    struct rusage rc;
    getrusage(RUSAGE_CHILDREN, &rc);
    printf("children after wait: utime > 50ms %s, stime > 50ms %s\n", ns_of(rc.ru_utime) > 50000000 ? "yes" : "no",
           ns_of(rc.ru_stime) > 50000000 ? "yes" : "no");
    times(&t);
    printf("times children: cutime > 0 %s, cstime > 0 %s\n", t.tms_cutime > 0 ? "yes" : "no",
           t.tms_cstime > 0 ? "yes" : "no");

    // /proc/<pid>/stat fields 14-17.
    mkdir("/proc", 0755);
    mount("proc", "/proc", "proc", 0, NULL);
    char buf[1024];
    int fd = open("/proc/self/stat", O_RDONLY);
    int n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
    if (n > 0) {
        buf[n] = 0;
        char* s = strrchr(buf, ')') + 2;
        unsigned long long f[20] = {0};
        int k = 3;  // s points at field 3 (state)
        char* tok = strtok(s, " ");
        while (tok && k <= 17) {
            if (k >= 14) f[k] = strtoull(tok, NULL, 10);
            tok = strtok(NULL, " ");
            ++k;
        }
        printf("/proc stat: utime > 0 %s, stime > 0 %s, cutime > 0 %s, cstime > 0 %s\n", f[14] > 0 ? "yes" : "no",
               f[15] > 0 ? "yes" : "no", f[16] > 0 ? "yes" : "no", f[17] > 0 ? "yes" : "no");
    }
    close(fd);
}

static void check_itimers(void) {
    struct itimerval v = {{0, 0}, {0, 100000}}, old;
    // ITIMER_VIRTUAL: 100 ms of user time.
    setitimer(ITIMER_VIRTUAL, &v, NULL);
    getitimer(ITIMER_VIRTUAL, &old);
    long long left = ns_of(old.it_value);
    printf("VIRTUAL just set: value in (90ms, 105ms] %s, interval 0 %s\n", left > 90000000 && left <= 105000000 ? "yes" : "no",
           ns_of(old.it_interval) == 0 ? "yes" : "no");
    struct timespec nap = {0, 200000000};
    nanosleep(&nap, NULL);
    getitimer(ITIMER_VIRTUAL, &old);
    printf("VIRTUAL after sleeping 200ms: still pending %s, no signal %s\n",
           ns_of(old.it_value) > 80000000 ? "yes" : "no", got_vt == 0 ? "yes" : "no");
    long long t0 = cpu_ns(CLOCK_PROCESS_CPUTIME_ID);
    while (!got_vt) sink++;
    long long used = cpu_ns(CLOCK_PROCESS_CPUTIME_ID) - t0;
    printf("SIGVTALRM once: %d, code SI_KERNEL %s, after >= 80ms of CPU %s\n", got_vt, last_code == SI_KERNEL ? "yes" : "no",
           used >= 80000000 ? "yes" : "no");
    getitimer(ITIMER_VIRTUAL, &old);
    printf("VIRTUAL after firing: %ld.%06ld\n", (long)old.it_value.tv_sec, (long)old.it_value.tv_usec);

    // Periodic, 20 ms.
    got_vt = 0;
    struct itimerval per = {{0, 20000}, {0, 20000}};
    setitimer(ITIMER_VIRTUAL, &per, NULL);
    while (got_vt < 3) sink++;
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_VIRTUAL, &off, &old);
    printf("periodic VIRTUAL: 3 signals, old interval %ld.%06ld, old value <= interval+tick %s\n",
           (long)old.it_interval.tv_sec, (long)old.it_interval.tv_usec, ns_of(old.it_value) <= 24000000 ? "yes" : "no");
    getitimer(ITIMER_VIRTUAL, &old);
    printf("VIRTUAL off: %ld.%06ld %ld.%06ld\n", (long)old.it_value.tv_sec, (long)old.it_value.tv_usec,
           (long)old.it_interval.tv_sec, (long)old.it_interval.tv_usec);

    // ITIMER_PROF counts kernel time too.
    struct itimerval pv = {{0, 0}, {0, 50000}};
    setitimer(ITIMER_PROF, &pv, NULL);
    while (!got_prof) spin_kernel(5);
    printf("SIGPROF from kernel time: %d, code SI_KERNEL %s\n", got_prof, last_code == SI_KERNEL ? "yes" : "no");
    got_prof = 0;
    struct itimerval pp = {{0, 10000}, {0, 10000}};
    setitimer(ITIMER_PROF, &pp, NULL);
    while (got_prof < 4) sink++;
    setitimer(ITIMER_PROF, &off, NULL);
    printf("periodic PROF: 4 signals\n");

    // ITIMER_REAL.
    struct itimerval rv = {{0, 0}, {1, 0}};
    setitimer(ITIMER_REAL, &rv, NULL);
    getitimer(ITIMER_REAL, &old);
    printf("REAL just set: value in (900ms, 1s] %s\n", ns_of(old.it_value) > 900000000 && ns_of(old.it_value) <= 1000000000 ? "yes" : "no");
    printf("alarm(0) returns %u\n", alarm(0));
    getitimer(ITIMER_REAL, &old);
    printf("REAL after alarm(0): %ld.%06ld\n", (long)old.it_value.tv_sec, (long)old.it_value.tv_usec);
    struct itimerval rp = {{0, 30000}, {0, 30000}};
    setitimer(ITIMER_REAL, &rp, NULL);
    while (got_alrm < 3) pause();
    setitimer(ITIMER_REAL, &off, &old);
    printf("periodic REAL: 3 SIGALRM, code SI_KERNEL %s, old interval %ld.%06ld\n", last_code == SI_KERNEL ? "yes" : "no",
           (long)old.it_interval.tv_sec, (long)old.it_interval.tv_usec);
    // A blocked SIGALRM stops a periodic ITIMER_REAL until it is taken.
    sigset_t set, prev;
    sigemptyset(&set);
    sigaddset(&set, SIGALRM);
    sigprocmask(SIG_BLOCK, &set, &prev);
    setitimer(ITIMER_REAL, &rp, NULL);
    nanosleep(&nap, NULL);
    getitimer(ITIMER_REAL, &old);
    printf("REAL with SIGALRM blocked after expiry: value %ld.%06ld\n", (long)old.it_value.tv_sec,
           (long)old.it_value.tv_usec);
    siginfo_t si;
    sigwaitinfo(&set, &si);
    getitimer(ITIMER_REAL, &old);
    printf("after sigwaitinfo: running again %s\n", ns_of(old.it_value) > 0 && ns_of(old.it_value) <= 30000000 ? "yes" : "no");
    setitimer(ITIMER_REAL, &off, NULL);
    sigprocmask(SIG_SETMASK, &prev, NULL);

    // Errors.
    SHOW("setitimer(99)", setitimer(99, &v, NULL));
    SHOW("getitimer(99)", getitimer(99, &old));
    struct itimerval bad = {{0, 0}, {0, 1000000}};
    SHOW("setitimer usec 1000000", setitimer(ITIMER_VIRTUAL, &bad, NULL));
    struct itimerval neg = {{0, 0}, {-1, 0}};
    SHOW("setitimer sec -1", setitimer(ITIMER_PROF, &neg, NULL));
    SHOW("setitimer(99) with a bad value", setitimer(99, &bad, NULL));
    SHOW("setitimer bad pointer", syscall(SYS_setitimer, ITIMER_VIRTUAL, (void*)8, NULL));
    SHOW("getitimer bad pointer", syscall(SYS_getitimer, ITIMER_PROF, (void*)8));
    setitimer(ITIMER_VIRTUAL, &v, NULL);
    printf("setitimer NULL value: %ld\n", syscall(SYS_setitimer, ITIMER_VIRTUAL, NULL, &old));
    getitimer(ITIMER_VIRTUAL, &old);
    printf("disarmed by NULL: %s\n", ns_of(old.it_value) == 0 ? "yes" : "no");

    // fork clears the timers in the child; exec keeps them.
    struct itimerval longv = {{0, 0}, {100, 0}}, longp = {{0, 250000}, {100, 0}};
    setitimer(ITIMER_VIRTUAL, &longv, NULL);
    setitimer(ITIMER_PROF, &longp, NULL);
    setitimer(ITIMER_REAL, &longv, NULL);
    pid_t pid = fork();
    if (pid == 0) {
        struct itimerval a, b, c;
        getitimer(ITIMER_VIRTUAL, &a);
        getitimer(ITIMER_PROF, &b);
        getitimer(ITIMER_REAL, &c);
        printf("fork child: VIRTUAL %s, PROF %s, REAL %s\n", ns_of(a.it_value) ? "armed" : "clear",
               ns_of(b.it_value) ? "armed" : "clear", ns_of(c.it_value) ? "armed" : "clear");
        fflush(stdout);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    pid = fork();
    if (pid == 0) {
        setitimer(ITIMER_VIRTUAL, &longv, NULL);
        setitimer(ITIMER_PROF, &longp, NULL);
        setitimer(ITIMER_REAL, &longv, NULL);
        execl("/init", "init", "exec-child", (char*)NULL);
        _exit(1);
    }
    waitpid(pid, NULL, 0);
    setitimer(ITIMER_VIRTUAL, &off, NULL);
    setitimer(ITIMER_PROF, &off, NULL);
    setitimer(ITIMER_REAL, &off, NULL);
}

int main(int argc, char** argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc > 1 && !strcmp(argv[1], "exec-child")) exec_child();
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGVTALRM, &sa, NULL);
    sigaction(SIGPROF, &sa, NULL);
    sigaction(SIGALRM, &sa, NULL);
    (void)mono_ns;
    check_times();
    check_itimers();
    printf("done\n");
    return 0;
}
