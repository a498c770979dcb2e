#include "difftest.h"
/* Processes: credentials, capabilities, rlimits as Linux sets them for init's children, umask,
 * uname, getrandom flag errors, prctl basics, priorities. */
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <stdint.h>
/* from linux/capability.h (not visible to musl-gcc) */
struct __user_cap_header_struct { uint32_t version; int pid; };
struct __user_cap_data_struct { uint32_t effective, permitted, inheritable; };
#define _LINUX_CAPABILITY_VERSION_3 0x20080522
#define CAP_SYS_ADMIN 21
#include <stdint.h>

static void show_rlimit(const char *name, int res) {
    struct rlimit rl;
    if (prlimit(0, res, NULL, &rl) != 0) { CHECK(name, "-1 %s", errname(errno)); return; }
    char a[32], b[32];
    if (rl.rlim_cur == RLIM_INFINITY) strcpy(a, "unlimited"); else snprintf(a, sizeof a, "%llu", (unsigned long long)rl.rlim_cur);
    if (rl.rlim_max == RLIM_INFINITY) strcpy(b, "unlimited"); else snprintf(b, sizeof b, "%llu", (unsigned long long)rl.rlim_max);
    CHECK(name, "%s %s", a, b);
}

static int setresuid_child(void) {
    uid_t r, e, s;
    printf("CHECK setresuid_1000: %d\n", setresuid(1000, 1000, 1000));
    getresuid(&r, &e, &s);
    printf("CHECK getresuid_after: %d %d %d\n", (int)r, (int)e, (int)s);
    errno = 0;
    int x = setuid(0);
    printf("CHECK setuid0_after_drop: %d %s\n", x, errname(errno));
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    syscall(SYS_capget, &h, d);
    printf("CHECK caps_after_drop: %x %x %x\n", d[0].effective, d[0].permitted, d[1].effective);
    errno = 0;
    x = open("/proc/self/status", O_RDONLY);
    printf("CHECK open_readable_as_user: %d\n", x >= 0);
    errno = 0;
    x = kill(1, 0);
    printf("CHECK kill_init_as_user: %d %s\n", x, errname(errno));
    errno = 0;
    x = mkdir("/root/forbidden", 0755);
    printf("CHECK mkdir_root_dir_as_user: %d %s\n", x, errname(errno));
    return 0;
}

static int saved_uid_child(void) {
    uid_t r, e, s;
    printf("CHECK seteuid_1000_keep_saved: %d\n", setresuid(-1, 1000, -1));
    getresuid(&r, &e, &s);
    printf("CHECK getresuid_euid_only: %d %d %d\n", (int)r, (int)e, (int)s);
    printf("CHECK geteuid_getuid: %d %d\n", (int)geteuid(), (int)getuid());
    printf("CHECK seteuid_back_to_0: %d\n", seteuid(0));
    printf("CHECK geteuid_restored: %d\n", (int)geteuid());
    printf("CHECK setfsuid_returns_old: %d\n", setfsuid(500));
    printf("CHECK setfsuid_query: %d\n", setfsuid(-1));
    return 0;
}

static int groups_child(void) {
    gid_t g[4] = {10, 20, 30, 0};
    printf("CHECK setgroups_3: %d\n", setgroups(3, g));
    gid_t out[8];
    int n = getgroups(8, out);
    printf("CHECK getgroups_after: %d %d %d %d\n", n, (int)out[0], (int)out[1], (int)out[2]);
    errno = 0;
    int r = getgroups(1, out);
    printf("CHECK getgroups_too_small: %d %s\n", r, errname(errno));
    printf("CHECK getgroups_zero_size: %d\n", getgroups(0, NULL));
    printf("CHECK setresgid: %d\n", setresgid(100, 200, 300));
    gid_t a, b, c;
    getresgid(&a, &b, &c);
    printf("CHECK getresgid_after: %d %d %d\n", (int)a, (int)b, (int)c);
    return 0;
}

