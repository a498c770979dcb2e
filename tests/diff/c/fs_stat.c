#include "difftest.h"
/* Files: stat fields, getdents64 listing, rename/renameat2, link/symlink/readlink, truncate,
 * utimensat, mkdir/rmdir/unlink errors, statx, chmod/chown as root. */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/sysmacros.h>
#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE 1
#define RENAME_EXCHANGE 2
#endif
#ifndef SYS_renameat2
#define SYS_renameat2 316
#endif
/* struct statx from linux/stat.h (not visible to musl-gcc) */
struct kstatx_ts { int64_t tv_sec; uint32_t tv_nsec; int32_t reserved; };
struct kstatx {
    uint32_t stx_mask, stx_blksize; uint64_t stx_attributes; uint32_t stx_nlink, stx_uid, stx_gid;
    uint16_t stx_mode, pad1; uint64_t stx_ino, stx_size, stx_blocks, stx_attributes_mask;
    struct kstatx_ts stx_atime, stx_btime, stx_ctime, stx_mtime;
    uint32_t stx_rdev_major, stx_rdev_minor, stx_dev_major, stx_dev_minor; uint64_t spare[14];
};
#define KSTATX_BASIC_STATS 0x7ffU

struct d64 { uint64_t ino; int64_t off; unsigned short reclen; unsigned char type; char name[]; };

static void listing(const char *check, const char *dir) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    char buf[4096];
    char names[64][64];
    int types[64], n = 0;
    for (;;) {
        long r = syscall(SYS_getdents64, fd, buf, sizeof buf);
        if (r <= 0) break;
        for (long o = 0; o < r;) {
            struct d64 *d = (struct d64 *)(buf + o);
            if (n < 64) { snprintf(names[n], 64, "%s", d->name); types[n++] = d->type; }
            o += d->reclen;
        }
    }
    close(fd);
    /* sort by name (the order of entries is filesystem-specific) */
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (strcmp(names[i], names[j]) > 0) {
                char t[64]; strcpy(t, names[i]); strcpy(names[i], names[j]); strcpy(names[j], t);
                int tt = types[i]; types[i] = types[j]; types[j] = tt;
            }
    char out[2048] = "";
    for (int i = 0; i < n; i++) {
        char e[80];
        snprintf(e, sizeof e, "%s/%d ", names[i], types[i]);
        strcat(out, e);
    }
    CHECK(check, "%s", out);
}

static void show_stat(const char *check, const char *path, int follow) {
    struct stat st;
    int r = follow ? stat(path, &st) : lstat(path, &st);
    if (r) { CHECK(check, "-1 %s", errname(errno)); return; }
    CHECK(check, "mode=%06o nlink=%lu uid=%d gid=%d size=%ld blksize=%ld", (unsigned)st.st_mode,
          (unsigned long)st.st_nlink, (int)st.st_uid, (int)st.st_gid, (long)st.st_size, (long)st.st_blksize);
}

static void writef(const char *p, const char *s) {
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    write(fd, s, strlen(s));
    close(fd);
}

