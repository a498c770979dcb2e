// Kernel log: levels as Linux (0 emergency .. 7 debug), a monotonic
// timestamp on every line, a ring buffer for dmesg, and the serial console
// for lines below the console log level (loglevel=, quiet).
#pragma once

#include <stdarg.h>

#include "lib/types.h"

namespace keel {

enum LogLevel : int {
    LOG_EMERG = 0,
    LOG_ALERT = 1,
    LOG_CRIT = 2,
    LOG_ERR = 3,
    LOG_WARNING = 4,
    LOG_NOTICE = 5,
    LOG_INFO = 6,
    LOG_DEBUG = 7,
};

void printk(int level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void vprintk(int level, const char* fmt, va_list ap);

void set_console_loglevel(int level);
int console_loglevel();

// Writes text as is (no timestamp or level) to the console only.
void console_write(const char* s, usize n);
// Unformatted, unlocked console output for the panic path.
void console_emergency_write(const char* s, usize n);
// Makes printk usable from a CPU that may have interrupted a printk holder.
void printk_enter_panic_mode();

// Copies the newest whole log records, rendered as syslog(2) lines, that
// fit in n bytes into buf; returns the length.
usize log_read_tail(char* buf, usize n);

// The log's records (dmesg, /dev/kmsg): sequence numbers of the oldest
// held and the next to come, and where SYSLOG_ACTION_CLEAR left reads.
void log_bounds(u64* first, u64* next, u64* cleared);
// Renders record `seq` as a syslog(2) line or a /dev/kmsg record into out
// (at most cap bytes); returns its full length, 0 if it is gone.
usize log_render(u64 seq, bool kmsg, char* out, usize cap);
// SYSLOG_ACTION_CLEAR.
void log_clear();
// A record written by user space (/dev/kmsg).
void log_user_record(int facility, int level, const char* text, usize n);

}  // namespace keel

#define pr_emerg(...) ::keel::printk(::keel::LOG_EMERG, __VA_ARGS__)
#define pr_err(...) ::keel::printk(::keel::LOG_ERR, __VA_ARGS__)
#define pr_warn(...) ::keel::printk(::keel::LOG_WARNING, __VA_ARGS__)
#define pr_notice(...) ::keel::printk(::keel::LOG_NOTICE, __VA_ARGS__)
#define pr_info(...) ::keel::printk(::keel::LOG_INFO, __VA_ARGS__)
#define pr_debug(...) ::keel::printk(::keel::LOG_DEBUG, __VA_ARGS__)
