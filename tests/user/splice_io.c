// Vectored and zero-copy I/O: readv/writev, preadv/pwritev, preadv2/
// pwritev2 (RWF_* flags, offset -1), sendfile, splice, tee and
// copy_file_range, with their errno cases.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef RWF_NOAPPEND
#define RWF_NOAPPEND 0x20
#endif
#ifndef RWF_ATOMIC
#define RWF_ATOMIC 0x40
#endif

#define SHOW(label, expr)                                              \
    do {                                                               \
        errno = 0;                                                     \
        long r_ = (long)(expr);                                        \
        printf("%s -> %ld errno=%d\n", label, r_, r_ < 0 ? errno : 0); \
    } while (0)

static void show_file(const char* label, const char* path) {
    char buf[128];
    int fd = open(path, O_RDONLY);
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    buf[n < 0 ? 0 : n] = 0;
    printf("%s: \"%s\" (%zd)\n", label, buf, n);
}

static long pos_of(int fd) { return (long)lseek(fd, 0, SEEK_CUR); }

static int make_file(const char* path, const char* content) {
    int fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0644);
    write(fd, content, strlen(content));
    lseek(fd, 0, SEEK_SET);
    return fd;
}

static void vectored(void) {
    int fd = open("/sio", O_CREAT | O_TRUNC | O_RDWR, 0644);
    struct iovec w[2] = {{"hello ", 6}, {"world", 5}};
    SHOW("writev", writev(fd, w, 2));
    lseek(fd, 0, SEEK_SET);
    char a[5] = {0}, b[1] = {0}, c[10] = {0};
    struct iovec r[3] = {{a, 5}, {b, 1}, {c, 10}};
    SHOW("readv", readv(fd, r, 3));
    printf("pieces \"%.5s\" \"%.1s\" \"%.5s\"\n", a, b, c);
    memset(c, 0, sizeof(c));
    struct iovec one = {c, 10};
    SHOW("preadv at 6", preadv(fd, &one, 1, 6));
    printf("got \"%s\" pos %ld\n", c, pos_of(fd));
    struct iovec up = {"HELLO", 5};
    SHOW("pwritev at 0", pwritev(fd, &up, 1, 0));
    show_file("after pwritev", "/sio");
    lseek(fd, 2, SEEK_SET);
    memset(c, 0, sizeof(c));
    one.iov_len = 3;
    SHOW("preadv2 offset -1", preadv2(fd, &one, 1, -1, 0));
    printf("got \"%s\" pos %ld\n", c, pos_of(fd));
    struct iovec x = {"xy", 2};
    SHOW("pwritev2 offset -1", pwritev2(fd, &x, 1, -1, 0));
    printf("pos %ld\n", pos_of(fd));
    show_file("after pwritev2 -1", "/sio");

    SHOW("preadv2 RWF_HIPRI", preadv2(fd, &one, 1, 0, RWF_HIPRI));
    SHOW("preadv2 RWF_NOWAIT on a file", preadv2(fd, &one, 1, 0, RWF_NOWAIT));
    SHOW("pwritev2 RWF_DSYNC", pwritev2(fd, &x, 1, 0, RWF_DSYNC));
    SHOW("pwritev2 RWF_SYNC", pwritev2(fd, &x, 1, 0, RWF_SYNC));
    SHOW("preadv2 unknown flag", preadv2(fd, &one, 1, 0, 0x80));
    SHOW("preadv2 RWF_ATOMIC", preadv2(fd, &one, 1, 0, RWF_ATOMIC));
    SHOW("pwritev2 RWF_ATOMIC", pwritev2(fd, &x, 1, 0, RWF_ATOMIC));
    SHOW("pwritev2 APPEND|NOAPPEND", pwritev2(fd, &x, 1, 0, RWF_APPEND | RWF_NOAPPEND));
    struct iovec empty = {c, 0};
    SHOW("preadv2 empty, unknown flag", preadv2(fd, &empty, 1, 0, 0x80));
    SHOW("preadv2 offset -2", preadv2(fd, &one, 1, -2, 0));
    SHOW("preadv negative offset", preadv(fd, &one, 1, -5));

    lseek(fd, 1, SEEK_SET);
    struct iovec ap = {"<app>", 5};
    SHOW("pwritev2 RWF_APPEND at 0", pwritev2(fd, &ap, 1, 0, RWF_APPEND));
    printf("pos %ld\n", pos_of(fd));
    show_file("after RWF_APPEND", "/sio");
    SHOW("pwritev2 RWF_APPEND offset -1", pwritev2(fd, &ap, 1, -1, RWF_APPEND));
    printf("pos %ld\n", pos_of(fd));
    close(fd);

    int afd = open("/sio", O_RDWR | O_APPEND);
    struct iovec na = {"N", 1};
    SHOW("pwritev on O_APPEND at 0", pwritev(afd, &na, 1, 0));
    SHOW("pwritev2 RWF_NOAPPEND at 0", pwritev2(afd, &na, 1, 0, RWF_NOAPPEND));
    show_file("after NOAPPEND", "/sio");
    struct iovec again = {"W", 1};
    SHOW("writev on O_APPEND still appends", writev(afd, &again, 1));
    show_file("after append", "/sio");
    close(afd);

    int ro = open("/sio", O_RDONLY);
    SHOW("writev on read-only", writev(ro, w, 2));
    SHOW("readv 1025 segments", readv(ro, r, 1025));
    struct iovec neg = {c, (size_t)-1};
    SHOW("readv negative length", readv(ro, &neg, 1));
    SHOW("readv null vector", readv(ro, NULL, 1));
    SHOW("readv zero segments", readv(ro, NULL, 0));
    SHOW("readv bad fd", readv(99, r, 1));
    struct iovec bad = {(void*)0xffffffff80000000ul, 4};
    SHOW("readv kernel address", readv(ro, &bad, 1));
    close(ro);

    int p[2];
    pipe(p);
    SHOW("writev to a pipe", writev(p[1], w, 2));
    char s1[3] = {0}, s2[20] = {0};
    struct iovec pr[2] = {{s1, 3}, {s2, 20}};
    SHOW("readv from a pipe", readv(p[0], pr, 2));
    printf("pieces \"%.3s\" \"%s\"\n", s1, s2);
    SHOW("preadv on a pipe", preadv(p[0], pr, 2, 0));
    SHOW("preadv2 RWF_NOWAIT empty pipe", preadv2(p[0], pr, 2, -1, RWF_NOWAIT));
    write(p[1], "q", 1);
    SHOW("preadv2 RWF_NOWAIT with data", preadv2(p[0], pr, 2, -1, RWF_NOWAIT));
    close(p[0]);
    close(p[1]);
}

