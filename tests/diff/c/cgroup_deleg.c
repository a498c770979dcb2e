#include "difftest.h"
#include "cgroup_util.h"
/* cgroup v2 delegation: a subtree chowned to an unprivileged user (as
 * systemd delegates one). Who owns what a delegatee creates; migrations
 * need write access to cgroup.procs of the common ancestor of source and
 * destination (Delegation Containment in cgroup-v2.rst); the errno of every
 * refused write. */
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>

#define CG "/sys/fs/cgroup"
#define UID 1000

static const char *move_pid(const char *cg, const char *file, int pid) {
    char path[256], text[32];
    snprintf(path, sizeof path, "%s/%s", cg, file);
    snprintf(text, sizeof text, "%d", pid);
    return wr(path, text);
}

/* Owner of a path relative to UID: "user", "root" or the error. */
static const char *owner(const char *path) {
    struct stat st;
    if (stat(path, &st) < 0) return errname(errno);
    return st.st_uid == UID ? "user" : st.st_uid == 0 ? "root" : "other";
}

/* Which cgroup pid is in, as its path. */
static const char *cgroup_of(int pid) {
    static char b[256];
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/cgroup", pid);
    int fd = open(path, O_RDONLY);
    if (fd < 0) return "?";
    ssize_t n = read(fd, b, sizeof b - 1);
    close(fd);
    b[n > 0 ? n : 0] = 0;
    char *nl = strchr(b, '\n');
    if (nl) *nl = 0;
    return b;
}

static pid_t root_sleeper;
static int root_opened_o = -1; /* o's cgroup.procs, opened by root */

static int unprivileged(void) {
    if (setresgid(UID, UID, UID) < 0 || setresuid(UID, UID, UID) < 0) return 2;
    int me = getpid();
    CK("user.mkdir_a", mkdir(CG "/d/a", 0755));
    CK("user.mkdir_b", mkdir(CG "/d/b", 0755));
    CK("user.mkdir_outside", mkdir(CG "/x", 0755));
    CK("user.mkdir_in_o", mkdir(CG "/o/x", 0755));
    CHECK("user.owner_a", "%s", owner(CG "/d/a"));
    CHECK("user.owner_a_procs", "%s", owner(CG "/d/a/cgroup.procs"));
    CHECK("user.owner_a_threads", "%s", owner(CG "/d/a/cgroup.threads"));
    CHECK("user.owner_a_freeze", "%s", owner(CG "/d/a/cgroup.freeze"));
    CHECK("user.owner_a_subtree", "%s", owner(CG "/d/a/cgroup.subtree_control"));
    CHECK("user.owner_a_events", "%s", owner(CG "/d/a/cgroup.events"));

    /* Inside the delegated subtree: the common ancestor is d. */
    CHECK("user.self_to_a", "%s", move_pid(CG "/d/a", "cgroup.procs", 0));
    CHECK("user.self_in", "%s", cgroup_of(me));
    CHECK("user.self_a_to_b", "%s", move_pid(CG "/d/b", "cgroup.procs", me));
    CHECK("user.self_in_b", "%s", cgroup_of(me));
    /* A root process in the subtree moves too: v2 looks at the files only. */
    CHECK("user.root_proc_a_to_b", "%s", move_pid(CG "/d/b", "cgroup.procs", root_sleeper));
    CHECK("user.root_proc_in", "%s", cgroup_of(root_sleeper));
    CHECK("user.root_proc_b_to_a", "%s", move_pid(CG "/d/a", "cgroup.procs", root_sleeper));
    /* Into d itself (the delegation root, owned by the user). */
    CHECK("user.self_to_d", "%s", move_pid(CG "/d", "cgroup.procs", 0));
    CHECK("user.self_to_b", "%s", move_pid(CG "/d/b", "cgroup.procs", 0));

    /* Out of the subtree: o's cgroup.procs is the user's, but the common
     * ancestor is the root, whose cgroup.procs is not. */
    CHECK("user.self_to_o", "%s", move_pid(CG "/o", "cgroup.procs", 0));
    CHECK("user.self_to_p", "%s", move_pid(CG "/p", "cgroup.procs", 0));
    CHECK("user.self_to_root", "%s", move_pid(CG, "cgroup.procs", 0));
    /* From outside in: the root sleeper's twin sits in o. */
    CHECK("user.self_after", "%s", cgroup_of(me));

    /* Errors before the permission check, and a process outside. */
    CHECK("user.no_such_pid", "%s", wr(CG "/d/a/cgroup.procs", "999999"));
    CHECK("user.garbage", "%s", wr(CG "/d/a/cgroup.procs", "abc"));
    CHECK("user.negative", "%s", wr(CG "/d/a/cgroup.procs", "-1"));
    CHECK("user.init_to_a", "%s", wr(CG "/d/a/cgroup.procs", "1"));

    /* cgroup.threads: a thread of a domain cgroup cannot move alone. */
    CHECK("user.thread_to_a", "%s", move_pid(CG "/d/a", "cgroup.threads", me));
    CHECK("user.thread_same", "%s", move_pid(CG "/d/b", "cgroup.threads", me));

    /* Other files: the user's own cgroups, d's (not delegated) ones. */
    CHECK("user.freeze_a", "%s", wr(CG "/d/a/cgroup.freeze", "0"));
    CHECK("user.freeze_d", "%s", wr(CG "/d/cgroup.freeze", "0"));
    CHECK("user.subtree_d", "%s", wr(CG "/d/cgroup.subtree_control", "+pids"));
    CHECK("user.pids_max_a", "%s", wr(CG "/d/a/pids.max", "100"));
    CHECK("user.max_depth_d", "%s", wr(CG "/d/cgroup.max.depth", "3"));
    CHECK("user.kill_a_open", "%s", wr(CG "/d/a/cgroup.kill", "0"));

    CK("user.rmdir_b_busy", rmdir(CG "/d/b"));
    /* d distributes pids now: no process of its own (EBUSY). */
    CHECK("user.back_to_d", "%s", move_pid(CG "/d", "cgroup.procs", 0));
    CHECK("user.to_a", "%s", move_pid(CG "/d/a", "cgroup.procs", 0));
    /* Linux checks with the opener's credentials: root's descriptor may
     * move the user out of its subtree, the user's own open may not. */
    char text[16];
    snprintf(text, sizeof text, "%d", me);
    CK("user.root_opened_write", write(root_opened_o, text, strlen(text)) > 0);
    CHECK("user.root_opened_in", "%s", cgroup_of(me));
    CHECK("user.own_open_back", "%s", move_pid(CG "/d/a", "cgroup.procs", 0));
    CK("user.rmdir_b", rmdir(CG "/d/b"));
    CK("user.rmdir_d", rmdir(CG "/d"));
    return 0;
}

