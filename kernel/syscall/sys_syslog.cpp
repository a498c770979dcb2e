// syslog(2): reading and clearing the kernel log (what dmesg uses), and
// the console log level.
#include <linux/capability.h>

#include "fs/vfs_file.h"
#include "kernel/printk.h"
#include "kernel/process/process.h"
#include "kernel/sched/scheduler.h"
#include "kernel/signal/signal.h"
#include "kernel/spinlock.h"
#include "kernel/syscall/syscall.h"
#include "kernel/uaccess.h"

namespace keel {

namespace {

enum Action : int {
    kClose = 0,
    kOpen = 1,
    kRead = 2,
    kReadAll = 3,
    kReadClear = 4,
    kClear = 5,
    kConsoleOff = 6,
    kConsoleOn = 7,
    kConsoleLevel = 8,
    kSizeUnread = 9,
    kSizeBuffer = 10,
};

constexpr usize kLogBufSize = 128 * 1024;  // kernel/printk.cpp's buffer
constexpr usize kMaxRecord = 640;          // a rendered record: 512-byte line plus the prefix

// Where SYSLOG_ACTION_READ consumes from (one reader position system-wide,
// as in Linux).
SpinlockProtected<u64> g_read_seq{LockRank::Device, 0};

usize render_len(u64 seq) { return log_render(seq, false, nullptr, 0); }

// Copies records [seq, end) rendered as syslog lines to user memory.
Result<usize> copy_records(uptr ubuf, u64 seq, u64 end) {
    char rec[kMaxRecord];
    usize at = 0;
    for (; seq < end; ++seq) {
        usize n = log_render(seq, false, rec, sizeof(rec));
        if (n > sizeof(rec)) n = sizeof(rec);
        TRY(copy_to_user(ubuf + at, rec, n));
        at += n;
    }
    return at;
}

// READ_ALL / READ_CLEAR: the newest records from the clear point that fit.
Result<u64> read_all(uptr ubuf, usize len, bool clear) {
    u64 first, next, start;
    log_bounds(&first, &next, &start);
    usize total = 0;
    for (u64 s = start; s < next; ++s) total += render_len(s);
    while (total > len && start < next) total -= render_len(start++);
    usize n = TRY(copy_records(ubuf, start, next));
    if (clear) log_clear();
    return n;
}

// READ: waits for records after the reader position and consumes what fits.
Result<u64> read_consume(uptr ubuf, usize len) {
    for (;;) {
        u64 first, next;
        log_bounds(&first, &next, nullptr);
        u64 seq = g_read_seq.with([&](u64& s) {
            if (s < first) s = first;
            return s;
        });
        if (seq < next) {
            usize total = 0;
            u64 end = seq;
            while (end < next && total + render_len(end) <= len) total += render_len(end++);
            if (end == seq) end = seq + 1;  // a record larger than len: hand out its start
            usize n = 0;
            if (end == seq + 1 && total == 0) {
                char rec[kMaxRecord];
                n = min<usize>(log_render(seq, false, rec, sizeof(rec)), len);
                TRY(copy_to_user(ubuf, rec, n));
            } else {
                n = TRY(copy_records(ubuf, seq, end));
            }
            g_read_seq.with([&](u64& s) { s = end; });
            return n;
        }
        // printk may run under any lock, so it cannot wake readers: poll.
        sched::sleep_ns_interruptible(20'000'000, nullptr);
        if (sig::interrupt_pending()) return Error(sig::ERESTARTSYS);
    }
}

}  // namespace

SYSCALL(syslog) {
    int action = static_cast<int>(args.a0);
    uptr ubuf = args.a1;
    i64 len = static_cast<i32>(args.a2);
    // Debian's kernels restrict the log to CAP_SYSLOG (dmesg_restrict=1).
    if (!fs::cred_of(*proc::current_process()).capable(CAP_SYSLOG)) return Error(EPERM);
    switch (action) {
    case kClose:
    case kOpen:
    case kConsoleOff:
    case kConsoleOn:
        return 0;
    case kRead:
    case kReadAll:
    case kReadClear:
        if (!ubuf || len < 0) return Error(EINVAL);
        if (len == 0) return 0;
        if (!user_range_ok(ubuf, static_cast<usize>(len))) return Error(EFAULT);
        return action == kRead ? read_consume(ubuf, static_cast<usize>(len))
                               : read_all(ubuf, static_cast<usize>(len), action == kReadClear);
    case kClear:
        log_clear();
        return 0;
    case kConsoleLevel:
        if (len < 1 || len > 8) return Error(EINVAL);
        set_console_loglevel(static_cast<int>(len));
        return 0;
    case kSizeUnread: {
        u64 first, next;
        log_bounds(&first, &next, nullptr);
        u64 seq = g_read_seq.with([&](u64& s) { return s < first ? first : s; });
        usize total = 0;
        for (; seq < next; ++seq) total += render_len(seq);
        return total;
    }
    case kSizeBuffer:
        return kLogBufSize;
    default:
        return Error(EINVAL);
    }
}

}  // namespace keel
