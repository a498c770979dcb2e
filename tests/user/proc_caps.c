// Capabilities as init and its children see them: capget/capset rules,
// the bounding and ambient sets, securebits and KEEP_CAPS, the capability
// fixups when uids change (setresuid, seteuid, setfsuid), and capabilities
// deciding permission checks (chown without CAP_CHOWN), dumpability.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/reboot.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/futex.h>
#include <linux/securebits.h>

#define SHOW(label, expr)                                              \
    do {                                                               \
        errno = 0;                                                     \
        long r_ = (long)(expr);                                        \
        printf("%s -> %ld errno=%d\n", label, r_, r_ < 0 ? errno : 0); \
    } while (0)

struct caps {
    uint64_t eff, prm, inh;
};

static struct caps get(void) {
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2] = {0};
    syscall(SYS_capget, &h, d);
    struct caps c = {d[0].effective | (uint64_t)d[1].effective << 32, d[0].permitted | (uint64_t)d[1].permitted << 32,
                     d[0].inheritable | (uint64_t)d[1].inheritable << 32};
    return c;
}

static long set(uint64_t eff, uint64_t prm, uint64_t inh) {
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2] = {{(uint32_t)eff, (uint32_t)prm, (uint32_t)inh},
                                          {(uint32_t)(eff >> 32), (uint32_t)(prm >> 32), (uint32_t)(inh >> 32)}};
    return syscall(SYS_capset, &h, d);
}

static void show(const char *label) {
    struct caps c = get();
    printf("%s: eff=%llx prm=%llx inh=%llx\n", label, (unsigned long long)c.eff, (unsigned long long)c.prm,
           (unsigned long long)c.inh);
}

// The capability lines of /proc/self/status.
static void status_caps(const char *label) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    printf("%s:", label);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "Cap", 3) == 0) {
            line[strcspn(line, "\n")] = 0;
            printf(" %s", line);
        }
    printf("\n");
    if (f) fclose(f);
}

#define BIT(c) (1ull << (c))
static const uint64_t ALL = (1ull << (CAP_LAST_CAP + 1)) - 1;

static void in_child(const char *name, void (*fn)(void)) {
    fflush(stdout);
    pid_t p = fork();
    if (p == 0) {
        fn();
        fflush(stdout);
        _exit(0);
    }
    int st;
    waitpid(p, &st, 0);
    printf("%s: status %#x\n", name, st);
}

static void capset_rules(void) {
    SHOW("drop CAP_CHOWN from effective", set(ALL & ~BIT(CAP_CHOWN), ALL, 0));
    show("after drop");
    int fd = open("/capfile", O_CREAT | O_WRONLY, 0644);
    close(fd);
    SHOW("chown without CAP_CHOWN", chown("/capfile", 1000, 1000));
    SHOW("drop CAP_SYS_NICE, CAP_SYS_ADMIN, CAP_SYS_BOOT too",
         set(ALL & ~(BIT(CAP_CHOWN) | BIT(CAP_SYS_NICE) | BIT(CAP_SYS_ADMIN) | BIT(CAP_SYS_BOOT)), ALL, 0));
    SHOW("raise priority without CAP_SYS_NICE", setpriority(PRIO_PROCESS, 0, -1));
    SHOW("sethostname without CAP_SYS_ADMIN", sethostname("x", 1));
    SHOW("reboot without CAP_SYS_BOOT", reboot(RB_AUTOBOOT));
    SHOW("raise it again (still permitted)", set(ALL, ALL, 0));
    SHOW("raise priority with CAP_SYS_NICE", setpriority(PRIO_PROCESS, 0, -1));
    SHOW("chown with CAP_CHOWN", chown("/capfile", 1000, 1000));
    SHOW("drop CAP_KILL from permitted", set(ALL & ~BIT(CAP_KILL), ALL & ~BIT(CAP_KILL), 0));
    show("after permitted drop");
    SHOW("permitted cannot grow back", set(ALL & ~BIT(CAP_KILL), ALL, 0));
    SHOW("effective must stay in permitted", set(ALL, ALL & ~BIT(CAP_KILL), 0));
    SHOW("inheritable within bounding", set(0, ALL & ~BIT(CAP_KILL), BIT(CAP_NET_RAW)));
    show("inheritable set");
    SHOW("capset of another pid", ({
             struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 1};
             struct __user_cap_data_struct d[2] = {{0}};
             syscall(SYS_capset, &h, d);
         }));
    struct __user_cap_header_struct h1 = {_LINUX_CAPABILITY_VERSION_1, 0};
    struct __user_cap_data_struct d1[2] = {{0}};
    SHOW("capget v1", syscall(SYS_capget, &h1, d1));
    printf("v1 words: %x %x\n", d1[0].permitted, d1[1].permitted);
    struct __user_cap_header_struct hb = {0x1234, 0};
    SHOW("capget bad version, null data", syscall(SYS_capget, &hb, NULL));
    printf("version written back: %#x\n", hb.version);
    SHOW("capget of init", ({
             struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 1};
             struct __user_cap_data_struct d[2] = {{0}};
             long r = syscall(SYS_capget, &h, d);
             r == 0 ? (long)d[0].permitted : r;
         }));
    SHOW("capget no such pid", ({
             struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 30000};
             struct __user_cap_data_struct d[2];
             syscall(SYS_capget, &h, d);
         }));
}

