#include "difftest.h"
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
