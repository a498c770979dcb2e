// The serial tty (ttyS0, the 16550 at 0x3f8), which is also the console:
// /dev/ttyS0 (4:64) and /dev/console (5:1) open the same terminal, and
// /dev/tty (5:0) the caller's controlling terminal.
//
// Received bytes go from the UART's interrupt into a small ring; a kernel
// thread feeds them to the line discipline, as Linux's flip-buffer work
// does, because the signals that ^C and friends send need process context.
#include <asm-generic/ioctls.h>
#include <linux/serial.h>

#include "arch/x86_64/ioapic.h"
#include "drivers/tty/tty.h"
#include "drivers/uart16550.h"
#include "kernel/printk.h"
#include "lib/alloc.h"

namespace keel::tty {

namespace {

constexpr u32 kTtySMajor = 4;
constexpr u32 kTtySMinor = 64;
constexpr u32 kTtyAuxMajor = 5;  // tty, console, ptmx

class SerialTty final : public Tty {
public:
    SerialTty() : Tty(kTtySMajor, kTtySMinor) {}

    void write_out(const u8* bytes, usize n) override {
        auto& uart = drivers::com1();
        for (usize i = 0; i < n; ++i) uart.put(static_cast<char>(bytes[i]));
    }

protected:
    Result<u64> driver_ioctl(TtyFile*, u32 cmd, u64 arg) override {
        switch (cmd) {
        case TIOCGSERIAL: {
            // What the 8250 driver reports for the first legacy port.
            serial_struct ss{};
            ss.type = PORT_16550A;
            ss.line = 0;
            ss.port = 0x3f8;
            ss.irq = 4;
            ss.flags = ASYNC_SKIP_TEST | ASYNC_BOOT_AUTOCONF;
            ss.xmit_fifo_size = 16;
            ss.baud_base = 115200;
            ss.close_delay = 50;
            ss.closing_wait = 3000;
            ss.io_type = SERIAL_IO_PORT;
            TRY(UserOut<serial_struct>(arg).write(ss));
            return 0;
        }
        case TIOCMGET: {
            int bits = TIOCM_DTR | TIOCM_RTS | TIOCM_CTS | TIOCM_DSR | TIOCM_CAR;
            TRY(UserOut<int>(arg).write(bits));
            return 0;
        }
        case TIOCMSET:
        case TIOCMBIS:
        case TIOCMBIC:
            TRY(UserIn<int>(arg).read());
            return 0;
        default:
            return Error(ENOTTY);
        }
    }
};

SerialTty g_serial;

// Bytes from the receive interrupt, waiting for the feeder thread.
struct RxRing {
    Spinlock lock{LockRank::Device};
    u8 buf[1024];
    usize head = 0, count = 0;
};
RxRing g_rx;
sched::WaitQueue g_rx_wait;

void uart_rx_interrupt(arch::TrapFrame&, void*) {
    auto& uart = drivers::com1();
    (void)uart.interrupt_id();
    bool got = false;
    {
        SpinlockGuard g(g_rx.lock);
        for (int c; (c = uart.try_get()) >= 0;) {
            got = true;
            if (g_rx.count == sizeof(g_rx.buf)) continue;  // overrun: the byte is lost
            g_rx.buf[(g_rx.head + g_rx.count) % sizeof(g_rx.buf)] = static_cast<u8>(c);
            ++g_rx.count;
        }
    }
    if (got) g_rx_wait.wake_all();
}

void rx_feeder(void*) {
    for (;;) {
        g_rx_wait.wait_until([] {
            SpinlockGuard g(g_rx.lock);
            return g_rx.count > 0;
        });
        u8 chunk[64];
        usize n = 0;
        {
            SpinlockGuard g(g_rx.lock);
            while (n < sizeof(chunk) && g_rx.count) {
                chunk[n++] = g_rx.buf[g_rx.head];
                g_rx.head = (g_rx.head + 1) % sizeof(g_rx.buf);
                --g_rx.count;
            }
        }
        // What the line discipline cannot take is dropped, as a UART overruns.
        (void)g_serial.receive(chunk, n);
    }
}

Result<fs::OpenFile*> open_serial(RefPtr<fs::File> file, u32 minor) {
    if (minor != kTtySMinor) return Error(ENXIO);
    bool readable = (file->flags() & O_ACCMODE) != O_WRONLY;
    bool noctty = file->flags() & O_NOCTTY;
    file->set_flags(file->flags() & ~static_cast<u32>(O_NOCTTY));
    TtyFile* f = TRY(make<TtyFile>(move(file), g_serial, false));
    if (!noctty) open_may_acquire(g_serial, readable);
    return f;
}

Result<fs::OpenFile*> open_aux(RefPtr<fs::File> file, u32 minor) {
    file->set_flags(file->flags() & ~static_cast<u32>(O_NOCTTY));
    if (minor == 1) {  // /dev/console: the serial line, never a controlling terminal
        TtyFile* f = TRY(make<TtyFile>(move(file), g_serial, true));
        return f;
    }
    if (minor == 0) {  // /dev/tty: the caller's controlling terminal
        Tty* ctty = current_ctty();
        if (!ctty) return Error(ENXIO);
        auto f = make<TtyFile>(move(file), *ctty, false);
        ctty->put();
        if (f.is_error()) return f.error();
        return f.value();
    }
    if (minor == 2) return open_ptmx(move(file));
    return Error(ENXIO);
}

bool g_input_started = false;

}  // namespace

void serial_init_input() {
    if (__atomic_exchange_n(&g_input_started, true, __ATOMIC_ACQ_REL)) return;
    if (auto t = sched::spawn_kthread("tty-rx", rx_feeder, nullptr); t.is_error()) {
        pr_err("tty: cannot start the receive thread (error %d)", t.error().code());
        return;
    }
    if (arch::ioapic_route_isa_irq(4, uart_rx_interrupt, nullptr).is_ok())
        drivers::com1().set_interrupts(drivers::Uart16550::IER_RX);
}

fs::OpenFile* open_initial_console() {
    auto f = make<TtyFile>(RefPtr<fs::File>(), g_serial, true);
    if (f.is_error()) return nullptr;
    f.value()->flags = O_RDWR;
    return f.value();
}

void register_tty_devices() {
    MUST(fs::register_chrdev(kTtySMajor, kTtySMinor, 1, "ttyS", open_serial));
    MUST(fs::register_chrdev(kTtyAuxMajor, 0, 3, "/dev/tty", open_aux));
    register_pty_devices();
}

}  // namespace keel::tty
