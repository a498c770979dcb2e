#include "difftest.h"
/* Processes: execve of a static binary and of a #! script; what survives exec. */
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>

extern char **environ;

/* Child modes, selected by argv[1]. */
static int child_mode(int argc, char **argv) {
    const char *m = argv[1];
    if (!strcmp(m, "args")) {
        printf("CHECK exec_argc: %d\n", argc);
        for (int i = 2; i < argc; i++) printf("CHECK exec_argv%d: [%s]\n", i, argv[i]);
        int n = 0;
        for (char **e = environ; *e; e++) printf("CHECK exec_env%d: [%s]\n", n++, *e);
        printf("CHECK exec_envc: %d\n", n);
        return 0;
    }
    if (!strcmp(m, "fds")) {
        printf("CHECK exec_cloexec_fd_closed: %d\n", fcntl(10, F_GETFD) == -1 && errno == EBADF);
        printf("CHECK exec_plain_fd_open: %d\n", fcntl(11, F_GETFD) == 0);
        struct sigaction sa;
        sigaction(SIGUSR1, NULL, &sa);
        printf("CHECK exec_handler_reset_to_default: %d\n", sa.sa_handler == SIG_DFL);
        sigaction(SIGUSR2, NULL, &sa);
        printf("CHECK exec_ignore_kept: %d\n", sa.sa_handler == SIG_IGN);
        sigset_t cur;
        sigprocmask(SIG_SETMASK, NULL, &cur);
        printf("CHECK exec_mask_kept: %d %d\n", sigismember(&cur, SIGINT), sigismember(&cur, SIGHUP));
        sigset_t pend;
        sigpending(&pend);
        printf("CHECK exec_pending_kept: %d\n", sigismember(&pend, SIGINT));
        printf("CHECK exec_umask_kept: %03o\n", (unsigned)umask(0));
        char cwd[256];
        printf("CHECK exec_cwd_kept: %d\n", getcwd(cwd, sizeof cwd) && strstr(cwd, "/sub") != NULL);
        return 0;
    }
    if (!strcmp(m, "script")) {
        /* run as the interpreter of a #! script: argv = interp [optarg] script args */
        printf("CHECK script_argc: %d\n", argc);
        for (int i = 2; i < argc; i++) printf("CHECK script_argv%d: [%s]\n", i, argv[i]);
        return 0;
    }
    if (!strcmp(m, "exit")) return atoi(argv[2]);
    return 99;
}

static const char *self;
static void on_usr1(int s) { (void)s; }

static int do_exec(char *const argv[], char *const envp[]) {
    fflush(stdout);
    pid_t p = fork();
    if (p == 0) {
        execve(argv[0], argv, envp);
        printf("CHECK exec_unexpected_failure: %s\n", errname(errno));
        fflush(stdout);
        _exit(127);
    }
    int st;
    waitpid(p, &st, 0);
    return st;
}

static void write_file(const char *path, const char *text, mode_t mode) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    write(fd, text, strlen(text));
    close(fd);
    chmod(path, mode);
}

int main(int argc, char **argv) {
    setup();
    if (argc > 1) return child_mode(argc, argv);
    self = argv[0];
    {
        char *a[] = {(char *)self, "args", "one", "", "three with spaces", NULL};
        char *e[] = {"A=1", "EMPTY=", "NOEQUALS", NULL};
        CHECK("exec_static_status", "%s", wstr(do_exec(a, e)));
    }
    {
        char *a[] = {(char *)self, "exit", "37", NULL};
        char *e[] = {NULL};
        CHECK("exec_exit_code", "%s", wstr(do_exec(a, e)));
    }
    /* what survives exec */
    {
        mkdir("sub", 0755);
        fflush(stdout);
        pid_t p = fork();
        if (p == 0) {
            int fd = open("/dev/null", O_RDONLY);
            dup3(fd, 10, O_CLOEXEC);
            dup2(fd, 11);
            signal(SIGUSR1, on_usr1);
            signal(SIGUSR2, SIG_IGN);
            sigset_t s;
            sigemptyset(&s);
            sigaddset(&s, SIGINT);
            sigaddset(&s, SIGHUP);
            sigprocmask(SIG_BLOCK, &s, NULL);
            raise(SIGINT);
            umask(027);
            chdir("sub");
            char *a[] = {(char *)self, "fds", NULL};
            char *e[] = {NULL};
            execve(self, a, e);
            _exit(127);
        }
        int st;
        waitpid(p, &st, 0);
        CHECK("exec_survivors_status", "%s", wstr(st));
    }
    /* #! scripts */
    {
        char line[512];
        snprintf(line, sizeof line, "#!%s script\nignored body\n", self);
        write_file("s1", line, 0755);
        char *a[] = {"./s1", "x", "y", NULL};
        char *e[] = {NULL};
        CHECK("script_status", "%s", wstr(do_exec(a, e)));
        snprintf(line, sizeof line, "#! %s   script  \t\n", self);
        write_file("s2", line, 0755);
        char *a2[] = {"./s2", NULL};
        CHECK("script_spaces_status", "%s", wstr(do_exec(a2, e)));
        /* no interpreter: ENOENT; not executable: EACCES; garbage: ENOEXEC */
        write_file("s3", "#!/nonexistent/interp\n", 0755);
        CK("exec_script_missing_interp", execve("./s3", a, e));
        write_file("s4", "#!/bin/sh\n", 0644);
        CK("exec_not_executable", execve("./s4", a, e));
        write_file("s5", "\x7f" "ELFgarbage that is not an elf file at all", 0755);
        CK("exec_bad_elf", execve("./s5", a, e));
        write_file("s6", "plain text, no shebang\n", 0755);
        CK("exec_plain_text", execve("./s6", a, e));
        CK("exec_missing", execve("./nonexistent", a, e));
        CK("exec_directory", execve(".", a, e));
        CK("exec_enotdir", execve("./s6/x", a, e));
        CK("exec_empty_path", execve("", a, e));
        CK("exec_efault_path", execve((char *)8, a, e));
        /* busybox sh runs a script */
        write_file("s7", "#!/bin/sh\nexit 12\n", 0755);
        char *a7[] = {"./s7", NULL};
        CHECK("exec_sh_script_status", "%s", wstr(do_exec(a7, e)));
    }
    return 0;
}
