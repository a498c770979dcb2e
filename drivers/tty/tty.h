// The tty core: a terminal device under the N_TTY line discipline
// (kernel/tty/ldisc.h), with the controlling-terminal and job-control
// rules of Linux 6.12 (drivers/tty/ctty.cpp). Drivers: the serial console
// (serial.cpp) and pseudo-terminals (pty.cpp, devpts.cpp).
//
// Locking: each Tty has a spinlock around its line discipline and device
// buffers. Nothing that sleeps, wakes a queue or sends a signal runs under
// it: the ldisc's callbacks record what is due (signals for the foreground
// group, queues to wake) and unlock() does it after dropping the lock.
// Sessions, foreground groups and every process's controlling terminal are
// guarded by one global lock (ctty.cpp), never taken inside a tty's lock.
#pragma once

#include "fs/dev/chrdev.h"
#include "kernel/sched/wait.h"
#include "kernel/spinlock.h"
#include "kernel/tty/ldisc.h"

namespace keel::proc {
struct Process;
}

namespace keel::tty {

class TtyFile;

class Tty : public TtyPort {
public:
    Tty(u32 major, u32 minor) : major_(major), minor_(minor) {}
    Tty(const Tty&) = delete;
    Tty& operator=(const Tty&) = delete;

    // References: open files, processes that have it as controlling
    // terminal, the driver. The last put calls release().
    void get() { __atomic_add_fetch(&refs_, 1, __ATOMIC_RELAXED); }
    void put() {
        if (__atomic_sub_fetch(&refs_, 1, __ATOMIC_ACQ_REL) == 0) release();
    }

    u32 major() const { return major_; }
    u32 minor() const { return minor_; }
    void set_minor(u32 minor) { minor_ = minor; }  // a pty learns its number after creation

    // --- file operations (TtyFile forwards here) ---
    Result<usize> read(TtyFile& f, const IoBuffer& buf);
    Result<usize> write(TtyFile& f, const IoBuffer& buf);
    u32 poll(TtyFile& f, fs::PollTable* pt);
    // f is null for a pty master's ioctls on its slave (no job control,
    // and the master's view of the controlling-terminal calls).
    Result<u64> ioctl(TtyFile* f, u32 cmd, u64 arg);
    virtual void file_opened() {}
    virtual void file_closed() {}

    // Bytes from the device (UART receive, a pty master's write). Returns
    // how many the line discipline took.
    usize receive(const u8* bytes, usize n);

    // vhangup: every file opened on the tty (not through /dev/console)
    // reads end-of-file and fails writes with EIO from now on; the session
    // loses the terminal, its leader gets SIGHUP and SIGCONT, and with
    // `exit_session` the foreground group gets SIGHUP too.
    void hangup(bool exit_session);
    u32 hangup_generation() const { return __atomic_load_n(&hangup_gen_, __ATOMIC_ACQUIRE); }

    // Controlling-terminal state (ctty.cpp's lock).
    int session = 0;  // 0: no session has it
    int pgrp = 0;     // the foreground process group

protected:
    virtual ~Tty() = default;
    virtual void release() {}

    // Driver hooks.
    // An ioctl the core does not handle (ENOTTY unless the driver knows it).
    virtual Result<u64> driver_ioctl(TtyFile*, u32 /*cmd*/, u64 /*arg*/) { return Error(ENOTTY); }
    // The line discipline has room again after a read (a pty pushes what
    // its master wrote meanwhile). Lock held.
    virtual void input_drained() {}
    // Output may not be written: the device is gone (a pty whose master
    // closed). Lock held.
    virtual bool output_closed() const { return false; }
    // The device's transmit queue (TIOCOUTQ). Lock held.
    virtual usize chars_in_buffer() const { return 0; }
    // Extra poll bits from the device side. Lock held.
    virtual u32 device_poll() const { return 0; }
    // After unlock(): driver-specific wake-ups recorded under the lock.
    virtual void after_unlock() {}

    // TtyPort: signals go to the foreground group once the lock is dropped.
    void on_signal(int sig) override { pending_signals_ |= 1u << sig; }
    void flow_changed(bool stopped) override {
        if (!stopped) wake_writers_ = true;
    }

    void lock() { irq_ = lock_.lock(); }
    // Drops the lock, then sends the signals and wakes the queues that the
    // work under it asked for.
    void unlock();

