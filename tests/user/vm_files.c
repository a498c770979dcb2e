// File-backed memory: private and shared mappings of tmpfs files (reads,
// copy-on-write, writes reaching the file, fork), truncation and hole
// punching under a mapping (SIGBUS), /dev/zero, shared anonymous memory
// across fork, and memfd_create with seals. Output is compared with Linux.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif
#ifndef MAP_SYNC
#define MAP_SYNC 0x80000
#endif

#define PG 4096

#define SHOW(label, expr)                                              \
    do {                                                               \
        errno = 0;                                                     \
        long r_ = (long)(expr);                                        \
        printf("%s -> %ld errno=%d\n", label, r_, r_ < 0 ? errno : 0); \
    } while (0)
#define SHOWMAP(label, expr)                                                     \
    do {                                                                         \
        errno = 0;                                                               \
        void* m_ = (expr);                                                       \
        printf("%s -> %s errno=%d\n", label, m_ == MAP_FAILED ? "failed" : "ok", \
               m_ == MAP_FAILED ? errno : 0);                                    \
        if (m_ != MAP_FAILED) munmap(m_, PG);                                    \
    } while (0)

static sigjmp_buf jb;
static volatile int got_sig, got_code;
static volatile void* got_addr;

static void on_fault(int sig, siginfo_t* si, void* uc) {
    (void)uc;
    got_sig = sig;
    got_code = si->si_code;
    got_addr = si->si_addr;
    siglongjmp(jb, 1);
}

// Touches *p (reading or writing) and reports which signal, if any, came.
static void probe(const char* label, volatile char* p, int write) {
    got_sig = 0;
    if (sigsetjmp(jb, 1) == 0) {
        if (write) *p = 'x';
        else (void)*p;
        printf("%s: no signal\n", label);
    } else {
        printf("%s: sig=%s code=%d addr_ok=%d\n", label, got_sig == SIGBUS ? "SIGBUS" : got_sig == SIGSEGV ? "SIGSEGV" : "?",
               got_code, got_addr == (void*)p);
    }
}

static int make_file(const char* path, size_t size) {
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    char buf[PG];
    for (size_t off = 0; off < size; off += sizeof(buf)) {
        size_t n = size - off < sizeof(buf) ? size - off : sizeof(buf);
        for (size_t i = 0; i < n; ++i) buf[i] = 'a' + (off + i) % 26;
        pwrite(fd, buf, n, off);
    }
    return fd;
}

static void private_maps(void) {
    printf("-- private\n");
    int fd = make_file("/f1", 6000);
    char* m = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    printf("read %.5s last=%c\n", m, m[5999]);
    int tail = 0;
    for (int i = 6000; i < 2 * PG; ++i) tail |= m[i];
    printf("tail past EOF zero=%d\n", tail == 0);
    m[0] = 'Z';
    char c;
    pread(fd, &c, 1, 0);
    printf("after private write: map=%c file=%c\n", m[0], c);
    pwrite(fd, "Q", 1, 1);
    pwrite(fd, "R", 1, PG + 4);
    printf("file write seen: copied page=%c untouched page=%c\n", m[1], m[PG + 4]);
    munmap(m, 2 * PG);
    // Three pages of a two-page file: the third is wholly past the end.
    m = mmap(NULL, 3 * PG, PROT_READ, MAP_PRIVATE, fd, 0);
    probe("read past EOF page", m + 2 * PG + 8, 0);
    probe("read in last partial page", m + PG + 3000, 0);
    munmap(m, 3 * PG);
    // A read-only descriptor still allows private writable maps.
    int ro = open("/f1", O_RDONLY);
    m = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, ro, 0);
    printf("private rw of rdonly fd: %s\n", m == MAP_FAILED ? "failed" : "ok");
    m[0] = 'W';
    SHOW("mprotect rwx private of rdonly", mprotect(m, PG, PROT_READ | PROT_WRITE));
    munmap(m, PG);
    close(ro);
    close(fd);
}

