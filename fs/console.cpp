#include "fs/console.h"

#include <asm-generic/fcntl.h>
#include <linux/stat.h>
#include <asm-generic/ioctls.h>
#include <asm-generic/termbits.h>
#include <asm-generic/termios.h>

#include "drivers/uart16550.h"
#include "kernel/sched/scheduler.h"

namespace keel::fs {

namespace {

class ConsoleFile final : public OpenFile {
public:
    Result<usize> write(const IoBuffer& buf, u64*) override {
        char chunk[256];
        usize done = 0;
        while (done < buf.size()) {
            usize n = min<usize>(sizeof(chunk), buf.size() - done);
            auto st = buf.read_from(done, chunk, n);
            if (st.is_error()) {
                if (done) break;
                return st.error();
            }
            drivers::com1().write(chunk, n);
            done += n;
        }
        return done;
    }

    // Waits for the first byte, then takes what else is already there.
    // Polling for now; the tty layer will take the UART's receive interrupt.
    Result<usize> read(const IoBuffer& buf, u64*) override {
        if (buf.size() == 0) return 0;
        int c;
        while ((c = drivers::com1().try_get()) < 0) sched::sleep_ns(1000000);
        usize n = 0;
        do {
            char ch = static_cast<char>(c == '\r' ? '\n' : c);
            TRY(buf.write_to(n++, &ch, 1));
        } while (n < buf.size() && ch_is_not_newline(c) && (c = drivers::com1().try_get()) >= 0);
        return n;
    }

    // Enough of a terminal for C libraries to line-buffer their output; the
    // tty layer (line discipline, job control) replaces this.
    Result<u64> ioctl(u32 cmd, u64 arg) override {
        switch (cmd) {
        case TCGETS: {
            termios t{};
            t.c_iflag = ICRNL | IXON;
            t.c_oflag = OPOST | ONLCR;
            t.c_cflag = B38400 | CS8 | CREAD | HUPCL;
            t.c_lflag = ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN;
            const u8 cc[] = {3, 28, 127, 21, 4, 0, 1, 0, 17, 19, 26, 0, 18, 15, 23, 22, 0};
            for (usize i = 0; i < sizeof(cc); ++i) t.c_cc[i] = cc[i];
            TRY(UserOut<termios>(arg).write(t));
            return 0;
        }
        case TIOCGWINSZ:
            TRY(UserOut<winsize>(arg).write(winsize{24, 80, 0, 0}));
            return 0;
        default:
            return Error(ENOTTY);
        }
    }

    Status stat(struct stat& st) override {
        st = {};
        st.st_mode = S_IFCHR | 0600;
        st.st_nlink = 1;
        st.st_rdev = (5u << 8) | 1u;  // /dev/console is char 5:1
        st.st_blksize = 1024;
        st.st_ino = 2;
        st.st_dev = 6;  // devtmpfs's anonymous device
        return {};
    }

protected:
    void release() override {}  // one static instance

private:
    static bool ch_is_not_newline(int c) { return c != '\r' && c != '\n'; }
};

ConsoleFile console;

}  // namespace

OpenFile* console_open() {
    console.flags = O_RDWR;
    console.get();
    return &console;
}

}  // namespace keel::fs