static void sendfile_cases(void) {
    int in = make_file("/sf_in", "0123456789");
    int out = open("/sf_out", O_CREAT | O_TRUNC | O_RDWR, 0644);
    off_t off = 2;
    SHOW("sendfile with offset", sendfile(out, in, &off, 5));
    printf("offset %ld in pos %ld out pos %ld\n", (long)off, pos_of(in), pos_of(out));
    show_file("sf_out", "/sf_out");
    lseek(in, 3, SEEK_SET);
    SHOW("sendfile from position", sendfile(out, in, NULL, 4));
    printf("in pos %ld out pos %ld\n", pos_of(in), pos_of(out));
    show_file("sf_out", "/sf_out");
    off = 20;
    SHOW("sendfile past end", sendfile(out, in, &off, 4));
    off = 8;
    SHOW("sendfile short at end", sendfile(out, in, &off, 100));
    printf("offset %ld\n", (long)off);
    int p[2];
    pipe(p);
    off = 0;
    SHOW("sendfile to a pipe", sendfile(p[1], in, &off, 100));
    char buf[32] = {0};
    read(p[0], buf, sizeof(buf));
    printf("pipe got \"%s\"\n", buf);
    SHOW("sendfile count 0", sendfile(out, in, &off, 0));

    SHOW("sendfile from a pipe", sendfile(out, p[0], NULL, 4));
    off = 0;
    SHOW("sendfile from a pipe with offset", sendfile(out, p[0], &off, 4));
    int ro = open("/sf_out", O_RDONLY);
    SHOW("sendfile to read-only", sendfile(ro, in, NULL, 4));
    int wo = open("/sf_in", O_WRONLY);
    SHOW("sendfile from write-only", sendfile(out, wo, NULL, 4));
    off = -1;
    SHOW("sendfile negative offset", sendfile(out, in, &off, 4));
    int app = open("/sf_out", O_WRONLY | O_APPEND);
    SHOW("sendfile to O_APPEND", sendfile(app, in, NULL, 4));
    SHOW("sendfile bad offset pointer", sendfile(out, in, (off_t*)1, 4));
    SHOW("sendfile bad in", sendfile(out, 99, NULL, 4));
    SHOW("sendfile bad out", sendfile(99, in, NULL, 4));
    close(app);
    close(ro);
    close(wo);
    close(p[0]);
    close(p[1]);
    close(in);
    close(out);
}

