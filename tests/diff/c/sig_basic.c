#include "difftest.h"
/* Signals: default actions seen from the parent, sigaction flags, SA_RESETHAND, SA_NODEFER,
 * sigprocmask, sigpending, sigsuspend, sigtimedwait, kill of a process group, SIGCHLD info. */
#include <signal.h>
#include <time.h>

static int raise_and_report(int sig) {
    fflush(stdout);
    pid_t p = fork();
    if (p == 0) {
        signal(sig, SIG_DFL);
        sigset_t s;
        sigemptyset(&s);
        sigprocmask(SIG_SETMASK, &s, NULL);
        kill(getpid(), sig);
        for (int i = 0; i < 50; i++) usleep(1000);
        _exit(100);
    }
    int st;
    waitpid(p, &st, WUNTRACED);
    if (WIFSTOPPED(st)) {
        kill(p, SIGKILL);
        int st2;
        waitpid(p, &st2, 0);
    }
    return st;
}

static volatile int hits, calls, depth, maxdepth;
static void h_count(int s) { (void)s; hits++; }
static void h_nest(int s) {
    depth++;
    if (depth > maxdepth) maxdepth = depth;
    if (++calls < 3) raise(s);
    depth--;
}
static volatile int info_code, info_signo, info_pid_ok, info_value;
static void h_info(int s, siginfo_t *si, void *uc) {
    (void)uc;
    info_signo = s;
    info_code = si->si_code;
    info_pid_ok = si->si_pid == getpid();
    info_value = si->si_value.sival_int;
}
static volatile int blocked_in_handler;
static void h_checkmask(int s) {
    sigset_t cur;
    sigprocmask(SIG_SETMASK, NULL, &cur);
    blocked_in_handler = sigismember(&cur, s) * 10 + sigismember(&cur, SIGUSR2);
}

