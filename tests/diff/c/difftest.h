/* The shared preamble of the difftest C programs: output helpers that
 * print one line per check, "CHECK name: value" (tests/diff/README.md).
 * Values must be deterministic: never print pids, addresses or times,
 * print comparisons instead. Included first by every tests/diff/c/*.c. */
#ifndef DIFFTEST_H
#define DIFFTEST_H
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static const char *errname(int e) {
    switch (e) {
#define E_(x) case x: return #x;
    E_(EPERM) E_(ENOENT) E_(ESRCH) E_(EINTR) E_(EIO) E_(ENXIO) E_(E2BIG) E_(ENOEXEC) E_(EBADF)
    E_(ECHILD) E_(EAGAIN) E_(ENOMEM) E_(EACCES) E_(EFAULT) E_(EBUSY) E_(EEXIST) E_(EXDEV)
    E_(ENODEV) E_(ENOTDIR) E_(EISDIR) E_(EINVAL) E_(ENFILE) E_(EMFILE) E_(ENOTTY) E_(ETXTBSY)
    E_(EFBIG) E_(ENOSPC) E_(ESPIPE) E_(EROFS) E_(EMLINK) E_(EPIPE) E_(ERANGE) E_(EDEADLK)
    E_(ENAMETOOLONG) E_(ENOSYS) E_(ENOTEMPTY) E_(ELOOP) E_(ENODATA) E_(ETIME) E_(EOVERFLOW)
    E_(EOPNOTSUPP) E_(ETIMEDOUT) E_(ENOTSOCK) E_(ECANCELED) E_(EBADFD) E_(ENOTBLK) E_(ESTALE)
    E_(EXFULL) E_(ENOMSG) E_(EIDRM) E_(ENOLCK) E_(EDOM) E_(ENOKEY) E_(EMSGSIZE)
#undef E_
    case 0: return "0";
    }
    static char b[16];
    snprintf(b, sizeof b, "E%d", e);
    return b;
}

/* CK: the result of a call that returns -1 + errno on failure: "VALUE" or "-1 ENAME". */
#define CK(name, expr) do { errno = 0; long r_ = (long)(expr); int e_ = errno; \
    if (r_ == -1) printf("CHECK %s: -1 %s\n", (name), errname(e_)); \
    else printf("CHECK %s: %ld\n", (name), r_); } while (0)
/* CKOK: like CK but a success prints "ok" (for results such as addresses or fds of no interest). */
#define CKOK(name, expr) do { errno = 0; long r_ = (long)(expr); int e_ = errno; \
    if (r_ == -1) printf("CHECK %s: -1 %s\n", (name), errname(e_)); \
    else printf("CHECK %s: ok\n", (name)); } while (0)
/* CHECK: a formatted value; the arguments are evaluated before anything is printed. */
#define CHECK(name, ...) do { char b_[4096]; snprintf(b_, sizeof b_, __VA_ARGS__); \
    printf("CHECK %s: %s\n", (name), b_); } while (0)

/* A wait status as text: "exit N", "signal N[ core]", "stopped N", "continued". */
static const char *wstr(int st) {
    static char b[48];
    if (WIFEXITED(st)) snprintf(b, sizeof b, "exit %d", WEXITSTATUS(st));
    else if (WIFSIGNALED(st)) snprintf(b, sizeof b, "signal %d%s", WTERMSIG(st), WCOREDUMP(st) ? " core" : "");
    else if (WIFSTOPPED(st)) snprintf(b, sizeof b, "stopped %d", WSTOPSIG(st));
    else if (WIFCONTINUED(st)) snprintf(b, sizeof b, "continued");
    else snprintf(b, sizeof b, "raw %#x", st);
    return b;
}

/* Runs fn in a child process and returns its wait status (fn's return value is the exit code). */
static int in_child(int (*fn)(void)) {
    fflush(stdout);
    pid_t p = fork();
    if (p == 0) { int r = fn(); fflush(stdout); _exit(r); }
    int st = -1;
    if (p > 0) while (waitpid(p, &st, 0) < 0 && errno == EINTR) {}
    return st;
}

static void setup(void) { setvbuf(stdout, NULL, _IOLBF, 0); }
#endif
