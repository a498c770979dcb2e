// Names and attributes on the root tmpfs: rename and renameat2 flags,
// hard links and link counts, symlinks and readlink, chmod/chown,
// truncate/ftruncate, utimensat, access.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SHOW(label, expr)                                              \
    do {                                                               \
        errno = 0;                                                     \
        long r_ = (long)(expr);                                        \
        printf("%s -> %ld errno=%d\n", label, r_, r_ < 0 ? errno : 0); \
    } while (0)

static void touch(const char* p, const char* text) {
    int fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    write(fd, text, strlen(text));
    close(fd);
}

static long nlink(const char* p) {
    struct stat st;
    return stat(p, &st) == 0 ? (long)st.st_nlink : -1;
}

int main(void) {
    mkdir("/n", 0755);
    chdir("/n");
    touch("a", "AAA");
    touch("b", "BB");
    SHOW("rename a c", rename("a", "c"));
    SHOW("rename missing", rename("a", "d"));
    SHOW("renameat2 NOREPLACE onto b", syscall(SYS_renameat2, AT_FDCWD, "c", AT_FDCWD, "b", 1));
    SHOW("renameat2 EXCHANGE", syscall(SYS_renameat2, AT_FDCWD, "c", AT_FDCWD, "b", 2));
    struct stat st;
    stat("b", &st);
    printf("b now has size %ld\n", (long)st.st_size);
    mkdir("dir", 0755);
    SHOW("rename dir into itself", rename("dir", "dir/sub"));
    SHOW("rename file over dir", rename("b", "dir"));
    SHOW("link b l", link("b", "l"));
    printf("nlink b=%ld\n", nlink("b"));
    SHOW("link existing", link("b", "l"));
    SHOW("link a directory", link("dir", "dl"));
    SHOW("symlink", symlink("b", "s"));
    char buf[64] = {0};
    SHOW("readlink", readlink("s", buf, sizeof(buf)));
    printf("target '%s'\n", buf);
    SHOW("readlink not a link", readlink("b", buf, sizeof(buf)));
    lstat("s", &st);
    printf("lstat is link %d, stat size via link %ld\n", S_ISLNK(st.st_mode), (stat("s", &st), (long)st.st_size));
    SHOW("symlink loop open", (symlink("loop1", "loop2"), symlink("loop2", "loop1"), open("loop1", O_RDONLY)));
    SHOW("O_NOFOLLOW on link", open("s", O_RDONLY | O_NOFOLLOW));
    SHOW("chmod 600", chmod("b", 0600));
    stat("b", &st);
    printf("mode %o\n", st.st_mode & 07777);
    SHOW("chown", chown("b", 1000, 1000));
    stat("b", &st);
    printf("owner %d %d\n", st.st_uid, st.st_gid);
    SHOW("truncate 10", truncate("b", 10));
    stat("b", &st);
    printf("size %ld\n", (long)st.st_size);
    SHOW("truncate negative", truncate("b", -1));
    SHOW("truncate a dir", truncate("dir", 0));
    int fd = open("b", O_RDWR);
    SHOW("ftruncate 1", ftruncate(fd, 1));
    close(fd);
    struct timespec t[2] = {{1000000000, 5}, {1100000000, 7}};
    SHOW("utimensat", utimensat(AT_FDCWD, "b", t, 0));
    stat("b", &st);
    printf("atime %ld.%ld mtime %ld.%ld\n", (long)st.st_atim.tv_sec, st.st_atim.tv_nsec, (long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    SHOW("access R_OK", access("b", R_OK));
    SHOW("access X_OK on 600 file as root", access("b", X_OK));
    SHOW("access missing", access("zzz", F_OK));
    SHOW("access bad mode", access("b", 0x80));
    SHOW("unlink link", unlink("l"));
    printf("nlink b=%ld\n", nlink("b"));
    return 0;
}