int main(void) {
    setup();
    mount("none", CG, "cgroup2", 0, NULL);
    rmdir(CG "/d/a");
    rmdir(CG "/d/b");
    rmdir(CG "/d");
    rmdir(CG "/o");
    rmdir(CG "/p");
    CK("mkdir_d", mkdir(CG "/d", 0755));
    CK("mkdir_o", mkdir(CG "/o", 0755));
    CK("mkdir_p", mkdir(CG "/p", 0755));
    CHECK("enable_pids", "%s", wr(CG "/cgroup.subtree_control", "+pids"));
    /* Delegate d: the directory and its procs, threads and subtree_control. */
    CK("chown_d", chown(CG "/d", UID, UID));
    CK("chown_d_procs", chown(CG "/d/cgroup.procs", UID, UID));
    CK("chown_d_threads", chown(CG "/d/cgroup.threads", UID, UID));
    CK("chown_d_subtree", chown(CG "/d/cgroup.subtree_control", UID, UID));
    /* o's cgroup.procs only; p not at all. */
    CK("chown_o_procs", chown(CG "/o/cgroup.procs", UID, UID));
    CHECK("owner_d", "%s", owner(CG "/d"));
    CHECK("owner_d_procs", "%s", owner(CG "/d/cgroup.procs"));
    CHECK("owner_d_freeze", "%s", owner(CG "/d/cgroup.freeze"));
    CHECK("owner_root_procs", "%s", owner(CG "/cgroup.procs"));

    fflush(stdout);
    root_sleeper = fork();
    if (root_sleeper == 0) {
        for (;;) pause();
    }
    CHECK("root_sleeper_to_d", "%s", move_pid(CG "/d", "cgroup.procs", root_sleeper));

    root_opened_o = open(CG "/o/cgroup.procs", O_WRONLY);
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        /* Wait to be moved into d by root, then give up root. */
        while (strcmp(cgroup_of(getpid()), "0::/d")) usleep(1000);
        fflush(stdout);
        _exit(unprivileged());
    }
    CHECK("user_to_d", "%s", move_pid(CG "/d", "cgroup.procs", c));
    int st = 0;
    while (waitpid(c, &st, 0) < 0 && errno == EINTR) {}
    CHECK("user_exit", "%s", wstr(st));
    CHECK("root_sleeper_in", "%s", cgroup_of(root_sleeper));
    kill(root_sleeper, SIGKILL);
    waitpid(root_sleeper, &st, 0);

    /* Root may do all of it. */
    CK("root_rmdir_a", rmdir(CG "/d/a"));
    CK("root_rmdir_d", rmdir(CG "/d"));
    CK("root_rmdir_o", rmdir(CG "/o"));
    CK("root_rmdir_p", rmdir(CG "/p"));
    CHECK("disable_pids", "%s", wr(CG "/cgroup.subtree_control", "-pids"));
    return 0;
}
