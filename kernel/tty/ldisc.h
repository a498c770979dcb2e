// The N_TTY line discipline: what Linux 6.12 puts between a terminal device
// (the serial console, a pseudo-terminal) and the programs that read and
// write it. Pure logic: it owns no locks, timers or wait queues and talks to
// the device and to process groups only through TtyPort, so the host tests
// can drive it byte by byte.
//
// How the kernel drives it (one LineDiscipline per tty, inside the tty's
// spinlock; every call below is made with that lock held, and the TtyPort
// callbacks run under it, so they must not call back into the ldisc):
//
//   Device input (UART receive interrupt, write(2) on a pty master, TIOCSTI):
//     receive(bytes, n) processes input flags, signal characters, flow
//     control, line editing and echo. It returns how many bytes it took: the
//     rest did not fit (non-canonical buffer full, or a complete line waiting
//     in canonical mode); keep them and retry after a read, or drop them as a
//     UART overrun. A BREAK condition goes to receive_break(). Afterwards wake
//     the tty's readers if input_available(), and pollers if poll_readable().
//   read(2): job control first (SIGTTIN for a background group, the
//     kernel's), then
//       BlockingRead op(ld, count);
//       while (!op.step(ld, kbuf, now_ns()))   // kbuf: count bytes, <= 4096 useful
//           { O_NONBLOCK: EAGAIN unless op.copied(); wait on the read queue for
//             input_available(), a signal (ERESTARTSYS unless op.copied()) or
//             op.deadline_ns() when it is not kForever }
//       copy op.copied() bytes of kbuf to user space.
//     op implements ICANON (one line per read, ^D gives a 0-byte read at
//     line start) and the four VMIN/VTIME cases exactly as n_tty_read.
//     A tty read never returns more than 4096 bytes (the buffer's size).
//   write(2): TOSTOP/SIGTTOU is the kernel's. Then loop over
//     process_output(bytes, n): it applies OPOST and writes to the port; it
//     returns the bytes of input consumed, or EAGAIN when output is stopped
//     (^S, TCOOFF) or the port has no room: wait for start or room (or
//     return EAGAIN/the partial count for O_NONBLOCK) and call again.
//   ioctl: TCGETS/TCGETS2 -> get(); TCSETS/TCSETS2 -> set(); TCSETSW waits
//     for output to drain first, TCSETSF also calls flush_input() (after the
//     drain, before set(), as Linux). TCFLSH -> flush(arg); TCXONC ->
//     flow(arg); FIONREAD/TIOCINQ -> readable(); TIOCGWINSZ/TIOCSWINSZ ->
//     window_size()/set_window_size() (SIGWINCH through the port on a change).
//   Signals: on_signal(SIGINT/SIGQUIT/SIGTSTP/SIGWINCH) means "send this to
//     the tty's foreground process group" (kill_pgrp(..., priv=1)).
#pragma once

#include <asm-generic/termbits.h>
#include <asm-generic/termios.h>

#include "lib/result.h"
#include "lib/types.h"

namespace keel::tty {

// Signal numbers the line discipline asks for (x86-64 ABI facts; the uapi
// signal header is not needed for four numbers).
constexpr int kSigInt = 2;
constexpr int kSigQuit = 3;
constexpr int kSigTstp = 20;
constexpr int kSigWinch = 28;

// N_TTY_BUF_SIZE: the input buffer. A canonical line holds at most 4095
// characters plus its terminator; non-canonical input at most 4095 bytes.
constexpr usize kBufSize = 4096;
// Echoes waiting while output is stopped (Linux keeps them in echo_buf and
// discards the oldest when it fills; so does Keel, at a smaller size).
constexpr usize kEchoSize = 2048;

// The device below and the process group above, as seen by the ldisc.
class TtyPort {
public:
    // Bytes for the device: echoes and processed program output. Echoes are
    // written regardless of write_room(); buffer or drop what does not fit.
    virtual void write_out(const u8* bytes, usize n) = 0;
    // How many bytes write_out can take now; process_output stops there.
    virtual usize write_room() { return ~usize{0}; }
    // A signal for the foreground process group (none: ignore it).
    virtual void on_signal(int sig) = 0;
    // Discard output the device has not transmitted yet (TCOFLUSH, and an
    // ISIG character without NOFLSH).
    virtual void discard_output() {}
    // Send a flow-control character ahead of queued output (TCIOFF/TCION,
    // IXOFF throttling).
    virtual void send_xchar(u8 c) { write_out(&c, 1); }
    // Output was stopped or restarted (^S/^Q, TCXONC): a UART may stop
    // transmitting; writers blocked in process_output should be woken on start.
    virtual void flow_changed(bool /*stopped*/) {}
    // Pseudo-terminals never throttle their input (n_tty_check_throttle).
    virtual bool is_pty() const { return false; }

protected:
    ~TtyPort() = default;
};

// tty_std_termios: what a new tty starts with.
termios2 default_termios();

class LineDiscipline {
public:
    explicit LineDiscipline(TtyPort& port) : LineDiscipline(port, default_termios()) {}
    LineDiscipline(TtyPort& port, const termios2& initial);
    LineDiscipline(const LineDiscipline&) = delete;
    LineDiscipline& operator=(const LineDiscipline&) = delete;

    // --- device input ---
    usize receive(const u8* bytes, usize n);
    void receive_break();

    // --- readers ---
    // Copies what one pass of n_tty_read would: in canonical mode up to one
    // line (its terminator included, an EOF character not), else up to n of
    // the buffered bytes. Never waits; BlockingRead adds VMIN/VTIME.
    usize read(u8* out, usize n);
    // A read would find something (a line, an EOF, or at least one byte).
    bool input_available() const;
    // POLLIN: like input_available, but non-canonical mode with VTIME == 0
    // waits for VMIN bytes.
    bool poll_readable() const;
    // FIONREAD/TIOCINQ: complete lines without their EOF characters in
    // canonical mode, every buffered byte otherwise.
    usize readable() const;
    // The next read returns 0: an EOF character at the start of a line.
    bool at_eof_pending() const;

