#include "difftest.h"
#include "cgroup_util.h"
/* cgroup v2 under concurrency: threads and processes come and go while their process is moved
 * back and forth between two cgroups and the files are read; afterwards the counts must be back
 * to zero and the cgroups removable. */
#include <fcntl.h>
#include <pthread.h>
#include <sys/mount.h>
#include <sys/stat.h>

#define CG "/sys/fs/cgroup"

static int wr_rc(const char *path, const char *text) {
    int fd = open(path, O_WRONLY);
    if (fd < 0) return -1;
    ssize_t n = write(fd, text, strlen(text));
    close(fd);
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

static volatile int stop;
static void *noop(void *arg) { return arg; }

static void *spawner(void *arg) {
    long failures = 0;
    (void)arg;
    while (!stop) {
        pthread_t t;
        if (pthread_create(&t, NULL, noop, NULL)) failures++;
        else pthread_join(t, NULL);
        pid_t p = fork();
        if (p == 0) _exit(0);
        if (p > 0) waitpid(p, NULL, 0);
        else failures++;
    }
    return (void *)failures;
}

static void *reader(void *arg) {
    (void)arg;
    while (!stop) {
        cat(CG "/s/a/cgroup.procs");
        cat(CG "/s/b/cgroup.threads");
        cat(CG "/s/cgroup.events");
        cat(CG "/s/a/pids.current");
        cat("/proc/self/cgroup");
    }
    return NULL;
}

static int run(void) {
    pthread_t sp[3], rd;
    for (int i = 0; i < 3; i++) pthread_create(&sp[i], NULL, spawner, NULL);
    pthread_create(&rd, NULL, reader, NULL);
    int moves_ok = 0;
    for (int i = 0; i < 300; i++) moves_ok += wr_rc(i % 2 ? CG "/s/b/cgroup.procs" : CG "/s/a/cgroup.procs", "0") == 0;
    stop = 1;
    long failures = 0;
    for (int i = 0; i < 3; i++) {
        void *r;
        pthread_join(sp[i], &r);
        failures += (long)r;
    }
    pthread_join(rd, NULL);
    printf("CHECK moves_ok: %d\n", moves_ok);
    printf("CHECK spawn_failures: %ld\n", failures);
    printf("CHECK threads_in_b: %s\n", cat(CG "/s/b/cgroup.threads") [0] ? "some" : "none");
    fflush(stdout);
    return 0;
}

int main(void) {
    setup();
    CK("mount", mount("none", CG, "cgroup2", 0, NULL));
    rmdir(CG "/s/a");
    rmdir(CG "/s/b");
    rmdir(CG "/s");
    CK("mkdir", mkdir(CG "/s", 0755) | mkdir(CG "/s/a", 0755) | mkdir(CG "/s/b", 0755));
    CHECK("sc", "%d", wr_rc(CG "/cgroup.subtree_control", "+pids") | wr_rc(CG "/s/cgroup.subtree_control", "+pids"));
    CHECK("run", "%s", wstr(in_child(run)));
    CHECK("events_s", "%s", cat(CG "/s/cgroup.events"));
    CHECK("pids_s", "%s", cat(CG "/s/pids.current"));
    CHECK("pids_a", "%s", cat(CG "/s/a/pids.current"));
    CHECK("pids_b", "%s", cat(CG "/s/b/pids.current"));
    CHECK("procs_a", "%s", cat(CG "/s/a/cgroup.procs"));
    CHECK("procs_b", "%s", cat(CG "/s/b/cgroup.procs"));
    CHECK("sc_off", "%d", wr_rc(CG "/s/cgroup.subtree_control", "-pids") | wr_rc(CG "/cgroup.subtree_control", "-pids"));
    CK("rmdir", rmdir(CG "/s/a") | rmdir(CG "/s/b") | rmdir(CG "/s"));
    return 0;
}
