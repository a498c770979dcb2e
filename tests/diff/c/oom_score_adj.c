#include "difftest.h"
/* /proc/<pid>/oom_score_adj, oom_adj and oom_score: the values written and read back, the
 * parsing and range errors, the 12-byte cut of a long write, the legacy oom_adj scale, the floor
 * only CAP_SYS_RESOURCE may go below, inheritance across fork, processes sharing memory (clone
 * with CLONE_VM), threads, and oom_score in buckets (its exact value depends on memory use). */
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/stat.h>

struct cap_header { uint32_t version; int pid; };
struct cap_data { uint32_t effective, permitted, inheritable; };
#define CAP_VERSION_3 0x20080522
#define CAP_SYS_RESOURCE_BIT 24

static long put(const char *path, const char *s, size_t n) {
    int fd = open(path, O_WRONLY);
    if (fd < 0) return -1;
    long r = write(fd, s, n);
    int e = errno;
    close(fd);
    errno = e;
    return r;
}
static long puts_(const char *path, const char *s) { return put(path, s, strlen(s)); }

static long get(const char *path) {
    char buf[64] = {0};
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -99999;
    long n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return -99998;
    return strtol(buf, NULL, 10);
}

#define ADJ "/proc/self/oom_score_adj"
#define LEGACY "/proc/self/oom_adj"
#define SCORE "/proc/self/oom_score"

static const char *bucket(long score) {
    if (score == 0) return "0";
    if (score < 300) return "1..299";
    if (score < 400) return "300..399";
    if (score < 666) return "400..665";
    if (score <= 700) return "666..700";
    if (score < 1333) return "701..1332";
    if (score <= 1400) return "1333..1400";
    return ">1400";
}

static int drop_sys_resource(void) {
    struct cap_header h = {CAP_VERSION_3, 0};
    struct cap_data d[2];
    if (syscall(SYS_capget, &h, d)) return -1;
    d[0].effective &= ~(1u << CAP_SYS_RESOURCE_BIT);
    return (int)syscall(SYS_capset, &h, d);
}

static int floor_child(void) {
    CK("floor_set_200_privileged", puts_(ADJ, "200"));
    CK("floor_drop_cap", drop_sys_resource());
    CK("floor_raise_300", puts_(ADJ, "300"));
    CK("floor_lower_250", puts_(ADJ, "250"));
    CK("floor_below_200", puts_(ADJ, "100"));
    CK("floor_at_200", puts_(ADJ, "200"));
    CHECK("floor_value", "%ld", get(ADJ));
    /* oom_adj compares with the value now, not the floor. */
    CK("floor_legacy_lower", puts_(LEGACY, "3"));
    CK("floor_legacy_raise", puts_(LEGACY, "8"));
    CHECK("floor_legacy_value", "%ld", get(ADJ));
    CK("floor_back_to_200", puts_(ADJ, "200"));
    CK("floor_min_1000_denied", puts_(ADJ, "-1000"));
    return 0;
}

static int inherit_child(void) {
    CHECK("fork_inherits", "%ld", get(ADJ));
    CHECK("fork_inherits_legacy", "%ld", get(LEGACY));
    return 0;
}

static int vm_child(void *arg) {
    (void)arg;
    return puts_(ADJ, "123") == 3 ? 0 : 1;
}

static void *thread_writes(void *arg) {
    (void)arg;
    return (void *)puts_(ADJ, "77");
}

