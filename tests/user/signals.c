// Signals as pid 1: handlers and siginfo, masks and pending sets, default
// actions seen from the parent, EINTR and SA_RESTART, the alternate stack,
// real-time queueing, sigtimedwait, stop/continue, FPU state across a
// handler. Printed lines are compared with Linux 6.12's.
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile int got, got_code, got_pid_ok, chld, rt_values[8], rt_count;
static volatile void* fault_addr;
static sigjmp_buf jb;
static char altstack[65536];
static volatile int was_on_alt;

static void on_usr1(int sig, siginfo_t* si, void* uc) {
    (void)uc;
    got = sig;
    got_code = si->si_code;
    got_pid_ok = si->si_pid == getpid();
}
static void on_segv(int sig, siginfo_t* si, void* uc) {
    (void)uc;
    got = sig;
    got_code = si->si_code;
    fault_addr = si->si_addr;
    siglongjmp(jb, 1);
}
static void on_chld(int sig) { (void)sig; chld++; }
static void on_alrm(int sig) { (void)sig; got = SIGALRM; }
static void on_alt(int sig) {
    (void)sig;
    char here;
    was_on_alt = &here >= altstack && &here < altstack + sizeof(altstack);
}
static void on_rt(int sig, siginfo_t* si, void* uc) {
    (void)sig; (void)uc;
    rt_values[rt_count++] = si->si_value.sival_int;
}
static void on_fp(int sig) {
    (void)sig;
    volatile double x = 3.0;
    for (int i = 0; i < 10; ++i) x = x * 1.5 + 0.25;
    got = (int)x;
}

static void install(int sig, void (*h)(int, siginfo_t*, void*), int flags) {
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = h;
    sa.sa_flags = SA_SIGINFO | flags;
    sigaction(sig, &sa, NULL);
}
static void install_plain(int sig, void (*h)(int), int flags) {
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = h;
    sa.sa_flags = flags;
    sigaction(sig, &sa, NULL);
}

