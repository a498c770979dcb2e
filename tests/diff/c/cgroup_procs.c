#include "difftest.h"
#include "cgroup_util.h"
/* cgroup v2 and processes: fork inherits the cgroup, cgroup.events "populated" with poll(POLLPRI),
 * clone3(CLONE_INTO_CGROUP) and its errors, cgroup.kill, cgroup.threads, /proc/<pid>/cgroup,
 * the pressure files of a cgroup. */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/resource.h>

#define CG "/sys/fs/cgroup"

/* struct clone_args up to CLONE_ARGS_SIZE_VER2 (musl has no kernel headers) */
struct clone_args_v2 {
    unsigned long long flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
        set_tid_size, cgroup;
};
#define CLONE_INTO_CGROUP_ 0x200000000ULL
#ifndef SYS_clone3
#define SYS_clone3 435
#endif

static const char *move_pid(const char *cg, int pid) {
    char path[256], text[32];
    snprintf(path, sizeof path, "%s/cgroup.procs", cg);
    snprintf(text, sizeof text, "%d", pid);
    return wr(path, text);
}

static int count_lines(const char *path) {
    const char *t = cat(path);
    if (!strncmp(t, "open", 4) || !strncmp(t, "read", 4)) return -1;
    int n = 0;
    for (; *t; t++) n += *t == '|';
    return n;
}

static pid_t clone3_into(int cgfd, size_t size, unsigned long long extra_flags) {
    struct clone_args_v2 ca;
    memset(&ca, 0, sizeof ca);
    ca.flags = CLONE_INTO_CGROUP_ | extra_flags;
    ca.exit_signal = SIGCHLD;
    ca.cgroup = (unsigned long long)(long long)cgfd;
    fflush(stdout);
    return syscall(SYS_clone3, &ca, size);
}

static void *sleeper(void *arg) { (void)arg; for (;;) pause(); return NULL; }