int main(void) {
    setup();
    CHECK("initial", "%ld", get(ADJ));
    CHECK("initial_legacy", "%ld", get(LEGACY));
    CHECK("initial_score", "%s", bucket(get(SCORE)));
    CHECK("init_score", "%ld", get("/proc/1/oom_score"));
    CHECK("init_adj", "%ld", get("/proc/1/oom_score_adj"));

    struct stat st;
    const char *files[] = {"oom_score_adj", "oom_adj", "oom_score"};
    for (int i = 0; i < 3; i++) {
        char path[64], name[64];
        snprintf(path, sizeof path, "/proc/self/%s", files[i]);
        snprintf(name, sizeof name, "mode_%s", files[i]);
        if (stat(path, &st)) CHECK(name, "-1 %s", errname(errno));
        else CHECK(name, "%o", st.st_mode);
        snprintf(path, sizeof path, "/proc/self/task/%d/%s", (int)getpid(), files[i]);
        snprintf(name, sizeof name, "task_mode_%s", files[i]);
        if (stat(path, &st)) CHECK(name, "-1 %s", errname(errno));
        else CHECK(name, "%o", st.st_mode);
    }

    /* Parsing: kstrtoint's base 0, blanks around, one value only. */
    const char *inputs[] = {"500", "500\n", "  300 \n", "0x10", "010", "+5", "-0", "1000", "-1000", "1001",
                            "-1001", "abc", "5x", "5 6", "\n", "99999999999", "-2147483649", "0x7fffffff"};
    for (unsigned i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        char name[64];
        snprintf(name, sizeof name, "write_%u", i);
        CK(name, puts_(ADJ, inputs[i]));
        snprintf(name, sizeof name, "read_%u", i);
        CHECK(name, "%ld %ld", get(ADJ), get(LEGACY));
    }
    /* Only the first 12 bytes count; the whole write is reported as done up to them. */
    CK("long_write", puts_(ADJ, "0000000000000000000000000000042"));
    CHECK("long_write_value", "%ld", get(ADJ));
    CK("long_write_12", puts_(ADJ, "000000000042"));
    CHECK("long_write_12_value", "%ld", get(ADJ));
    CK("partial_buffer", put(ADJ, "250junk", 3));
    CHECK("partial_buffer_value", "%ld", get(ADJ));
    CK("bad_buffer", put(ADJ, (const char *)8, 3));

    /* The legacy scale: -17..15, 15 is the maximum, the rest linear by 1000/17. */
    const char *legacy[] = {"-17", "-16", "-1", "0", "1", "3", "8", "14", "15", "16", "-18", "x"};
    for (unsigned i = 0; i < sizeof legacy / sizeof legacy[0]; i++) {
        char name[64];
        snprintf(name, sizeof name, "legacy_write_%s", legacy[i]);
        CK(name, puts_(LEGACY, legacy[i]));
        snprintf(name, sizeof name, "legacy_read_%s", legacy[i]);
        CHECK(name, "%ld %ld", get(ADJ), get(LEGACY));
    }

    /* oom_score: 0 for -1000, about 2/3 of 1000 for 0, about 2/3 of 2000 for 1000. */
    const char *adjs[] = {"-1000", "-999", "-500", "0", "500", "1000"};
    for (unsigned i = 0; i < sizeof adjs / sizeof adjs[0]; i++) {
        char name[64];
        puts_(ADJ, adjs[i]);
        snprintf(name, sizeof name, "score_at_%s", adjs[i]);
        CHECK(name, "%s", bucket(get(SCORE)));
    }

    puts_(ADJ, "-300");
    CHECK("fork_status", "%s", wstr(in_child(inherit_child)));
    /* Another process's file, through its pid. */
    pid_t c = fork();
    if (c == 0) {
        puts_(ADJ, "444");
        pause();
        _exit(0);
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/oom_score_adj", (int)c);
    for (int i = 0; i < 200 && get(path) != 444; i++) usleep(10000);
    CHECK("other_process", "%ld", get(path));
    CK("other_process_write", puts_(path, "555"));
    CHECK("other_process_after", "%ld", get(path));
    kill(c, SIGKILL);
    waitpid(c, NULL, 0);
    CK("gone_process_write", puts_(path, "1"));

    CHECK("floor_status", "%s", wstr(in_child(floor_child)));
    CHECK("after_floor_child", "%ld", get(ADJ));

    /* A thread's write is the process's. */
    puts_(ADJ, "0");
    pthread_t t;
    void *r;
    pthread_create(&t, NULL, thread_writes, NULL);
    pthread_join(t, &r);
    CHECK("thread_write", "%ld %ld", (long)r, get(ADJ));

    /* A process sharing our memory (CLONE_VM, not a thread) moves with us. */
    puts_(ADJ, "10");
    static char stack[65536];
    fflush(stdout);
    pid_t v = clone(vm_child, stack + sizeof stack, CLONE_VM | SIGCHLD, NULL);
    int vst = 0;
    waitpid(v, &vst, 0);
    CHECK("clone_vm_status", "%s", wstr(vst));
    CHECK("clone_vm_shared", "%ld", get(ADJ));
    puts_(ADJ, "0");
    return 0;
}
