// Process groups and sessions as init and its children see them:
// getpgrp/getpgid/getsid of self, children, zombies and missing pids,
// setsid from init and from a group leader.
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#define SHOW(label, expr)                                              \
    do {                                                               \
        errno = 0;                                                     \
        long r_ = (long)(expr);                                        \
        printf("%s -> %ld errno=%d\n", label, r_, r_ < 0 ? errno : 0); \
    } while (0)

int main(void) {
    SHOW("init getpgrp", getpgrp());
    SHOW("init getsid", getsid(0));
    SHOW("init getpgid(1)", getpgid(1));
    SHOW("getpgid missing", getpgid(30000));
    SHOW("getsid missing", getsid(30000));
    SHOW("getpgid negative", getpgid(-5));
    int p[2];
    pipe(p);
    pid_t child = fork();
    if (child == 0) {
        SHOW("child getpgid(0) is init's", getpgid(0));
        SHOW("child getsid(1)", getsid(1));
        SHOW("child setsid", setsid() == getpid());
        SHOW("child setsid again", setsid());
        SHOW("child setpgid in own session", setpgid(0, 0));
        char c;
        read(p[0], &c, 1);
        _exit(0);
    }
    usleep(200000);
    SHOW("init sees child pgid == child", getpgid(child) == child);
    SHOW("init sees child sid == child", getsid(child) == child);
    write(p[1], "x", 1);
    usleep(200000);
    SHOW("zombie child pgid", getpgid(child) == child);
    SHOW("zombie child sid", getsid(child) == child);
    waitpid(child, NULL, 0);
    SHOW("reaped child pgid", getpgid(child));
    SHOW("init setsid", setsid());
    SHOW("init getpgrp after setsid", getpgrp());
    SHOW("init getsid after setsid", getsid(0));
    SHOW("init setsid again", setsid());
    return 0;
}