int main(void) {
    setup();
    umask(022);
    mkdir("t", 0755);
    writef("t/a", "hello");
    writef("t/b", "world!!");
    mkdir("t/dir", 0700);
    symlink("a", "t/sym");
    mkfifo("t/fifo", 0600);
    show_stat("stat_file", "t/a", 1);
    show_stat("stat_dir", "t/dir", 1);
    show_stat("stat_symlink_l", "t/sym", 0);
    show_stat("stat_symlink_follow", "t/sym", 1);
    show_stat("stat_fifo", "t/fifo", 1);
    show_stat("stat_parent_dir", "t", 1);
    show_stat("stat_dev_null", "/dev/null", 1);
    {
        struct stat st;
        stat("/dev/null", &st);
        CHECK("dev_null_rdev", "%u:%u", major(st.st_rdev), minor(st.st_rdev));
        stat("/dev/zero", &st);
        CHECK("dev_zero_rdev", "%u:%u", major(st.st_rdev), minor(st.st_rdev));
        struct stat a, b;
        stat("t/a", &a);
        stat("t/sym", &b);
        CHECK("stat_follow_same_inode", "%d", a.st_ino == b.st_ino && a.st_dev == b.st_dev);
        CHECK("stat_blocks_small_file", "%ld", (long)a.st_blocks);
        CK("stat_enoent", stat("t/nope", &st));
        CK("stat_enotdir", stat("t/a/x", &st));
        CK("fstatat_empty_path", fstatat(AT_FDCWD, "", &st, 0));
        CK("fstatat_bad_flags", fstatat(AT_FDCWD, "t/a", &st, 0x1));
        int fd = open("t/a", O_RDONLY);
        CK("fstatat_empty_path_flag", fstatat(fd, "", &st, AT_EMPTY_PATH));
        close(fd);
    }
    /* statx */
    {
        struct kstatx sx;
        memset(&sx, 0, sizeof sx);
        CK("statx", syscall(SYS_statx, AT_FDCWD, "t/b", 0, KSTATX_BASIC_STATS, &sx));
        CHECK("statx_fields", "mode=%06o nlink=%u size=%llu basic=%d", sx.stx_mode, sx.stx_nlink,
              (unsigned long long)sx.stx_size, (sx.stx_mask & KSTATX_BASIC_STATS) == KSTATX_BASIC_STATS);
        CK("statx_reserved_mask", syscall(SYS_statx, AT_FDCWD, "t/b", 0, 0x80000000U, &sx));
        CK("statx_bad_sync_flags", syscall(SYS_statx, AT_FDCWD, "t/b", 0x6000, KSTATX_BASIC_STATS, &sx));
    }
    /* getdents64 */
    listing("getdents64_sorted", "t");
    listing("getdents64_empty_dir", "t/dir");
    {
        int fd = open("t", O_RDONLY | O_DIRECTORY);
        char small[8];
        CK("getdents64_buffer_too_small", syscall(SYS_getdents64, fd, small, sizeof small));
        close(fd);
        fd = open("t/a", O_RDONLY);
        char buf[512];
        CK("getdents64_on_file", syscall(SYS_getdents64, fd, buf, sizeof buf));
        close(fd);
        DIR *d = opendir("t");
        int count = 0;
        while (readdir(d)) count++;
        rewinddir(d);
        int again = 0;
        while (readdir(d)) again++;
        closedir(d);
        CHECK("readdir_rewind_count", "%d %d", count, again);
    }
    /* links */
    {
        CK("link", link("t/a", "t/a2"));
        struct stat st;
        stat("t/a", &st);
        CHECK("nlink_after_link", "%lu", (unsigned long)st.st_nlink);
        CK("link_exists", link("t/a", "t/b"));
        CK("link_dir", link("t/dir", "t/dir2"));
        CK("link_missing", link("t/nope", "t/x"));
        CK("linkat_symlink_nofollow", linkat(AT_FDCWD, "t/sym", AT_FDCWD, "t/sym2", 0));
        lstat("t/sym2", &st);
        CHECK("linkat_made_symlink_link", "%d", S_ISLNK(st.st_mode));
        CK("unlink", unlink("t/a2"));
        stat("t/a", &st);
        CHECK("nlink_after_unlink", "%lu", (unsigned long)st.st_nlink);
        CK("unlink_dir", unlink("t/dir"));
        CK("unlink_missing", unlink("t/nope"));
        CK("rmdir_file", rmdir("t/a"));
        CK("rmdir_dot", rmdir("t/dir/."));
        CK("rmdir_nonempty", rmdir("t"));
        CK("mkdir_exists", mkdir("t/dir", 0755));
        CK("mkdir_missing_parent", mkdir("t/no/sub", 0755));
        CK("mkdir_trailing_slash", mkdir("t/newd/", 0755));
        CK("rmdir_trailing_slash", rmdir("t/newd/"));
        stat("t", &st);
        CHECK("dir_nlink_counts_subdirs", "%lu", (unsigned long)st.st_nlink);
        /* symlink, readlink */
        char buf[64];
        CK("readlink", readlink("t/sym", buf, sizeof buf));
        CK("readlink_truncates", readlink("t/sym", buf, 0) );
        CK("readlink_not_link", readlink("t/a", buf, sizeof buf));
        CK("symlink_exists", symlink("x", "t/sym"));
        CK("symlink_empty_target", symlink("", "t/esym"));
        ssize_t n = readlink("/proc/self/cwd", buf, sizeof buf - 1);
        buf[n > 0 ? n : 0] = 0;
        CHECK("readlink_proc_cwd_suffix", "%s", strrchr(buf, '/') ? strrchr(buf, '/') : buf);
        lstat("t/sym", &st);
        CHECK("symlink_size_is_target_len", "%ld", (long)st.st_size);
    }
    /* rename / renameat2 */
    {
        writef("t/r1", "1");
        writef("t/r2", "22");
        CK("rename_over_file", rename("t/r1", "t/r2"));
        struct stat st;
        stat("t/r2", &st);
        CHECK("rename_replaced_size", "%ld", (long)st.st_size);
        CK("rename_missing", rename("t/r1", "t/r3"));
        CK("rename_file_over_dir", rename("t/r2", "t/dir"));
        mkdir("t/e1", 0755);
        CK("rename_dir_over_file", rename("t/e1", "t/r2"));
        mkdir("t/e2", 0755);
        writef("t/e2/x", "x");
        CK("rename_dir_over_nonempty", rename("t/e1", "t/e2"));
        CK("rename_dir_into_itself", rename("t/e1", "t/e1/sub"));
        CK("rename_same", rename("t/r2", "t/r2"));
        writef("t/n1", "n1");
        CK("renameat2_noreplace_exists", syscall(SYS_renameat2, AT_FDCWD, "t/n1", AT_FDCWD, "t/r2", RENAME_NOREPLACE));
        CK("renameat2_noreplace_new", syscall(SYS_renameat2, AT_FDCWD, "t/n1", AT_FDCWD, "t/n2", RENAME_NOREPLACE));
        CK("renameat2_exchange", syscall(SYS_renameat2, AT_FDCWD, "t/n2", AT_FDCWD, "t/r2", RENAME_EXCHANGE));
        stat("t/r2", &st);
        struct stat st2;
        stat("t/n2", &st2);
        CHECK("exchange_sizes", "%ld %ld", (long)st.st_size, (long)st2.st_size);
        CK("renameat2_exchange_missing", syscall(SYS_renameat2, AT_FDCWD, "t/n2", AT_FDCWD, "t/zz", RENAME_EXCHANGE));
        CK("renameat2_both_flags", syscall(SYS_renameat2, AT_FDCWD, "t/n2", AT_FDCWD, "t/r2", RENAME_EXCHANGE | RENAME_NOREPLACE));
        CK("renameat2_bad_flag", syscall(SYS_renameat2, AT_FDCWD, "t/n2", AT_FDCWD, "t/r2", 0x100));
        CK("renameat2_exchange_dir_file", syscall(SYS_renameat2, AT_FDCWD, "t/e2", AT_FDCWD, "t/r2", RENAME_EXCHANGE));
        CHECK("exchange_dir_file_types", "%d %d", access("t/r2/x", F_OK) == 0, access("t/e2", F_OK) == 0);
        CK("rename_cross_fs", rename("t/b", "/dev/shm/b"));
    }
    /* truncate */
    {
        writef("t/tr", "0123456789");
        CK("truncate_shrink", truncate("t/tr", 4));
        struct stat st;
        stat("t/tr", &st);
        CHECK("truncate_size", "%ld", (long)st.st_size);
        CK("truncate_grow", truncate("t/tr", 100000));
        char b[8] = "";
        int fd = open("t/tr", O_RDONLY);
        pread(fd, b, 4, 50000);
        CHECK("truncate_grow_zero_filled", "%d", b[0] == 0 && b[3] == 0);
        CK("ftruncate_rdonly", ftruncate(fd, 0));
        close(fd);
        CK("truncate_negative", truncate("t/tr", -1));
        CK("truncate_dir", truncate("t/dir", 0));
        CK("truncate_missing", truncate("t/nope", 0));
    }
    /* utimensat */
    {
        struct timespec ts[2] = {{1000000000, 123456789}, {1200000000, 987654321}};
        CK("utimensat", utimensat(AT_FDCWD, "t/b", ts, 0));
        struct stat st;
        stat("t/b", &st);
        CHECK("utimensat_atime", "%ld.%09ld", (long)st.st_atim.tv_sec, st.st_atim.tv_nsec);
        CHECK("utimensat_mtime", "%ld.%09ld", (long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
        struct timespec om[2] = {{0, UTIME_OMIT}, {5, 0}};
        utimensat(AT_FDCWD, "t/b", om, 0);
        stat("t/b", &st);
        CHECK("utime_omit_atime", "%ld %ld", (long)st.st_atim.tv_sec, (long)st.st_mtim.tv_sec);
        struct timespec bad[2] = {{0, 1000000000}, {0, 0}};
        CK("utimensat_bad_nsec", utimensat(AT_FDCWD, "t/b", bad, 0));
        CK("utimensat_bad_flags", utimensat(AT_FDCWD, "t/b", ts, 0x1));
        CK("utimensat_symlink_nofollow", utimensat(AT_FDCWD, "t/sym", ts, AT_SYMLINK_NOFOLLOW));
        lstat("t/sym", &st);
        CHECK("symlink_mtime_set", "%ld", (long)st.st_mtim.tv_sec);
        struct timespec neg[2] = {{-1, 0}, {-86400 * 365L, 0}};
        utimensat(AT_FDCWD, "t/b", neg, 0);
        stat("t/b", &st);
        CHECK("utimensat_negative_times", "%ld %ld", (long)st.st_atim.tv_sec, (long)st.st_mtim.tv_sec);
    }
    /* chmod / chown */
    {
        CK("chmod", chmod("t/b", 04755));
        struct stat st;
        stat("t/b", &st);
        CHECK("chmod_mode", "%06o", (unsigned)st.st_mode);
        CK("chown", chown("t/b", 1000, 1000));
        stat("t/b", &st);
        CHECK("chown_clears_setuid", "%06o %d %d", (unsigned)st.st_mode, (int)st.st_uid, (int)st.st_gid);
        CK("chown_keep", chown("t/b", -1, -1));
        CK("lchown_symlink", lchown("t/sym", 5, 5));
        lstat("t/sym", &st);
        CHECK("lchown_result", "%d %d", (int)st.st_uid, (int)st.st_gid);
        CK("fchmodat_nofollow", fchmodat(AT_FDCWD, "t/sym", 0644, AT_SYMLINK_NOFOLLOW));
        CK("chmod_missing", chmod("t/nope", 0644));
        mkdir("t/sg", 02775);
        stat("t/sg", &st);
        CHECK("mkdir_setgid_kept", "%06o", (unsigned)st.st_mode);
        mkdir("t/st", 01777);
        stat("t/st", &st);
        CHECK("mkdir_sticky_kept", "%06o", (unsigned)st.st_mode);
    }
    /* mknod */
    {
        CK("mknod_fifo", mknod("t/nf", S_IFIFO | 0600, 0));
        CK("mknod_chr_root", mknod("t/nc", S_IFCHR | 0600, makedev(1, 3)));
        CK("mknod_bad_type", mknod("t/nb", 0170000 | 0600, 0));
        CK("mknod_dir_type", mknod("t/nd", S_IFDIR | 0600, 0));
        listing("getdents64_final", "t");
    }
    /* chdir / getcwd */
    {
        char cwd[256];
        CK("chdir_file", chdir("t/a"));
        CK("chdir_dir", chdir("t/dir"));
        getcwd(cwd, sizeof cwd);
        CHECK("getcwd_suffix", "%s", strstr(cwd, "/t/dir") ? strstr(cwd, "/t/dir") : cwd);
        CK("getcwd_small", getcwd(cwd, 2) ? 1L : -1L);
        CK("fchdir_file", ({ int f = open("../a", O_RDONLY); int r = fchdir(f); close(f); r; }));
        chdir("/");
        getcwd(cwd, sizeof cwd);
        CHECK("getcwd_root", "%s", cwd);
    }
    return 0;
}
