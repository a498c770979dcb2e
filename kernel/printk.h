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

// Writes text as is (no timestamp or level) to the log and the console.
void console_write(const char* s, usize n);
// Unformatted, unlocked console output for the panic path.
void console_emergency_write(const char* s, usize n);
// Makes printk usable from a CPU that may have interrupted a printk holder.
void printk_enter_panic_mode();

// Copies the newest log text (up to n bytes) into buf; returns the length.
usize log_read_tail(char* buf, usize n);

}  // namespace keel

#define pr_emerg(...) ::keel::printk(::keel::LOG_EMERG, __VA_ARGS__)
#define pr_err(...) ::keel::printk(::keel::LOG_ERR, __VA_ARGS__)
#define pr_warn(...) ::keel::printk(::keel::LOG_WARNING, __VA_ARGS__)
#define pr_notice(...) ::keel::printk(::keel::LOG_NOTICE, __VA_ARGS__)
#define pr_info(...) ::keel::printk(::keel::LOG_INFO, __VA_ARGS__)
#define pr_debug(...) ::keel::printk(::keel::LOG_DEBUG, __VA_ARGS__)
