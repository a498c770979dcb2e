#include "difftest.h"
#include "cgroup_util.h"
/* cgroup v2 threaded subtrees: cgroup.type "threaded", thread roots, "domain invalid" siblings,
 * threads moved one by one through cgroup.threads, what cgroup.procs shows and accepts there,
 * and which controllers may be enabled inside. */
#include <fcntl.h>
#include <pthread.h>
#include <sys/mount.h>
#include <sys/stat.h>

#define CG "/sys/fs/cgroup"

static int count_lines(const char *path) {
    const char *t = cat(path);
    if (!strncmp(t, "open", 4) || !strncmp(t, "read", 4)) return -1;
    int n = 0;
    for (; *t; t++) n += *t == '|';
    return n;
}

static const char *id(long v) {
    static char b[32];
    snprintf(b, sizeof b, "%ld", v);
    return b;
}

static volatile long worker_tid;
static void *worker(void *arg) {
    (void)arg;
    worker_tid = syscall(SYS_gettid);
    for (;;) pause();
    return NULL;
}

static void types(const char *tag) {
    char name[64];
    const char *dirs[] = {"th", "th/a", "th/b", "th/a/c", NULL};
    for (int i = 0; dirs[i]; i++) {
        char path[128];
        snprintf(path, sizeof path, CG "/%s/cgroup.type", dirs[i]);
        snprintf(name, sizeof name, "%s.type.%s", tag, dirs[i]);
        CHECK(name, "%s", cat(path));
    }
}

static int run(void) {
    CK("mkdir_th", mkdir(CG "/th", 0755));
    CK("mkdir_a", mkdir(CG "/th/a", 0755));
    CK("mkdir_b", mkdir(CG "/th/b", 0755));
    types("fresh");
    CHECK("a_threaded", "%s", wr(CG "/th/a/cgroup.type", "threaded"));
    CHECK("a_threaded_again", "%s", wr(CG "/th/a/cgroup.type", "threaded\n"));
    CHECK("a_domain", "%s", wr(CG "/th/a/cgroup.type", "domain"));
    types("one_threaded");
    CK("mkdir_c_in_threaded", mkdir(CG "/th/a/c", 0755));
    types("with_c");
    CHECK("th_controllers", "%s", cat(CG "/th/cgroup.controllers"));
    CHECK("root_sc", "%s", wr(CG "/cgroup.subtree_control", "+pids +memory +cpu"));
    CHECK("th_sc_memory", "%s", wr(CG "/th/cgroup.subtree_control", "+memory"));
    CHECK("th_sc_pids", "%s", wr(CG "/th/cgroup.subtree_control", "+pids"));
    CHECK("a_controllers", "%s", cat(CG "/th/a/cgroup.controllers"));
    CHECK("a_sc_pids", "%s", wr(CG "/th/a/cgroup.subtree_control", "+pids"));
    CHECK("a_sc_memory", "%s", wr(CG "/th/a/cgroup.subtree_control", "+memory"));
    CHECK("c_controllers", "%s", cat(CG "/th/a/c/cgroup.controllers"));
    CHECK("b_threaded", "%s", wr(CG "/th/b/cgroup.type", "threaded"));
    types("both_threaded");

    /* a process with two threads: into the thread root, then one thread into a */
    pthread_t th;
    pthread_create(&th, NULL, worker, NULL);
    while (!worker_tid) sched_yield();
    CHECK("move_proc_th", "%s", wr(CG "/th/cgroup.procs", id(getpid())));
    CHECK("th_threads_count", "%d", count_lines(CG "/th/cgroup.threads"));
    CHECK("move_thread_a", "%s", wr(CG "/th/a/cgroup.threads", id(worker_tid)));
    CHECK("th_threads_count_after", "%d", count_lines(CG "/th/cgroup.threads"));
    CHECK("a_threads_count", "%d", count_lines(CG "/th/a/cgroup.threads"));
    CHECK("th_procs_count", "%d", count_lines(CG "/th/cgroup.procs"));
    CHECK("a_procs", "%s", cat(CG "/th/a/cgroup.procs"));
    {
        char path[64];
        snprintf(path, sizeof path, "/proc/self/task/%ld/cgroup", worker_tid);
        CHECK("worker_cgroup", "%s", cat(path));
    }
    CHECK("self_cgroup", "%s", cat("/proc/self/cgroup"));
    CHECK("a_events", "%s", cat(CG "/th/a/cgroup.events"));
    CHECK("pids_current_th", "%s", cat(CG "/th/pids.current"));
    CHECK("pids_current_a", "%s", cat(CG "/th/a/pids.current"));
    types("populated");
    CHECK("move_thread_b", "%s", wr(CG "/th/b/cgroup.threads", id(worker_tid)));
    CHECK("move_thread_root", "%s", wr(CG "/cgroup.threads", id(worker_tid)));
    CHECK("move_thread_self_c", "%s", wr(CG "/th/a/c/cgroup.threads", "0"));
    CHECK("self_cgroup_c", "%s", cat("/proc/self/cgroup"));
    CHECK("move_proc_into_threaded", "%s", wr(CG "/th/a/cgroup.procs", "0"));
    CHECK("self_cgroup_after_procs", "%s", cat("/proc/self/cgroup"));
    CHECK("th_threads_after_procs", "%d", count_lines(CG "/th/cgroup.threads"));
    CHECK("a_threads_after_procs", "%d", count_lines(CG "/th/a/cgroup.threads"));
    CK("rmdir_th_populated", rmdir(CG "/th"));
    CHECK("move_proc_root", "%s", wr(CG "/cgroup.procs", "0"));
    CHECK("self_cgroup_root", "%s", cat("/proc/self/cgroup"));
    {
        char path[64];
        snprintf(path, sizeof path, "/proc/self/task/%ld/cgroup", worker_tid);
        CHECK("worker_cgroup_root", "%s", cat(path));
    }
    types("empty");
    CHECK("th_sc_off", "%s", wr(CG "/th/cgroup.subtree_control", "-pids"));
    CHECK("root_sc_off", "%s", wr(CG "/cgroup.subtree_control", "-pids -memory -cpu"));
    CK("rmdir_c", rmdir(CG "/th/a/c"));
    CK("rmdir_a", rmdir(CG "/th/a"));
    types("a_gone");
    CK("rmdir_b", rmdir(CG "/th/b"));
    types("b_gone");
    CK("rmdir_th", rmdir(CG "/th"));
    fflush(stdout);
    return 0;
}

int main(void) {
    setup();
    CK("mount", mount("none", CG, "cgroup2", 0, NULL));
    /* in a child: its extra thread must not outlive the test's cgroups */
    CHECK("run", "%s", wstr(in_child(run)));
    return 0;
}