static void splice_cases(void) {
    int in = make_file("/sp_in", "abcdefghij");
    int out = open("/sp_out", O_CREAT | O_TRUNC | O_RDWR, 0644);
    int p[2], q[2];
    pipe(p);
    pipe(q);
    loff_t off = 2;
    SHOW("splice file to pipe", splice(in, &off, p[1], NULL, 4, SPLICE_F_MOVE | SPLICE_F_MORE));
    printf("offset %ld in pos %ld\n", (long)off, pos_of(in));
    SHOW("splice file position to pipe", splice(in, NULL, p[1], NULL, 3, 0));
    printf("in pos %ld\n", pos_of(in));
    SHOW("splice pipe to pipe", splice(p[0], NULL, q[1], NULL, 5, 0));
    SHOW("splice pipe to file", splice(q[0], NULL, out, NULL, 100, 0));
    printf("out pos %ld\n", pos_of(out));
    show_file("sp_out", "/sp_out");
    off = 1;
    SHOW("splice pipe to file at offset", splice(p[0], NULL, out, &off, 100, 0));
    printf("offset %ld out pos %ld\n", (long)off, pos_of(out));
    show_file("sp_out", "/sp_out");

    SHOW("splice len 0", splice(in, NULL, out, NULL, 0, 0));
    SHOW("splice no pipe", splice(in, NULL, out, NULL, 4, 0));
    SHOW("splice bad flags", splice(in, NULL, p[1], NULL, 4, 0x10));
    SHOW("splice offset on pipe", splice(p[0], &off, out, NULL, 4, 0));
    SHOW("splice pipe to itself", splice(p[0], NULL, p[1], NULL, 4, 0));
    SHOW("splice nonblock empty", splice(p[0], NULL, out, NULL, 4, SPLICE_F_NONBLOCK));
    SHOW("splice bad fd", splice(99, NULL, p[1], NULL, 4, 0));
    off = -1;
    SHOW("splice negative offset", splice(in, &off, p[1], NULL, 4, 0));
    int ro = open("/sp_out", O_RDONLY);
    SHOW("splice to read-only file", splice(p[0], NULL, ro, NULL, 4, 0));
    SHOW("splice from write end", splice(p[1], NULL, q[1], NULL, 4, 0));
    close(ro);
    close(q[1]);
    SHOW("splice empty pipe without writers", splice(q[0], NULL, out, NULL, 4, 0));
    close(q[0]);

    // tee duplicates without consuming.
    int t[2];
    pipe(t);
    write(p[1], "teedata", 7);
    SHOW("tee", tee(p[0], t[1], 100, 0));
    char buf[16] = {0};
    read(t[0], buf, sizeof(buf));
    printf("copy \"%s\"\n", buf);
    memset(buf, 0, sizeof(buf));
    read(p[0], buf, sizeof(buf));
    printf("original \"%s\"\n", buf);
    SHOW("tee nonblock empty", tee(p[0], t[1], 10, SPLICE_F_NONBLOCK));
    SHOW("tee len 0", tee(p[0], t[1], 0, 0));
    SHOW("tee bad flags", tee(p[0], t[1], 4, 0x40));
    SHOW("tee same pipe", tee(p[0], p[1], 4, 0));
    SHOW("tee file", tee(in, t[1], 4, 0));
    SHOW("tee wrong ends", tee(t[1], p[0], 4, 0));
    close(t[0]);
    close(t[1]);
    close(p[0]);
    close(p[1]);
    close(in);
    close(out);
}

