// N_TTY: termios and its derived state, flow control, and the input half
// (input flags, signal characters, line editing and what they echo).
#include "kernel/tty/ldisc.h"

#include "kernel/tty/ctype.h"
#include "lib/string.h"

namespace keel::tty {

namespace {

// n_tty_check_throttle/unthrottle thresholds (TTY_THRESHOLD_*).
constexpr usize kThrottleRoom = 128;
constexpr usize kUnthrottleCount = 128;

// tty_termios_baud_rate's table: B0..B38400, then CBAUDEX | 1..15.
constexpr speed_t kBaudTable[] = {
    0,      50,     75,      110,     134,     150,     200,     300,     600,     1200,   1800,
    2400,   4800,   9600,    19200,   38400,   57600,   115200,  230400,  460800,  500000, 576000,
    921600, 1000000, 1152000, 1500000, 2000000, 2500000, 3000000, 3500000, 4000000};

speed_t baud_of(tcflag_t cbaud, speed_t other) {
    if (cbaud == BOTHER) return other;
    if (cbaud & CBAUDEX) cbaud = (cbaud & ~CBAUDEX) + 15;
    return cbaud < sizeof(kBaudTable) / sizeof(kBaudTable[0]) ? kBaudTable[cbaud] : 0;
}

// set_termios: "if old style Bfoo values are used then load c_ispeed/c_ospeed
// with the real speed so it's unconditionally usable".
void derive_speeds(termios2& t) {
    speed_t out = baud_of(t.c_cflag & CBAUD, t.c_ospeed);
    tcflag_t icbaud = (t.c_cflag >> IBSHIFT) & CBAUD;
    t.c_ispeed = icbaud == B0 ? out : baud_of(icbaud, t.c_ispeed);
    t.c_ospeed = out;
}

}  // namespace

termios2 default_termios() {
    termios2 t{};
    t.c_iflag = ICRNL | IXON;
    t.c_oflag = OPOST | ONLCR;
    t.c_cflag = B38400 | CS8 | CREAD | HUPCL;
    t.c_lflag = ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN;
    t.c_cc[VINTR] = 'C' - 0x40;
    t.c_cc[VQUIT] = '\\' - 0x40;
    t.c_cc[VERASE] = 0x7f;
    t.c_cc[VKILL] = 'U' - 0x40;
    t.c_cc[VEOF] = 'D' - 0x40;
    t.c_cc[VSTART] = 'Q' - 0x40;
    t.c_cc[VSTOP] = 'S' - 0x40;
    t.c_cc[VSUSP] = 'Z' - 0x40;
    t.c_cc[VREPRINT] = 'R' - 0x40;
    t.c_cc[VDISCARD] = 'O' - 0x40;
    t.c_cc[VWERASE] = 'W' - 0x40;
    t.c_cc[VLNEXT] = 'V' - 0x40;
    t.c_cc[VMIN] = 1;
    t.c_ispeed = 38400;
    t.c_ospeed = 38400;
    return t;
}

LineDiscipline::LineDiscipline(TtyPort& port, const termios2& initial) : port_(port), tio_(initial) {
    apply(initial, true);
}

// n_tty_set_termios: recompute the fast-path state after a termios change.
void LineDiscipline::apply(const termios2& old, bool first) {
    if (first || ((old.c_lflag ^ tio_.c_lflag) & (ICANON | EXTPROC))) {
        mem_set(eol_, 0, sizeof(eol_));
        if (!lflag(ICANON) || !read_count()) {
            canon_head_ = read_tail_;
        } else {
            // Input typed in non-canonical mode becomes one line, its last
            // byte acting as the terminator (a NUL there reads as EOF).
            set_eol_flag(read_head_ - 1);
            canon_head_ = read_head_;
        }
        erasing_ = false;
        lnext_ = false;
    }
    icanon_ = lflag(ICANON);

    if (iflag(ISTRIP) || iflag(IUCLC) || iflag(IGNCR) || iflag(ICRNL) || iflag(INLCR) || lflag(ICANON) ||
        iflag(IXON) || lflag(ISIG) || lflag(ECHO) || iflag(PARMRK)) {
        mem_set(char_map_, 0, sizeof(char_map_));
        auto mark = [this](u8 c) { char_map_[c / 8] |= static_cast<u8>(1u << (c % 8)); };
        if (iflag(IGNCR) || iflag(ICRNL)) mark('\r');
        if (iflag(INLCR)) mark('\n');
        if (lflag(ICANON)) {
            mark(cc(VERASE));
            mark(cc(VKILL));
            mark(cc(VEOF));
            mark('\n');
            mark(cc(VEOL));
            if (lflag(IEXTEN)) {
                mark(cc(VWERASE));
                mark(cc(VLNEXT));
                mark(cc(VEOL2));
                if (lflag(ECHO)) mark(cc(VREPRINT));
            }
        }
        if (iflag(IXON)) {
            mark(cc(VSTART));
            mark(cc(VSTOP));
        }
        if (lflag(ISIG)) {
            mark(cc(VINTR));
            mark(cc(VQUIT));
            mark(cc(VSUSP));
        }
        // A control character set to 0 is disabled: NUL is never special.
        char_map_[0] &= static_cast<u8>(~1u);
        raw_ = real_raw_ = false;
    } else {
        raw_ = true;
        real_raw_ = (iflag(IGNBRK) || (!iflag(BRKINT) && !iflag(PARMRK))) && (iflag(IGNPAR) || !iflag(INPCK));
    }
    // Clearing IXON must not leave output stopped by an earlier ^S.
    if (!first && !iflag(IXON) && (old.c_iflag & IXON) && !tco_stopped_) {
        start_output();
    }
}

void LineDiscipline::get(termios& t) const {
    t = {};
    t.c_iflag = tio_.c_iflag;
    t.c_oflag = tio_.c_oflag;
    t.c_cflag = tio_.c_cflag;
    t.c_lflag = tio_.c_lflag;
    t.c_line = tio_.c_line;
    for (int i = 0; i < NCCS; ++i) t.c_cc[i] = tio_.c_cc[i];
}

void LineDiscipline::set(const termios& t) {
    termios2 next = tio_;
    next.c_iflag = t.c_iflag;
    next.c_oflag = t.c_oflag;
    next.c_cflag = t.c_cflag;
    next.c_lflag = t.c_lflag;
    next.c_line = t.c_line;
    for (int i = 0; i < NCCS; ++i) next.c_cc[i] = t.c_cc[i];
    set(next);
}

void LineDiscipline::set(const termios2& t) {
    termios2 old = tio_;
    tio_ = t;
    derive_speeds(tio_);
    apply(old, false);
}

void LineDiscipline::set_window_size(const winsize& ws) {
    // tty_do_resize: nothing happens when every field is unchanged.
    if (ws.ws_row == winsize_.ws_row && ws.ws_col == winsize_.ws_col && ws.ws_xpixel == winsize_.ws_xpixel &&
        ws.ws_ypixel == winsize_.ws_ypixel)
        return;
    port_.on_signal(kSigWinch);
    winsize_ = ws;
}

// reset_buffer_flags.
void LineDiscipline::reset_buffer() {
    read_head_ = canon_head_ = read_tail_ = 0;
    erasing_ = false;
    mem_set(eol_, 0, sizeof(eol_));
}

void LineDiscipline::flush_input() {
    reset_buffer();
}

Status LineDiscipline::flush(unsigned long queue) {
    switch (queue) {
    case TCIFLUSH:
    case TCIOFLUSH:
        flush_input();
        check_unthrottle();  // tty_unthrottle after the ldisc flush
        if (queue == TCIFLUSH) return {};
        [[fallthrough]];
    case TCOFLUSH:
        port_.discard_output();
        return {};
    default:
        return Error(EINVAL);
    }
}

void LineDiscipline::stop_output() {
    if (stopped_) return;
    stopped_ = true;
    port_.flow_changed(true);
}

void LineDiscipline::start_output() {
    if (!stopped_ || tco_stopped_) return;
    stopped_ = false;
    port_.flow_changed(false);
    flush_echoes();
}

Status LineDiscipline::flow(unsigned long action) {
    switch (action) {
    case TCOOFF:
        if (!tco_stopped_) {
            tco_stopped_ = true;
            stop_output();
        }
        return {};
    case TCOON:
        if (tco_stopped_) {
            tco_stopped_ = false;
            start_output();
        }
        return {};
    case TCIOFF:
        if (cc(VSTOP) != kDisabledChar) port_.send_xchar(cc(VSTOP));
        return {};
    case TCION:
        if (cc(VSTART) != kDisabledChar) port_.send_xchar(cc(VSTART));
        return {};
    default:
        return Error(EINVAL);
    }
}

// ---------------------------------------------------------------- input

// n_tty_receive_buf_common's room check, made before each byte. In canonical
// mode with no complete line the buffer never refuses input, so that erase
// and newline keep working: the last character is overwritten instead.
bool LineDiscipline::room_for_one() {
    i64 room = static_cast<i64>(kBufSize) - static_cast<i64>(read_count());
    if (iflag(PARMRK)) room = (room + 2) / 3;
    --room;
    if (room > 0) return true;
    bool overflow = icanon_ && canon_head_ == read_tail_;
    if (overflow && room < 0) --read_head_;
    return overflow;
}

usize LineDiscipline::receive(const u8* bytes, usize n) {
    usize done = 0;
    for (; done < n; ++done) {
        if (!room_for_one()) break;
        receive_char(bytes[done]);
    }
    flush_echoes();
    check_throttle();
    return done;
}

void LineDiscipline::receive_char(u8 c) {
    if (raw_) {
        put(c);
        return;
    }
    if (lnext_) {
        // The character after ^V is taken literally (input mapping aside).
        lnext_ = false;
        if (iflag(ISTRIP)) c &= 0x7f;
        if (iflag(IUCLC) && lflag(IEXTEN)) c = k_tolower(c);
        receive_normal(c);
        return;
    }
    if (iflag(ISTRIP)) c &= 0x7f;
    if (iflag(IUCLC) && lflag(IEXTEN)) c = k_tolower(c);
    if (lflag(EXTPROC)) {
        put(c);
        return;
    }
    if (special(c))
        receive_special(c);
    else
        receive_normal(c);
}

void LineDiscipline::receive_break() {
    if (raw_ && real_raw_) {
        put(0);  // the driver's NUL, its flag ignored
        return;
    }
    if (iflag(IGNBRK)) return;
    if (iflag(BRKINT)) {
        isig(kSigInt);
        flush_echoes();
        return;
    }
    if (iflag(PARMRK)) {
        put(0xff);
        put(0);
    }
    put(0);
}

void LineDiscipline::start_if_ixany() {
    if (stopped_ && !tco_stopped_ && iflag(IXON) && iflag(IXANY)) start_output();
}

// n_tty_receive_char: an ordinary character.
void LineDiscipline::receive_normal(u8 c) {
    start_if_ixany();
    if (lflag(ECHO)) {
        finish_erasing();
        if (canon_head_ == read_head_) canon_column_ = column_;
        echo_char(c);
    }
    if (c == 0xff && iflag(PARMRK)) put(c);
    put(c);
}

// n_tty_receive_char_special.
void LineDiscipline::receive_special(u8 c) {
    if (iflag(IXON) && (c == cc(VSTART) || c == cc(VSTOP))) {
        if (c == cc(VSTART))
            start_output();
        else
            stop_output();
        return;
    }
    if (lflag(ISIG)) {
        if (c == cc(VINTR)) return signal_char(kSigInt, c);
        if (c == cc(VQUIT)) return signal_char(kSigQuit, c);
        if (c == cc(VSUSP)) return signal_char(kSigTstp, c);
    }
    start_if_ixany();
    if (c == '\r') {
        if (iflag(IGNCR)) return;
        if (iflag(ICRNL)) c = '\n';
    } else if (c == '\n' && iflag(INLCR)) {
        c = '\r';
    }
    if (icanon_ && receive_canon(c)) return;

    if (lflag(ECHO)) {
        finish_erasing();
        if (c == '\n') {
            echo_raw('\n');
        } else {
            if (canon_head_ == read_head_) canon_column_ = column_;
            echo_char(c);
        }
    }
    if (c == 0xff && iflag(PARMRK)) put(c);
    put(c);
}

void LineDiscipline::handle_newline(u8 c) {
    set_eol_flag(read_head_);
    put(c);
    canon_head_ = read_head_;
}

// n_tty_receive_char_canon: line editing. True when c was consumed.
bool LineDiscipline::receive_canon(u8 c) {
    if (c == cc(VERASE) || c == cc(VKILL) || (c == cc(VWERASE) && lflag(IEXTEN))) {
        eraser(c);
        return true;
    }
    if (c == cc(VLNEXT) && lflag(IEXTEN)) {
        lnext_ = true;
        if (lflag(ECHO)) {
            finish_erasing();
            if (lflag(ECHOCTL)) {
                // "^" then back over it: the quoted character's echo replaces it.
                echo_raw('^');
                echo_raw('\b');
            }
        }
        return true;
    }
    if (c == cc(VREPRINT) && lflag(ECHO) && lflag(IEXTEN)) {
        finish_erasing();
        echo_char(c);
        echo_raw('\n');
        for (usize i = canon_head_; (i & kMask) != (read_head_ & kMask); ++i) echo_char(buf_[i & kMask]);
        return true;
    }
    if (c == '\n') {
        if (lflag(ECHO) || lflag(ECHONL)) echo_raw('\n');
        handle_newline(c);
        return true;
    }
    if (c == cc(VEOF)) {
        handle_newline(kDisabledChar);  // not echoed
        return true;
    }
    if (c == cc(VEOL) || (c == cc(VEOL2) && lflag(IEXTEN))) {
        if (lflag(ECHO)) {
            if (canon_head_ == read_head_) canon_column_ = column_;
            echo_char(c);
        }
        if (c == 0xff && iflag(PARMRK)) put(c);
        handle_newline(c);
        return true;
    }
    return false;
}

void LineDiscipline::signal_char(int sig, u8 c) {
    isig(sig);
    if (iflag(IXON)) start_output();
    if (lflag(ECHO)) echo_char(c);
}

// isig: signal the foreground group and, unless NOFLSH, throw away pending
// input, unwritten echoes and untransmitted output.
void LineDiscipline::isig(int sig) {
    port_.on_signal(sig);
    if (lflag(NOFLSH)) return;
    echo_start_ = echo_len_ = 0;
    port_.discard_output();
    reset_buffer();
}

// eraser: ERASE, WERASE and KILL, with the echo each ECHO* flag asks for.
void LineDiscipline::eraser(u8 c) {
    if (read_head_ == canon_head_) return;  // nothing to erase: no echo, no bell
    enum { kErase, kWerase, kKill } kind;
    if (c == cc(VERASE)) {
        kind = kErase;
    } else if (c == cc(VWERASE)) {
        kind = kWerase;
    } else {
        if (!lflag(ECHO)) {
            read_head_ = canon_head_;
            return;
        }
        if (!lflag(ECHOK) || !lflag(ECHOKE) || !lflag(ECHOE)) {
            // Not a visual kill: echo the kill character (and a newline
            // with ECHOK) and start again below.
            read_head_ = canon_head_;
            finish_erasing();
            echo_char(cc(VKILL));
            if (lflag(ECHOK)) echo_raw('\n');
            return;
        }
        kind = kKill;
    }

    bool seen_alnums = false;
    while (read_head_ != canon_head_) {
        usize head = read_head_;
        // One character, which may be several UTF-8 bytes.
        do {
            --head;
            c = buf_[head & kMask];
        } while (is_continuation(c) && head != canon_head_);
        if (is_continuation(c)) break;  // do not erase part of a character

        if (kind == kWerase) {
            // BSD's ALTWERASE: skip trailing non-word characters, then a word.
            if (k_isalnum(c) || c == '_')
                seen_alnums = true;
            else if (seen_alnums)
                break;
        }
        usize cnt = read_head_ - head;
        read_head_ = head;
        if (lflag(ECHO)) {
            if (lflag(ECHOPRT)) {
                if (!erasing_) {
                    echo_raw('\\');
                    erasing_ = true;
                }
                echo_char(c);
                while (--cnt > 0) {
                    ++head;
                    echo_raw(buf_[head & kMask]);
                    if (column_ > 0) --column_;  // ECHO_OP_MOVE_BACK_COL
                }
            } else if (kind == kErase && !lflag(ECHOE)) {
                echo_char(cc(VERASE));
            } else if (c == '\t') {
                // Columns used since the line's start or the previous tab
                // decide how far back the tab reached.
                unsigned num_chars = 0;
                bool after_tab = false;
                for (usize tail = read_head_; tail != canon_head_;) {
                    --tail;
                    u8 p = buf_[tail & kMask];
                    if (p == '\t') {
                        after_tab = true;
                        break;
                    }
                    if (k_iscntrl(p)) {
                        if (lflag(ECHOCTL)) num_chars += 2;
                    } else if (!is_continuation(p)) {
                        ++num_chars;
                    }
                }
                echo_erase_tab(num_chars, after_tab);
            } else {
                // A control character echoed as ^X takes two columns.
                if (k_iscntrl(c) && lflag(ECHOCTL)) {
                    echo_raw('\b');
                    echo_raw(' ');
                    echo_raw('\b');
                }
                if (!k_iscntrl(c) || lflag(ECHOCTL)) {
                    echo_raw('\b');
                    echo_raw(' ');
                    echo_raw('\b');
                }
            }
        }
        if (kind == kErase) break;
    }
    if (read_head_ == canon_head_ && lflag(ECHO)) finish_erasing();
}

void LineDiscipline::check_throttle() {
    if (port_.is_pty() || throttled_ || !iflag(IXOFF)) return;
    if (icanon_ && canon_head_ == read_tail_) return;  // a line being typed never throttles
    if (kBufSize - read_count() >= kThrottleRoom) return;
    throttled_ = true;
    if (cc(VSTOP) != kDisabledChar) port_.send_xchar(cc(VSTOP));
}

void LineDiscipline::check_unthrottle() {
    if (!throttled_) return;
    usize pending = icanon_ ? canon_head_ - read_tail_ : read_count();
    if (pending > kUnthrottleCount) return;
    throttled_ = false;
    if (iflag(IXOFF) && cc(VSTART) != kDisabledChar) port_.send_xchar(cc(VSTART));
}

}  // namespace keel::tty
