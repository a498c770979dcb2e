#include "difftest.h"
/* /proc formats that are deterministic: /proc/self/status field names, /proc/self/stat fields
 * 3..7 for a known state, cmdline bytes, comm, /proc/meminfo keys, /proc/filesystems entries,
 * /proc/self/fd and maps shape, /proc/mounts entries made by init. */
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>

static char buf[65536];
static int slurp(const char *path) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) { buf[0] = 0; return -1; }
    int n = 0, r;
    while ((r = read(fd, buf + n, sizeof buf - 1 - n)) > 0) n += r;
    close(fd);
    buf[n] = 0;
    return n;
}

/* "Key:" names of a key:value file, in order, joined by spaces */
static void keys(const char *check, const char *path) {
    if (slurp(path) < 0) { CHECK(check, "-1 %s", errname(errno)); return; }
    static char out[8192];
    out[0] = 0;
    int count = 0;
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        char *c = strchr(line, ':');
        if (!c) continue;
        *c = 0;
        strcat(out, line);
        strcat(out, " ");
        count++;
    }
    CHECK(check, "%d %s", count, out);
}

static void stat_fields(const char *check, const char *path) {
    if (slurp(path) < 0) { CHECK(check, "-1 %s", errname(errno)); return; }
    char *rp = strrchr(buf, ')');
    char *lp = strchr(buf, '(');
    int nfields = 2;
    for (char *q = rp + 1; *q; q++) if (*q == ' ') nfields++;
    char state;
    int ppid, pgrp, sid, tty;
    sscanf(rp + 2, "%c %d %d %d %d", &state, &ppid, &pgrp, &sid, &tty);
    *rp = 0;
    CHECK(check, "comm=%s state=%c ppid_is_parent=%d pgrp_is_pgrp=%d sid_is_sid=%d tty=%d nfields=%d", lp + 1,
          state, ppid == getppid(), pgrp == getpgrp(), sid == getsid(0), tty, nfields);
}

