#include "difftest.h"
/* Processes: fork/wait statuses, exit codes, vfork, waitid, stop/continue. */
#include <signal.h>
#include <sys/resource.h>

static int exit_7(void) { return 7; }
static int exit_256(void) { _exit(256); }
static int exit_minus1(void) { _exit(-1); }
static int die_abort(void) { abort(); }
static int die_segv(void) { raise(SIGSEGV); return 0; }
static int die_kill(void) { raise(SIGKILL); return 0; }
static int die_term(void) { kill(getpid(), SIGTERM); pause(); return 0; }
static int die_usr1(void) { raise(SIGUSR1); return 0; }
static int ignore_term(void) { signal(SIGTERM, SIG_IGN); raise(SIGTERM); return 3; }
static int exit_group_raw(void) { syscall(SYS_exit_group, 42); return 0; }
static int return_from_main_like(void) { exit(5); }

int main(void) {
    setup();
    CHECK("exit_7", "%s", wstr(in_child(exit_7)));
    CHECK("exit_256_truncated", "%s", wstr(in_child(exit_256)));
    CHECK("exit_minus1", "%s", wstr(in_child(exit_minus1)));
    CHECK("exit_group_42", "%s", wstr(in_child(exit_group_raw)));
    CHECK("exit_5_via_exit", "%s", wstr(in_child(return_from_main_like)));
    /* RLIMIT_CORE is 0 for init's children, so no core flag */
    CHECK("abort_status", "%s", wstr(in_child(die_abort)));
    CHECK("raise_segv_status", "%s", wstr(in_child(die_segv)));
    CHECK("raise_kill_status", "%s", wstr(in_child(die_kill)));
    CHECK("kill_term_status", "%s", wstr(in_child(die_term)));
    CHECK("raise_usr1_status", "%s", wstr(in_child(die_usr1)));
    CHECK("ignored_term_status", "%s", wstr(in_child(ignore_term)));
    {
        int st = in_child(exit_7);
        CHECK("wifexited_macros", "%d %d %d", WIFEXITED(st) != 0, WIFSIGNALED(st) != 0, WEXITSTATUS(st));
        st = in_child(die_segv);
        CHECK("wifsignaled_macros", "%d %d %d", WIFEXITED(st) != 0, WIFSIGNALED(st) != 0, WTERMSIG(st));
        CHECK("raw_status_exit7", "%#x", in_child(exit_7));
        CHECK("raw_status_sigkill", "%#x", in_child(die_kill));
    }
    /* core dump with RLIMIT_CORE raised: core_pattern is "core" in cwd (a tmpfs dir) */
    {
        struct rlimit rl = {RLIM_INFINITY, RLIM_INFINITY};
        fflush(stdout);
        pid_t p = fork();
        if (p == 0) {
            setrlimit(RLIMIT_CORE, &rl);
            raise(SIGQUIT);
            _exit(0);
        }
        int st;
        waitpid(p, &st, 0);
        CHECK("sigquit_core_status", "%s", wstr(st));
        CHECK("core_file_written", "%d", access("core", F_OK) == 0);
    }
    /* waitpid edge cases */
    CK("waitpid_no_children", waitpid(-1, NULL, 0));
    CK("waitpid_wnohang_no_children", waitpid(-1, NULL, WNOHANG));
    CK("waitpid_bad_options", waitpid(-1, NULL, 0x10000));
    {
        int pfd[2];
        pipe(pfd);
        fflush(stdout);
        pid_t p = fork();
        if (p == 0) { char c; read(pfd[0], &c, 1); _exit(0); }
        CK("waitpid_wnohang_running", waitpid(p, NULL, WNOHANG));
        write(pfd[1], "x", 1);
        int st;
        CHECK("waitpid_returns_pid", "%d", waitpid(p, &st, 0) == p);
        CK("waitpid_again_echild", waitpid(p, NULL, 0));
        close(pfd[0]); close(pfd[1]);
    }
    /* waitid with siginfo */
    {
        fflush(stdout);
        pid_t p = fork();
        if (p == 0) _exit(9);
        siginfo_t si;
        memset(&si, 0, sizeof si);
        CK("waitid_exited", waitid(P_PID, p, &si, WEXITED));
        CHECK("waitid_si", "signo=%d code=%d status=%d pid_match=%d uid=%d", si.si_signo, si.si_code,
              si.si_status, si.si_pid == p, (int)si.si_uid);
        p = fork();
        if (p == 0) { raise(SIGTERM); _exit(0); }
        memset(&si, 0, sizeof si);
        waitid(P_PID, p, &si, WEXITED);
        CHECK("waitid_killed_si", "signo=%d code=%d status=%d", si.si_signo, si.si_code, si.si_status);
        CK("waitid_no_options", waitid(P_ALL, 0, &si, 0));
        /* WNOWAIT leaves the zombie */
        p = fork();
        if (p == 0) _exit(3);
        memset(&si, 0, sizeof si);
        waitid(P_PID, p, &si, WEXITED | WNOWAIT);
        int st;
        CHECK("waitid_wnowait_then_waitpid", "%d %s", waitpid(p, &st, 0) == p, wstr(st));
    }
    /* stop / continue reported by WUNTRACED / WCONTINUED */
    {
        fflush(stdout);
        pid_t p = fork();
        if (p == 0) { for (;;) pause(); }
        int st;
        kill(p, SIGSTOP);
        waitpid(p, &st, WUNTRACED);
        CHECK("stopped_status", "%s", wstr(st));
        kill(p, SIGCONT);
        waitpid(p, &st, WCONTINUED);
        CHECK("continued_status", "%s", wstr(st));
        kill(p, SIGKILL);
        waitpid(p, &st, 0);
        CHECK("killed_after_continue", "%s", wstr(st));
    }
    /* vfork: the parent is suspended until the child execs or exits; memory is shared */
    {
        volatile int shared = 1;
        fflush(stdout);
        pid_t p = vfork();
        if (p == 0) { shared = 2; _exit(11); }
        int st;
        waitpid(p, &st, 0);
        CHECK("vfork_shared_memory", "%d", shared);
        CHECK("vfork_status", "%s", wstr(st));
    }
    /* fork: child gets a copy, parent unaffected */
    {
        int v = 1;
        fflush(stdout);
        pid_t p = fork();
        if (p == 0) { v = 2; _exit(v); }
        int st;
        waitpid(p, &st, 0);
        CHECK("fork_copy_semantics", "%d %s", v, wstr(st));
    }
    {
        int pfd[2];
        pipe(pfd);
        pid_t parent = getpid();
        fflush(stdout);
        pid_t p = fork();
        if (p == 0) {
            char ok = (getppid() == parent) ? 'y' : 'n';
            write(pfd[1], &ok, 1);
            _exit(0);
        }
        char c = '?';
        read(pfd[0], &c, 1);
        waitpid(p, NULL, 0);
        CHECK("getppid_in_child", "%c", c);
    }
    /* orphans are reparented to init (pid 1) */
    {
        int pfd[2];
        pipe(pfd);
        fflush(stdout);
        pid_t p = fork();
        if (p == 0) {
            pid_t q = fork();
            if (q == 0) {
                pid_t pp = getppid();
                for (int i = 0; i < 200 && pp != 1; i++) { usleep(10000); pp = getppid(); }
                char c = pp == 1 ? '1' : 'x';
                write(pfd[1], &c, 1);
                _exit(0);
            }
            _exit(0);
        }
        waitpid(p, NULL, 0);
        char c = '?';
        read(pfd[0], &c, 1);
        CHECK("orphan_reparented_to_init", "%c", c);
    }
    /* SIGCHLD ignored: children are reaped automatically, wait gives ECHILD */
    {
        signal(SIGCHLD, SIG_IGN);
        fflush(stdout);
        pid_t p = fork();
        if (p == 0) _exit(0);
        int r = waitpid(p, NULL, 0);
        CHECK("sigchld_ign_autoreap", "%d %s", r, r < 0 ? errname(errno) : "");
        signal(SIGCHLD, SIG_DFL);
    }
    return 0;
}
