#include "difftest.h"
/* Files: open flags and their errors, O_TMPFILE, openat2 RESOLVE_*, access/faccessat2, lseek. */
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
/* from linux/openat2.h (not visible to musl-gcc) */
struct open_how { unsigned long long flags, mode, resolve; };
#define RESOLVE_NO_XDEV 0x01
#define RESOLVE_NO_MAGICLINKS 0x02
#define RESOLVE_NO_SYMLINKS 0x04
#define RESOLVE_BENEATH 0x08
#define RESOLVE_IN_ROOT 0x10
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_faccessat2
#define SYS_faccessat2 439
#endif
#ifndef AT_EACCESS
#define AT_EACCESS 0x200
#endif

static long openat2_(int dfd, const char *path, unsigned long long flags, unsigned long long mode,
                     unsigned long long resolve) {
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = flags;
    how.mode = mode;
    how.resolve = resolve;
    return syscall(SYS_openat2, dfd, path, &how, sizeof how);
}

static void touch(const char *p) { int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644); close(fd); }

int main(void) {
    setup();
    /* a known tree in the test's tmpfs working directory */
    mkdir("d", 0755);
    mkdir("d/sub", 0755);
    touch("d/file");
    symlink("file", "d/link");
    symlink("/tmp", "d/abslink");
    symlink("../..", "d/uplink");
    symlink("loop1", "d/loop2");
    symlink("loop2", "d/loop1");
    symlink("nowhere", "d/dangling");

    CK("open_enoent", open("d/missing", O_RDONLY));
    CK("open_enoent_parent", open("d/missing/x", O_RDONLY));
    CK("open_creat_excl_exists", open("d/file", O_CREAT | O_EXCL | O_WRONLY, 0644));
    CK("open_creat_excl_new", open("d/new", O_CREAT | O_EXCL | O_WRONLY, 0644) >= 0);
    CK("open_creat_excl_symlink", open("d/dangling", O_CREAT | O_EXCL | O_WRONLY, 0644));
    CK("open_creat_dangling_creates", open("d/dangling", O_CREAT | O_WRONLY, 0644) >= 0);
    CHECK("dangling_target_created", "%d", access("d/nowhere", F_OK) == 0);
    CK("open_dir_wronly", open("d/sub", O_WRONLY));
    CK("open_dir_rdwr", open("d/sub", O_RDWR));
    CK("open_dir_rdonly", open("d/sub", O_RDONLY) >= 0);
    CK("open_dir_creat", open("d/sub", O_CREAT | O_RDONLY, 0644));
    CK("open_file_as_dir", open("d/file/x", O_RDONLY));
    CK("open_odirectory_on_file", open("d/file", O_RDONLY | O_DIRECTORY));
    CK("open_nofollow_symlink", open("d/link", O_RDONLY | O_NOFOLLOW));
    CK("open_nofollow_in_middle_ok", open("d/abslink/.", O_RDONLY | O_NOFOLLOW) >= 0);
    CK("open_symlink_loop", open("d/loop1", O_RDONLY));
    CK("open_path_nofollow_symlink", open("d/link", O_PATH | O_NOFOLLOW) >= 0);
    CK("open_trailing_slash_file", open("d/file/", O_RDONLY));
    CK("open_creat_trailing_slash", open("d/newdir/", O_CREAT | O_WRONLY, 0644));
    CK("open_empty_path", open("", O_RDONLY));
    CK("open_efault", open((char *)8, O_RDONLY));
    {
        char longname[300];
        memset(longname, 'a', 299);
        longname[299] = 0;
        CK("open_name_too_long", open(longname, O_RDONLY));
        static char longpath[PATH_MAX + 10];
        memset(longpath, 'b', sizeof longpath - 1);
        for (size_t i = 100; i < sizeof longpath - 1; i += 100) longpath[i] = '/';
        CK("open_path_too_long", open(longpath, O_RDONLY));
    }
    CK("open_bad_accmode", open("d/file", 3));
    CK("open_unknown_flags_ignored", open("d/file", O_RDONLY | 0x40000000) >= 0);
    CK("openat_bad_dirfd", openat(999, "file", O_RDONLY));
    {
        int fd = open("d/file", O_RDONLY);
        CK("openat_dirfd_not_dir", openat(fd, "x", O_RDONLY));
        CK("openat_dirfd_not_dir_abs_ok", openat(fd, "/tmp", O_RDONLY) >= 0);
        close(fd);
    }
    /* O_TMPFILE */
    CK("tmpfile_rdonly", open("d", O_TMPFILE | O_RDONLY, 0600));
    CK("tmpfile_without_directory_bit", open("d", 020000000 /* __O_TMPFILE */ | O_RDWR, 0600));
    CK("tmpfile_on_file", open("d/file", O_TMPFILE | O_RDWR, 0600));
    {
        int fd = open("d", O_TMPFILE | O_RDWR, 0600);
        CK("tmpfile_rdwr", fd >= 0);
        struct stat st;
        fstat(fd, &st);
        CHECK("tmpfile_nlink_mode", "%lu %04o", (unsigned long)st.st_nlink, (unsigned)(st.st_mode & 07777));
        write(fd, "tmp", 3);
        char path[64];
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        CK("tmpfile_linkat", linkat(AT_FDCWD, path, AT_FDCWD, "d/fromtmp", AT_SYMLINK_FOLLOW));
        stat("d/fromtmp", &st);
        CHECK("tmpfile_linked_size", "%ld", (long)st.st_size);
        int ex = open("d", O_TMPFILE | O_RDWR | O_EXCL, 0600);
        snprintf(path, sizeof path, "/proc/self/fd/%d", ex);
        CK("tmpfile_excl_linkat", linkat(AT_FDCWD, path, AT_FDCWD, "d/fromtmp2", AT_SYMLINK_FOLLOW));
        close(fd); close(ex);
    }
    /* O_APPEND, O_TRUNC */
    {
        int fd = open("d/ap", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        write(fd, "hello", 5);
        close(fd);
        fd = open("d/ap", O_WRONLY | O_APPEND);
        lseek(fd, 0, SEEK_SET);
        write(fd, "!", 1);
        CK("append_offset_after_write", lseek(fd, 0, SEEK_CUR));
        CK("append_pwrite_appends", pwrite(fd, "?", 1, 0));
        close(fd);
        struct stat st;
        stat("d/ap", &st);
        CHECK("append_size", "%ld", (long)st.st_size);
        fd = open("d/ap", O_RDONLY | O_TRUNC);
        close(fd);
        stat("d/ap", &st);
        CHECK("rdonly_trunc_truncates", "%ld", (long)st.st_size);
    }
    /* openat2 */
    {
        int d = open("d", O_RDONLY | O_DIRECTORY);
        CK("openat2_plain", openat2_(d, "file", O_RDONLY, 0, 0) >= 0);
        CK("openat2_beneath_dotdot", openat2_(d, "../d/file", O_RDONLY, 0, RESOLVE_BENEATH));
        CK("openat2_beneath_absolute", openat2_(d, "/tmp", O_RDONLY, 0, RESOLVE_BENEATH));
        CK("openat2_beneath_abs_symlink", openat2_(d, "abslink", O_RDONLY, 0, RESOLVE_BENEATH));
        CK("openat2_beneath_up_symlink", openat2_(d, "uplink", O_RDONLY, 0, RESOLVE_BENEATH));
        CK("openat2_beneath_inside_ok", openat2_(d, "sub/../file", O_RDONLY, 0, RESOLVE_BENEATH) >= 0);
        CK("openat2_no_symlinks", openat2_(d, "link", O_RDONLY, 0, RESOLVE_NO_SYMLINKS));
        CK("openat2_no_magiclinks", openat2_(d, "/proc/self/exe", O_RDONLY, 0, RESOLVE_NO_MAGICLINKS));
        CK("openat2_in_root_abs", openat2_(d, "/file", O_RDONLY, 0, RESOLVE_IN_ROOT) >= 0);
        CK("openat2_no_xdev_proc", openat2_(AT_FDCWD, "/proc/self", O_RDONLY, 0, RESOLVE_NO_XDEV));
        CK("openat2_bad_resolve", openat2_(d, "file", O_RDONLY, 0, 0x1000));
        CK("openat2_mode_without_creat", openat2_(d, "file", O_RDONLY, 0644, 0));
        CK("openat2_unknown_flag", openat2_(d, "file", O_RDONLY | 0x40000000ULL, 0, 0));
        CK("openat2_beneath_and_in_root", openat2_(d, "file", O_RDONLY, 0, RESOLVE_BENEATH | RESOLVE_IN_ROOT));
        struct open_how how = {0};
        CK("openat2_small_size", syscall(SYS_openat2, d, "file", &how, 8));
        close(d);
    }
    /* access / faccessat2 as root */
    {
        touch("d/noperm");
        chmod("d/noperm", 0);
        CK("access_root_read_noperm", access("d/noperm", R_OK | W_OK));
        CK("access_root_exec_noperm", access("d/noperm", X_OK));
        chmod("d/noperm", 0100);
        CK("access_root_exec_one_x", access("d/noperm", X_OK));
        CK("access_dir_exec", access("d/sub", X_OK));
        CK("access_missing", access("d/missing", F_OK));
        CK("access_bad_mode", access("d/file", 8));
        CK("faccessat2_eaccess", syscall(SYS_faccessat2, AT_FDCWD, "d/file", R_OK, AT_EACCESS));
        CK("faccessat2_nofollow_dangling", syscall(SYS_faccessat2, AT_FDCWD, "d/loop1", F_OK, AT_SYMLINK_NOFOLLOW));
        CK("faccessat2_bad_flags", syscall(SYS_faccessat2, AT_FDCWD, "d/file", R_OK, 0x1));
        CK("faccessat2_empty_path", syscall(SYS_faccessat2, AT_FDCWD, "", R_OK, AT_EMPTY_PATH));
    }
    /* lseek, SEEK_DATA/SEEK_HOLE on tmpfs */
    {
        int fd = open("d/sparse", O_RDWR | O_CREAT | O_TRUNC, 0644);
        pwrite(fd, "x", 1, 1 << 20);
        CK("seek_end", lseek(fd, 0, SEEK_END));
        CK("seek_data_0", lseek(fd, 0, SEEK_DATA));
        CK("seek_hole_0", lseek(fd, 0, SEEK_HOLE));
        CK("seek_hole_in_data", lseek(fd, (1 << 20), SEEK_HOLE));
        CK("seek_data_past_eof", lseek(fd, (1 << 20) + 1, SEEK_DATA));
        CK("seek_hole_at_eof", lseek(fd, (1 << 20) + 1, SEEK_HOLE));
        CK("seek_negative", lseek(fd, -1, SEEK_SET));
        CK("seek_bad_whence", lseek(fd, 0, 7));
        CK("seek_past_end_ok", lseek(fd, 1L << 40, SEEK_SET));
        CK("seek_cur_negative_result", lseek(fd, -(2L << 40), SEEK_CUR));
        int pfd[2];
        pipe(pfd);
        CK("seek_pipe", lseek(pfd[0], 0, SEEK_SET));
        close(pfd[0]); close(pfd[1]);
        CK("seek_bad_fd", lseek(999, 0, SEEK_SET));
        char b[4];
        CK("pread_negative_offset", pread(fd, b, 1, -1));
        CK("read_at_hole_zero", pread(fd, b, 4, 100) == 4 && b[0] == 0 && b[3] == 0);
        close(fd);
        int dfd = open("d", O_RDONLY);
        CK("read_directory", read(dfd, b, 4));
        CK("write_rdonly_fd", write(dfd, b, 1));
        close(dfd);
    }
    return 0;
}