    // --- writers ---
    Result<usize> process_output(const u8* in, usize n);

    // --- control ---
    void flush_input();                // TCIFLUSH, TCSETSF
    Status flush(unsigned long queue); // TCFLSH
    Status flow(unsigned long action); // TCXONC
    void stop_output();                // __stop_tty
    void start_output();               // __start_tty
    bool output_stopped() const { return stopped_; }

    void get(termios& t) const;
    void get(termios2& t) const { t = tio_; }
    void set(const termios& t);   // TCSETS*: speeds follow the B* bits
    void set(const termios2& t);  // TCSETS2*: BOTHER takes c_ispeed/c_ospeed
    const termios2& settings() const { return tio_; }

    winsize window_size() const { return winsize_; }
    void set_window_size(const winsize& ws);

    // Output column as N_TTY tracks it (tabs, erase of echoed characters).
    unsigned column() const { return column_; }

private:
    friend class BlockingRead;
    static constexpr usize kMask = kBufSize - 1;

    bool iflag(tcflag_t f) const { return (tio_.c_iflag & f) != 0; }
    bool oflag(tcflag_t f) const { return (tio_.c_oflag & f) != 0; }
    bool lflag(tcflag_t f) const { return (tio_.c_lflag & f) != 0; }
    u8 cc(int index) const { return tio_.c_cc[index]; }
    bool canon_read() const { return icanon_ && !lflag(EXTPROC); }
    usize read_count() const { return read_head_ - read_tail_; }
    bool eol_flag(usize i) const { return (eol_[(i & kMask) / 64] >> (i % 64)) & 1; }
    void set_eol_flag(usize i) { eol_[(i & kMask) / 64] |= u64{1} << (i % 64); }
    void clear_eol_flag(usize i) { eol_[(i & kMask) / 64] &= ~(u64{1} << (i % 64)); }
    bool special(u8 c) const { return (char_map_[c / 8] >> (c % 8)) & 1; }
    bool is_continuation(u8 c) const { return iflag(IUTF8) && (c & 0xc0) == 0x80; }

    void apply(const termios2& old, bool first);
    void reset_buffer();
    void put(u8 c) { buf_[read_head_++ & kMask] = c; }
    bool room_for_one();

    void receive_char(u8 c);
    void receive_normal(u8 c);
    void receive_special(u8 c);
    bool receive_canon(u8 c);
    void signal_char(int sig, u8 c);
    void isig(int sig);
    void handle_newline(u8 c);
    void eraser(u8 c);
    void start_if_ixany();
    void check_throttle();
    void check_unthrottle();
    void canon_skip_eof();

    // Echo: processed into echo_ at once (the column moves then) and written
    // to the port at the end of receive(), unless output is stopped.
    void echo_byte(u8 c);
    void echo_raw(u8 c);
    void echo_char(u8 c);
    void echo_erase_tab(unsigned num_chars, bool after_tab);
    void finish_erasing();
    void flush_echoes();
    // do_output_char: the OPOST translation of one byte into out (at most 8
    // bytes), moving the column. Returns the byte count (0: dropped by ONOCR).
    usize translate(u8 c, u8* out);

    TtyPort& port_;
    termios2 tio_{};
    winsize winsize_{};

    u8 buf_[kBufSize]{};
    u64 eol_[kBufSize / 64]{};  // read_flags: line terminators in buf_
    u8 char_map_[32]{};         // bytes that need receive_special
    usize read_head_ = 0;
    usize canon_head_ = 0;      // end of the last complete line
    usize read_tail_ = 0;

    u8 echo_[kEchoSize]{};
    usize echo_start_ = 0;
    usize echo_len_ = 0;

    unsigned column_ = 0;
    unsigned canon_column_ = 0;  // column where the current line's echo began

    bool icanon_ = false;
    bool raw_ = false;           // no input processing at all
    bool real_raw_ = false;      // raw, and breaks arrive as plain NULs
    bool lnext_ = false;
    bool erasing_ = false;       // inside an ECHOPRT "\...": a '/' closes it
    bool stopped_ = false;       // tty->flow.stopped
    bool tco_stopped_ = false;   // stopped by TCOOFF: ^Q does not restart
    bool throttled_ = false;     // STOP sent for IXOFF
};

// One read(2) on a tty: the VMIN/VTIME state machine of n_tty_read. The
// rules are taken from the termios at construction, as Linux reads them once
// per read call. Times are nanoseconds on any monotonic clock.
class BlockingRead {
public:
    static constexpr u64 kForever = ~u64{0};

    BlockingRead(const LineDiscipline& ld, usize want);
    // Copies what is available to out + copied(). True: read(2) returns
    // copied() bytes now. False: wait for input until deadline_ns(), then
    // call again (a call at or past the deadline without input finishes).
    bool step(LineDiscipline& ld, u8* out, u64 now_ns);
    u64 deadline_ns() const { return deadline_; }
    usize copied() const { return copied_; }

private:
    usize want_;
    usize copied_ = 0;
    usize minimum_ = 0;     // canonical: 0, i.e. the first pass with input ends it
    u64 first_wait_ = kForever;  // before any byte (MIN == 0: VTIME)
    u64 interbyte_ = 0;     // MIN > 0 && TIME > 0: restarted after each pass
    u64 deadline_ = kForever;
    bool started_ = false;
};

}  // namespace keel::tty
