// Pipes and descriptors as pid 1: a pipe between processes (1 MiB through
// it), EOF, non-blocking reads, pipe sizes, dup/dup2/dup3 and fcntl rules.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char buf[1 << 20];

// Evaluates the call first, then reads errno: printf's arguments have no
// evaluation order.
#define SHOW(label, expr)                                              \
    do {                                                               \
        errno = 0;                                                     \
        long r_ = (long)(expr);                                        \
        int e_ = errno;                                                \
        printf("%s -> %ld errno=%d\n", label, r_, r_ < 0 ? e_ : 0);   \
    } while (0)

int main(void) {
    int p[2];
    printf("pipe: %d\n", pipe(p));
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        memset(buf, 'a', sizeof(buf));
        ssize_t n = write(p[1], buf, sizeof(buf));
        _exit(n == (ssize_t)sizeof(buf) ? 0 : 1);
    }
    close(p[1]);
    size_t total = 0;
    ssize_t n;
    int bad = 0;
    while ((n = read(p[0], buf, 7000)) > 0) {
        for (ssize_t i = 0; i < n; ++i) bad |= buf[i] != 'a';
        total += (size_t)n;
    }
    int st;
    waitpid(pid, &st, 0);
    printf("through the pipe: %zu bytes, intact=%d, eof=%zd, writer status=%d\n", total, !bad, n, WEXITSTATUS(st));
    close(p[0]);

    SHOW("pipe2 bad flags", pipe2(p, 0x1));
    SHOW("pipe2 nonblock cloexec", pipe2(p, O_NONBLOCK | O_CLOEXEC));
    SHOW("nonblocking empty read", read(p[0], buf, 10));
    printf("fd flags cloexec=%d status nonblock=%d\n", fcntl(p[0], F_GETFD), (fcntl(p[0], F_GETFL) & O_NONBLOCK) != 0);
    printf("pipe size %d\n", fcntl(p[1], F_GETPIPE_SZ));
    printf("set size 100000 -> %d\n", fcntl(p[1], F_SETPIPE_SZ, 100000));
    printf("set size 0 -> %d\n", fcntl(p[1], F_SETPIPE_SZ, 0));
    write(p[1], "hello", 5);
    n = read(p[0], buf, sizeof(buf));
    printf("read back %zd '%.5s'\n", n, buf);

    int d = dup(p[1]);
    printf("dup -> %d cloexec=%d\n", d, fcntl(d, F_GETFD));
    SHOW("dup2 same", dup2(d, d));
    SHOW("dup3 same", dup3(d, d, 0));
    SHOW("dup3 bad flags", dup3(d, 20, 1));
    SHOW("dup2 to 20", dup2(d, 20));
    SHOW("close 20", close(20));
    SHOW("close 20 again", close(20));
    SHOW("dup of closed", dup(20));
    SHOW("F_DUPFD 10", fcntl(d, F_DUPFD, 10));
    SHOW("F_DUPFD over the limit", fcntl(d, F_DUPFD, 5000));
    SHOW("fcntl bad fd", fcntl(99, F_GETFD));
    SHOW("write to closed read end", (close(p[0]), write(p[1], "x", 1)));
    return 0;
}