static int fsize_child(void) {
    struct rlimit rl = {10, 10};
    setrlimit(RLIMIT_FSIZE, &rl);
    signal(SIGXFSZ, SIG_IGN);
    int fd = open("fsize", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    errno = 0;
    ssize_t w = write(fd, "0123456789abcdef", 16);
    printf("CHECK fsize_partial_write: %zd\n", w);
    errno = 0;
    w = write(fd, "x", 1);
    printf("CHECK fsize_write_beyond: %zd %s\n", w, errname(errno));
    signal(SIGXFSZ, SIG_DFL);
    write(fd, "x", 1);
    return 0;
}

static int nofile_child(void) {
    struct rlimit rl = {5, 5};
    printf("CHECK setrlimit_nofile_5: %d\n", setrlimit(RLIMIT_NOFILE, &rl));
    int last = -1;
    for (int i = 0; i < 10; i++) {
        int fd = open("/dev/null", O_RDONLY);
        if (fd < 0) { printf("CHECK nofile_open_fails_with: %s\n", errname(errno)); break; }
        last = fd;
    }
    printf("CHECK nofile_last_fd: %d\n", last);
    errno = 0;
    int r = dup2(0, 7);
    printf("CHECK dup2_beyond_nofile: %d %s\n", r, errname(errno));
    rl.rlim_cur = 6;
    errno = 0;
    r = setrlimit(RLIMIT_NOFILE, &rl);
    printf("CHECK setrlimit_cur_above_max: %d %s\n", r, errname(errno));
    rl.rlim_cur = rl.rlim_max = 2000000;
    errno = 0;
    r = setrlimit(RLIMIT_NOFILE, &rl);
    printf("CHECK setrlimit_nofile_above_nr_open: %d %s\n", r, errname(errno));
    return 0;
}

int main(void) {
    setup();
    CHECK("ids", "%d %d %d %d", (int)getuid(), (int)geteuid(), (int)getgid(), (int)getegid());
    {
        uid_t r, e, s;
        getresuid(&r, &e, &s);
        CHECK("getresuid", "%d %d %d", (int)r, (int)e, (int)s);
        gid_t a, b, c;
        getresgid(&a, &b, &c);
        CHECK("getresgid", "%d %d %d", (int)a, (int)b, (int)c);
        CHECK("getgroups_count", "%d", getgroups(0, NULL));
    }
    {
        struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
        struct __user_cap_data_struct d[2];
        CK("capget", syscall(SYS_capget, &h, d));
        CHECK("caps_root", "eff=%08x%08x prm=%08x%08x inh=%08x%08x", d[1].effective, d[0].effective,
              d[1].permitted, d[0].permitted, d[1].inheritable, d[0].inheritable);
        struct __user_cap_header_struct h2 = {0x12345678, 0};
        CK("capget_bad_version", syscall(SYS_capget, &h2, d));
        CHECK("capget_bad_version_writes_preferred", "%#x", h2.version);
        CK("capbset_read_cap_sys_admin", prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0));
        CK("capbset_read_last_cap_40", prctl(PR_CAPBSET_READ, 40, 0, 0, 0));
        CK("capbset_read_41", prctl(PR_CAPBSET_READ, 41, 0, 0, 0));
    }
    CHECK("setresuid_child", "%s", wstr(in_child(setresuid_child)));
    CHECK("saved_uid_child", "%s", wstr(in_child(saved_uid_child)));
    CHECK("groups_child", "%s", wstr(in_child(groups_child)));
    /* rlimits inherited from init */
    show_rlimit("rlimit_nofile", RLIMIT_NOFILE);
    show_rlimit("rlimit_stack", RLIMIT_STACK);
    show_rlimit("rlimit_core", RLIMIT_CORE);
    show_rlimit("rlimit_nproc", RLIMIT_NPROC);          /* depends on RAM: max_threads / 2 */
    show_rlimit("rlimit_sigpending", RLIMIT_SIGPENDING); /* depends on RAM: same as NPROC */
    show_rlimit("rlimit_memlock", RLIMIT_MEMLOCK);
    show_rlimit("rlimit_as", RLIMIT_AS);
    show_rlimit("rlimit_data", RLIMIT_DATA);
    show_rlimit("rlimit_fsize", RLIMIT_FSIZE);
    show_rlimit("rlimit_cpu", RLIMIT_CPU);
    show_rlimit("rlimit_rss", RLIMIT_RSS);
    show_rlimit("rlimit_msgqueue", RLIMIT_MSGQUEUE);
    show_rlimit("rlimit_nice", RLIMIT_NICE);
    show_rlimit("rlimit_rtprio", RLIMIT_RTPRIO);
    show_rlimit("rlimit_rttime", RLIMIT_RTTIME);
    show_rlimit("rlimit_locks", RLIMIT_LOCKS);
    {
        struct rlimit a, b;
        getrlimit(RLIMIT_NPROC, &a);
        getrlimit(RLIMIT_SIGPENDING, &b);
        CHECK("rlimit_nproc_soft_eq_hard", "%d", a.rlim_cur == a.rlim_max);
        CHECK("rlimit_sigpending_eq_nproc", "%d", a.rlim_cur == b.rlim_cur && a.rlim_max == b.rlim_max);
        CHECK("rlimit_nproc_at_least_1000", "%d", a.rlim_cur >= 1000);
        CK("prlimit_bad_resource", syscall(SYS_prlimit64, 0, 16, NULL, &a));
        CK("getrlimit_bad_resource", syscall(SYS_getrlimit, 99, &a));
        CK("prlimit_no_such_pid", syscall(SYS_prlimit64, 999999, RLIMIT_NOFILE, NULL, &a));
        CK("sysconf_open_max", sysconf(_SC_OPEN_MAX));
    }
    CHECK("nofile_child", "%s", wstr(in_child(nofile_child)));
    CHECK("fsize_child", "%s", wstr(in_child(fsize_child)));
    /* umask */
    {
        mode_t old = umask(027);
        CHECK("umask_inherited", "%03o", (unsigned)old);
        CHECK("umask_returns_previous", "%03o", (unsigned)umask(0777 | 0111));
        CHECK("umask_masked_to_0777", "%03o", (unsigned)umask(027));
        int fd = open("um", O_CREAT | O_WRONLY, 0777);
        struct stat st;
        fstat(fd, &st);
        CHECK("umask_applied_to_open", "%04o", (unsigned)(st.st_mode & 07777));
        close(fd);
        mkdir("umd", 0777);
        stat("umd", &st);
        CHECK("umask_applied_to_mkdir", "%04o", (unsigned)(st.st_mode & 07777));
        umask(old);
    }
    /* uname */
    {
        struct utsname u;
        CK("uname", uname(&u));
        CHECK("uname_sysname", "%s", u.sysname);
        CHECK("uname_machine", "%s", u.machine);
        CHECK("uname_nodename", "%s", u.nodename);
        CHECK("uname_domainname", "%s", u.domainname);
        CHECK("uname_release", "%s", u.release);
        CHECK("uname_version", "%s", u.version);
        CHECK("uname_release_starts_6", "%d", u.release[0] == '6' && u.release[1] == '.');
        CK("sethostname", sethostname("keel-test", 9));
        uname(&u);
        CHECK("uname_nodename_after_set", "%s", u.nodename);
        char hn[64];
        CK("gethostname", gethostname(hn, sizeof hn));
        CHECK("gethostname_value", "%s", hn);
        CK("sethostname_too_long", sethostname("x", 65));
        CK("setdomainname", setdomainname("dom", 3));
        uname(&u);
        CHECK("uname_domainname_after_set", "%s", u.domainname);
        sethostname("(none)", 6);  /* later tests see the default again */
        setdomainname("(none)", 6);
    }
    /* getrandom */
    {
        unsigned char b[64];
        CK("getrandom_16", syscall(SYS_getrandom, b, 16, 0));
        CK("getrandom_len0", syscall(SYS_getrandom, b, 0, 0));
        CK("getrandom_nonblock", syscall(SYS_getrandom, b, 16, 1));
        CK("getrandom_insecure", syscall(SYS_getrandom, b, 16, 4));
        CK("getrandom_random_nonblock_small", syscall(SYS_getrandom, b, 8, 2 | 1));
        CK("getrandom_bad_flag", syscall(SYS_getrandom, b, 16, 8));
        CK("getrandom_random_and_insecure", syscall(SYS_getrandom, b, 16, 2 | 4));
        CK("getrandom_efault", syscall(SYS_getrandom, (void *)8, 16, 0));
        unsigned char c[64];
        syscall(SYS_getrandom, b, 64, 0);
        syscall(SYS_getrandom, c, 64, 0);
        CHECK("getrandom_differs", "%d", memcmp(b, c, 64) != 0);
    }
    /* prctl basics */
    {
        char name[32] = "";
        CK("pr_set_name", prctl(PR_SET_NAME, "renamed-thread-name-long", 0, 0, 0));
        prctl(PR_GET_NAME, name, 0, 0, 0);
        CHECK("pr_get_name_truncated", "%s", name);
        CK("pr_get_dumpable", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
        CK("pr_get_no_new_privs", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
        CK("pr_set_no_new_privs_bad_arg", prctl(PR_SET_NO_NEW_PRIVS, 2, 0, 0, 0));
        CK("pr_get_pdeathsig", ({ int s = -1; prctl(PR_GET_PDEATHSIG, &s, 0, 0, 0) == 0 ? s : -2; }));
        CK("pr_get_child_subreaper", ({ int s = -1; prctl(PR_GET_CHILD_SUBREAPER, &s, 0, 0, 0) == 0 ? s : -2; }));
        CK("pr_get_timerslack", prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0));
        CK("pr_get_keepcaps", prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0));
        CK("pr_bad_option", prctl(0x7fff0000, 0, 0, 0, 0));
        CK("pr_get_thp_disable", prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0));
    }
    /* priorities */
    {
        errno = 0;
        CK("getpriority_default", getpriority(PRIO_PROCESS, 0));
        CK("setpriority_5", setpriority(PRIO_PROCESS, 0, 5));
        CK("getpriority_after", getpriority(PRIO_PROCESS, 0));
        CK("setpriority_clamped_100", setpriority(PRIO_PROCESS, 0, 100));
        CK("getpriority_clamped", getpriority(PRIO_PROCESS, 0));
        CK("getpriority_bad_which", getpriority(7, 0));
        CK("raw_getpriority_is_20_minus_nice", syscall(SYS_getpriority, PRIO_PROCESS, 0));
    }
    /* sessions and process groups */
    {
        fflush(stdout);
        pid_t p = fork();
        if (p == 0) {
            pid_t s = setsid();
            printf("CHECK setsid_returns_pid: %d\n", s == getpid());
            printf("CHECK getsid_after: %d\n", getsid(0) == getpid());
            printf("CHECK getpgrp_after: %d\n", getpgrp() == getpid());
            errno = 0;
            int r = setsid();
            printf("CHECK setsid_again: %d %s\n", r, errname(errno));
            errno = 0;
            r = setpgid(0, 12345678);
            printf("CHECK setpgid_bad_pgid: %d %s\n", r, errname(errno));
            fflush(stdout);
            _exit(0);
        }
        waitpid(p, NULL, 0);
        CK("setpgid_negative", setpgid(0, -1));
        CK("getpgid_no_such", getpgid(999999));
        CK("getsid_no_such", getsid(999999));
        CHECK("getpgrp_is_own_pid", "%d", getpgrp() == getpid());
    }
    return 0;
}
