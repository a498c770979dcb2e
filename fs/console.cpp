#include "fs/console.h"

#include <asm-generic/fcntl.h>
#include <linux/poll.h>
#include <linux/stat.h>
#include <asm-generic/ioctls.h>
#include <asm-generic/termbits.h>
#include <asm-generic/termios.h>

#include "drivers/uart16550.h"
#include "arch/x86_64/ioapic.h"
#include "kernel/sched/scheduler.h"
#include "kernel/sched/wait.h"
#include "kernel/signal/signal.h"

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

    // Waits for input, then takes what has arrived, up to a line end. The
    // tty layer (line discipline, echo, job control) will sit here.
    Result<usize> read(const IoBuffer& buf, u64*) override {
        if (buf.size() == 0) return 0;
        if (!input.wait_until_interruptible([] { return rx.available(); })) return Error(sig::ERESTARTSYS);
        usize n = 0;
        int c;
        while (n < buf.size() && (c = rx.take()) >= 0) {
            char ch = static_cast<char>(c == '\r' ? '\n' : c);
            TRY(buf.write_to(n++, &ch, 1));
            if (ch == '\n') break;
        }
        return n;
    }

    u32 poll(PollTable* pt) override {
        if (pt) pt->add(input);
        return (rx.available() ? POLLIN | POLLRDNORM : 0) | POLLOUT | POLLWRNORM;
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

public:
    // Bytes from the UART's receive interrupt.
    struct Ring {
        Spinlock lock{LockRank::Device};
        u8 buf[4096];
        usize head = 0, count = 0;
        bool available() {
            SpinlockGuard g(lock);
            return count > 0;
        }
        int take() {
            SpinlockGuard g(lock);
            if (!count) return -1;
            u8 c = buf[head];
            head = (head + 1) % sizeof(buf);
            --count;
            return c;
        }
        void put(u8 c) {
            SpinlockGuard g(lock);
            if (count == sizeof(buf)) return;  // overrun: drop, as a full FIFO would
            buf[(head + count) % sizeof(buf)] = c;
            ++count;
        }
    };
    static Ring rx;
    static sched::WaitQueue input;
};

ConsoleFile::Ring ConsoleFile::rx;
sched::WaitQueue ConsoleFile::input;
ConsoleFile console;

void uart_rx_interrupt(arch::TrapFrame&, void*) {
    auto& uart = drivers::com1();
    (void)uart.interrupt_id();
    bool got = false;
    for (int c; (c = uart.try_get()) >= 0;) {
        ConsoleFile::rx.put(static_cast<u8>(c));
        got = true;
    }
    if (got) ConsoleFile::input.wake_all();
}

}  // namespace

void console_init_input() {
    // Polling remains the fallback when there is no I/O APIC route.
    if (arch::ioapic_route_isa_irq(4, uart_rx_interrupt, nullptr).is_ok())
        drivers::com1().set_interrupts(drivers::Uart16550::IER_RX);
}

OpenFile* console_open() {
    console.flags = O_RDWR;
    console.get();
    return &console;
}

}  // namespace keel::fs