static void shared_maps(void) {
    printf("-- shared\n");
    int fd = make_file("/f2", 2 * PG);
    char* m = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    char* m2 = mmap(NULL, 2 * PG, PROT_READ, MAP_SHARED, fd, 0);
    m[10] = 'S';
    char c;
    pread(fd, &c, 1, 10);
    printf("shared write: file=%c other map=%c\n", c, m2[10]);
    pwrite(fd, "T", 1, PG + 1);
    printf("file write: map=%c\n", m[PG + 1]);
    pid_t pid = fork();
    if (pid == 0) {
        m[20] = 'C';
        m[PG + 20] = 'D';
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    printf("child writes: %c %c\n", m[20], m2[PG + 20]);
    // Shrinking the file takes the second page away from both mappings.
    ftruncate(fd, PG);
    probe("shared read after truncate", m + PG + 5, 0);
    probe("shared write after truncate", m + PG + 5, 1);
    ftruncate(fd, 2 * PG);
    printf("regrown page reads %d\n", m[PG + 5]);
    // A punched hole reads as zeros through the mapping.
    fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, PG);
    printf("after punch: %d %d\n", m[10], m2[20]);
    m[30] = 'M';
    SHOW("madvise remove", madvise(m, PG, MADV_REMOVE));
    pread(fd, &c, 1, 30);
    printf("after remove: map=%d file=%d\n", m[30], c);
    SHOW("madvise remove private", madvise(mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, 0), PG, MADV_REMOVE));
    munmap(m, 2 * PG);
    munmap(m2, 2 * PG);
    close(fd);
    // Copies between a file and a mapping of that same file.
    fd = make_file("/f3", 2 * PG);
    m = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    SHOW("pread into own mapping", pread(fd, m + PG, 100, 0));
    SHOW("pwrite from own mapping", pwrite(fd, m + 50, 10, PG + 200));
    char* pm = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    SHOW("pread into own private mapping", pread(fd, pm, 10, PG + 200));
    printf("copies: %c %c %c\n", m[PG], m[PG + 200], pm[0]);
    munmap(m, 2 * PG);
    munmap(pm, 2 * PG);
    close(fd);
}

static void map_errors(void) {
    printf("-- errors\n");
    int ro = open("/f1", O_RDONLY);
    int wo = open("/f1", O_WRONLY);
    int rw = open("/f1", O_RDWR);
    SHOWMAP("shared write of rdonly", mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0));
    SHOWMAP("shared read of rdonly", mmap(NULL, PG, PROT_READ, MAP_SHARED, ro, 0));
    SHOWMAP("private read of wronly", mmap(NULL, PG, PROT_READ, MAP_PRIVATE, wo, 0));
    SHOWMAP("shared write of wronly", mmap(NULL, PG, PROT_WRITE, MAP_SHARED, wo, 0));
    SHOWMAP("unaligned offset", mmap(NULL, PG, PROT_READ, MAP_PRIVATE, rw, 100));
    SHOWMAP("bad fd", mmap(NULL, PG, PROT_READ, MAP_PRIVATE, 99, 0));
    SHOWMAP("zero length", mmap(NULL, 0, PROT_READ, MAP_PRIVATE, rw, 0));
    SHOWMAP("validate unknown flag", mmap(NULL, PG, PROT_READ, MAP_SHARED_VALIDATE | MAP_SYNC, rw, 0));
    SHOWMAP("validate known flags", mmap(NULL, PG, PROT_READ, MAP_SHARED_VALIDATE | MAP_POPULATE, rw, 0));
    SHOWMAP("growsdown file", mmap(NULL, PG, PROT_READ, MAP_PRIVATE | MAP_GROWSDOWN, rw, 0));
    int p[2];
    pipe(p);
    SHOWMAP("pipe read end", mmap(NULL, PG, PROT_READ, MAP_PRIVATE, p[0], 0));
    SHOWMAP("pipe write end", mmap(NULL, PG, PROT_READ, MAP_PRIVATE, p[1], 0));
    int dir = open("/", O_RDONLY | O_DIRECTORY);
    SHOWMAP("directory", mmap(NULL, PG, PROT_READ, MAP_PRIVATE, dir, 0));
    int opath = open("/f1", O_PATH);
    SHOWMAP("O_PATH", mmap(NULL, PG, PROT_READ, MAP_PRIVATE, opath, 0));
    char* m = mmap(NULL, PG, PROT_READ, MAP_SHARED, ro, 0);
    SHOW("mprotect write shared of rdonly", mprotect(m, PG, PROT_READ | PROT_WRITE));
    SHOW("mprotect read shared of rdonly", mprotect(m, PG, PROT_READ));
    munmap(m, PG);
    close(ro), close(wo), close(rw), close(p[0]), close(p[1]), close(dir), close(opath);
}

