// The output half of N_TTY (echo and OPOST processing, both moving the
// column) and the read half (canonical and raw copies, VMIN/VTIME).
#include "kernel/tty/ctype.h"
#include "kernel/tty/ldisc.h"

namespace keel::tty {

namespace {
constexpr u64 kDecisecondNs = 100'000'000;
}  // namespace

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
