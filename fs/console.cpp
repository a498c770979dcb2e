#include "fs/console.h"

#include <asm-generic/fcntl.h>

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
