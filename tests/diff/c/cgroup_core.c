#include "difftest.h"
#include "cgroup_util.h"
/* cgroup v2 core: the mount, file lists and modes, the core files' contents and errnos,
 * mkdir/rmdir rules, the no-internal-process rule, moves, /proc/self/cgroup, limits on
 * descendants and depth. The hierarchy outlives the mount, so the test cleans up after itself
 * (it runs twice per boot, once per libc). */
#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#define CG "/sys/fs/cgroup"

static int cmpstr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* "name:mode name:mode ..." sorted; mode is the permission bits, d for directories. */
static void list(const char *check, const char *dir) {
    char *names[256];
    int n = 0;
    DIR *d = opendir(dir);
    if (!d) { CHECK(check, "opendir -1 %s", errname(errno)); return; }
    struct dirent *e;
    while ((e = readdir(d)) && n < 256) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char path[512], item[300];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (lstat(path, &st)) snprintf(item, sizeof item, "%s:?", e->d_name);
        else snprintf(item, sizeof item, "%s:%s%o", e->d_name, S_ISDIR(st.st_mode) ? "d" : "", st.st_mode & 07777);
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

/* A file's text with newlines shown as '|'. */

static char pidbuf[32];
static const char *mypid(void) { snprintf(pidbuf, sizeof pidbuf, "%d", getpid()); return pidbuf; }

/* Whether `pid` is listed in a cgroup.procs-style file. */
static int listed(const char *path, int pid) {
    char b[4096];
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -1;
    ssize_t n = read(fd, b, sizeof b - 1);
    close(fd);
    if (n < 0) return -1;
    b[n] = 0;
    for (char *s = strtok(b, "\n"); s; s = strtok(NULL, "\n")) if (atoi(s) == pid) return 1;
    return 0;
}

static void cleanup(void) {
    const char *dirs[] = {CG "/t/a/b/c", CG "/t/a/b", CG "/t/a/c", CG "/t/a", CG "/t/d/e", CG "/t/d", CG "/t/k", CG "/t", NULL};
    for (int i = 0; dirs[i]; i++) rmdir(dirs[i]);
}

static const char *ROOT_FILES[] = {"cgroup.controllers", "cgroup.subtree_control", "cgroup.max.depth",
    "cgroup.max.descendants", "cgroup.threads", "cgroup.pressure", NULL};
static const char *CHILD_FILES[] = {"cgroup.controllers", "cgroup.subtree_control", "cgroup.events", "cgroup.type",
    "cgroup.max.depth", "cgroup.max.descendants", "cgroup.stat", "cgroup.freeze", "cgroup.procs", "cgroup.threads",
    "cgroup.pressure", NULL};

int main(void) {
    setup();
    CK("mount", mount("none", CG, "cgroup2", 0, NULL));
    cleanup();
    struct statfs sf;
    if (statfs(CG, &sf) == 0) CHECK("statfs_type", "%#lx", (unsigned long)sf.f_type);
    {
        FILE *f = fopen("/proc/self/mounts", "r");
        char line[512];
        while (f && fgets(line, sizeof line, f))
            if (strstr(line, " cgroup2 ")) { line[strcspn(line, "\n")] = 0; CHECK("proc_mounts", "%s", line); }
        if (f) fclose(f);
    }
    struct stat st;
    if (stat(CG, &st) == 0) CHECK("root_mode", "%o nlink_ge2 %d", st.st_mode, st.st_nlink >= 2);
    list("root_list", CG);
    for (int i = 0; ROOT_FILES[i]; i++) {
        char p[256], name[64];
        snprintf(p, sizeof p, CG "/%s", ROOT_FILES[i]);
        snprintf(name, sizeof name, "root.%s", ROOT_FILES[i]);
        if (strcmp(ROOT_FILES[i], "cgroup.threads")) CHECK(name, "%s", cat(p));
    }
    {
        /* the keys (the dying counts depend on the previous run's removals) */
        char b[2048], keys[2048] = "";
        snprintf(b, sizeof b, "%s", cat(CG "/cgroup.stat"));
        for (char *s = strtok(b, "|"); s; s = strtok(NULL, "|")) { strncat(keys, s, strcspn(s, " ")); strcat(keys, " "); }
        CHECK("root.stat_keys", "%s", keys);
    }
    CHECK("root_procs_has_me", "%d", listed(CG "/cgroup.procs", getpid()));
    CHECK("proc_self_cgroup", "%s", cat("/proc/self/cgroup"));

    /* mkdir, the child's files */
    CK("mkdir_t", mkdir(CG "/t", 0755));
    CK("mkdir_t_again", mkdir(CG "/t", 0755));
    CK("mkdir_newline", mkdir(CG "/t\nx", 0755));
    CK("mkdir_file_name", mkdir(CG "/cgroup.procs", 0755));
    {
        char longname[300];
        memset(longname, 0, sizeof longname);
        strcpy(longname, CG "/");
        memset(longname + strlen(longname), 'a', 255);  /* NAME_MAX */
        CK("mkdir_long_name", mkdir(longname, 0755));
        CK("rmdir_long_name", rmdir(longname));
    }
    if (stat(CG "/t", &st) == 0) CHECK("t_mode", "%o", st.st_mode);
    list("t_list", CG "/t");
    for (int i = 0; CHILD_FILES[i]; i++) {
        char p[256], name[64];
        snprintf(p, sizeof p, CG "/t/%s", CHILD_FILES[i]);
        snprintf(name, sizeof name, "t.%s", CHILD_FILES[i]);
        CHECK(name, "%s", cat(p));
    }
    {
        char b[2048];
        snprintf(b, sizeof b, "%s", cat(CG "/cgroup.stat"));
        CHECK("root.stat_after_mkdir", "%.*s", (int)strcspn(b, "|"), b);
    }
    /* files cannot be made, removed or renamed */
    CK("creat_in_cgroup", open(CG "/t/newfile", O_CREAT | O_WRONLY, 0644));
    { int fd = open(CG "/t/cgroup.procs", O_CREAT | O_WRONLY, 0644); CHECK("open_creat_existing", "%d", fd >= 0); if (fd >= 0) close(fd); }
    CK("unlink_file", unlink(CG "/t/cgroup.procs"));
    CK("rmdir_file", rmdir(CG "/t/cgroup.procs"));
    CK("mknod_in_cgroup", mknod(CG "/t/fifo", S_IFIFO | 0644, 0));
    CK("symlink_in_cgroup", symlink("x", CG "/t/link"));
    CK("rename_file", rename(CG "/t/cgroup.procs", CG "/t/x"));
    CK("write_controllers", open(CG "/t/cgroup.controllers", O_WRONLY));
    CK("mkdir_in_root_file", mkdir(CG "/cgroup.procs/x", 0755));
    CK("rmdir_root", rmdir(CG));

    /* subtree_control */
    CHECK("sc_junk", "%s", wr(CG "/cgroup.subtree_control", "pids"));
    CHECK("sc_unknown", "%s", wr(CG "/cgroup.subtree_control", "+bogus"));
    CHECK("sc_enable_pids", "%s", wr(CG "/cgroup.subtree_control", "+pids"));
    CHECK("sc_enable_cpu_memory", "%s", wr(CG "/cgroup.subtree_control", "+cpu +memory"));
    CHECK("sc_enable_mixed_bad", "%s", wr(CG "/cgroup.subtree_control", "+io +bogus"));
    CHECK("root.sc_after", "%s", cat(CG "/cgroup.subtree_control"));
    CHECK("sc_disable_cpu", "%s", wr(CG "/cgroup.subtree_control", "-cpu"));
    CHECK("sc_enable_empty", "%s", wr(CG "/cgroup.subtree_control", ""));
    CHECK("sc_spaces", "%s", wr(CG "/cgroup.subtree_control", "  +cpu   \n"));
    CHECK("sc_plus_minus_same", "%s", wr(CG "/cgroup.subtree_control", "+io -io"));
    CHECK("root.sc_after2", "%s", cat(CG "/cgroup.subtree_control"));
    CHECK("t.controllers_after", "%s", cat(CG "/t/cgroup.controllers"));
    list("t_list_with_controllers", CG "/t");
    CHECK("t_sc_not_available", "%s", wr(CG "/t/cgroup.subtree_control", "+io"));
    CHECK("t_sc_enable_pids", "%s", wr(CG "/t/cgroup.subtree_control", "+pids"));
    CHECK("sc_disable_used_pids", "%s", wr(CG "/cgroup.subtree_control", "-pids"));
    CHECK("t_sc_disable_pids", "%s", wr(CG "/t/cgroup.subtree_control", "-pids"));
    CHECK("sc_disable_unused", "%s", wr(CG "/cgroup.subtree_control", "-io"));

    /* moves and the no-internal-process rule (memory is a domain controller, pids a threaded one) */
    CK("mkdir_t_a", mkdir(CG "/t/a", 0755));
    {
        struct stat s1, s2;
        stat(CG "/t", &s1);
        stat(CG "/t/a", &s2);
        CHECK("nlink_t_a", "%lu %lu", (unsigned long)s1.st_nlink, (unsigned long)s2.st_nlink);
        stat(CG "/t/cgroup.procs", &s1);
        CHECK("file_stat", "nlink %lu size %ld uid %u", (unsigned long)s1.st_nlink, (long)s1.st_size, s1.st_uid);
    }
    CHECK("move_self_to_t", "%s", wr(CG "/t/cgroup.procs", mypid()));
    CHECK("proc_self_cgroup_t", "%s", cat("/proc/self/cgroup"));
    CHECK("t_procs_has_me", "%d", listed(CG "/t/cgroup.procs", getpid()));
    CHECK("t_threads_has_me", "%d", listed(CG "/t/cgroup.threads", getpid()));
    CHECK("root_procs_has_me_after", "%d", listed(CG "/cgroup.procs", getpid()));
    CHECK("t.events_populated", "%s", cat(CG "/t/cgroup.events"));
    CHECK("t.a.events", "%s", cat(CG "/t/a/cgroup.events"));
    CHECK("t_sc_memory_with_procs", "%s", wr(CG "/t/cgroup.subtree_control", "+memory"));
    CHECK("t_sc_pids_with_procs", "%s", wr(CG "/t/cgroup.subtree_control", "+pids"));
    CHECK("t.type_thread_root", "%s", cat(CG "/t/cgroup.type"));
    CHECK("t.a.type_invalid", "%s", cat(CG "/t/a/cgroup.type"));
    CHECK("move_self_to_invalid", "%s", wr(CG "/t/a/cgroup.procs", "0"));
    CHECK("t_sc_pids_off", "%s", wr(CG "/t/cgroup.subtree_control", "-pids"));
    CHECK("t.type_again", "%s", cat(CG "/t/cgroup.type"));
    CHECK("move_self_to_a", "%s", wr(CG "/t/a/cgroup.procs", "0"));
    CHECK("proc_self_cgroup_a", "%s", cat("/proc/self/cgroup"));
    CHECK("t.events_via_child", "%s", cat(CG "/t/cgroup.events"));
    CHECK("t_procs_empty", "%s", cat(CG "/t/cgroup.procs"));
    CHECK("t_sc_memory_child_has_procs", "%s", wr(CG "/t/cgroup.subtree_control", "+memory"));
    CHECK("t.type_memory", "%s", cat(CG "/t/cgroup.type"));
    CHECK("move_self_to_t_internal", "%s", wr(CG "/t/cgroup.procs", "0"));
    CHECK("t_sc_pids_child_populated", "%s", wr(CG "/t/cgroup.subtree_control", "+pids"));
    CK("rmdir_t_children", rmdir(CG "/t"));
    CK("rmdir_a_populated", rmdir(CG "/t/a"));
    CHECK("move_bad_pid", "%s", wr(CG "/t/a/cgroup.procs", "999999"));
    CHECK("move_junk", "%s", wr(CG "/t/a/cgroup.procs", "abc"));
    CHECK("move_negative", "%s", wr(CG "/t/a/cgroup.procs", "-1"));
    CHECK("move_empty", "%s", wr(CG "/t/a/cgroup.procs", ""));
    CHECK("move_two", "%s", wr(CG "/t/a/cgroup.procs", "1 2"));
    CHECK("move_self_to_root", "%s", wr(CG "/cgroup.procs", mypid()));
    CHECK("proc_self_cgroup_root", "%s", cat("/proc/self/cgroup"));
    CHECK("t.events_empty", "%s", cat(CG "/t/cgroup.events"));
    CHECK("t.a.events_empty", "%s", cat(CG "/t/a/cgroup.events"));
    list("t_a_list_memory", CG "/t/a");
    CHECK("move_into_sc_nonempty", "%s", wr(CG "/t/cgroup.procs", mypid()));
    CHECK("t_sc_off", "%s", wr(CG "/t/cgroup.subtree_control", "-memory -pids"));

    /* cgroup.type, freeze, limits on descendants and depth */
    CHECK("type_write_junk", "%s", wr(CG "/t/a/cgroup.type", "bogus"));
    CHECK("type_write_domain", "%s", wr(CG "/t/a/cgroup.type", "domain"));
    CHECK("t.a.type", "%s", cat(CG "/t/a/cgroup.type"));
    CHECK("freeze_write_2", "%s", wr(CG "/t/a/cgroup.freeze", "2"));
    CHECK("freeze_write_junk", "%s", wr(CG "/t/a/cgroup.freeze", "x"));
    CHECK("root_freeze", "%s", wr(CG "/cgroup.freeze", "1"));
    CHECK("max_desc_junk", "%s", wr(CG "/t/cgroup.max.descendants", "x"));
    CHECK("max_desc_neg", "%s", wr(CG "/t/cgroup.max.descendants", "-1"));
    CHECK("max_desc_1", "%s", wr(CG "/t/cgroup.max.descendants", "1"));
    CHECK("t.max_desc", "%s", cat(CG "/t/cgroup.max.descendants"));
    CK("mkdir_beyond_descendants", mkdir(CG "/t/d", 0755));
    CK("mkdir_grandchild_beyond", mkdir(CG "/t/a/b", 0755));
    CHECK("max_desc_max", "%s", wr(CG "/t/cgroup.max.descendants", "max"));
    CHECK("max_depth_1", "%s", wr(CG "/t/cgroup.max.depth", "1"));
    CK("mkdir_sibling_depth_ok", mkdir(CG "/t/d", 0755));
    CK("mkdir_beyond_depth", mkdir(CG "/t/a/b", 0755));
    CHECK("max_depth_max", "%s", wr(CG "/t/cgroup.max.depth", "max\n"));
    CHECK("t.max_depth", "%s", cat(CG "/t/cgroup.max.depth"));
    CK("mkdir_depth_ok", mkdir(CG "/t/a/b", 0755));
    {
        char b[2048];
        snprintf(b, sizeof b, "%s", cat(CG "/t/cgroup.stat"));
        CHECK("t.stat_first", "%.*s", (int)strcspn(b, "|"), b);
    }
    CHECK("kill_write_2", "%s", wr(CG "/t/d/cgroup.kill", "2"));
    CHECK("kill_write_0", "%s", wr(CG "/t/d/cgroup.kill", "0"));
    CHECK("kill_write_1_empty", "%s", wr(CG "/t/d/cgroup.kill", "1"));
    CHECK("kill_read", "%s", cat(CG "/t/d/cgroup.kill"));
    CK("rename_cgroup", rename(CG "/t/d", CG "/t/e"));
    CK("rmdir_b", rmdir(CG "/t/a/b"));
    CK("rmdir_b_again", rmdir(CG "/t/a/b"));
    CHECK("move_self_back", "%s", wr(CG "/cgroup.procs", "0"));
    cleanup();
    CK("t_gone", access(CG "/t", F_OK));
    CK("umount", umount(CG));
    return 0;
}
