// /dev/kmsg (1:11): the kernel log one record per read, in the
// "priority,sequence,microseconds,flags;text" form, and a way for user
// space to add records.
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/poll.h>

#include "fs/dev/chrdev.h"
#include "fs/vfs_file.h"
#include "kernel/printk.h"
#include "kernel/process/process.h"
#include "kernel/sched/scheduler.h"
#include "kernel/signal/signal.h"
#include "lib/alloc.h"
#include "mm/slab.h"

namespace keel::fs {

namespace {

constexpr usize kMaxRecord = 2048;  // a 512-byte line fully escaped, plus the prefix
constexpr usize kMaxWrite = 1024;   // Linux's PRINTKRB_RECORD_MAX
constexpr int kDefaultLevel = 4;    // default_message_loglevel
constexpr int kUserFacility = 1;

class KmsgFile final : public DeviceFile {
public:
    KmsgFile(RefPtr<File> f, u64 seq) : DeviceFile(move(f)), seq_(seq) {}

    Result<usize> read(const IoBuffer& buf, u64*) override {
        for (;;) {
            u64 first, next;
            log_bounds(&first, &next, nullptr);
            u64 seq = __atomic_load_n(&seq_, __ATOMIC_RELAXED);
            if (seq < first) {
                // Records this reader had not seen were overwritten.
                __atomic_store_n(&seq_, first, __ATOMIC_RELAXED);
                return Error(EPIPE);
            }
            if (seq < next) {
                char* rec = static_cast<char*>(TRY(mm::kmalloc(kMaxRecord)));
                usize n = log_render(seq, true, rec, kMaxRecord);
                Result<usize> r = n > buf.size() ? Result<usize>(Error(EINVAL))
                                  : buf.write_to(0, rec, n).is_error() ? Result<usize>(Error(EFAULT))
                                                                        : Result<usize>(n);
                mm::kfree(rec);
                if (r.is_ok()) __atomic_store_n(&seq_, seq + 1, __ATOMIC_RELAXED);
                return r;
            }
            if (flags & O_NONBLOCK) return Error(EAGAIN);
            // printk may run under any lock, so it wakes nobody: poll.
            sched::sleep_ns_interruptible(20'000'000, nullptr);
            if (sig::interrupt_pending()) return Error(sig::ERESTARTSYS);
        }
    }

    Result<usize> write(const IoBuffer& buf, u64*) override {
        usize len = buf.size();
        if (len > kMaxWrite) return Error(EINVAL);
        char text[kMaxWrite];
        TRY(buf.read_from(0, text, len));
        int level = kDefaultLevel, facility = kUserFacility;
        usize at = 0;
        // An optional "<N>" prefix: N & 7 is the level, N >> 3 the facility.
        if (len >= 3 && text[0] == '<') {
            u32 v = 0;
            usize i = 1;
            while (i < len && i < 12 && text[i] >= '0' && text[i] <= '9') v = v * 10 + static_cast<u32>(text[i++] - '0');
            if (i > 1 && i < len && text[i] == '>') {
                level = static_cast<int>(v & 7);
                if (v >> 3) facility = static_cast<int>(v >> 3);
                at = i + 1;
            }
        }
        usize end = len;
        if (end > at && text[end - 1] == '\n') --end;
        log_user_record(facility, level, text + at, end - at);
        return len;
    }

    Result<u64> lseek(i64 off, int whence) override {
        if (off) return Error(ESPIPE);
        u64 first, next, cleared;
        log_bounds(&first, &next, &cleared);
        switch (whence) {
        case SEEK_SET:
            __atomic_store_n(&seq_, first, __ATOMIC_RELAXED);
            return u64{0};
        case SEEK_DATA:
            __atomic_store_n(&seq_, cleared, __ATOMIC_RELAXED);
            return u64{0};
        case SEEK_END:
            __atomic_store_n(&seq_, next, __ATOMIC_RELAXED);
            return u64{0};
        default:
            return Error(EINVAL);
        }
    }

    // Without a wake-up from printk a poller is only told what holds now.
    u32 poll(PollTable*) override {
        u64 first, next;
        log_bounds(&first, &next, nullptr);
        u64 seq = __atomic_load_n(&seq_, __ATOMIC_RELAXED);
        u32 ev = POLLOUT | POLLWRNORM;
        if (seq < first) ev |= POLLIN | POLLRDNORM | POLLERR | POLLPRI;
        else if (seq < next) ev |= POLLIN | POLLRDNORM;
        return ev;
    }

protected:
    void release() override { destroy(this); }

private:
    u64 seq_;
};

}  // namespace

Result<OpenFile*> open_kmsg(RefPtr<File> file) {
    // Readers need CAP_SYSLOG under Debian's dmesg_restrict=1.
    if (file->readable() && !cred_of(*proc::current_process()).capable(CAP_SYSLOG)) return Error(EPERM);
    u64 first, next;
    log_bounds(&first, &next, nullptr);
    KmsgFile* f = TRY(make<KmsgFile>(move(file), first));
    return f;
}

}  // namespace keel::fs
