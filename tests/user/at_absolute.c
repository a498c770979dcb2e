// The *at calls with an absolute path never look at dirfd (a bad or
// non-directory dirfd is fine); with a relative one they do.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#define SHOW(label, expr)                                              \
    do {                                                               \
        errno = 0;                                                     \
        long r_ = (long)(expr);                                        \
        printf("%s -> %ld errno=%d\n", label, r_ < 0 ? -1L : r_ > 0 ? 1L : 0L, r_ < 0 ? errno : 0); \
    } while (0)

int main(void) {
    struct stat st;
    int p[2];
    pipe(p);
    SHOW("openat bad fd absolute", openat(-5, "/init", O_RDONLY));
    SHOW("openat bad fd relative", openat(-5, "init", O_RDONLY));
    SHOW("openat pipe fd absolute", openat(p[0], "/init", O_RDONLY));
    SHOW("openat pipe fd relative", openat(p[0], "init", O_RDONLY));
    SHOW("fstatat bad fd absolute", fstatat(999, "/init", &st, 0));
    SHOW("fstatat bad fd relative", fstatat(999, "init", &st, 0));
    SHOW("mkdirat bad fd absolute", mkdirat(-7, "/d", 0755));
    SHOW("mkdirat bad fd relative", mkdirat(-7, "d2", 0755));
    SHOW("renameat bad fds absolute", renameat(-7, "/d", 999, "/e"));
    SHOW("readlinkat bad fd absolute", readlinkat(-7, "/e", (char*)&st, 10));
    SHOW("symlinkat bad fd absolute", symlinkat("target", 999, "/l"));
    SHOW("readlinkat bad fd absolute link", readlinkat(-7, "/l", (char*)&st, 10));
    SHOW("faccessat bad fd absolute", faccessat(-7, "/l", F_OK, AT_SYMLINK_NOFOLLOW));
    SHOW("unlinkat bad fd absolute", unlinkat(-7, "/l", 0));
    SHOW("fchmodat bad fd absolute", fchmodat(-7, "/e", 0700, 0));
    SHOW("unlinkat dir bad fd absolute", unlinkat(-7, "/e", AT_REMOVEDIR));
    return 0;
}
