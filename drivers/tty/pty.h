// Unix98 pseudo-terminals: a slave tty (N_TTY, /dev/pts/N) whose device
// is its master (/dev/ptmx): master writes are slave input, slave output
// is what the master reads.
#pragma once

#include "drivers/tty/tty.h"

namespace keel::tty {

struct DevptsInstance;

constexpr u32 kMaxPtys = 256;  // per devpts instance

class Pty final : public Tty {
public:
    Pty(DevptsInstance& inst, u32 index);
    ~Pty() override;
    Status init();

    u32 index() const { return index_; }
    void set_index(u32 index) {
        index_ = index;
        set_minor(index);
    }
    DevptsInstance& instance() const { return inst_; }

    // --- the master's side (MasterFile) ---
    Result<usize> master_read(const IoBuffer& buf, bool nonblock);
    Result<usize> master_write(const IoBuffer& buf, bool nonblock);
    u32 master_poll(fs::PollTable* pt);
    Result<u64> master_ioctl(u32 oflags, u32 cmd, u64 arg);
    void master_closed();

    // --- the slave's ---
    Status may_open_slave();
    bool is_pty() const override { return true; }

    void write_out(const u8* bytes, usize n) override;
    usize write_room() override;

protected:
    void release() override;
    void file_opened() override;
    void file_closed() override;
    void input_drained() override;
    bool output_closed() const override { return !master_open_; }
    usize chars_in_buffer() const override { return 0; }
    void after_unlock() override;

private:
    usize push_input();

    DevptsInstance& inst_;
    u32 index_;
    // Slave output waiting for the master's reads.
    u8* out_ = nullptr;
    usize out_head_ = 0, out_count_ = 0;
    // Master writes waiting for room in the slave's line discipline.
    u8* in_ = nullptr;
    usize in_head_ = 0, in_count_ = 0;
    sched::WaitQueue master_read_wait_;
    sched::WaitQueue master_write_wait_;
    bool wake_master_readers_ = false;
    bool wake_master_writers_ = false;
    bool master_open_ = true;
    bool locked_ = true;       // TIOCSPTLCK: the slave cannot be opened yet
    bool slave_closed_ = false;  // TTY_OTHER_CLOSED on the master
    bool packet_ = false;      // TIOCPKT
    int slave_files_ = 0;
};

}  // namespace keel::tty
