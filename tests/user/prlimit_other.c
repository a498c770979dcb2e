// prlimit(2) on another process: reading and setting its limits, ESRCH,
// and the permission rule (matching real/effective/saved ids or
// CAP_SYS_RESOURCE).
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define SHOW(label, expr)                                              \
    do {                                                               \
        errno = 0;                                                     \
        long r_ = (long)(expr);                                        \
        printf("%s -> %ld errno=%d\n", label, r_, r_ < 0 ? errno : 0); \
    } while (0)

int main(void) {
    int go[2], done[2];
    pipe(go);
    pipe(done);
    pid_t c = fork();
    if (c == 0) {
        char x;
        read(go[0], &x, 1);
        struct rlimit r;
        getrlimit(RLIMIT_NOFILE, &r);
        printf("child sees nofile %ld %ld\n", (long)r.rlim_cur, (long)r.rlim_max);
        fflush(stdout);
        write(done[1], "x", 1);
        pause();
        _exit(0);
    }
    struct rlimit old, set = {100, 200};
    SHOW("prlimit read child", prlimit(c, RLIMIT_NOFILE, NULL, &old));
    printf("child nofile before %ld %ld\n", (long)old.rlim_cur, (long)old.rlim_max);
    SHOW("prlimit set child", prlimit(c, RLIMIT_NOFILE, &set, &old));
    printf("old returned %ld %ld\n", (long)old.rlim_cur, (long)old.rlim_max);
    write(go[1], "x", 1);
    char x;
    read(done[0], &x, 1);
    SHOW("prlimit missing pid", prlimit(30000, RLIMIT_NOFILE, NULL, &old));
    SHOW("prlimit negative pid", prlimit(-3, RLIMIT_NOFILE, NULL, &old));
    SHOW("prlimit bad resource", prlimit(c, 99, NULL, &old));
    pid_t u = fork();
    if (u == 0) {
        setuid(1000);
        SHOW("unprivileged prlimit on root's child", prlimit(c, RLIMIT_NOFILE, NULL, &old));
        SHOW("unprivileged prlimit on itself", prlimit(0, RLIMIT_NOFILE, NULL, &old));
        _exit(0);
    }
    waitpid(u, NULL, 0);
    kill(c, SIGKILL);
    waitpid(c, NULL, 0);
    return 0;
}
