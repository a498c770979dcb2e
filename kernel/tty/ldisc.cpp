#include "kernel/tty/ldisc.h"

#include "lib/string.h"

namespace keel::tty {

namespace {

// N_TTY stores an EOF character in the buffer as this byte, flagged as a
// line end, so that a read can tell it from a typed NUL.
constexpr u8 kDisabledChar = 0;

// The kernel's <linux/ctype.h> (Latin-1 table): these decide ^X echo, word
// erase and IUCLC/OLCUC, and differ from the C locale above 0x7f.
constexpr bool k_iscntrl(u8 c) { return c < 0x20 || c == 0x7f; }
constexpr bool k_isupper(u8 c) { return (c >= 'A' && c <= 'Z') || (c >= 0xc0 && c <= 0xde && c != 0xd7); }
constexpr bool k_islower(u8 c) { return (c >= 'a' && c <= 'z') || (c >= 0xdf && c != 0xf7); }
constexpr bool k_isalnum(u8 c) { return k_isupper(c) || k_islower(c) || (c >= '0' && c <= '9'); }
constexpr u8 k_tolower(u8 c) { return k_isupper(c) ? static_cast<u8>(c + 0x20) : c; }
constexpr u8 k_toupper(u8 c) { return k_islower(c) ? static_cast<u8>(c - 0x20) : c; }

constexpr u64 kDecisecondNs = 100'000'000;
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

// ---------------------------------------------------------------- echo

void LineDiscipline::echo_byte(u8 c) {
    if (echo_len_ == kEchoSize) {  // full while stopped: drop the oldest
        echo_start_ = (echo_start_ + 1) % kEchoSize;
        --echo_len_;
    }
    echo_[(echo_start_ + echo_len_++) % kEchoSize] = c;
}

// echo_char_raw: the byte as output processing would send it.
void LineDiscipline::echo_raw(u8 c) {
    if (c == 0xff) {  // Linux's escaped ECHO_OP_START: written as is
        echo_byte(c);
        ++column_;
        return;
    }
    if (!oflag(OPOST)) {
        echo_byte(c);
        return;
    }
    u8 out[8];
    usize n = translate(c, out);
    for (usize i = 0; i < n; ++i) echo_byte(out[i]);
}

// echo_char: control characters other than TAB as ^X with ECHOCTL.
void LineDiscipline::echo_char(u8 c) {
    if (c != 0xff && lflag(ECHOCTL) && k_iscntrl(c) && c != '\t') {
        echo_byte('^');
        echo_byte(c ^ 0x40);
        column_ += 2;
        return;
    }
    echo_raw(c);
}

void LineDiscipline::echo_erase_tab(unsigned num_chars, bool after_tab) {
    num_chars &= 7;
    if (!after_tab) num_chars += canon_column_;
    unsigned num_bs = 8 - (num_chars & 7);
    while (num_bs--) {
        echo_byte('\b');
        if (column_ > 0) --column_;
    }
}

void LineDiscipline::finish_erasing() {
    if (!erasing_) return;
    echo_raw('/');
    erasing_ = false;
}

void LineDiscipline::flush_echoes() {
    if (stopped_ || !echo_len_) return;
    usize first = min(echo_len_, kEchoSize - echo_start_);
    port_.write_out(echo_ + echo_start_, first);
    if (first < echo_len_) port_.write_out(echo_, echo_len_ - first);
    echo_start_ = echo_len_ = 0;
}

// ---------------------------------------------------------------- output

usize LineDiscipline::translate(u8 c, u8* out) {
    switch (c) {
    case '\n':
        if (oflag(ONLRET)) column_ = 0;
        if (oflag(ONLCR)) {
            canon_column_ = column_ = 0;
            out[0] = '\r';
            out[1] = '\n';
            return 2;
        }
        canon_column_ = column_;
        break;
    case '\r':
        if (oflag(ONOCR) && column_ == 0) return 0;
        if (oflag(OCRNL)) {
            c = '\n';  // not subject to ONLCR
            if (oflag(ONLRET)) canon_column_ = column_ = 0;
            break;
        }
        canon_column_ = column_ = 0;
        break;
    case '\t': {
        unsigned spaces = 8 - (column_ & 7);
        column_ += spaces;
        if ((tio_.c_oflag & TABDLY) == XTABS) {
            for (unsigned i = 0; i < spaces; ++i) out[i] = ' ';
            return spaces;
        }
        break;
    }
    case '\b':
        if (column_ > 0) --column_;
        break;
    default:
        if (!k_iscntrl(c)) {
            if (oflag(OLCUC)) c = k_toupper(c);
            if (!is_continuation(c)) ++column_;
        }
        break;
    }
    out[0] = c;
    return 1;
}

Result<usize> LineDiscipline::process_output(const u8* in, usize n) {
    if (n == 0) return usize{0};
    if (stopped_) return Error(EAGAIN);
    flush_echoes();  // n_tty_write: pending echoes go first
    usize room = port_.write_room();
    usize done = 0;
    if (!oflag(OPOST)) {
        done = min(n, room);
        if (done) port_.write_out(in, done);
    } else {
        for (; done < n && room > 0; ++done) {
            unsigned saved_column = column_, saved_canon = canon_column_;
            u8 out[8];
            usize len = translate(in[done], out);
            if (len > room) {  // CR LF or an expanded tab must go out whole
                column_ = saved_column;
                canon_column_ = saved_canon;
                break;
            }
            if (len) port_.write_out(out, len);
            room -= len;
        }
    }
    if (done == 0) return Error(EAGAIN);
    return done;
}

// ---------------------------------------------------------------- readers

bool LineDiscipline::input_available() const {
    if (canon_read()) return canon_head_ != read_tail_;
    return read_count() >= 1;
}

bool LineDiscipline::poll_readable() const {
    if (canon_read()) return canon_head_ != read_tail_;
    usize amt = !cc(VTIME) && cc(VMIN) ? cc(VMIN) : 1;
    return read_count() >= amt;
}

usize LineDiscipline::readable() const {
    if (!(lflag(ICANON) && !lflag(EXTPROC))) return read_count();
    // inq_canon: complete lines, not counting their EOF characters.
    usize nr = canon_head_ - read_tail_;
    for (usize i = read_tail_; i != canon_head_; ++i)
        if (eol_flag(i) && buf_[i & kMask] == kDisabledChar) --nr;
    return nr;
}

bool LineDiscipline::at_eof_pending() const {
    return canon_read() && canon_head_ != read_tail_ && eol_flag(read_tail_) &&
           buf_[read_tail_ & kMask] == kDisabledChar;
}

// tty_read's last zero-length call: when the reader's buffer filled just
// before a line's EOF character, that character is consumed now so that the
// next read does not see a spurious end of file.
void LineDiscipline::canon_skip_eof() {
    if (read_tail_ == canon_head_) return;
    if (!eol_flag(read_tail_) || buf_[read_tail_ & kMask] != kDisabledChar) return;
    clear_eol_flag(read_tail_);
    ++read_tail_;
}

usize LineDiscipline::read(u8* out, usize n) {
    if (n == 0) return 0;
    usize copied = 0;
    if (canon_read()) {
        usize take = min(n, canon_head_ - read_tail_);
        usize len = 0;
        bool found = false;
        while (len < take) {
            if (eol_flag(read_tail_ + len)) {
                found = true;
                ++len;
                break;
            }
            ++len;
        }
        copied = len;
        if (found && buf_[(read_tail_ + len - 1) & kMask] == kDisabledChar) --copied;
        for (usize i = 0; i < copied; ++i) out[i] = buf_[(read_tail_ + i) & kMask];
        if (found) clear_eol_flag(read_tail_ + len - 1);
        read_tail_ += len;
        if (!found) canon_skip_eof();
    } else {
        copied = min(n, read_count());
        for (usize i = 0; i < copied; ++i) out[i] = buf_[(read_tail_ + i) & kMask];
        bool single_eof = copied == 1 && out[0] == cc(VEOF);
        read_tail_ += copied;
        // EXTPROC with ICANON: the remote side's lone EOF reads as 0 bytes.
        if (lflag(EXTPROC) && icanon_ && single_eof && read_count() == 0) copied = 0;
    }
    check_unthrottle();
    return copied;
}

BlockingRead::BlockingRead(const LineDiscipline& ld, usize want) : want_(want) {
    if (ld.canon_read()) return;  // minimum 0: the first pass with input returns
    u8 vmin = ld.cc(VMIN), vtime = ld.cc(VTIME);
    if (vmin) {
        minimum_ = vmin;
        interbyte_ = vtime * kDecisecondNs;
    } else {
        minimum_ = 1;
        first_wait_ = vtime * kDecisecondNs;  // VTIME 0: do not wait at all
    }
}

bool BlockingRead::step(LineDiscipline& ld, u8* out, u64 now_ns) {
    if (!started_) {
        started_ = true;
        if (first_wait_ != kForever) deadline_ = now_ns + first_wait_;
    }
    while (copied_ < want_) {
        if (!ld.input_available()) return deadline_ != kForever && now_ns >= deadline_;
        copied_ += ld.read(out + copied_, want_ - copied_);
        if (copied_ >= minimum_) return true;
        if (interbyte_) deadline_ = now_ns + interbyte_;
    }
    return true;
}

}  // namespace keel::tty
