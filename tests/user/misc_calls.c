// Assorted process calls: credentials and their rules, rlimits, umask,
// uname, prctl names, getrandom, sysinfo, affinity, priorities, waitid,
// clone3, close_range.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#define SHOW(label, expr)                                              \
    do {                                                               \
        errno = 0;                                                     \
        long r_ = (long)(expr);                                        \
        printf("%s -> %ld errno=%d\n", label, r_, r_ < 0 ? errno : 0); \
    } while (0)

static int creds_child(void) {
    uid_t r, e, s;
    SHOW("setresuid 1000,1000,0", setresuid(1000, 1000, 0));
    getresuid(&r, &e, &s);
    printf("now %u %u %u\n", r, e, s);
    SHOW("seteuid back to saved 0", seteuid(0));
    SHOW("setuid 2000 as root again", setuid(2000));
    getresuid(&r, &e, &s);
    printf("now %u %u %u\n", r, e, s);
    SHOW("setuid 0 unprivileged", setuid(0));
    SHOW("setgroups unprivileged", setgroups(0, NULL));
    SHOW("setfsuid returns old", setfsuid(3000));
    return 0;
}

int main(void) {
    printf("ids %d %d %d %d\n", getuid(), geteuid(), getgid(), getegid());
    pid_t c = fork();
    if (c == 0) _exit(creds_child());
    waitpid(c, NULL, 0);

    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    printf("nofile %lu %lu\n", rl.rlim_cur, rl.rlim_max);
    getrlimit(RLIMIT_STACK, &rl);
    printf("stack %lu %ld\n", rl.rlim_cur, (long)rl.rlim_max);
    getrlimit(RLIMIT_CORE, &rl);
    printf("core %lu\n", rl.rlim_cur);
    rl.rlim_cur = 10;
    rl.rlim_max = 5;
    SHOW("setrlimit cur>max", setrlimit(RLIMIT_NOFILE, &rl));
    SHOW("getrlimit bad resource", getrlimit(99, &rl));
    printf("umask old %o\n", umask(077));
    printf("umask now %o\n", umask(022));
    struct utsname u;
    uname(&u);
    printf("uname %s %s\n", u.sysname, u.machine);
    prctl(PR_SET_NAME, "averyveryverylongname");
    char name[17] = {0};
    prctl(PR_GET_NAME, name);
    printf("comm '%s'\n", name);
    SHOW("prctl bad option", prctl(9999, 0, 0, 0, 0));
    char buf[64];
    SHOW("getrandom 64", getrandom(buf, sizeof(buf), 0));
    SHOW("getrandom bad flags", getrandom(buf, 8, 0x100));
    struct sysinfo si;
    SHOW("sysinfo", sysinfo(&si));
    printf("mem_unit %u procs>0 %d\n", si.mem_unit, si.procs > 0);
    cpu_set_t set;
    CPU_ZERO(&set);
    SHOW("sched_getaffinity", sched_getaffinity(0, sizeof(set), &set));
    printf("cpus in mask %d\n", CPU_COUNT(&set));
    SHOW("getpriority", getpriority(PRIO_PROCESS, 0));
    SHOW("setpriority 5", setpriority(PRIO_PROCESS, 0, 5));
    SHOW("getpriority now", getpriority(PRIO_PROCESS, 0));
    SHOW("prio max FIFO", sched_get_priority_max(SCHED_FIFO));
    SHOW("prio min OTHER", sched_get_priority_min(SCHED_OTHER));
    SHOW("getscheduler", sched_getscheduler(0));

    c = fork();
    if (c == 0) _exit(3);
    siginfo_t info;
    memset(&info, 0, sizeof(info));
    SHOW("waitid", waitid(P_PID, c, &info, WEXITED));
    printf("waitid code_exited=%d status=%d pid_ok=%d\n", info.si_code == CLD_EXITED, info.si_status, info.si_pid == c);
    SHOW("waitid no options", waitid(P_ALL, 0, &info, 0));
    SHOW("waitid no children", waitid(P_ALL, 0, &info, WEXITED));

    struct clone_args ca;
    memset(&ca, 0, sizeof(ca));
    ca.exit_signal = SIGCHLD;
    long pid = syscall(SYS_clone3, &ca, sizeof(ca));
    if (pid == 0) _exit(4);
    int st;
    waitpid((pid_t)pid, &st, 0);
    printf("clone3 child status %d\n", WEXITSTATUS(st));
    SHOW("clone3 small size", syscall(SYS_clone3, &ca, 8));

    int fd = open("/", O_RDONLY);
    (void)fd;
    int d1 = dup(1), d2 = dup(1), d3 = dup(1);
    SHOW("close_range", syscall(SYS_close_range, d1, d3, 0));
    SHOW("closed", fcntl(d2, F_GETFD));
    SHOW("close_range bad", syscall(SYS_close_range, 10, 5, 0));
    return 0;
}
