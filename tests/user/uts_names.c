// uname(2) and the names sethostname(2)/setdomainname(2) change.
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#define SHOW(label, expr)                                              \
    do {                                                               \
        errno = 0;                                                     \
        long r_ = (long)(expr);                                        \
        printf("%s -> %ld errno=%d\n", label, r_, r_ < 0 ? errno : 0); \
    } while (0)

int main(void) {
    struct utsname u;
    SHOW("uname", uname(&u));
    printf("sysname=%s machine=%s nodename=%s domainname=%s\n", u.sysname, u.machine, u.nodename, u.domainname);
    printf("release starts with 6.: %d\n", strncmp(u.release, "6.", 2) == 0);
    SHOW("uname bad pointer", syscall(SYS_uname, (void*)8));
    char name[80];
    memset(name, 'a', sizeof(name));
    SHOW("sethostname 65", sethostname(name, 65));
    SHOW("sethostname 64", sethostname(name, 64));
    uname(&u);
    printf("nodename length %zu\n", strlen(u.nodename));
    SHOW("sethostname keel-test", sethostname("keel-test", 9));
    SHOW("sethostname bad pointer", syscall(SYS_sethostname, (char*)8, 4L));
    SHOW("sethostname negative", syscall(SYS_sethostname, "x", -1L));
    SHOW("gethostname", gethostname(name, sizeof(name)));
    printf("hostname %s\n", name);
    SHOW("gethostname short", gethostname(name, 4));
    SHOW("setdomainname", setdomainname("example.org", 11));
    uname(&u);
    printf("nodename=%s domainname=%s\n", u.nodename, u.domainname);
    SHOW("sethostname empty", sethostname("", 0));
    uname(&u);
    printf("nodename='%s'\n", u.nodename);
    if (fork() == 0) {
        setuid(1000);
        SHOW("sethostname unprivileged", sethostname("x", 1));
        _exit(0);
    }
    sleep(1);
    return 0;
}
