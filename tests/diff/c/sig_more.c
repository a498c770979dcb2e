#include "difftest.h"
/* Signals: EINTR vs SA_RESTART on a pipe read interrupted by alarm, rt signal queueing order,
 * standard signal coalescing, delivery order, sigaltstack, setitimer/alarm, pause. */
#include <signal.h>
#include <stdint.h>
#include <sys/time.h>

static volatile int alarms;
static void on_alarm(int s) { (void)s; alarms++; }
static int alarm_pipe[2];
static void on_alarm_write(int s) { (void)s; alarms++; write(alarm_pipe[1], "R", 1); }

static volatile int order[64], norder;
static void on_rec(int s, siginfo_t *si, void *uc) { (void)uc; if (norder < 64) order[norder++] = s * 1000 + si->si_value.sival_int; }

static volatile int on_alt, alt_flags;
static char *alt_base;
static size_t alt_size;
static void on_altsig(int s) {
    (void)s;
    char probe;
    on_alt = (&probe > alt_base && &probe < alt_base + alt_size);
    stack_t cur;
    sigaltstack(NULL, &cur);
    alt_flags = cur.ss_flags;
}
static volatile int overflow_caught;
static void on_segv_alt(int s) { (void)s; overflow_caught = 1; _exit(42); }
static int recurse(int n) { volatile char buf[1024]; buf[0] = (char)n; return recurse(n + 1) + buf[0]; }
static int stack_overflow_child(void) {
    static char altstack[65536];
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
    sigaltstack(&ss, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_segv_alt;
    sa.sa_flags = SA_ONSTACK;
    sigaction(SIGSEGV, &sa, NULL);
    return recurse(0);
}
static int stack_overflow_no_alt_child(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_segv_alt;
    sigaction(SIGSEGV, &sa, NULL);
    return recurse(0);
}

int main(void) {
    setup();
    /* EINTR vs SA_RESTART: a blocking pipe read interrupted by SIGALRM. The handler writes
     * one byte into the pipe, so a restarted read returns it at once. */
    {
        pipe(alarm_pipe);
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_alarm_write;
        sigaction(SIGALRM, &sa, NULL);
        char c = '?';
        struct itimerval it = {{0, 0}, {0, 200000}};
        setitimer(ITIMER_REAL, &it, NULL);
        CK("read_interrupted_no_restart", read(alarm_pipe[0], &c, 1));
        CHECK("alarm_fired", "%d", alarms);
        read(alarm_pipe[0], &c, 1);
        sa.sa_flags = SA_RESTART;
        sigaction(SIGALRM, &sa, NULL);
        c = '?';
        setitimer(ITIMER_REAL, &it, NULL);
        CK("read_restarted", read(alarm_pipe[0], &c, 1));
        CHECK("read_restarted_value", "%c alarms=%d", c, alarms);
        CK("alarm_returns_remaining_0", alarm(0));
        alarm(100);
        CK("alarm_returns_remaining", alarm(0));
        close(alarm_pipe[0]); close(alarm_pipe[1]);
        sa.sa_handler = on_alarm;
        sa.sa_flags = 0;
        sigaction(SIGALRM, &sa, NULL);
    }
    /* pause returns EINTR */
    {
        struct itimerval it = {{0, 0}, {0, 20000}};
        CK("setitimer_real", setitimer(ITIMER_REAL, &it, NULL));
        CK("pause", pause());
        struct itimerval cur;
        getitimer(ITIMER_REAL, &cur);
        CHECK("itimer_disarmed", "%ld %ld", (long)cur.it_value.tv_sec, (long)cur.it_value.tv_usec);
        CK("setitimer_bad_which", setitimer(7, &it, NULL));
        struct itimerval bad = {{0, 0}, {0, 2000000}};
        CK("setitimer_bad_usec", setitimer(ITIMER_REAL, &bad, NULL));
        signal(SIGALRM, SIG_DFL);
    }
    /* queueing: rt signals queue (in order, lowest number first), standard ones coalesce */
    {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_rec;
        sa.sa_flags = SA_SIGINFO;
        sigfillset(&sa.sa_mask);
        int sigs[] = {SIGRTMIN, SIGRTMIN + 1, SIGRTMIN + 5, SIGUSR1, SIGUSR2, SIGHUP};
        for (int i = 0; i < 6; i++) sigaction(sigs[i], &sa, NULL);
        sigset_t all, old;
        sigfillset(&all);
        sigprocmask(SIG_BLOCK, &all, &old);
        int seq = 0;
        for (int round = 0; round < 3; round++) {
            sigqueue(getpid(), SIGRTMIN + 5, (union sigval){.sival_int = seq++});
            sigqueue(getpid(), SIGRTMIN, (union sigval){.sival_int = seq++});
            sigqueue(getpid(), SIGRTMIN + 1, (union sigval){.sival_int = seq++});
            sigqueue(getpid(), SIGUSR2, (union sigval){.sival_int = seq++});
            sigqueue(getpid(), SIGUSR1, (union sigval){.sival_int = seq++});
        }
        sigqueue(getpid(), SIGHUP, (union sigval){.sival_int = seq++});
        norder = 0;
        sigprocmask(SIG_SETMASK, &old, NULL);
        char out[512] = "";
        for (int i = 0; i < norder; i++) {
            char b[24];
            int s = order[i] / 1000, v = order[i] % 1000;
            const char *nm = s == SIGUSR1 ? "USR1" : s == SIGUSR2 ? "USR2" : s == SIGHUP ? "HUP" : NULL;
            if (nm) snprintf(b, sizeof b, "%s/%d ", nm, v);
            else snprintf(b, sizeof b, "RT+%d/%d ", s - SIGRTMIN, v);
            strcat(out, b);
        }
        CHECK("delivery_order", "%s", out);
        CHECK("delivered_count", "%d", norder);
    }
    /* sigqueue limits */
    {
        CK("sigqueue_bad_signal", sigqueue(getpid(), 99, (union sigval){0}));
        siginfo_t si;
        memset(&si, 0, sizeof si);
        si.si_code = SI_KERNEL;
        CK("rt_sigqueueinfo_forged_code_other_pid", syscall(SYS_rt_sigqueueinfo, 1, SIGUSR1, &si));
        si.si_code = SI_TKILL;
        CK("rt_sigqueueinfo_tkill_code_other_pid", syscall(SYS_rt_sigqueueinfo, 1, SIGUSR1, &si));
        si.si_code = SI_QUEUE;
        CK("rt_sigqueueinfo_queue_code_self", syscall(SYS_rt_sigqueueinfo, getpid(), SIGUSR1, &si));
    }
    /* sigaltstack */
    {
        static char alt[65536];
        stack_t ss = {.ss_sp = alt, .ss_size = sizeof alt, .ss_flags = 0}, old;
        CK("sigaltstack_query", sigaltstack(NULL, &old));
        CHECK("sigaltstack_initial", "flags=%d size=%zu", old.ss_flags, old.ss_size);
        stack_t small = {.ss_sp = alt, .ss_size = 512, .ss_flags = 0};
        CK("sigaltstack_too_small", sigaltstack(&small, NULL));
        stack_t badf = {.ss_sp = alt, .ss_size = sizeof alt, .ss_flags = 0x7};
        CK("sigaltstack_bad_flags", sigaltstack(&badf, NULL));
        CK("sigaltstack_set", sigaltstack(&ss, NULL));
        sigaltstack(NULL, &old);
        CHECK("sigaltstack_after_set", "flags=%d size=%zu sp_ok=%d", old.ss_flags, old.ss_size, old.ss_sp == alt);
        alt_base = alt;
        alt_size = sizeof alt;
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_altsig;
        sigaction(SIGUSR1, &sa, NULL);
        raise(SIGUSR1);
        CHECK("handler_without_onstack", "on_alt=%d flags=%d", on_alt, alt_flags);
        sa.sa_flags = SA_ONSTACK;
        sigaction(SIGUSR1, &sa, NULL);
        raise(SIGUSR1);
        CHECK("handler_with_onstack", "on_alt=%d flags=%d", on_alt, alt_flags);
        stack_t dis = {.ss_flags = SS_DISABLE};
        CK("sigaltstack_disable", sigaltstack(&dis, NULL));
        sigaltstack(NULL, &old);
        CHECK("sigaltstack_disabled", "flags=%d", old.ss_flags);
        CHECK("stack_overflow_with_altstack", "%s", wstr(in_child(stack_overflow_child)));
        CHECK("stack_overflow_without_altstack", "%s", wstr(in_child(stack_overflow_no_alt_child)));
    }
    /* handler return restores registers / the interrupted computation */
    {
        volatile double acc = 0;
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_alarm;
        sigaction(SIGALRM, &sa, NULL);
        struct itimerval it = {{0, 1000}, {0, 1000}};
        setitimer(ITIMER_REAL, &it, NULL);
        alarms = 0;
        uint64_t x = 1;
        for (int i = 0; i < 3000000; i++) { acc += 0.5; x = x * 6364136223846793005ULL + 1442695040888963407ULL; }
        /* keep the timer running until it has interrupted us a few times (at most ~5 s) */
        for (long spin = 0; alarms < 3 && spin < 2000000000L; spin++) __asm__ volatile("" ::: "memory");
        struct itimerval off = {{0, 0}, {0, 0}};
        setitimer(ITIMER_REAL, &off, NULL);
        CHECK("computation_survives_signals", "%.1f %llx", acc, (unsigned long long)x);
        CHECK("many_alarms_delivered", "%d", alarms >= 3);
    }
    return 0;
}
