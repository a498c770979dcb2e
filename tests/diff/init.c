/*
 * /init of the differential test initramfs (tools/difftest.py).
 *
 * A small static program (built with musl-gcc, whose start-up code makes
 * few system calls) so that it does not depend on the shell working. It
 *   1. makes sure fds 0-2 are the console,
 *   2. mounts proc, sysfs, devtmpfs, devpts and tmpfs, printing each result
 *      as a check of the pseudo-test "init",
 *   3. runs every test named in /tests/manifest, one at a time, each in its
 *      own process group with a clean environment, stdin from /dev/null and
 *      stdout+stderr into a pipe that init copies to the console between
 *      BEGIN/END markers (END carries the exit status or "timeout"),
 *   4. makes QEMU exit: isa-debug-exit (ioperm + outl to port 0xf4), else
 *      reboot(RB_AUTOBOOT) (QEMU runs with -no-reboot).
 *
 * Manifest lines: NAME TIMEOUT_SECONDS PATH [ARG...] (space separated).
 * A PATH ending in ".sh" is run as /bin/sh PATH [ARG...].
 *
 * The system calls init itself makes (measured with strace; a kernel needs these
 * before anything else works), in x86-64 numbering names as musl issues them:
 *   start-up (musl):  execve (of /init, by the kernel), arch_prctl(ARCH_SET_FS),
 *                     set_tid_address
 *   set-up:           fcntl(F_GETFD, F_SETFD), open, dup2, close (only when fd 1
 *                     is not open: /dev/console), write, getpid, umask, mkdir,
 *                     mount, stat, read
 *   per test:         pipe2(O_CLOEXEC), rt_sigprocmask, fork (SYS_fork), poll,
 *                     read, write, wait4(-1, WNOHANG), kill (negative pid = group),
 *                     nanosleep, clock_gettime (musl uses the vDSO when the
 *                     auxiliary vector has AT_SYSINFO_EHDR, else the syscall)
 *   in the child:     gettid (musl's fork), setpgid, rt_sigprocmask, open, dup2,
 *                     close, chdir, execve, exit_group (if execve fails)
 *   at the end:       sync, ioctl(TCSBRK) (tcdrain), nanosleep, ioperm, reboot,
 *                     pause
 * Failures of mount, tcdrain, ioperm and reboot are reported or tolerated.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define MARK "@@@KEEL-DIFFTEST"

static void out(const char *s, size_t n) {
    while (n > 0) {
        ssize_t w = write(1, s, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return;
        }
        s += w;
        n -= (size_t)w;
    }
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n >= sizeof buf) n = sizeof buf - 1;
    out(buf, (size_t)n);
}

static const char *errname(int e) {
    switch (e) {
    case 0: return "ok";
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case ENODEV: return "ENODEV";
    case ENOTDIR: return "ENOTDIR";
    case EINVAL: return "EINVAL";
    case EBUSY: return "EBUSY";
    case ENOSYS: return "ENOSYS";
    case EACCES: return "EACCES";
    case ENOMEM: return "ENOMEM";
    case EEXIST: return "EEXIST";
    case EFAULT: return "EFAULT";
    }
    static char b[16];
    snprintf(b, sizeof b, "E%d", e);
    return b;
}

static long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

static void do_mount(const char *check, const char *src, const char *dir, const char *type,
                     const char *data) {
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        say("CHECK %s: mkdir %s\n", check, errname(errno));
        return;
    }
    int r = mount(src, dir, type, MS_NOSUID | (strcmp(type, "devtmpfs") ? MS_NODEV : 0) |
                                      (strcmp(type, "tmpfs") && strcmp(type, "devtmpfs") ? MS_NOEXEC : 0),
                  data);
    say("CHECK %s: %s\n", check, r == 0 ? "ok" : errname(errno));
}

static void reap_orphans(void) {
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
}

/* Runs one test; returns nothing, prints BEGIN, its output, END status. */
static void run_test(char *name, int timeout_s, char **argv) {
    static char *envp[] = {"PATH=/bin:/sbin:/usr/bin:/usr/sbin", "HOME=/", "TERM=linux", NULL};
    int p[2];
    say(MARK " BEGIN %s\n", name);
    if (pipe2(p, O_CLOEXEC) != 0) {
        say(MARK " END %s harness-error pipe2 %s\n", name, errname(errno));
        return;
    }
    char dir[256];
    snprintf(dir, sizeof dir, "/tmp/%s", name);
    mkdir(dir, 0755);
    pid_t pid = fork();
    if (pid < 0) {
        say(MARK " END %s harness-error fork %s\n", name, errname(errno));
        close(p[0]);
        close(p[1]);
        return;
    }
    if (pid == 0) {
        setpgid(0, 0);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        int null = open("/dev/null", O_RDONLY);
        if (null >= 0 && null != 0) {
            dup2(null, 0);
            close(null);
        }
        dup2(p[1], 1);
        dup2(p[1], 2);
        if (chdir(dir) != 0) chdir("/");
        execve(argv[0], argv, envp);
        say("exec %s failed: %s\n", argv[0], errname(errno));
        _exit(127);
    }
    setpgid(pid, pid); /* both sides, so that kill(-pid) cannot race */
    close(p[1]);
    long deadline = now_ms() + timeout_s * 1000L;
    int status = 0, st = 0, exited = 0, timed_out = 0, last_nl = 1, eof = 0;
    char buf[4096];
    for (;;) {
        /* pid 1 reaps every child: the test's orphans are reparented to us */
        for (pid_t w; !exited && (w = waitpid(-1, &st, WNOHANG)) > 0;)
            if (w == pid) {
                status = st;
                exited = 1;
            }
        if (!exited && now_ms() > deadline) {
            timed_out = 1;
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            exited = 1;
        }
        if (eof) {
            if (exited) break;
            struct timespec ts = {0, 10 * 1000 * 1000};
            nanosleep(&ts, NULL);
            continue;
        }
        /* Once the test has exited, only drain what is buffered: grandchildren
         * that still hold the pipe must not keep us waiting. */
        struct pollfd pf = {p[0], POLLIN, 0};
        int r = poll(&pf, 1, exited ? 0 : 20);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            if (exited) break;
            continue;
        }
        ssize_t n = read(p[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            eof = 1;
            continue;
        }
        out(buf, (size_t)n);
        last_nl = buf[n - 1] == '\n';
    }
    close(p[0]);
    kill(-pid, SIGKILL); /* leftovers of the test's process group */
    reap_orphans();
    if (!last_nl) out("\n", 1);
    if (timed_out)
        say(MARK " END %s timeout\n", name);
    else if (WIFEXITED(status))
        say(MARK " END %s exit %d\n", name, WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        say(MARK " END %s signal %d\n", name, WTERMSIG(status));
    else
        say(MARK " END %s status %#x\n", name, status);
}

static char manifest[65536];

static void run_manifest(void) {
    int fd = open("/tests/manifest", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        say("CHECK init.manifest: %s\n", errname(errno));
        return;
    }
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, manifest + len, sizeof manifest - 1 - len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        len += (size_t)n;
    }
    close(fd);
    manifest[len] = 0;
    char *save = NULL;
    for (char *line = strtok_r(manifest, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *argv[34];
        int argc = 0;
        char *s2 = NULL;
        for (char *w = strtok_r(line, " ", &s2); w && argc < 33; w = strtok_r(NULL, " ", &s2))
            argv[argc++] = w;
        argv[argc] = NULL;
        if (argc < 3) continue;
        char *name = argv[0];
        int timeout_s = atoi(argv[1]);
        char **targv = argv + 2;
        size_t pl = strlen(targv[0]);
        if (pl > 3 && strcmp(targv[0] + pl - 3, ".sh") == 0) {
            /* argv[1] (the timeout) is spare: reuse it for the shell */
            argv[1] = "/bin/sh";
            targv = argv + 1;
        }
        run_test(name, timeout_s > 0 ? timeout_s : 30, targv);
    }
}

int main(void) {
    if (fcntl(1, F_GETFD) < 0) {
        int c = open("/dev/console", O_RDWR);
        if (c >= 0) {
            dup2(c, 0);
            dup2(c, 1);
            dup2(c, 2);
            if (c > 2) close(c);
        }
    }
    say(MARK " INIT\n");
    say("CHECK init.pid: %d\n", (int)getpid());
    mode_t um = umask(022);
    say("CHECK init.umask: %03o\n", (unsigned)um);
    do_mount("init.mount_proc", "proc", "/proc", "proc", NULL);
    do_mount("init.mount_sysfs", "sysfs", "/sys", "sysfs", NULL);
    do_mount("init.mount_devtmpfs", "devtmpfs", "/dev", "devtmpfs", NULL);
    do_mount("init.mount_devpts", "devpts", "/dev/pts", "devpts", "mode=620,ptmxmode=666");
    do_mount("init.mount_tmpfs_tmp", "tmpfs", "/tmp", "tmpfs", "mode=1777");
    do_mount("init.mount_tmpfs_shm", "tmpfs", "/dev/shm", "tmpfs", "mode=1777");
    struct stat st;
    say("CHECK init.dev_null_is_chr: %d\n", stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode));
    run_manifest();
    say(MARK " DONE\n");
    sync();
    /* write() returns once the console has the bytes, not once the UART sent them:
     * wait for the output to drain before QEMU is told to exit. */
    tcdrain(1);
    struct timespec ts = {0, 100 * 1000 * 1000};
    nanosleep(&ts, NULL);
    if (ioperm(0xf4, 4, 1) == 0) outl(0x10, 0xf4); /* QEMU exits with status 33 */
    say("difftest-init: isa-debug-exit unavailable (%s), rebooting\n", errname(errno));
    reboot(RB_AUTOBOOT);
    say("difftest-init: reboot failed (%s)\n", errname(errno));
    for (;;) pause();
}