int main(void) {
    setup();
    /* default actions, observed through the wait status */
    int sigs[] = {SIGHUP, SIGINT, SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGUSR1, SIGSEGV, SIGUSR2,
                  SIGPIPE, SIGALRM, SIGTERM, SIGSTKFLT, SIGCHLD, SIGCONT, SIGTSTP, SIGTTIN, SIGTTOU, SIGURG,
                  SIGXCPU, SIGXFSZ, SIGVTALRM, SIGPROF, SIGWINCH, SIGIO, SIGPWR, SIGSYS, SIGRTMIN, SIGRTMAX};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "default_action_%d", sigs[i]);
        CHECK(name, "%s", wstr(raise_and_report(sigs[i])));
    }
    CHECK("sigrtmin_sigrtmax_libc", "%d %d", SIGRTMIN, SIGRTMAX);
    /* sigaction errors */
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = h_count;
    CK("sigaction_sigkill", sigaction(SIGKILL, &sa, NULL));
    CK("sigaction_sigstop", sigaction(SIGSTOP, &sa, NULL));
    CK("sigaction_0", sigaction(0, &sa, NULL));
    CK("sigaction_65", syscall(SYS_rt_sigaction, 65, NULL, &old, 8));
    CK("rt_sigaction_bad_sigsetsize", syscall(SYS_rt_sigaction, SIGUSR1, NULL, &old, 4));
    CK("sigaction_query_sigkill", sigaction(SIGKILL, NULL, &old));
    /* handler runs, old action returned */
    CK("sigaction_usr1", sigaction(SIGUSR1, &sa, NULL));
    sigaction(SIGUSR1, &sa, &old);
    CHECK("sigaction_old_handler", "%d", old.sa_handler == h_count);
    raise(SIGUSR1);
    CHECK("handler_ran", "%d", hits);
    /* SA_RESETHAND: one shot, then default */
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGUSR2, &sa, NULL);
    raise(SIGUSR2);
    sigaction(SIGUSR2, NULL, &old);
    CHECK("resethand_reset", "%d hits=%d", old.sa_handler == SIG_DFL, hits);
    /* the signal is blocked in its handler unless SA_NODEFER */
    sa.sa_handler = h_nest;
    sa.sa_flags = 0;
    sigaction(SIGUSR1, &sa, NULL);
    depth = maxdepth = calls = 0;
    raise(SIGUSR1);
    CHECK("no_nodefer_max_depth", "%d calls=%d", maxdepth, calls);
    sa.sa_flags = SA_NODEFER;
    sigaction(SIGUSR1, &sa, NULL);
    depth = maxdepth = calls = 0;
    raise(SIGUSR1);
    CHECK("nodefer_max_depth", "%d calls=%d", maxdepth, calls);
    /* sa_mask is added while the handler runs */
    sa.sa_handler = h_checkmask;
    sa.sa_flags = 0;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGUSR2);
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    CHECK("mask_in_handler", "%d", blocked_in_handler);
    {
        sigset_t cur;
        sigprocmask(SIG_SETMASK, NULL, &cur);
        CHECK("mask_restored_after_handler", "%d %d", sigismember(&cur, SIGUSR1), sigismember(&cur, SIGUSR2));
    }
    /* SA_SIGINFO for raise and sigqueue */
    sa.sa_sigaction = h_info;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    kill(getpid(), SIGUSR1);
    CHECK("siginfo_kill", "signo=%d code=%d pid_ok=%d", info_signo, info_code, info_pid_ok);
    sigqueue(getpid(), SIGUSR1, (union sigval){.sival_int = 77});
    CHECK("siginfo_sigqueue", "signo=%d code=%d value=%d", info_signo, info_code, info_value);
    raise(SIGUSR1);
    CHECK("siginfo_raise_tkill", "code=%d", info_code);
    /* sigprocmask and sigpending */
    {
        sigset_t s, o, pend;
        sigemptyset(&s);
        sigaddset(&s, SIGUSR1);
        sigaddset(&s, SIGKILL);
        sigaddset(&s, SIGSTOP);
        CK("sigprocmask_block", sigprocmask(SIG_BLOCK, &s, &o));
        sigprocmask(SIG_SETMASK, NULL, &o);
        CHECK("kill_stop_not_blockable", "%d %d %d", sigismember(&o, SIGUSR1), sigismember(&o, SIGKILL), sigismember(&o, SIGSTOP));
        CK("sigprocmask_bad_how", sigprocmask(99, &s, NULL));
        info_signo = 0;
        raise(SIGUSR1);
        raise(SIGUSR1);
        sigpending(&pend);
        CHECK("pending_while_blocked", "%d delivered=%d", sigismember(&pend, SIGUSR1), info_signo);
        sigprocmask(SIG_UNBLOCK, &s, NULL);
        CHECK("delivered_on_unblock", "%d", info_signo);
        sigpending(&pend);
        CHECK("pending_cleared", "%d", sigismember(&pend, SIGUSR1));
        /* ignored signals are discarded, not left pending */
        signal(SIGUSR2, SIG_IGN);
        sigaddset(&s, SIGUSR2);
        sigprocmask(SIG_BLOCK, &s, NULL);
        raise(SIGUSR2);
        sigpending(&pend);
        CHECK("ignored_blocked_pending", "%d", sigismember(&pend, SIGUSR2));
        sigprocmask(SIG_UNBLOCK, &s, NULL);
        signal(SIGUSR2, SIG_DFL);
    }
    /* sigsuspend */
    {
        sigset_t s, w;
        sigemptyset(&s);
        sigaddset(&s, SIGUSR1);
        sigprocmask(SIG_BLOCK, &s, NULL);
        info_signo = 0;
        raise(SIGUSR1);
        sigemptyset(&w);
        CK("sigsuspend", sigsuspend(&w));
        CHECK("sigsuspend_delivered", "%d", info_signo);
        sigset_t cur;
        sigprocmask(SIG_SETMASK, NULL, &cur);
        CHECK("sigsuspend_mask_restored", "%d", sigismember(&cur, SIGUSR1));
    }
    /* sigtimedwait */
    {
        sigset_t s;
        sigemptyset(&s);
        sigaddset(&s, SIGUSR1);
        struct timespec ts = {0, 10 * 1000 * 1000};
        siginfo_t si;
        CK("sigtimedwait_timeout", sigtimedwait(&s, &si, &ts));
        raise(SIGUSR1);
        CK("sigtimedwait_pending", sigtimedwait(&s, &si, &ts));
        CHECK("sigtimedwait_info", "signo=%d code=%d", si.si_signo, si.si_code);
        struct timespec bad = {0, -1};
        CK("sigtimedwait_bad_ts", sigtimedwait(&s, &si, &bad));
        struct timespec zero = {0, 0};
        CK("sigtimedwait_zero_poll", sigtimedwait(&s, &si, &zero));
        sigqueue(getpid(), SIGUSR1, (union sigval){.sival_int = 5});
        CK("sigwaitinfo", sigwaitinfo(&s, &si));
        CHECK("sigwaitinfo_value", "%d code=%d", si.si_value.sival_int, si.si_code);
        sigprocmask(SIG_UNBLOCK, &s, NULL);
    }
    /* kill errors and process groups */
    {
        CK("kill_bad_signal", kill(getpid(), 65));
        CK("kill_no_such_pid", kill(999999, 0));
        CK("kill_self_0", kill(getpid(), 0));
        CK("kill_no_such_pgrp", kill(-999999, SIGTERM));
        int alive[2];
        pipe(alive);
        fflush(stdout);
        pid_t leader = fork();
        if (leader == 0) {
            setpgid(0, 0);
            for (int i = 0; i < 2; i++) if (fork() == 0) { for (;;) pause(); }
            for (;;) pause();
        }
        close(alive[1]);
        setpgid(leader, leader);
        usleep(50000);
        CK("kill_pgrp", kill(-leader, SIGTERM));
        int st;
        waitpid(leader, &st, 0);
        CHECK("pgrp_leader_status", "%s", wstr(st));
        char c;
        CK("pgrp_members_all_dead", read(alive[0], &c, 1)); /* EOF once every holder died */
        close(alive[0]);
    }
    /* SIGCHLD siginfo */
    {
        struct sigaction c;
        memset(&c, 0, sizeof c);
        c.sa_sigaction = h_info;
        c.sa_flags = SA_SIGINFO;
        sigaction(SIGCHLD, &c, NULL);
        sigset_t s, o;
        sigemptyset(&s);
        sigaddset(&s, SIGCHLD);
        sigprocmask(SIG_BLOCK, &s, &o);
        fflush(stdout);
        pid_t p = fork();
        if (p == 0) _exit(3);
        siginfo_t si;
        memset(&si, 0, sizeof si);
        sigwaitinfo(&s, &si);
        CHECK("sigchld_exit_info", "signo=%d code=%d status=%d pid_ok=%d", si.si_signo, si.si_code, si.si_status, si.si_pid == p);
        waitpid(p, NULL, 0);
        p = fork();
        if (p == 0) { for (;;) pause(); }
        kill(p, SIGKILL);
        memset(&si, 0, sizeof si);
        sigwaitinfo(&s, &si);
        CHECK("sigchld_killed_info", "signo=%d code=%d status=%d", si.si_signo, si.si_code, si.si_status);
        waitpid(p, NULL, 0);
        p = fork();
        if (p == 0) { for (;;) pause(); }
        kill(p, SIGSTOP);
        memset(&si, 0, sizeof si);
        sigwaitinfo(&s, &si);
        CHECK("sigchld_stopped_info", "signo=%d code=%d status=%d", si.si_signo, si.si_code, si.si_status);
        kill(p, SIGCONT);
        memset(&si, 0, sizeof si);
        sigwaitinfo(&s, &si);
        CHECK("sigchld_continued_info", "signo=%d code=%d status=%d", si.si_signo, si.si_code, si.si_status);
        kill(p, SIGKILL);
        waitpid(p, NULL, 0);
        sigwaitinfo(&s, &si);
        /* SA_NOCLDSTOP: no SIGCHLD for stops */
        c.sa_flags = SA_SIGINFO | SA_NOCLDSTOP;
        sigaction(SIGCHLD, &c, NULL);
        p = fork();
        if (p == 0) { for (;;) pause(); }
        kill(p, SIGSTOP);
        int st;
        waitpid(p, &st, WUNTRACED);
        struct timespec ts = {0, 20 * 1000 * 1000};
        CK("nocldstop_no_signal", sigtimedwait(&s, &si, &ts));
        kill(p, SIGKILL);
        waitpid(p, NULL, 0);
        sigtimedwait(&s, &si, &ts);
        sigprocmask(SIG_SETMASK, &o, NULL);
        signal(SIGCHLD, SIG_DFL);
    }
    return 0;
}
