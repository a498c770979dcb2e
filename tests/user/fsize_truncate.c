// truncate/ftruncate past RLIMIT_FSIZE: EFBIG and SIGXFSZ; within it, fine.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

static volatile int got;
static void on_xfsz(int sig) { got = sig; }

int main(void) {
    signal(SIGXFSZ, on_xfsz);
    struct rlimit lim = {4096, 4096};
    setrlimit(RLIMIT_FSIZE, &lim);
    int fd = open("/f", O_CREAT | O_RDWR, 0644);
    errno = 0;
    int r = ftruncate(fd, 4096);
    printf("ftruncate at limit %d errno %d sig %d\n", r, errno, got);
    errno = 0;
    r = ftruncate(fd, 4097);
    printf("ftruncate past limit %d errno %d sig %d\n", r, errno, got);
    got = 0;
    errno = 0;
    r = truncate("/f", 10000);
    printf("truncate past limit %d errno %d sig %d\n", r, errno, got);
    got = 0;
    errno = 0;
    r = truncate("/f", 100);
    printf("truncate shrink %d errno %d sig %d\n", r, errno, got);
    lim.rlim_cur = lim.rlim_max = RLIM_INFINITY;
    setrlimit(RLIMIT_FSIZE, &lim);
    errno = 0;
    r = ftruncate(fd, 0x7fffffffffffffffLL);
    printf("ftruncate huge without limit %d errno %d sig %d\n", r, errno, got);
    return 0;
}
