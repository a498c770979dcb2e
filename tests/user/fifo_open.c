// Named pipes as pid 1: mkfifo, a blocking reader that waits for its writer
// (in a child), O_RDWR opens that never wait, ENXIO for a non-blocking
// writer alone, POLLHUP only once a writer came and went, data dropped when
// the last end closes, and fstat/F_GETPIPE_SZ on a FIFO end.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define SHOW(label, expr)                                              \
    do {                                                               \
        errno = 0;                                                     \
        long r_ = (long)(expr);                                        \
        int e_ = errno;                                                \
        printf("%s -> %ld errno=%d\n", label, r_, r_ < 0 ? e_ : 0);   \
    } while (0)

static short revents(int fd) {
    struct pollfd p = {fd, POLLIN, 0};
    poll(&p, 1, 0);
    return p.revents;
}

int main(void) {
    mkdir("/tmp", 0755);
    mount("tmpfs", "/tmp", "tmpfs", 0, NULL);
    SHOW("mkfifo", mkfifo("/tmp/f", 0600));
    SHOW("writer alone nonblock", open("/tmp/f", O_WRONLY | O_NONBLOCK));

    int r = open("/tmp/f", O_RDONLY | O_NONBLOCK);
    printf("reader nonblock ok: %d\n", r >= 0);
    printf("no writer yet: read=%ld revents=%#x\n", (long)read(r, (char[4]){0}, 4), revents(r));
    int w = open("/tmp/f", O_WRONLY | O_NONBLOCK);
    printf("writer with reader ok: %d\n", w >= 0);
    SHOW("write", write(w, "hello", 5));
    char b[16] = "";
    SHOW("read", read(r, b, sizeof b));
    printf("data: %s\n", b);
    close(w);
    printf("after writer left: read=%ld revents=%#x\n", (long)read(r, b, 4), revents(r));
    struct stat st;
    fstat(r, &st);
    printf("fstat: fifo=%d mode=%o\n", S_ISFIFO(st.st_mode), st.st_mode & 0777);
    SHOW("getpipe_sz", fcntl(r, F_GETPIPE_SZ));
    close(r);

    // O_RDWR never waits; data left behind goes with the last end.
    int rw = open("/tmp/f", O_RDWR);
    printf("rdwr ok: %d\n", rw >= 0);
    SHOW("rdwr write", write(rw, "left", 4));
    close(rw);
    rw = open("/tmp/f", O_RDWR | O_NONBLOCK);
    SHOW("data gone", read(rw, b, sizeof b));
    close(rw);

    // A blocking reader waits until a writer opens.
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        int fd = open("/tmp/f", O_RDONLY);
        char m[16] = "";
        ssize_t n = read(fd, m, sizeof m);
        printf("child read %ld: %s\n", (long)n, m);
        _exit(0);
    }
    int bw = open("/tmp/f", O_WRONLY);  // waits for the child's open
    long wrote = write(bw, "ping", 4);
    close(bw);
    int st2;
    waitpid(c, &st2, 0);
    printf("blocking writer ok: %d wrote %ld\n", bw >= 0, wrote);
    printf("child exit: %d\n", WEXITSTATUS(st2));
    SHOW("open O_PATH", open("/tmp/f", O_PATH) >= 0);
    return 0;
}
