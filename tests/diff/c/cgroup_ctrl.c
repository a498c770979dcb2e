#include "difftest.h"
#include "cgroup_util.h"
/* cgroup v2 controllers: the files of cpuset, cpu, io, memory and pids in a child, their
 * defaults, formats and the validation of writes; the pids limit on fork and threads;
 * cpuset moves. Values that depend on timing (usage, memory) are shown as their keys. */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>

#define CG "/sys/fs/cgroup"

static int cmpstr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void list(const char *check, const char *dir, const char *prefix) {
    char *names[256];
    int n = 0;
    DIR *d = opendir(dir);
    if (!d) { CHECK(check, "opendir -1 %s", errname(errno)); return; }
    struct dirent *e;
    while ((e = readdir(d)) && n < 256) {
        if (e->d_name[0] == '.' || strncmp(e->d_name, prefix, strlen(prefix))) continue;
        char path[512], item[300];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (lstat(path, &st)) snprintf(item, sizeof item, "%s:?", e->d_name);
        else snprintf(item, sizeof item, "%s:%o", e->d_name, st.st_mode & 07777);
        names[n++] = strdup(item);
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmpstr);
    char out[4000];
    size_t len = 0;
    out[0] = 0;
    for (int i = 0; i < n; i++) {
        len += snprintf(out + len, sizeof out - len, "%s%s", i ? " " : "", names[i]);
        free(names[i]);
        if (len >= sizeof out) break;
    }
    CHECK(check, "%s", out);
}

/* The first word of every line: the keys of a flat keyed file. */
static const char *keys(const char *path) {
    static char out[8192];
    char b[8192];
    snprintf(b, sizeof b, "%s", cat(path));
    out[0] = 0;
    for (char *s = strtok(b, "|"); s; s = strtok(NULL, "|")) {
        strncat(out, s, strcspn(s, " "));
        strcat(out, " ");
    }
    return out;
}

#define W(name, file, text) CHECK(name, "%s", wr(CG "/c/" file, text))
#define R(name, file) CHECK(name, "%s", cat(CG "/c/" file))
#define WR(name, file, text) do { W(name, file, text); R(name ".read", file); } while (0)

/* Every file with this prefix and its text (write-only ones show their read error). */
static void dump(const char *tag, const char *dir, const char *prefix) {
    char *names[256];
    int n = 0;
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) && n < 256)
        if (!strncmp(e->d_name, prefix, strlen(prefix))) names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, n, sizeof *names, cmpstr);
    for (int i = 0; i < n; i++) {
        char path[512], check[300];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        snprintf(check, sizeof check, "%s.%s", tag, names[i]);
        CHECK(check, "%s", cat(path));
        free(names[i]);
    }
}

static void *idle_thread(void *arg) { (void)arg; pause(); return NULL; }

