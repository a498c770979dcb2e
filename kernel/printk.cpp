#include "kernel/printk.h"

#include "drivers/uart16550.h"
#include "kernel/spinlock.h"
#include "kernel/time.h"
#include "lib/format.h"

namespace keel {

namespace {

constexpr usize LOG_BUF_SIZE = 128 * 1024;

struct LogState {
    char buf[LOG_BUF_SIZE];
    u64 head = 0;  // total bytes ever written; buf holds the last LOG_BUF_SIZE
};

constinit Spinlock log_lock(LockRank::Console);
LogState log_state;
int console_level = 7;
bool panic_mode = false;

void log_append(const char* s, usize n) {
    for (usize i = 0; i < n; ++i) log_state.buf[(log_state.head + i) % LOG_BUF_SIZE] = s[i];
    log_state.head += n;
}

}  // namespace

void set_console_loglevel(int level) { console_level = clamp(level, 0, 15); }
int console_loglevel() { return console_level; }

void console_emergency_write(const char* s, usize n) { drivers::com1().write(s, n); }

void printk_enter_panic_mode() {
    panic_mode = true;
    log_lock.force_unlock();
}

void vprintk(int level, const char* fmt, va_list ap) {
    char line[512];
    u64 ns = time::monotonic_ns();
    int prefix = format(line, sizeof(line), "[%5llu.%06llu] ", static_cast<unsigned long long>(ns / 1000000000),
                        static_cast<unsigned long long>(ns % 1000000000 / 1000));
    int body = vformat(line + prefix, sizeof(line) - prefix, fmt, ap);
    usize len = min<usize>(prefix + (body < 0 ? 0 : body), sizeof(line) - 1);
    if (len == 0 || line[len - 1] != '\n') {
        if (len == sizeof(line) - 1) --len;  // truncated: keep room for the newline
        line[len++] = '\n';
    }

    bool irq = log_lock.lock();
    log_append(line, len);
    if (level < console_level || panic_mode) drivers::com1().write(line, len);
    log_lock.unlock(irq);
}

void printk(int level, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vprintk(level, fmt, ap);
    va_end(ap);
}

usize log_read_tail(char* out, usize n) {
    SpinlockGuard g(log_lock);
    usize avail = min<u64>(log_state.head, LOG_BUF_SIZE);
    usize take = min(avail, n);
    u64 start = log_state.head - take;
    for (usize i = 0; i < take; ++i) out[i] = log_state.buf[(start + i) % LOG_BUF_SIZE];
    return take;
}

void console_write(const char* s, usize n) {
    bool irq = log_lock.lock();
    log_append(s, n);
    drivers::com1().write(s, n);
    log_lock.unlock(irq);
}

}  // namespace keel