static int child_status(void (*body)(void)) {
    pid_t pid = fork();
    if (pid == 0) {
        body();
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    return st;
}
static void die_term(void) { kill(getpid(), SIGTERM); pause(); }
static void die_segv(void) { *(volatile int*)8 = 1; }
static void die_resethand(void) { install(SIGUSR1, on_usr1, SA_RESETHAND); raise(SIGUSR1); raise(SIGUSR1); }
static void die_abort(void) { abort(); }

int main(void) {
    install(SIGUSR1, on_usr1, 0);
    raise(SIGUSR1);
    printf("handler: sig=%d code_is_tkill=%d pid_ok=%d\n", got, got_code == SI_TKILL, got_pid_ok);
    got = 0;
    kill(getpid(), SIGUSR1);
    printf("kill to self: sig=%d code_is_user=%d\n", got, got_code == SI_USER);

    int st = child_status(die_term);
    printf("SIGTERM default: signaled=%d sig=%d core=%d\n", WIFSIGNALED(st), WTERMSIG(st), WCOREDUMP(st));
    st = child_status(die_segv);
    printf("SIGSEGV default: signaled=%d sig=%d core=%d\n", WIFSIGNALED(st), WTERMSIG(st), WCOREDUMP(st));
    st = child_status(die_resethand);
    printf("SA_RESETHAND second raise: signaled=%d sig=%d\n", WIFSIGNALED(st), WTERMSIG(st));
    st = child_status(die_abort);
    printf("abort: signaled=%d sig=%d\n", WIFSIGNALED(st), WTERMSIG(st));

    install(SIGSEGV, on_segv, 0);
    if (sigsetjmp(jb, 1) == 0) *(volatile int*)16 = 1;
    printf("SIGSEGV handled: sig=%d maperr=%d addr=%p\n", got, got_code == SEGV_MAPERR, (void*)fault_addr);
    signal(SIGSEGV, SIG_DFL);

    sigset_t set, old, pend;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, &old);
    got = 0;
    raise(SIGUSR1);
    sigpending(&pend);
    printf("blocked: delivered=%d pending=%d\n", got, sigismember(&pend, SIGUSR1));
    sigprocmask(SIG_SETMASK, &old, NULL);
    printf("unblocked: delivered=%d\n", got);

    install_plain(SIGCHLD, on_chld, 0);
    for (int i = 0; i < 3; ++i) {
        pid_t p = fork();
        if (p == 0) _exit(0);
        waitpid(p, NULL, 0);
    }
    printf("SIGCHLD handled %d times\n", chld);
    signal(SIGCHLD, SIG_DFL);

    int fds[2];
    pipe(fds);
    install_plain(SIGALRM, on_alrm, 0);
    struct itimerval it = {{0, 0}, {0, 50000}};
    setitimer(ITIMER_REAL, &it, NULL);
    char c;
    errno = 0;
    ssize_t n = read(fds[0], &c, 1);
    printf("read interrupted: ret=%zd eintr=%d alarm=%d\n", n, errno == EINTR, got == SIGALRM);

    install_plain(SIGALRM, on_alrm, SA_RESTART);
    pid_t w = fork();
    if (w == 0) {
        struct timespec ts = {0, 200000000};
        nanosleep(&ts, NULL);
        write(fds[1], "z", 1);
        _exit(0);
    }
    got = 0;
    setitimer(ITIMER_REAL, &it, NULL);
    n = read(fds[0], &c, 1);
    printf("read restarted: ret=%zd char=%c alarm=%d\n", n, c, got == SIGALRM);
    waitpid(w, NULL, 0);

    got = 0;
    setitimer(ITIMER_REAL, &it, NULL);
    struct timespec longsleep = {5, 0}, rem;
    errno = 0;
    int r = nanosleep(&longsleep, &rem);
    printf("nanosleep interrupted: ret=%d eintr=%d rem_ok=%d\n", r, errno == EINTR, rem.tv_sec >= 4 && rem.tv_sec <= 5);
    got = 0;
    setitimer(ITIMER_REAL, &it, NULL);
    pause();
    printf("pause returned: alarm=%d\n", got == SIGALRM);

    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof(altstack), .ss_flags = 0};
    r = sigaltstack(&ss, NULL);
    printf("sigaltstack: %d\n", r);
    install_plain(SIGUSR2, on_alt, SA_ONSTACK);
    raise(SIGUSR2);
    printf("ran on the alternate stack: %d\n", was_on_alt);
    stack_t small = {.ss_sp = altstack, .ss_size = 100, .ss_flags = 0};
    errno = 0;
    r = sigaltstack(&small, NULL);
    printf("tiny altstack: %d enomem=%d\n", r, errno == ENOMEM);

    install(SIGRTMIN, on_rt, 0);
    sigemptyset(&set);
    sigaddset(&set, SIGRTMIN);
    sigprocmask(SIG_BLOCK, &set, NULL);
    for (int i = 1; i <= 3; ++i) sigqueue(getpid(), SIGRTMIN, (union sigval){.sival_int = i * 10});
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    printf("rt queued: count=%d values=%d,%d,%d\n", rt_count, rt_values[0], rt_values[1], rt_values[2]);

    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);
    struct timespec short_wait = {0, 30000000};
    errno = 0;
    int s = sigtimedwait(&set, NULL, &short_wait);
    printf("sigtimedwait timeout: %d eagain=%d\n", s, errno == EAGAIN);
    raise(SIGUSR1);
    siginfo_t si;
    s = sigtimedwait(&set, &si, &short_wait);
    printf("sigtimedwait got: %d code_is_tkill=%d\n", s, si.si_code == SI_TKILL);
    sigprocmask(SIG_UNBLOCK, &set, NULL);

    pid_t sp = fork();
    if (sp == 0) {
        for (;;) pause();
    }
    kill(sp, SIGSTOP);
    waitpid(sp, &st, WUNTRACED);
    printf("stopped: %d sig=%d\n", WIFSTOPPED(st), WSTOPSIG(st));
    kill(sp, SIGCONT);
    waitpid(sp, &st, WCONTINUED);
    printf("continued: %d\n", WIFCONTINUED(st));
    kill(sp, SIGKILL);
    waitpid(sp, &st, 0);
    printf("killed: sig=%d\n", WTERMSIG(st));

    install_plain(SIGUSR2, on_fp, 0);
    volatile double acc = 1.0;
    for (int i = 0; i < 5; ++i) {
        acc = acc * 2.5 + 1.0;
        raise(SIGUSR2);
    }
    printf("fpu kept across handlers: %.4f handler=%d\n", acc, got);

    errno = 0;
    r = kill(getpid(), 65);
    printf("bad signal: %d einval=%d\n", r, errno == EINVAL);
    errno = 0;
    r = kill(30000, 0);
    printf("no such pid: %d esrch=%d\n", r, errno == ESRCH);
    errno = 0;
    r = sigaction(SIGKILL, &(struct sigaction){0}, NULL);
    printf("sigaction SIGKILL: %d einval=%d\n", r, errno == EINVAL);
    return 0;
}
