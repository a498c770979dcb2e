// mount(2)/umount2(2) with tmpfs and devtmpfs, the mem devices, chroot,
// mknod, openat2's checks, statx and statfs, and the sync family.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define SHOW(label, expr)                                              \
    do {                                                               \
        errno = 0;                                                     \
        long r_ = (long)(expr);                                        \
        printf("%s -> %ld errno=%d\n", label, r_ < 0 ? -1L : r_ > 0 ? 1L : 0L, r_ < 0 ? errno : 0); \
    } while (0)

static void node(const char* path) {
    struct stat st;
    if (stat(path, &st) < 0) {
        printf("%s: errno=%d\n", path, errno);
        return;
    }
    printf("%s: mode=%o rdev=%u:%u uid=%u gid=%u\n", path, st.st_mode, major(st.st_rdev), minor(st.st_rdev),
           st.st_uid, st.st_gid);
}

static long openat2_(int dirfd, const char* p, struct open_how* how, size_t size) {
    return syscall(SYS_openat2, dirfd, p, how, size);
}

int main(void) {
    umask(022);
    node("/dev/console");
    SHOW("mount devtmpfs", mount("devtmpfs", "/dev", "devtmpfs", 0, NULL));
    const char* nodes[] = {"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom",
                           "/dev/tty", "/dev/console", "/dev/ptmx", "/dev/kmsg"};
    for (unsigned i = 0; i < sizeof(nodes) / sizeof(nodes[0]); ++i) node(nodes[i]);

    int fd = open("/dev/null", O_RDWR);
    char buf[64];
    memset(buf, 'x', sizeof(buf));
    SHOW("write null", write(fd, buf, 10));
    SHOW("read null", read(fd, buf, 10));
    SHOW("lseek null", lseek(fd, 100, SEEK_SET));
    SHOW("pread null", pread(fd, buf, 10, 5));
    SHOW("fsync null", fsync(fd));
    close(fd);
    fd = open("/dev/zero", O_RDONLY);
    SHOW("read zero", read(fd, buf, 64));
    printf("zeros: %d\n", buf[0] == 0 && buf[63] == 0);
    SHOW("write rdonly zero", write(fd, buf, 1));
    close(fd);
    fd = open("/dev/full", O_WRONLY);
    SHOW("write full", write(fd, buf, 1));
    SHOW("read wronly full", read(fd, buf, 1));
    close(fd);
    fd = open("/dev/urandom", O_RDONLY);
    unsigned char r1[32] = {0}, r2[32] = {0};
    SHOW("read urandom", read(fd, r1, 32));
    SHOW("read urandom again", read(fd, r2, 32));
    printf("random differs: %d\n", memcmp(r1, r2, 32) != 0);
    close(fd);

    SHOW("mkdir /mnt", mkdir("/mnt", 0755));
    SHOW("mount tmpfs", mount("none", "/mnt", "tmpfs", MS_NOSUID, "mode=700"));
    struct stat st;
    stat("/mnt", &st);
    printf("/mnt mode %o\n", st.st_mode);
    struct statfs sf;
    SHOW("statfs /mnt", statfs("/mnt", &sf));
    printf("magic tmpfs %d flags nosuid %d\n", sf.f_type == TMPFS_MAGIC, (sf.f_flags & ST_NOSUID) != 0);
    SHOW("mount bad type", mount("none", "/mnt", "nosuchfs", 0, NULL));
    SHOW("mount null type", mount("none", "/mnt", NULL, 0, NULL));
    SHOW("mount missing target", mount("none", "/nope", "tmpfs", 0, NULL));
    SHOW("mount bad option", mount("none", "/mnt", "tmpfs", 0, "bogus=1"));
    fd = open("/mnt/f", O_CREAT | O_RDWR, 0644);
    SHOW("write /mnt/f", write(fd, "data", 4));
    SHOW("umount busy", umount("/mnt"));
    SHOW("umount2 bad flags", umount2("/mnt", 0x100));
    SHOW("umount not mountpoint", umount("/dev/null"));
    close(fd);
    SHOW("umount /mnt", umount("/mnt"));
    SHOW("file gone", access("/mnt/f", F_OK));
    SHOW("remount ro", mount("none", "/mnt", "tmpfs", 0, NULL));
    SHOW("remount", mount(NULL, "/mnt", NULL, MS_REMOUNT | MS_RDONLY, NULL));
    SHOW("create on ro", open("/mnt/g", O_CREAT | O_WRONLY, 0644));
    SHOW("make private", mount(NULL, "/mnt", NULL, MS_PRIVATE, NULL));
    SHOW("make shared+slave", mount(NULL, "/mnt", NULL, MS_SHARED | MS_SLAVE, NULL));
    SHOW("umount2 detach", umount2("/mnt", MNT_DETACH));
    SHOW("bind", mount("/dev", "/mnt", NULL, MS_BIND, NULL));
    node("/mnt/null");
    SHOW("umount bind", umount("/mnt"));

    SHOW("mknod fifo", mknod("/fifo", S_IFIFO | 0666, 0));
    node("/fifo");
    SHOW("mknod chr", mknod("/chr", S_IFCHR | 0666, makedev(1, 3)));
    node("/chr");
    SHOW("mknod dir", mknod("/dirx", S_IFDIR | 0755, 0));
    SHOW("mknod bad type", mknod("/bad", 0170000 | 0644, 0));
    SHOW("mknod reg", mknodat(AT_FDCWD, "/reg", 0644, 0));
    node("/reg");
    SHOW("open unregistered chr", open("/chr2", O_RDONLY));
    mknod("/chr2", S_IFCHR | 0666, makedev(60, 0));
    SHOW("open unregistered chr", open("/chr2", O_RDONLY));

    struct open_how how = {0};
    how.flags = O_RDONLY;
    SHOW("openat2 ok", openat2_(AT_FDCWD, "/reg", &how, sizeof(how)));
    SHOW("openat2 small", openat2_(AT_FDCWD, "/reg", &how, 16));
    SHOW("openat2 huge", openat2_(AT_FDCWD, "/reg", &how, 8192));
    char big[64] = {0};
    memcpy(big, &how, sizeof(how));
    SHOW("openat2 big zero tail", openat2_(AT_FDCWD, "/reg", (struct open_how*)big, sizeof(big)));
    big[40] = 1;
    SHOW("openat2 big nonzero tail", openat2_(AT_FDCWD, "/reg", (struct open_how*)big, sizeof(big)));
    how.mode = 0644;
    SHOW("openat2 mode without create", openat2_(AT_FDCWD, "/reg", &how, sizeof(how)));
    how.mode = 0;
    how.flags = 1u << 30;
    SHOW("openat2 unknown flag", openat2_(AT_FDCWD, "/reg", &how, sizeof(how)));
    how.flags = O_PATH | O_RDWR;
    SHOW("openat2 O_PATH|O_RDWR", openat2_(AT_FDCWD, "/reg", &how, sizeof(how)));
    how.flags = O_RDONLY;
    how.resolve = RESOLVE_BENEATH | RESOLVE_IN_ROOT;
    SHOW("openat2 beneath+inroot", openat2_(AT_FDCWD, "/reg", &how, sizeof(how)));
    how.resolve = RESOLVE_BENEATH;
    SHOW("openat2 beneath absolute", openat2_(AT_FDCWD, "/reg", &how, sizeof(how)));
    int dfd = open("/dev", O_DIRECTORY | O_RDONLY);
    SHOW("openat2 beneath dotdot", openat2_(dfd, "../reg", &how, sizeof(how)));
    SHOW("openat2 beneath inside", openat2_(dfd, "null", &how, sizeof(how)));
    how.resolve = RESOLVE_IN_ROOT;
    SHOW("openat2 in_root absolute", openat2_(dfd, "/null", &how, sizeof(how)));
    how.resolve = 1ull << 40;
    SHOW("openat2 bad resolve", openat2_(AT_FDCWD, "/reg", &how, sizeof(how)));

    struct statx sx;
    SHOW("statx", statx(AT_FDCWD, "/dev/null", 0, STATX_BASIC_STATS, &sx));
    printf("statx mask basic %d mode %o rdev %u:%u\n", (sx.stx_mask & STATX_BASIC_STATS) == STATX_BASIC_STATS,
           sx.stx_mode, sx.stx_rdev_major, sx.stx_rdev_minor);
    SHOW("statx reserved mask", statx(AT_FDCWD, "/dev/null", 0, 0x80000000u, &sx));
    SHOW("statx bad flags", statx(AT_FDCWD, "/dev/null", 0x1, STATX_BASIC_STATS, &sx));
    SHOW("statx both sync", statx(AT_FDCWD, "/dev/null", AT_STATX_FORCE_SYNC | AT_STATX_DONT_SYNC,
                                   STATX_BASIC_STATS, &sx));
    int p[2];
    pipe(p);
    SHOW("statx pipe empty path", statx(p[0], "", AT_EMPTY_PATH, STATX_BASIC_STATS, &sx));
    printf("pipe fifo %d\n", S_ISFIFO(sx.stx_mode));
    SHOW("statx no empty flag", statx(p[0], "", 0, STATX_BASIC_STATS, &sx));
    SHOW("fstatfs pipe", fstatfs(p[0], &sf));
    printf("pipefs %d\n", sf.f_type == PIPEFS_MAGIC);
    SHOW("fsync pipe", fsync(p[0]));
    SHOW("fdatasync bad", fdatasync(99));
    SHOW("sync_file_range pipe", sync_file_range(p[0], 0, 0, 0));
    SHOW("sync_file_range bad flags", sync_file_range(p[0], 0, 0, 8));
    SHOW("fallocate pipe", fallocate(p[1], 0, 0, 10));
    fd = open("/reg", O_RDWR);
    SHOW("fsync file", fsync(fd));
    SHOW("syncfs", syncfs(fd));
    SHOW("fallocate file", fallocate(fd, 0, 0, 8192));
    fstat(fd, &st);
    printf("size after fallocate %ld\n", (long)st.st_size);
    sync();

    SHOW("mkdir /jail", mkdir("/jail", 0755));
    SHOW("mkdir /jail/inner", mkdir("/jail/inner", 0755));
    SHOW("chroot file", chroot("/reg"));
    SHOW("chroot missing", chroot("/nope"));
    SHOW("chroot", chroot("/jail"));
    SHOW("inner visible", access("/inner", F_OK));
    SHOW("reg hidden", access("/reg", F_OK));
    char cwd[64];
    printf("cwd %s\n", getcwd(cwd, sizeof(cwd)) ? cwd : "(err)");
    return 0;
}