    Spinlock lock_{LockRank::Device};
    bool irq_ = false;
    LineDiscipline ld_{*this};
    sched::WaitQueue read_wait_;
    sched::WaitQueue write_wait_;
    // Under lock_: work for unlock().
    u32 pending_signals_ = 0;
    bool wake_readers_ = false;
    bool wake_writers_ = false;
    bool exclusive_ = false;  // TIOCEXCL

private:
    Status wait_for_input(TtyFile& f, u64 deadline);
    Result<u64> termios_ioctl(TtyFile* f, u32 cmd, u64 arg);

    u32 major_, minor_;
    u32 refs_ = 1;
    u32 hangup_gen_ = 0;
};

// A descriptor onto a tty. `console`: opened as /dev/console, which is
// never a controlling terminal and skips job control (Linux's redirect).
class TtyFile : public fs::DeviceFile {
public:
    TtyFile(RefPtr<fs::File> file, Tty& tty, bool console);
    Tty& tty() const { return tty_; }
    bool console() const { return console_; }
    bool hung_up() const { return !console_ && gen_ != tty_.hangup_generation(); }
    bool nonblocking() const;

    Result<usize> read(const IoBuffer& buf, u64*) override { return tty_.read(*this, buf); }
    Result<usize> write(const IoBuffer& buf, u64*) override { return tty_.write(*this, buf); }
    u32 poll(fs::PollTable* pt) override { return tty_.poll(*this, pt); }
    Result<u64> ioctl(u32 cmd, u64 arg) override { return tty_.ioctl(this, cmd, arg); }
    Status stat(struct stat& st) override;

protected:
    void release() override;

private:
    Tty& tty_;
    bool console_;
    u32 gen_;
};

// ---- controlling terminals and job control (ctty.cpp) ----

// __tty_check_change: may the caller act on `tty` (read with SIGTTIN,
// write/set with SIGTTOU)? ERESTARTSYS after signalling its group, EIO when
// the signal is ignored (SIGTTIN only) or the group is orphaned.
Status check_change(Tty& tty, int sig);
// open(2) without O_NOCTTY: a session leader without a terminal takes
// this one if no session has it (and the file is readable).
void open_may_acquire(Tty& tty, bool readable);
// The caller's controlling terminal with a reference, or nullptr.
Tty* current_ctty();
bool is_ctty_of_current(const Tty& tty);
// The controlling-terminal ioctls (TIOCSCTTY, TIOCNOTTY, TIOCGPGRP,
// TIOCSPGRP, TIOCGSID); ENOIOCTLCMD-like Error(ENOTTY) for others.
// `real` is the tty they act on (a pty master's slave).
Result<u64> ctty_ioctl(TtyFile* f, Tty& real, u32 cmd, u64 arg);
// kill_pgrp as the kernel sends it (SI_KERNEL, no permission check).
void signal_pgrp(int pgid, int sig);
// The tty's foreground group (0 if none).
int foreground_of(const Tty& tty);
// tty_signal_session_leader for a hangup: the session loses the terminal,
// its leader gets SIGHUP and SIGCONT, and with `exit_session` the
// foreground group SIGHUP.
void hangup_session(Tty& tty, bool exit_session);
// Clears `tty` as the controlling terminal of every process of its
// session and forgets the session; returns the old session.
int session_clear_tty(Tty& tty);

// For /proc/<pid>/stat: the controlling terminal's device number as stat
// encodes it (0 without one) and its foreground group (-1 without one).
void ctty_info(const proc::Process& p, u32* tty_nr, int* tpgid);

// Process hooks: fork inherits the terminal, setsid drops it, and the
// exit of a session leader hangs it up.
void fork_ctty(proc::Process& child, const proc::Process& parent);
void setsid_ctty(proc::Process& p);
// Process groups that an exit leaves orphaned with stopped members: they
// get SIGHUP and SIGCONT once the exiting process's children have their
// new parent (signal_orphaned), so that what they do next sees the group
// orphaned (kill_orphaned_pgrp in Linux's exit_notify).
struct OrphanedGroups {
    int pgids[8];
    usize count = 0;
};
OrphanedGroups exit_ctty(proc::Process& p);
void signal_orphaned(const OrphanedGroups& groups);

// Boot: the console, /dev/tty, ptmx and pts drivers.
void register_tty_devices();
// pty.cpp: /dev/ptmx (5:2, called by the aux driver) and the pts major.
Result<fs::OpenFile*> open_ptmx(RefPtr<fs::File> file);
void register_pty_devices();
// The serial console as pid 1's first descriptors (one reference).
fs::OpenFile* open_initial_console();
void serial_init_input();

}  // namespace keel::tty
