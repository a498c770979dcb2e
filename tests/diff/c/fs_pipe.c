/* ---- difftest preamble: each test is self-contained, so every file carries a copy ----
 * Output: one line per check, "CHECK name: value" (tests/diff/README.md). Values must be
 * deterministic: never print pids, addresses or times, print comparisons instead. */
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
/* ---- end of preamble ---- */
/* Files: pipes (capacity, F_SETPIPE_SZ rounding, atomicity, EPIPE/SIGPIPE, O_NONBLOCK, EOF). */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

static volatile int sigpipes;
static void on_pipe(int s) { (void)s; sigpipes++; }

int main(void) {
    setup();
    int p[2];
    CK("pipe", pipe(p));
    CHECK("pipe_fds", "%d %d", p[0], p[1]);
    CK("pipe_size_default", fcntl(p[0], F_GETPIPE_SZ));
    CK("pipe_buf", fpathconf(p[0], _PC_PIPE_BUF));
    CHECK("pipe_getfl", "%#o %#o", fcntl(p[0], F_GETFL) & 0777777, fcntl(p[1], F_GETFL) & 0777777);
    /* fill a non-blocking pipe: capacity */
    fcntl(p[1], F_SETFL, O_NONBLOCK);
    {
        char buf[4096];
        memset(buf, 'x', sizeof buf);
        long total = 0;
        for (;;) {
            ssize_t w = write(p[1], buf, sizeof buf);
            if (w < 0) { CHECK("pipe_full_errno", "%s", errname(errno)); break; }
            total += w;
        }
        CHECK("pipe_capacity", "%ld", total);
        int n = -1;
        ioctl(p[0], FIONREAD, &n);
        CHECK("fionread_full", "%d", n);
        CK("write_1_when_full", write(p[1], buf, 1));
        /* drain 100 bytes: a small write still does not fit a full page slot? */
        char rb[100];
        read(p[0], rb, 100);
        CK("write_small_after_partial_drain", write(p[1], buf, 10));
        CK("write_pipe_buf_after_partial_drain", write(p[1], buf, PIPE_BUF));
    }
    close(p[0]); close(p[1]);
    /* F_SETPIPE_SZ rounding */
    pipe(p);
    CK("setpipe_sz_1", fcntl(p[0], F_SETPIPE_SZ, 1));
    CK("getpipe_sz_after_1", fcntl(p[0], F_GETPIPE_SZ));
    CK("setpipe_sz_5000", fcntl(p[0], F_SETPIPE_SZ, 5000));
    CK("setpipe_sz_70000", fcntl(p[0], F_SETPIPE_SZ, 70000));
    CK("setpipe_sz_1M", fcntl(p[0], F_SETPIPE_SZ, 1 << 20));
    CK("setpipe_sz_too_big_root", fcntl(p[0], F_SETPIPE_SZ, 1 << 30));
    CK("setpipe_sz_negative", fcntl(p[0], F_SETPIPE_SZ, -1));
    {
        int fd = open("/proc/sys/fs/pipe-max-size", O_RDONLY);
        char b[32] = "";
        read(fd, b, sizeof b - 1);
        close(fd);
        CHECK("pipe_max_size", "%s", strtok(b, "\n"));
    }
    {
        /* shrinking below the data held fails with EBUSY */
        fcntl(p[0], F_SETPIPE_SZ, 65536);
        char buf[8192];
        memset(buf, 'y', sizeof buf);
        write(p[1], buf, sizeof buf);
        CK("setpipe_sz_below_content", fcntl(p[0], F_SETPIPE_SZ, 4096));
    }
    close(p[0]); close(p[1]);
    /* EOF and EPIPE */
    pipe(p);
    close(p[1]);
    {
        char c;
        CK("read_eof", read(p[0], &c, 1));
    }
    close(p[0]);
    pipe(p);
    close(p[0]);
    signal(SIGPIPE, on_pipe);
    CK("write_no_reader", write(p[1], "x", 1));
    CHECK("sigpipe_count", "%d", sigpipes);
    signal(SIGPIPE, SIG_IGN);
    CK("write_no_reader_ignored", write(p[1], "x", 1));
    signal(SIGPIPE, SIG_DFL);
    close(p[1]);
    {
        fflush(stdout);
        pid_t c = fork();
        if (c == 0) {
            int q[2];
            pipe(q);
            close(q[0]);
            write(q[1], "x", 1);
            _exit(0);
        }
        int st;
        waitpid(c, &st, 0);
        CHECK("sigpipe_default_kills", "%s", wstr(st));
    }
    /* nonblocking read on empty pipe */
    pipe2(p, O_NONBLOCK);
    {
        char c;
        CK("read_empty_nonblock", read(p[0], &c, 1));
        CHECK("pipe2_nonblock_both", "%d %d", (fcntl(p[0], F_GETFL) & O_NONBLOCK) != 0, (fcntl(p[1], F_GETFL) & O_NONBLOCK) != 0);
        CK("pipe2_bad_flags", pipe2((int[2]){0, 0}, O_APPEND));
        CK("pipe_efault", pipe((int *)8));
    }
    close(p[0]); close(p[1]);
    /* atomic writes: two writers of PIPE_BUF blocks never interleave */
    {
        pipe(p);
        fflush(stdout);
        pid_t kids[2];
        for (int k = 0; k < 2; k++) {
            kids[k] = fork();
            if (kids[k] == 0) {
                char buf[PIPE_BUF];
                memset(buf, 'a' + k, sizeof buf);
                for (int i = 0; i < 32; i++) write(p[1], buf, sizeof buf);
                _exit(0);
            }
        }
        close(p[1]);
        char buf[PIPE_BUF];
        int blocks = 0, mixed = 0;
        for (;;) {
            size_t got = 0;
            while (got < sizeof buf) {
                ssize_t r = read(p[0], buf + got, sizeof buf - got);
                if (r <= 0) break;
                got += r;
            }
            if (got == 0) break;
            for (size_t i = 1; i < got; i++) mixed |= buf[i] != buf[0];
            blocks++;
        }
        waitpid(kids[0], NULL, 0);
        waitpid(kids[1], NULL, 0);
        CHECK("atomic_blocks", "%d mixed=%d", blocks, mixed);
        close(p[0]);
    }
    /* a blocking reader returns what is there, not the full request */
    {
        pipe(p);
        write(p[1], "12345", 5);
        char b[100];
        CK("short_read", read(p[0], b, sizeof b));
        struct stat st;
        fstat(p[0], &st);
        CHECK("pipe_stat", "fifo=%d size=%ld mode=%04o", S_ISFIFO(st.st_mode), (long)st.st_size, (unsigned)(st.st_mode & 07777));
        close(p[0]); close(p[1]);
    }
    /* FIFO */
    {
        CK("mkfifo", mkfifo("fifo", 0644));
        CK("open_fifo_nonblock_reader", open("fifo", O_RDONLY | O_NONBLOCK) >= 0);
        CK("open_fifo_nonblock_writer_with_reader", open("fifo", O_WRONLY | O_NONBLOCK) >= 0);
        CK("mkfifo_exists", mkfifo("fifo", 0644));
        unlink("fifo");
        mkfifo("fifo2", 0644);
        CK("open_fifo_nonblock_writer_no_reader", open("fifo2", O_WRONLY | O_NONBLOCK));
    }
    return 0;
}