int main(void) {
    setup();
    CK("mount", mount("none", CG, "cgroup2", 0, NULL));
    rmdir(CG "/c/x");
    rmdir(CG "/c");
    CHECK("root_sc", "%s", wr(CG "/cgroup.subtree_control", "+cpuset +cpu +io +memory +pids"));
    CK("mkdir_c", mkdir(CG "/c", 0755));
    list("c_cpuset", CG "/c", "cpuset.");
    list("c_cpu", CG "/c", "cpu.");
    list("c_io", CG "/c", "io.");
    list("c_memory", CG "/c", "memory.");
    list("c_pids", CG "/c", "pids.");
    list("root_cpuset", CG, "cpuset.");
    list("root_io", CG, "io.");
    list("root_memory", CG, "memory.");
    /* the controllers Keel has no resources for */
    CHECK("root_sc_others", "%s", wr(CG "/cgroup.subtree_control", "+hugetlb +rdma +misc"));
    CHECK("c_controllers", "%s", cat(CG "/c/cgroup.controllers"));
    list("c_hugetlb", CG "/c", "hugetlb.");
    list("c_rdma", CG "/c", "rdma.");
    list("c_misc", CG "/c", "misc.");
    list("root_misc", CG, "misc.");
    list("root_hugetlb", CG, "hugetlb.");
    list("root_rdma", CG, "rdma.");
    dump("c", CG "/c", "hugetlb.");
    dump("c", CG "/c", "rdma.");
    dump("c", CG "/c", "misc.");
    dump("root", CG, "misc.");
    CHECK("root_sc_others_off", "%s", wr(CG "/cgroup.subtree_control", "-hugetlb -rdma -misc"));

    /* cpu */
    R("cpu.weight", "cpu.weight");
    R("cpu.weight.nice", "cpu.weight.nice");
    R("cpu.max", "cpu.max");
    R("cpu.max.burst", "cpu.max.burst");
    R("cpu.idle", "cpu.idle");
    CHECK("cpu.stat_keys", "%s", keys(CG "/c/cpu.stat"));
    CHECK("root_cpu.stat_keys", "%s", keys(CG "/cpu.stat"));
    R("cpu.stat.local", "cpu.stat.local");
    WR("cpu.weight_300", "cpu.weight", "300");
    W("cpu.weight_0", "cpu.weight", "0");
    W("cpu.weight_10001", "cpu.weight", "10001");
    W("cpu.weight_junk", "cpu.weight", "abc");
    R("cpu.weight.nice_of_300", "cpu.weight.nice");
    WR("cpu.weight.nice_5", "cpu.weight.nice", "5");
    R("cpu.weight_of_nice5", "cpu.weight");
    WR("cpu.weight.nice_-20", "cpu.weight.nice", "-20");
    R("cpu.weight_of_nice-20", "cpu.weight");
    W("cpu.weight.nice_20", "cpu.weight.nice", "20");
    W("cpu.weight.nice_junk", "cpu.weight.nice", "x");
    WR("cpu.weight_33", "cpu.weight", "33");
    R("cpu.weight.nice_of_33", "cpu.weight.nice");
    WR("cpu.max_50000", "cpu.max", "50000 100000");
    WR("cpu.max_quota_only", "cpu.max", "20000");
    WR("cpu.max_max", "cpu.max", "max");
    WR("cpu.max_max_period", "cpu.max", "max 50000");
    W("cpu.max_small_quota", "cpu.max", "999 100000");
    W("cpu.max_small_period", "cpu.max", "10000 999");
    W("cpu.max_big_period", "cpu.max", "10000 1000001");
    W("cpu.max_junk", "cpu.max", "abc");
    W("cpu.max_empty", "cpu.max", "\n");
    WR("cpu.max.burst_1000", "cpu.max.burst", "1000");
    WR("cpu.max_with_burst", "cpu.max", "20000 100000");
    W("cpu.max.burst_over_quota", "cpu.max.burst", "30000");
    W("cpu.max.burst_junk", "cpu.max.burst", "x");
    WR("cpu.idle_1", "cpu.idle", "1");
    W("cpu.idle_2", "cpu.idle", "2");
    W("cpu.idle_junk", "cpu.idle", "x");
    WR("cpu.idle_0", "cpu.idle", "0");
    CHECK("cpu.stat_keys_after", "%s", keys(CG "/c/cpu.stat"));

    /* memory */
    R("memory.current_isnum", "memory.min");
    R("memory.low", "memory.low");
    R("memory.high", "memory.high");
    R("memory.max", "memory.max");
    R("memory.oom.group", "memory.oom.group");
    R("memory.events", "memory.events");
    R("memory.events.local", "memory.events.local");
    R("memory.swap.current", "memory.swap.current");
    R("memory.swap.high", "memory.swap.high");
    R("memory.swap.max", "memory.swap.max");
    R("memory.swap.events", "memory.swap.events");
    R("memory.swap.peak", "memory.swap.peak");
    CHECK("memory.stat_keys", "%s", keys(CG "/c/memory.stat"));
    CHECK("root_memory.stat_keys", "%s", keys(CG "/memory.stat"));
    CHECK("memory.numa_stat_keys", "%s", keys(CG "/c/memory.numa_stat"));
    WR("memory.max_1M", "memory.max", "1M");
    WR("memory.max_odd", "memory.max", "5000");
    WR("memory.max_bytes", "memory.max", "1048576\n");
    WR("memory.max_g", "memory.max", "2g");
    W("memory.max_junk", "memory.max", "12x");
    W("memory.max_neg", "memory.max", "-1");
    WR("memory.max_max", "memory.max", "max");
    WR("memory.high_64k", "memory.high", "64K");
    WR("memory.low_8k", "memory.low", "8192");
    WR("memory.min_4k", "memory.min", "4096");
    WR("memory.swap.max_0", "memory.swap.max", "0");
    WR("memory.swap.high_1M", "memory.swap.high", "1M");
    WR("memory.oom.group_1", "memory.oom.group", "1");
    W("memory.oom.group_2", "memory.oom.group", "2");
    W("memory.oom.group_junk", "memory.oom.group", "x");
    W("memory.reclaim_junk", "memory.reclaim", "x");
    R("memory.reclaim_read", "memory.reclaim");
    W("memory.reclaim_0", "memory.reclaim", "0");
    W("memory.reclaim_1M_empty", "memory.reclaim", "1M");
    W("memory.reclaim_swappiness", "memory.reclaim", "4096 swappiness=10");
    W("memory.reclaim_bad_key", "memory.reclaim", "4096 foo=1");
    W("memory.peak_reset", "memory.peak", "reset");
    W("memory.swap.peak_reset", "memory.swap.peak", "x");
    W("memory.current_write", "memory.current", "1");

    /* io */
    R("io.weight", "io.weight");
    R("io.max", "io.max");
    R("io.stat", "io.stat");
    WR("io.weight_200", "io.weight", "200");
    WR("io.weight_default", "io.weight", "default 50");
    W("io.weight_0", "io.weight", "0");
    W("io.weight_junk", "io.weight", "x");
    W("io.weight_nodev", "io.weight", "8:0 100");
    W("io.max_nodev", "io.max", "8:0 rbps=1000");
    W("io.max_junk", "io.max", "junk");
    R("root_io.cost.qos", "../io.cost.qos");
    R("root_io.cost.model", "../io.cost.model");

    /* cpuset */
    R("cpuset.cpus", "cpuset.cpus");
    R("cpuset.cpus.effective", "cpuset.cpus.effective");
    R("cpuset.mems", "cpuset.mems");
    R("cpuset.mems.effective", "cpuset.mems.effective");
    R("cpuset.cpus.partition", "cpuset.cpus.partition");
    R("cpuset.cpus.exclusive", "cpuset.cpus.exclusive");
    R("cpuset.cpus.exclusive.effective", "cpuset.cpus.exclusive.effective");
    R("root_cpuset.cpus.effective", "../cpuset.cpus.effective");
    R("root_cpuset.cpus.isolated", "../cpuset.cpus.isolated");
    R("root_cpuset.mems.effective", "../cpuset.mems.effective");
    WR("cpuset.cpus_1", "cpuset.cpus", "1");
    R("cpuset.cpus.effective_1", "cpuset.cpus.effective");
    W("cpuset.cpus_5", "cpuset.cpus", "5");
    W("cpuset.cpus_100", "cpuset.cpus", "100");
    W("cpuset.cpus_junk", "cpuset.cpus", "a");
    W("cpuset.cpus_reversed", "cpuset.cpus", "1-0");
    WR("cpuset.cpus_range", "cpuset.cpus", "0-1");
    WR("cpuset.mems_0", "cpuset.mems", "0");
    W("cpuset.mems_1", "cpuset.mems", "1");
    W("cpuset.partition_junk", "cpuset.cpus.partition", "junk");
    WR("cpuset.partition_member", "cpuset.cpus.partition", "member");
    {
        /* a process moved into a one-CPU cpuset runs there */
        CHECK("cpuset.cpus_0", "%s", wr(CG "/c/cpuset.cpus", "0"));
        fflush(stdout);
        pid_t p = fork();
        if (p == 0) {
            char pid[16];
            snprintf(pid, sizeof pid, "%d", getpid());
            const char *r = wr(CG "/c/cgroup.procs", pid);
            cpu_set_t set;
            CPU_ZERO(&set);
            sched_getaffinity(0, sizeof set, &set);
            printf("CHECK cpuset_child_move: %s\n", r);
            printf("CHECK cpuset_child_affinity_count: %d cpu0 %d\n", CPU_COUNT(&set), CPU_ISSET(0, &set));
            printf("CHECK cpuset_child_runs_on_0: %d\n", sched_getcpu() == 0);
            fflush(stdout);
            _exit(0);
        }
        int st;
        waitpid(p, &st, 0);
        CHECK("cpuset_child_exit", "%s", wstr(st));
        CHECK("cpuset.cpus_back", "%s", wr(CG "/c/cpuset.cpus", ""));
    }

    /* pids */
    R("pids.max", "pids.max");
    R("pids.current", "pids.current");
    R("pids.peak", "pids.peak");
    R("pids.events", "pids.events");
    R("pids.events.local", "pids.events.local");
    W("pids.max_junk", "pids.max", "x");
    W("pids.max_neg", "pids.max", "-1");
    W("pids.max_huge", "pids.max", "99999999");
    WR("pids.max_2", "pids.max", "2");
    {
        fflush(stdout);
        pid_t p = fork();
        if (p == 0) {
            char pid[16];
            snprintf(pid, sizeof pid, "%d", getpid());
            printf("CHECK pids_child_move: %s\n", wr(CG "/c/cgroup.procs", pid));
            printf("CHECK pids_current_1: %s\n", cat(CG "/c/pids.current"));
            fflush(stdout);
            pid_t a = fork();
            if (a == 0) { pause(); _exit(0); }
            printf("CHECK pids_fork_1: %d\n", a > 0);
            errno = 0;
            pid_t b = fork();
            if (b == 0) _exit(0);
            printf("CHECK pids_fork_2: %d %s\n", b > 0, errname(errno));
            pthread_t th;
            int r = pthread_create(&th, NULL, idle_thread, NULL);
            printf("CHECK pids_thread: %s\n", errname(r));
            printf("CHECK pids_current_2: %s\n", cat(CG "/c/pids.current"));
            printf("CHECK pids_events_2: %s\n", cat(CG "/c/pids.events"));
            printf("CHECK pids_events_local_2: %s\n", cat(CG "/c/pids.events.local"));
            printf("CHECK pids_root_events: %s\n", cat(CG "/c/pids.events"));
            kill(a, SIGKILL);
            int st;
            waitpid(a, &st, 0);
            printf("CHECK pids_current_after_reap: %s\n", cat(CG "/c/pids.current"));
            printf("CHECK pids_peak: %s\n", cat(CG "/c/pids.peak"));
            r = pthread_create(&th, NULL, idle_thread, NULL);
            printf("CHECK pids_thread_after: %s\n", errname(r));
            printf("CHECK pids_current_thread: %s\n", cat(CG "/c/pids.current"));
            fflush(stdout);
            _exit(0);
        }
        int st;
        waitpid(p, &st, 0);
        CHECK("pids_child_exit", "%s", wstr(st));
    }
    R("pids.current_end", "pids.current");
    WR("pids.max_max", "pids.max", "max");
    /* a zombie still counts until it is reaped */
    {
        fflush(stdout);
        pid_t p = fork();
        if (p == 0) {
            char pid[16];
            snprintf(pid, sizeof pid, "%d", getpid());
            wr(CG "/c/cgroup.procs", pid);
            _exit(0);
        }
        siginfo_t si;
        waitid(P_PID, p, &si, WEXITED | WNOWAIT);
        CHECK("pids_zombie_current", "%s", cat(CG "/c/pids.current"));
        CHECK("zombie_populated", "%s", cat(CG "/c/cgroup.events"));
        CHECK("zombie_procs", "%s", cat(CG "/c/cgroup.procs"));
        CK("rmdir_with_zombie", rmdir(CG "/c") == 0 ? (mkdir(CG "/c", 0755), 0) : -1);
        int st;
        waitpid(p, &st, 0);
    }
    rmdir(CG "/c");
    CHECK("root_sc_off", "%s", wr(CG "/cgroup.subtree_control", "-cpuset -cpu -io -memory -pids"));
    umount(CG);
    return 0;
}