static void dev_zero(void) {
    printf("-- /dev/zero\n");
    mknod("/dev/zero", S_IFCHR | 0666, makedev(1, 5));
    int fd = open("/dev/zero", O_RDWR);
    char* priv = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    char* shr = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    printf("maps: %s %s zero=%d %d\n", priv == MAP_FAILED ? "failed" : "ok", shr == MAP_FAILED ? "failed" : "ok",
           priv[100], shr[PG + 100]);
    pid_t pid = fork();
    if (pid == 0) {
        priv[0] = 'p';
        shr[0] = 's';
        shr[PG] = 't';
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    printf("after child: private=%d shared=%c%c\n", priv[0], shr[0], shr[PG]);
    close(fd);
}

static void shared_anon(void) {
    printf("-- shared anonymous\n");
    char* m = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    m[0] = 'a';  // only the first page exists at fork
    int p[2];
    pipe(p);
    pid_t pid = fork();
    if (pid == 0) {
        for (int i = 0; i < 4; ++i) m[i * PG + 1] = '0' + i;
        char c;
        read(p[0], &c, 1);  // the parent's writes after fork
        printf("child sees parent: %c%c\n", m[2 * PG + 2], m[3 * PG + 2]);
        _exit(0);
    }
    usleep(1000);
    m[2 * PG + 2] = 'X';
    m[3 * PG + 2] = 'Y';
    write(p[1], "g", 1);
    waitpid(pid, NULL, 0);
    printf("parent sees child: %c%c%c%c %c\n", m[1], m[PG + 1], m[2 * PG + 1], m[3 * PG + 1], m[0]);
    SHOWMAP("shared validate anonymous", mmap(NULL, PG, PROT_READ, MAP_SHARED_VALIDATE | MAP_ANONYMOUS, -1, 0));
    SHOWMAP("shared growsdown anonymous", mmap(NULL, PG, PROT_READ, MAP_SHARED | MAP_ANONYMOUS | MAP_GROWSDOWN, -1, 0));
    munmap(m, 4 * PG);
    close(p[0]), close(p[1]);
}

static void memfd(void) {
    printf("-- memfd\n");
    int fd = memfd_create("plain", MFD_CLOEXEC);
    printf("cloexec=%d seals=%d\n", fcntl(fd, F_GETFD), fcntl(fd, F_GET_SEALS));
    SHOW("add seal to unsealable", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
    struct stat st;
    fstat(fd, &st);
    printf("mode=%o size=%ld nlink=%ld\n", st.st_mode, (long)st.st_size, (long)st.st_nlink);
    write(fd, "memfd data", 10);
    char* m = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    printf("mapped: %.10s\n", m);
    pid_t pid = fork();
    if (pid == 0) {
        memcpy(m, "CHILD", 5);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    char buf[11] = {0};
    pread(fd, buf, 10, 0);
    printf("after child: %s\n", buf);
    munmap(m, PG);
    close(fd);

    fd = memfd_create("noexec", MFD_NOEXEC_SEAL);
    fstat(fd, &st);
    printf("noexec mode=%o seals=%#x\n", st.st_mode, fcntl(fd, F_GET_SEALS));
    close(fd);
    fd = memfd_create("exec", MFD_EXEC | MFD_ALLOW_SEALING);
    fstat(fd, &st);
    printf("exec mode=%o seals=%#x\n", st.st_mode, fcntl(fd, F_GET_SEALS));
    close(fd);

    char name[300];
    memset(name, 'n', sizeof(name));
    name[249] = 0;
    fd = memfd_create(name, 0);
    printf("name 249: %s\n", fd >= 0 ? "ok" : "failed");
    close(fd);
    name[249] = 'n';
    name[250] = 0;
    SHOW("name 250", memfd_create(name, 0));
    SHOW("unknown flag", memfd_create("x", 0x100));
    SHOW("exec and noexec", memfd_create("x", MFD_EXEC | MFD_NOEXEC_SEAL));
    SHOW("bad name pointer", syscall(SYS_memfd_create, (char*)8, 0));

    fd = memfd_create("sealed", MFD_ALLOW_SEALING);
    printf("sealable seals=%d\n", fcntl(fd, F_GET_SEALS));
    ftruncate(fd, 2 * PG);
    SHOW("seal shrink", fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK));
    SHOW("shrink", ftruncate(fd, PG));
    SHOW("grow", ftruncate(fd, 3 * PG));
    SHOW("seal grow", fcntl(fd, F_ADD_SEALS, F_SEAL_GROW));
    SHOW("grow sealed", ftruncate(fd, 4 * PG));
    SHOW("write inside", pwrite(fd, "in", 2, 100));
    SHOW("write past end", pwrite(fd, "out", 3, 3 * PG));
    SHOW("write across end", pwrite(fd, "xyz", 3, 3 * PG - 1));
    SHOW("fallocate past end", fallocate(fd, 0, 0, 4 * PG));
    m = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    SHOW("seal write while mapped", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
    munmap(m, PG);
    m = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    SHOW("seal write with private map", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
    SHOW("write sealed", pwrite(fd, "in", 2, 100));
    SHOW("punch sealed", fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, PG));
    m[0] = 'p';  // private copies are still fine
    printf("private write ok %c\n", m[0]);
    munmap(m, PG);
    SHOWMAP("shared writable map of sealed", mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
    m = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0);
    SHOW("mprotect write of sealed", mprotect(m, PG, PROT_READ | PROT_WRITE));
    munmap(m, PG);
    SHOW("unknown seal", fcntl(fd, F_ADD_SEALS, 0x40));
    SHOW("seal seal", fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL));
    SHOW("after seal seal", fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK));
    printf("seals=%#x\n", fcntl(fd, F_GET_SEALS));
    close(fd);

    fd = memfd_create("future", MFD_ALLOW_SEALING);
    ftruncate(fd, PG);
    m = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    SHOW("seal future write while mapped", fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE));
    m[0] = 'f';  // the existing mapping keeps writing
    char c;
    pread(fd, &c, 1, 0);
    printf("old mapping writes: %c\n", c);
    SHOW("write future sealed", pwrite(fd, "x", 1, 0));
    SHOWMAP("new shared writable map", mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
    munmap(m, PG);
    close(fd);

    int p[2];
    pipe(p);
    SHOW("get seals of pipe", fcntl(p[0], F_GET_SEALS));
    close(p[0]), close(p[1]);
    fd = open("/f1", O_RDWR);
    SHOW("get seals of tmpfs file", fcntl(fd, F_GET_SEALS));
    SHOW("add seals to tmpfs file", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
    close(fd);
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    setvbuf(stdout, NULL, _IONBF, 0);
    private_maps();
    shared_maps();
    map_errors();
    dev_zero();
    shared_anon();
    memfd();
    printf("done\n");
    return 0;
}
