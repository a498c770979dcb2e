// Files on the root tmpfs: open/creat/O_EXCL/O_DIRECTORY errors, read and
// write with offsets, lseek, stat fields, getdents64 listing, mkdir and
// rmdir rules, unlink, getcwd and chdir.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SHOW(label, expr)                                              \
    do {                                                               \
        errno = 0;                                                     \
        long r_ = (long)(expr);                                        \
        printf("%s -> %ld errno=%d\n", label, r_, r_ < 0 ? errno : 0); \
    } while (0)

static int cmp(const void* a, const void* b) { return strcmp(*(char* const*)a, *(char* const*)b); }

int main(void) {
    umask(022);
    SHOW("mkdir /t", mkdir("/t", 0755));
    SHOW("mkdir /t again", mkdir("/t", 0755));
    SHOW("chdir /t", chdir("/t"));
    char cwd[64];
    printf("getcwd %s\n", getcwd(cwd, sizeof(cwd)));
    SHOW("getcwd too small", (long)getcwd(cwd, 2));
    int fd = open("a.txt", O_CREAT | O_WRONLY | O_EXCL, 0666);
    printf("open new fd>=0 %d\n", fd >= 0);
    SHOW("O_EXCL existing", open("a.txt", O_CREAT | O_EXCL | O_WRONLY, 0666));
    SHOW("write", write(fd, "hello world", 11));
    SHOW("pwrite at 20", pwrite(fd, "tail", 4, 20));
    close(fd);
    fd = open("a.txt", O_RDONLY);
    char buf[64] = {0};
    SHOW("read", read(fd, buf, sizeof(buf)));
    printf("hole is zeros: %d, tail '%s'\n", buf[15] == 0, buf + 20);
    SHOW("lseek set 6", lseek(fd, 6, SEEK_SET));
    memset(buf, 0, sizeof(buf));
    read(fd, buf, 5);
    printf("after seek '%s'\n", buf);
    SHOW("lseek end", lseek(fd, 0, SEEK_END));
    SHOW("lseek bad whence", lseek(fd, 0, 42));
    SHOW("write on O_RDONLY", write(fd, "x", 1));
    struct stat st;
    fstat(fd, &st);
    printf("stat size %ld mode %o nlink %ld regular %d\n", (long)st.st_size, st.st_mode & 07777, (long)st.st_nlink, S_ISREG(st.st_mode));
    close(fd);
    SHOW("stat missing", stat("nope", &st));
    SHOW("open missing", open("nope", O_RDONLY));
    SHOW("O_DIRECTORY on a file", open("a.txt", O_RDONLY | O_DIRECTORY));
    SHOW("open dir for writing", open(".", O_WRONLY));
    SHOW("file as directory", open("a.txt/x", O_RDONLY));
    SHOW("creat", creat("b.txt", 0600));
    SHOW("mkdir sub", mkdir("sub", 0700));
    stat("sub", &st);
    printf("dir mode %o isdir %d nlink %ld\n", st.st_mode & 07777, S_ISDIR(st.st_mode), (long)st.st_nlink);
    DIR* d = opendir(".");
    char* names[16];
    int n = 0;
    struct dirent* e;
    while ((e = readdir(d)) && n < 16) names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, n, sizeof(char*), cmp);
    printf("listing:");
    for (int i = 0; i < n; ++i) printf(" %s", names[i]);
    printf("\n");
    SHOW("rmdir non-empty parent", rmdir("/t"));
    SHOW("rmdir a file", rmdir("a.txt"));
    SHOW("unlink a directory", unlink("sub"));
    SHOW("rmdir sub", rmdir("sub"));
    SHOW("unlink a.txt", unlink("a.txt"));
    SHOW("unlink again", unlink("a.txt"));
    SHOW("unlinkat bad flag", unlinkat(AT_FDCWD, "b.txt", 0x1));
    SHOW("chdir to a file", chdir("b.txt"));
    SHOW("chdir ..", chdir(".."));
    printf("getcwd %s\n", getcwd(cwd, sizeof(cwd)));
    return 0;
}
