// The "mem" character devices user space takes for granted: /dev/null,
// /dev/zero, /dev/full, /dev/random and /dev/urandom (major 1).
#include <linux/poll.h>

#include "fs/dev/chrdev.h"
#include "kernel/random.h"
#include "kernel/signal/signal.h"
#include "lib/alloc.h"

namespace keel::fs {

namespace {

constexpr u32 kMemMajor = 1;
enum : u32 { kNull = 3, kZero = 5, kFull = 7, kRandom = 8, kURandom = 9, kKmsg = 11 };

// Fills a read buffer chunk by chunk from a generator; a fault after some
// bytes returns the count so far, and a long read stops early for a
// pending signal (as Linux's zero and random devices do).
template <typename Fill>
Result<usize> fill_read(const IoBuffer& buf, Fill fill) {
    u8 chunk[256];
    usize done = 0;
    while (done < buf.size()) {
        usize n = buf.size() - done < sizeof(chunk) ? buf.size() - done : sizeof(chunk);
        fill(chunk, n);
        if (buf.write_to(done, chunk, n).is_error()) return done ? Result<usize>(done) : Error(EFAULT);
        done += n;
        if (done < buf.size() && (done % 65536) == 0 && sig::interrupt_pending()) break;
    }
    return done;
}

class MemFile final : public DeviceFile {
public:
    MemFile(RefPtr<File> f, u32 minor) : DeviceFile(move(f)), minor_(minor) {}

    Result<usize> read(const IoBuffer& buf, u64*) override {
        switch (minor_) {
        case kNull:
            return usize{0};
        case kZero:
        case kFull:
            return fill_read(buf, [](u8* p, usize n) { __builtin_memset(p, 0, n); });
        default:
            return fill_read(buf, [](u8* p, usize n) { random_bytes(p, n); });
        }
    }
    Result<usize> write(const IoBuffer& buf, u64*) override {
        if (minor_ == kFull) return Error(ENOSPC);
        // Writes to the random devices would mix into the pool; the bytes
        // are accepted (and ignored) as with an unprivileged writer.
        return buf.size();
    }
    bool seekable() const override { return true; }
    // Reads and writes ignore the position, and seeking always lands on 0.
    Result<u64> lseek(i64, int) override { return u64{0}; }
    Result<usize> pread(const IoBuffer& buf, u64) override { return read(buf, nullptr); }
    Result<usize> pwrite(const IoBuffer& buf, u64) override { return write(buf, nullptr); }
    u32 poll(PollTable*) override { return POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM; }

protected:
    void release() override { destroy(this); }

private:
    u32 minor_;
};

Result<OpenFile*> open_mem(RefPtr<File> file, u32 minor) {
    if (minor == kKmsg) return open_kmsg(move(file));
    if (minor != kNull && minor != kZero && minor != kFull && minor != kRandom && minor != kURandom)
        return Error(ENXIO);
    MemFile* f = TRY(make<MemFile>(move(file), minor));
    return f;
}

}  // namespace

void register_mem_devices() { MUST(register_chrdev(kMemMajor, 0, 256, "mem", open_mem)); }

}  // namespace keel::fs