static void bounding_ambient(void) {
    SHOW("bset read CAP_NET_RAW", prctl(PR_CAPBSET_READ, CAP_NET_RAW, 0, 0, 0));
    SHOW("bset drop CAP_NET_RAW", prctl(PR_CAPBSET_DROP, CAP_NET_RAW, 0, 0, 0));
    SHOW("bset read after drop", prctl(PR_CAPBSET_READ, CAP_NET_RAW, 0, 0, 0));
    SHOW("bset drop invalid", prctl(PR_CAPBSET_DROP, 64, 0, 0, 0));
    SHOW("inheritable outside bounding", set(ALL, ALL, BIT(CAP_NET_RAW)));
    SHOW("ambient raise without inheritable", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_SYS_TIME, 0, 0));
    SHOW("inheritable CAP_SYS_TIME", set(ALL, ALL, BIT(CAP_SYS_TIME)));
    SHOW("ambient raise", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_SYS_TIME, 0, 0));
    SHOW("ambient is set", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_SYS_TIME, 0, 0));
    status_caps("status with ambient");
    SHOW("ambient bad arg", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_SYS_TIME, 1, 0));
    SHOW("ambient bad op", prctl(PR_CAP_AMBIENT, 9, CAP_SYS_TIME, 0, 0));
    SHOW("dropping inheritable drops ambient", set(ALL, ALL, 0));
    SHOW("ambient is set after", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_SYS_TIME, 0, 0));
    SHOW("ambient clear all bad", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 1, 0, 0));
    SHOW("ambient clear all", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0));
}

static void drop_to_user(void) {
    SHOW("dumpable as root", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
    SHOW("setresuid 1000", setresuid(1000, 1000, 1000));
    show("after setresuid");
    SHOW("dumpable after setresuid", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
    SHOW("capset regain", set(ALL, ALL, 0));
    SHOW("setuid 0 fails", setuid(0));
    SHOW("bset drop without CAP_SETPCAP", prctl(PR_CAPBSET_DROP, CAP_CHOWN, 0, 0, 0));
}

static void keepcaps(void) {
    SHOW("get keepcaps", prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0));
    SHOW("set keepcaps 2", prctl(PR_SET_KEEPCAPS, 2, 0, 0, 0));
    SHOW("set keepcaps", prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0));
    SHOW("securebits", prctl(PR_GET_SECUREBITS, 0, 0, 0, 0));
    SHOW("setresuid 1000", setresuid(1000, 1000, 1000));
    show("kept permitted");
    status_caps("status kept permitted");
    SHOW("raise effective from kept permitted", set(BIT(CAP_CHOWN), ALL, 0));
    show("after raise");
}