int main(void) {
    setup();
    CK("mount", mount("none", CG, "cgroup2", 0, NULL));
    rmdir(CG "/p/q");
    rmdir(CG "/p");
    CK("mkdir_p", mkdir(CG "/p", 0755));

    /* a child moved in: populated, with a poll(POLLPRI) wake-up when it exits */
    int evfd = open(CG "/p/cgroup.events", O_RDONLY);
    CHECK("events_open", "%d", evfd >= 0);
    char buf[128];
    CHECK("events_initial", "%s", cat(CG "/p/cgroup.events"));
    {
        struct pollfd pf = {evfd, POLLPRI, 0};
        CK("poll_before_change", poll(&pf, 1, 0));
        CHECK("poll_before_change_revents", "%#x", pf.revents);
    }
    int pipefd[2];
    pipe(pipefd);
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        char x;
        close(pipefd[1]);
        read(pipefd[0], &x, 1);
        _exit(0);
    }
    close(pipefd[0]);
    CHECK("move_child", "%s", move_pid(CG "/p", c));
    {
        struct pollfd pf = {evfd, POLLPRI, 0};
        CK("poll_after_populate", poll(&pf, 1, 1000));
        CHECK("poll_after_populate_revents", "%#x", pf.revents);
        lseek(evfd, 0, SEEK_SET);
        ssize_t n = read(evfd, buf, sizeof buf - 1);
        buf[n > 0 ? n : 0] = 0;
        for (char *s = buf; *s; s++) if (*s == '\n') *s = '|';
        CHECK("events_populated", "%s", buf);
        pf.revents = 0;
        CK("poll_after_read", poll(&pf, 1, 0));
    }
    {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/cgroup", c);
        CHECK("proc_child_cgroup", "%s", cat(path));
    }
    /* the child's fork lands in p too */
    CHECK("p_procs_count", "%d", count_lines(CG "/p/cgroup.procs"));
    close(pipefd[1]);  /* the child exits */
    {
        struct pollfd pf = {evfd, POLLPRI, 0};
        CK("poll_after_exit", poll(&pf, 1, 5000));
        CHECK("poll_after_exit_revents", "%#x", pf.revents);
        CHECK("events_after_exit", "%s", cat(CG "/p/cgroup.events"));
    }
    int st;
    waitpid(c, &st, 0);
    close(evfd);

    /* fork inherits the cgroup */
    fflush(stdout);
    c = fork();
    if (c == 0) {
        move_pid(CG "/p", 0);
        fflush(stdout);
        pid_t g = fork();
        if (g == 0) {
            printf("CHECK grandchild_cgroup: %s\n", cat("/proc/self/cgroup"));
            fflush(stdout);
            _exit(0);
        }
        waitpid(g, NULL, 0);
        _exit(0);
    }
    waitpid(c, &st, 0);
    CHECK("inherit_child_exit", "%s", wstr(st));

    /* threads: cgroup.threads lists them; a thread alone cannot leave its domain cgroup */
    fflush(stdout);
    c = fork();
    if (c == 0) {
        move_pid(CG "/p", getpid());
        pthread_t th;
        pthread_create(&th, NULL, sleeper, NULL);
        printf("CHECK threads_count: %d\n", count_lines(CG "/p/cgroup.threads"));
        printf("CHECK procs_count_threaded: %d\n", count_lines(CG "/p/cgroup.procs"));
        char tid[32];
        snprintf(tid, sizeof tid, "%ld", (long)syscall(SYS_gettid));
        printf("CHECK thread_to_root: %s\n", wr(CG "/cgroup.threads", tid));
        printf("CHECK thread_same_cgroup: %s\n", wr(CG "/p/cgroup.threads", tid));
        printf("CHECK thread_self_zero: %s\n", wr(CG "/p/cgroup.threads", "0"));
        printf("CHECK process_to_root_with_threads: %s\n", move_pid(CG, 0));
        printf("CHECK threads_count_after: %d\n", count_lines(CG "/p/cgroup.threads"));
        fflush(stdout);
        _exit(0);
    }
    waitpid(c, &st, 0);
    CHECK("threads_child_exit", "%s", wstr(st));

    /* clone3 CLONE_INTO_CGROUP */
    int cgfd = open(CG "/p", O_RDONLY | O_DIRECTORY);
    int tmpfd = open("/tmp", O_RDONLY | O_DIRECTORY);
    int filefd = open(CG "/p/cgroup.procs", O_RDONLY);
    c = clone3_into(cgfd, sizeof(struct clone_args_v2), 0);
    if (c == 0) {
        printf("CHECK clone3_child_cgroup: %s\n", cat("/proc/self/cgroup"));
        fflush(stdout);
        _exit(0);
    }
    CHECK("clone3_into", "%d", c > 0);
    if (c > 0) waitpid(c, &st, 0);
    errno = 0;
    CK("clone3_into_size_ver1", clone3_into(cgfd, 80, 0));
    CK("clone3_into_bad_fd", clone3_into(1000, sizeof(struct clone_args_v2), 0));
    CK("clone3_into_negative_fd", clone3_into(-1, sizeof(struct clone_args_v2), 0));
    CK("clone3_into_tmp_dir", clone3_into(tmpfd, sizeof(struct clone_args_v2), 0));
    CK("clone3_into_cgroup_file", clone3_into(filefd, sizeof(struct clone_args_v2), 0));
    CK("mkdir_q", mkdir(CG "/p/q", 0755));
    CHECK("p_sc_memory", "%s", wr(CG "/cgroup.subtree_control", "+memory"));
    CHECK("p_sc_memory2", "%s", wr(CG "/p/cgroup.subtree_control", "+memory"));
    CK("clone3_into_internal", clone3_into(cgfd, sizeof(struct clone_args_v2), 0));
    CHECK("p_sc_off", "%s", wr(CG "/p/cgroup.subtree_control", "-memory"));
    CHECK("root_sc_off", "%s", wr(CG "/cgroup.subtree_control", "-memory"));
    {
        int qfd = open(CG "/p/q", O_RDONLY | O_DIRECTORY);
        CK("rmdir_q", rmdir(CG "/p/q"));
        CK("clone3_into_removed", clone3_into(qfd, sizeof(struct clone_args_v2), 0));
        close(qfd);
    }
    close(tmpfd);
    close(filefd);

    /* cgroup.kill: every process in the subtree */
    CK("mkdir_q2", mkdir(CG "/p/q", 0755));
    pid_t kids[3];
    for (int i = 0; i < 3; i++) {
        fflush(stdout);
        kids[i] = fork();
        if (kids[i] == 0) {
            for (;;) pause();
        }
        move_pid(i ? CG "/p/q" : CG "/p", kids[i]);
    }
    CHECK("kill_procs_before", "%d %d", count_lines(CG "/p/cgroup.procs"), count_lines(CG "/p/q/cgroup.procs"));
    CHECK("kill_write", "%s", wr(CG "/p/cgroup.kill", "1"));
    for (int i = 0; i < 3; i++) {
        waitpid(kids[i], &st, 0);
        char name[32];
        snprintf(name, sizeof name, "kill_status_%d", i);
        CHECK(name, "%s", wstr(st));
    }
    CHECK("kill_events_after", "%s", cat(CG "/p/cgroup.events"));
    CHECK("kill_procs_after", "%d", count_lines(CG "/p/cgroup.procs"));

    /* cpu.stat: the CPU time of a process that ran in the cgroup (a fresh one) stays there after
     * it exits: about what wait4 reports for it */
    CK("mkdir_cpu", mkdir(CG "/p/cpu", 0755));
    {
        int cpipe[2];
        pipe(cpipe);
        fflush(stdout);
        pid_t b = fork();
        if (b == 0) {
            move_pid(CG "/p/cpu", 0);
            struct timespec ts;
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
            long moved_us = ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
            volatile unsigned long x = 0;
            do {
                for (int i = 0; i < 100000; i++) x += i;
                clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
            } while ((ts.tv_sec * 1000000 + ts.tv_nsec / 1000) - moved_us < 200000);
            long us = ts.tv_sec * 1000000 + ts.tv_nsec / 1000 - moved_us;  /* spent in the cgroup */
            write(cpipe[1], &us, sizeof us);
            _exit(0);
        }
        long child_us = 0;
        read(cpipe[0], &child_us, sizeof child_us);
        struct rusage ru;
        wait4(b, &st, 0, &ru);
        long ru_us = ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec + ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec;
        char b1[512];
        snprintf(b1, sizeof b1, "%s", cat(CG "/p/cpu/cpu.stat"));
        long usage = -1, user = -1, sys = -1;
        sscanf(b1, "usage_usec %ld|user_usec %ld|system_usec %ld", &usage, &user, &sys);
        /* at least what it spent there; at most all it ever ran (wait4) */
        CHECK("cpu_usage_covers_child", "%d", usage >= child_us * 9 / 10 && usage <= ru_us + 20000);
        long split = user + sys - usage;  /* Linux scales the two parts separately */
        CHECK("cpu_usage_user_plus_system", "%d", user >= 0 && sys >= 0 && split <= usage / 100 + 10 && -split <= usage / 100 + 10);
        snprintf(b1, sizeof b1, "%s", cat(CG "/p/cpu.stat"));
        long parent_usage = -1;
        sscanf(b1, "usage_usec %ld", &parent_usage);
        CHECK("cpu_usage_in_parent", "%d", parent_usage >= usage);
        close(cpipe[0]);
        close(cpipe[1]);
    }
    CK("rmdir_cpu", rmdir(CG "/p/cpu"));

    /* pressure files: their shape */
    {
        char b[512];
        snprintf(b, sizeof b, "%s", cat(CG "/p/cpu.pressure"));
        char *eq = strchr(b, '=');
        CHECK("cpu_pressure_prefix", "%.*s", eq ? (int)(eq - b) : 0, b);
        CHECK("cpu_pressure_lines", "%d", count_lines(CG "/p/cpu.pressure"));
        CHECK("memory_pressure_lines", "%d", count_lines(CG "/p/memory.pressure"));
        CHECK("io_pressure_lines", "%d", count_lines(CG "/p/io.pressure"));
        CHECK("pressure_off", "%s", wr(CG "/p/cgroup.pressure", "0"));
        CHECK("cpu_pressure_when_off", "%s", cat(CG "/p/cpu.pressure"));
        CHECK("pressure_on", "%s", wr(CG "/p/cgroup.pressure", "1"));
        CHECK("cpu_pressure_trigger", "%s", wr(CG "/p/cpu.pressure", "some 150000 1000000"));
        CHECK("cpu_pressure_trigger_junk", "%s", wr(CG "/p/cpu.pressure", "junk"));
    }
    CK("rmdir_q_end", rmdir(CG "/p/q"));
    close(cgfd);
    CK("rmdir_p", rmdir(CG "/p"));
    return 0;
}