static void vmsplice_cases(void) {
    int p[2];
    pipe(p);
    struct iovec w[2] = {{"vm", 2}, {"splice", 6}};
    SHOW("vmsplice into the write end", vmsplice(p[1], w, 2, 0));
    char a[3] = {0}, b[10] = {0};
    struct iovec r[2] = {{a, 3}, {b, 10}};
    SHOW("vmsplice out of the read end", vmsplice(p[0], r, 2, 0));
    printf("pieces \"%.3s\" \"%s\"\n", a, b);
    SHOW("vmsplice nonblock empty", vmsplice(p[0], r, 2, SPLICE_F_NONBLOCK));
    SHOW("vmsplice bad flags", vmsplice(p[1], w, 2, 0x100));
    SHOW("vmsplice no segments", vmsplice(p[1], w, 0, 0));
    int fd = open("/sio", O_RDWR);
    SHOW("vmsplice on a file", vmsplice(fd, w, 2, 0));
    SHOW("vmsplice bad fd", vmsplice(99, w, 2, 0));
    SHOW("vmsplice null vector", vmsplice(p[1], NULL, 2, 0));
    close(p[1]);
    SHOW("vmsplice empty pipe without writers", vmsplice(p[0], r, 2, 0));
    close(fd);
    close(p[0]);
}

static void copy_range_cases(void) {
    int in = make_file("/cf_in", "ABCDEFGHIJ");
    int out = open("/cf_out", O_CREAT | O_TRUNC | O_RDWR, 0644);
    SHOW("copy_file_range positions", copy_file_range(in, NULL, out, NULL, 4, 0));
    printf("in pos %ld out pos %ld\n", pos_of(in), pos_of(out));
    loff_t oi = 6, oo = 10;
    SHOW("copy_file_range offsets", copy_file_range(in, &oi, out, &oo, 100, 0));
    printf("offsets %ld %ld, positions %ld %ld\n", (long)oi, (long)oo, pos_of(in), pos_of(out));
    struct stat st;
    fstat(out, &st);
    printf("out size %ld\n", (long)st.st_size);
    oi = 50;
    SHOW("copy_file_range past end", copy_file_range(in, &oi, out, NULL, 4, 0));
    oi = 0;
    oo = 5;
    SHOW("same file, apart", copy_file_range(in, &oi, in, &oo, 5, 0));
    show_file("cf_in", "/cf_in");
    oi = 0;
    oo = 3;
    SHOW("same file, overlapping", copy_file_range(in, &oi, in, &oo, 5, 0));
    SHOW("flags 1", copy_file_range(in, NULL, out, NULL, 4, 1));
    int dir = open("/", O_RDONLY | O_DIRECTORY);
    SHOW("from a directory", copy_file_range(dir, NULL, out, NULL, 4, 0));
    int p[2];
    pipe(p);
    SHOW("to a pipe", copy_file_range(in, NULL, p[1], NULL, 4, 0));
    int app = open("/cf_out", O_WRONLY | O_APPEND);
    SHOW("to O_APPEND", copy_file_range(in, NULL, app, NULL, 4, 0));
    int ro = open("/cf_out", O_RDONLY);
    SHOW("to read-only", copy_file_range(in, NULL, ro, NULL, 4, 0));
    oi = -1;
    SHOW("negative offset", copy_file_range(in, &oi, out, NULL, 4, 0));
    SHOW("bad offset pointer", copy_file_range(in, (loff_t*)1, out, NULL, 4, 0));
    SHOW("bad fd", copy_file_range(99, NULL, out, NULL, 4, 0));
    oi = 0;
    SHOW("len 0", copy_file_range(in, &oi, out, NULL, 0, 0));
    close(app);
    close(ro);
    close(dir);
    close(p[0]);
    close(p[1]);
    close(in);
    close(out);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    vectored();
    sendfile_cases();
    splice_cases();
    vmsplice_cases();
    copy_range_cases();
    printf("done\n");
    return 0;
}
