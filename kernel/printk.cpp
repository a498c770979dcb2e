#include "kernel/printk.h"

#include "drivers/uart16550.h"
#include "kernel/spinlock.h"
#include "kernel/time.h"
#include "lib/format.h"
#include "lib/log_ring.h"

namespace keel {

namespace {

constexpr usize LOG_BUF_SIZE = 128 * 1024;

// The log keeps records (for dmesg and /dev/kmsg); the console gets each
// as a "[seconds] text" line.
alignas(8) u8 log_buf[LOG_BUF_SIZE];
LogRing log_ring(log_buf, LOG_BUF_SIZE);
u64 log_clear_seq = 0;  // SYSLOG_ACTION_CLEAR: READ_ALL starts here

constinit Spinlock log_lock(LockRank::Console);
int console_level = 7;
bool panic_mode = false;

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
    log_ring.append(static_cast<u8>(level & 7), 0, ns, StringView(line + prefix, len - 1 - prefix));
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
    // Whole newest records in syslog format, oldest first, that fit in n.
    SpinlockGuard g(log_lock);
    u64 seq = log_ring.next_seq();
    usize total = 0;
    LogRecord r;
    while (seq > log_ring.first_seq() && log_ring.get(seq - 1, r)) {
        usize len = render_syslog(r, nullptr, 0);
        if (total + len > n) break;
        total += len;
        --seq;
    }
    usize at = 0;
    for (; at < total && log_ring.get(seq, r); ++seq) at += render_syslog(r, out + at, total - at);
    return at;
}

void log_bounds(u64* first, u64* next, u64* cleared) {
    SpinlockGuard g(log_lock);
    *first = log_ring.first_seq();
    *next = log_ring.next_seq();
    if (cleared) *cleared = max(log_clear_seq, *first);
}

usize log_render(u64 seq, bool kmsg, char* out, usize cap) {
    SpinlockGuard g(log_lock);
    LogRecord r;
    if (!log_ring.get(seq, r)) return 0;
    return kmsg ? render_kmsg(r, out, cap) : render_syslog(r, out, cap);
}

void log_clear() {
    SpinlockGuard g(log_lock);
    log_clear_seq = log_ring.next_seq();
}

void log_user_record(int facility, int level, const char* text, usize n) {
    u64 ns = time::monotonic_ns();
    char prefix[32];
    int plen = format(prefix, sizeof(prefix), "[%5llu.%06llu] ", static_cast<unsigned long long>(ns / 1000000000),
                      static_cast<unsigned long long>(ns % 1000000000 / 1000));
    SpinlockGuard g(log_lock);
    log_ring.append(static_cast<u8>(level & 7), static_cast<u8>(facility & 0xff), ns, StringView(text, n));
    if (level < console_level) {
        drivers::com1().write(prefix, static_cast<usize>(plen));
        drivers::com1().write(text, n);
        drivers::com1().write("\n", 1);
    }
}

void console_write(const char* s, usize n) {
    bool irq = log_lock.lock();
    drivers::com1().write(s, n);
    log_lock.unlock(irq);
}

}  // namespace keel