static void euid_switch(void) {
    SHOW("seteuid 1000", setresuid(-1, 1000, -1));
    show("euid 1000");
    SHOW("seteuid 0", setresuid(-1, 0, -1));
    show("euid 0 again");
    SHOW("setfsuid 1000 (returns old)", setfsuid(1000));
    show("fsuid 1000");
    SHOW("setfsuid 0", setfsuid(0));
    show("fsuid 0");
}

static void securebits(void) {
    SHOW("set NO_SETUID_FIXUP", prctl(PR_SET_SECUREBITS, SECBIT_NO_SETUID_FIXUP, 0, 0, 0));
    SHOW("setresuid 1000", setresuid(1000, 1000, 1000));
    show("no fixup");
    SHOW("set unknown bit", prctl(PR_SET_SECUREBITS, 1 << 12, 0, 0, 0));
}

static void locked_bits(void) {
    SHOW("lock keepcaps off", prctl(PR_SET_SECUREBITS, SECBIT_KEEP_CAPS_LOCKED, 0, 0, 0));
    SHOW("set keepcaps when locked", prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0));
    SHOW("unlock", prctl(PR_SET_SECUREBITS, 0, 0, 0, 0));
}

// Runs /init again as "show": the capabilities, KEEP_CAPS, dumpability and
// robust list an exec leaves.
static void exec_show(void) {
    struct robust_list_head head;
    syscall(SYS_set_robust_list, &head, sizeof head);
    fflush(stdout);
    execl("/init", "init", "show", (char *)NULL);
    printf("exec failed %d\n", errno);
}

static void exec_after_capset(void) {
    SHOW("drop effective and permitted CAP_KILL, inheritable CAP_CHOWN", set(0, ALL & ~BIT(CAP_KILL), BIT(CAP_CHOWN)));
    exec_show();
}

static void exec_after_keepcaps(void) {
    prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0);
    setresuid(1000, 1000, 1000);
    show("before exec");
    exec_show();
}

static void exec_with_ambient(void) {
    set(ALL, ALL, BIT(CAP_NET_ADMIN));
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_ADMIN, 0, 0);
    prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0);
    setresuid(1000, 1000, 1000);
    show("before exec");
    exec_show();
}

static void exec_euid_only(void) {
    setresuid(-1, 1000, -1);
    exec_show();
}

int main(int argc, char **argv) {
    if (argc > 1) {
        show("after exec");
        SHOW("keepcaps after exec", prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0));
        SHOW("dumpable after exec", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
        void *head = (void *)1;
        size_t len = 0;
        syscall(SYS_get_robust_list, 0, &head, &len);
        printf("robust list after exec: %s len %zu\n", head ? "set" : "none", len);
        return 0;
    }
    mkdir("/proc", 0555);
    mount("proc", "/proc", "proc", 0, NULL);
    show("init");
    status_caps("init status");
    SHOW("bset read last", prctl(PR_CAPBSET_READ, CAP_LAST_CAP, 0, 0, 0));
    SHOW("bset read beyond", prctl(PR_CAPBSET_READ, CAP_LAST_CAP + 1, 0, 0, 0));
    in_child("capset_rules", capset_rules);
    in_child("bounding_ambient", bounding_ambient);
    in_child("drop_to_user", drop_to_user);
    in_child("keepcaps", keepcaps);
    in_child("euid_switch", euid_switch);
    in_child("securebits", securebits);
    in_child("locked_bits", locked_bits);
    in_child("exec_after_capset", exec_after_capset);
    in_child("exec_after_keepcaps", exec_after_keepcaps);
    in_child("exec_with_ambient", exec_with_ambient);
    in_child("exec_euid_only", exec_euid_only);
    show("init unchanged");
    return 0;
}