int main(int argc, char **argv) {
    setup();
    if (argc > 1) { /* child: a process with a known state and argv */
        pause();
        return 0;
    }
    keys("status_keys", "/proc/self/status");
    stat_fields("self_stat", "/proc/self/stat");
    {
        /* a stopped, a sleeping and a zombie child */
        fflush(stdout);
        pid_t c = fork();
        if (c == 0) { char *a[] = {argv[0], "child", "arg with space", "", NULL}; execv(argv[0], a); _exit(1); }
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/stat", c);
        for (int i = 0; i < 500; i++) {
            slurp(path);
            char *rp = strrchr(buf, ')');
            if (rp && rp[2] == 'S' && strstr(buf, "(procfs")) break;
            usleep(10000);
        }
        slurp(path);
        char *rp = strrchr(buf, ')');
        CHECK("child_sleeping_state", "%c", rp ? rp[2] : '?');
        CHECK("child_comm_in_stat", "%d", strstr(buf, "(procfs.") != NULL);
        snprintf(path, sizeof path, "/proc/%d/cmdline", c);
        int n = slurp(path);
        char out[256] = "";
        for (int i = 0; i < n; i++) {
            char e[8];
            if (buf[i] == 0) strcat(out, "\\0"); else { snprintf(e, sizeof e, "%c", buf[i]); strcat(out, e); }
        }
        const char *tail = strstr(out, "\\0child");
        CHECK("child_cmdline_bytes", "%d %s", n - (int)strlen(argv[0]), tail ? tail : out);
        kill(c, SIGSTOP);
        int st;
        waitpid(c, &st, WUNTRACED);
        snprintf(path, sizeof path, "/proc/%d/stat", c);
        slurp(path);
        rp = strrchr(buf, ')');
        CHECK("child_stopped_state", "%c", rp ? rp[2] : '?');
        kill(c, SIGKILL);
        siginfo_t si;
        waitid(P_PID, c, &si, WEXITED | WNOWAIT);
        slurp(path);
        rp = strrchr(buf, ')');
        CHECK("child_zombie_state", "%c", rp ? rp[2] : '?');
        waitpid(c, NULL, 0);
        CHECK("reaped_child_proc_gone", "%d", slurp(path) < 0 && errno == ENOENT);
    }
    {
        int n = slurp("/proc/self/cmdline");
        CHECK("self_cmdline_len", "%d", n == (int)strlen(argv[0]) + 1);
        CHECK("self_cmdline_nul_terminated", "%d", n > 0 && buf[n - 1] == 0);
        slurp("/proc/self/comm");
        CHECK("self_comm", "%s", strtok(buf, "\n"));
        prctl(PR_SET_NAME, "renamed", 0, 0, 0);
        slurp("/proc/self/comm");
        CHECK("comm_after_set_name", "%s", strtok(buf, "\n"));
        int fd = open("/proc/self/comm", O_WRONLY);
        write(fd, "written-comm-is-long", 20);
        close(fd);
        slurp("/proc/self/comm");
        CHECK("comm_after_write", "%s", strtok(buf, "\n"));
    }
    keys("meminfo_keys", "/proc/meminfo");
    {
        slurp("/proc/filesystems");
        static char fs[8192] = "\n";
        snprintf(fs + 1, sizeof fs - 1, "%s", buf);
        const char *want[] = {"tmpfs", "proc", "sysfs", "devtmpfs", "devpts", "cgroup2", "ramfs", "rootfs", "pipefs", "sockfs", "mqueue", "ext4"};
        for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
            char name[64], pat1[40], pat2[40];
            snprintf(name, sizeof name, "filesystem_%s", want[i]);
            snprintf(pat1, sizeof pat1, "\nnodev\t%s\n", want[i]);
            snprintf(pat2, sizeof pat2, "\n\t%s\n", want[i]);
            CHECK(name, "%s", strstr(fs, pat1) ? "nodev" : strstr(fs, pat2) ? "dev" : "absent");
        }
    }
    {
        /* /proc/self/fd lists 0 1 2 and an opened fd; links of std fds */
        int fd = open("/dev/null", O_RDONLY);
        char target[128] = "";
        char p[64];
        snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
        readlink(p, target, sizeof target - 1);
        CHECK("fd_link_dev_null", "%s", target);
        memset(target, 0, sizeof target);
        readlink("/proc/self/fd/1", target, sizeof target - 1);
        CHECK("stdout_is_pipe_link", "%d", strncmp(target, "pipe:[", 6) == 0);
        memset(target, 0, sizeof target);
        readlink("/proc/self/exe", target, sizeof target - 1);
        CHECK("exe_link_is_argv0", "%d", strcmp(target, argv[0]) == 0);
        struct stat st;
        lstat("/proc/self", &st);
        CHECK("proc_self_is_symlink", "%d", S_ISLNK(st.st_mode));
        stat("/proc/self/fd", &st);
        CHECK("proc_self_fd_mode", "%04o", (unsigned)(st.st_mode & 07777));
        snprintf(p, sizeof p, "/proc/self/fdinfo/%d", fd);
        keys("fdinfo_keys", p);
        close(fd);
    }
    {
        slurp("/proc/self/maps");
        int stack = strstr(buf, "[stack]") != NULL, vdso = strstr(buf, "[vdso]") != NULL, heap = 1;
        (void)heap;
        int lines = 0;
        for (char *q = buf; *q; q++) lines += *q == '\n';
        CHECK("maps_has_stack_vdso", "%d %d", stack, vdso);
        CHECK("maps_has_lines", "%d", lines >= 4);
        /* format of one line: start-end perms offset dev inode path */
        char perms[8] = "";
        unsigned long a, b, off;
        int maj, min;
        unsigned long ino;
        int got = sscanf(buf, "%lx-%lx %7s %lx %x:%x %lu", &a, &b, perms, &off, &maj, &min, &ino);
        CHECK("maps_first_line_fields", "%d perms_len=%zu", got, strlen(perms));
    }
    {
        slurp("/proc/mounts");
        const char *want[] = {"proc /proc proc", "sysfs /sys sysfs", "devtmpfs /dev devtmpfs", "tmpfs /tmp tmpfs", "devpts /dev/pts devpts"};
        for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
            char name[64];
            snprintf(name, sizeof name, "mounts_has_%zu", i);
            CHECK(name, "%s: %d", want[i], strstr(buf, want[i]) != NULL);
        }
        int s = slurp("/proc/self/mountinfo");
        CHECK("mountinfo_readable", "%d", s > 0);
    }
    {
        slurp("/proc/self/limits");
        char *first = strtok(buf, "\n");
        CHECK("limits_header", "%s", first ? first : "");
        int n = 0;
        while (strtok(NULL, "\n")) n++;
        CHECK("limits_rows", "%d", n);
        slurp("/proc/sys/kernel/ostype");
        CHECK("sys_kernel_ostype", "%s", strtok(buf, "\n"));
        slurp("/proc/sys/kernel/pid_max");
        CHECK("sys_kernel_pid_max", "%s", strtok(buf, "\n"));
        slurp("/proc/sys/kernel/ngroups_max");
        CHECK("sys_kernel_ngroups_max", "%s", strtok(buf, "\n"));
        slurp("/proc/sys/fs/nr_open");
        CHECK("sys_fs_nr_open", "%s", strtok(buf, "\n"));
        slurp("/proc/sys/vm/overcommit_memory");
        CHECK("sys_vm_overcommit_memory", "%s", strtok(buf, "\n"));
        slurp("/proc/sys/kernel/core_pattern");
        CHECK("sys_kernel_core_pattern", "%s", strtok(buf, "\n"));
        slurp("/proc/sys/vm/mmap_min_addr");
        CHECK("sys_vm_mmap_min_addr", "%s", strtok(buf, "\n"));
        CHECK("proc_uptime_two_fields", "%d", slurp("/proc/uptime") > 0 && sscanf(buf, "%*f %*f") == 0);
        slurp("/proc/loadavg");
        int fields = 0;
        for (char *t = strtok(buf, " \n"); t; t = strtok(NULL, " \n")) fields++;
        CHECK("loadavg_fields", "%d", fields);
        slurp("/proc/stat");
        CHECK("proc_stat_first_key", "%.4s", buf);
        CHECK("proc_stat_has_cpu1", "%d", strstr(buf, "\ncpu1 ") != NULL);
        CHECK("proc_stat_has_btime", "%d", strstr(buf, "\nbtime ") != NULL);
        slurp("/proc/cpuinfo");
        int procs = 0;
        for (char *q = buf; (q = strstr(q, "processor\t:")); q++) procs++;
        CHECK("cpuinfo_processors", "%d", procs);
        slurp("/proc/version");
        CHECK("proc_version_prefix", "%.14s", buf);
    }
    return 0;
}
