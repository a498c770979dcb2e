// kernel/tty/ldisc: N_TTY byte for byte. The expected echoes and reads are
// written from Linux 6.12's n_tty.c behaviour; the lead re-checks the same
// sequences on Linux through a pty. Cases where the expectation rests on a
// reading of n_tty.c rather than an observed run say so.
#include <gtest/gtest.h>

#include <csignal>
#include <memory>
#include <string>
#include <vector>

#include "kernel/tty/ldisc.h"

using namespace keel;
using namespace keel::tty;

namespace {

class FakePort final : public TtyPort {
public:
    void write_out(const u8* bytes, usize n) override { out.append(reinterpret_cast<const char*>(bytes), n); }
    usize write_room() override { return room; }
    void on_signal(int sig) override { signals.push_back(sig); }
    void discard_output() override { ++discards; }
    void send_xchar(u8 c) override { xchars.push_back(static_cast<char>(c)); }
    void flow_changed(bool stopped) override { flow.push_back(stopped); }
    bool is_pty() const override { return pty; }

    std::string take() {
        std::string s = out;
        out.clear();
        return s;
    }

    std::string out;
    std::string xchars;
    std::vector<int> signals;
    std::vector<bool> flow;
    int discards = 0;
    usize room = ~usize{0};
    bool pty = false;
};

// LineDiscipline holds 6+ KiB of buffers: keep it off the test's stack.
struct Tty {
    FakePort port;
    std::unique_ptr<LineDiscipline> ld = std::make_unique<LineDiscipline>(port);

    usize type(const std::string& s) { return ld->receive(reinterpret_cast<const u8*>(s.data()), s.size()); }
    std::string read(usize n = 8192) {
        std::vector<u8> buf(n);
        usize got = ld->read(buf.data(), n);
        return std::string(buf.begin(), buf.begin() + static_cast<long>(got));
    }
    std::string write(const std::string& s) {
        auto r = ld->process_output(reinterpret_cast<const u8*>(s.data()), s.size());
        EXPECT_TRUE(r.is_ok());
        if (r.is_ok()) {
            EXPECT_EQ(r.value(), s.size());
        }
        return port.take();
    }
    termios2 tio() const { return ld->settings(); }
    void set(const termios2& t) { ld->set(t); }
    void lflags(tcflag_t on, tcflag_t off = 0) {
        termios2 t = tio();
        t.c_lflag = (t.c_lflag | on) & ~off;
        set(t);
    }
    void iflags(tcflag_t on, tcflag_t off = 0) {
        termios2 t = tio();
        t.c_iflag = (t.c_iflag | on) & ~off;
        set(t);
    }
    void oflags(tcflag_t on, tcflag_t off = 0) {
        termios2 t = tio();
        t.c_oflag = (t.c_oflag | on) & ~off;
        set(t);
    }
    void cc(int index, u8 v) {
        termios2 t = tio();
        t.c_cc[index] = v;
        set(t);
    }
    // cfmakeraw(3).
    void make_raw() {
        termios2 t = tio();
        t.c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
        t.c_oflag &= ~OPOST;
        t.c_lflag &= ~(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
        t.c_cflag = (t.c_cflag & ~(CSIZE | PARENB)) | CS8;
        t.c_cc[VMIN] = 1;
        t.c_cc[VTIME] = 0;
        set(t);
    }
    void noncanon(u8 vmin, u8 vtime) {
        termios2 t = tio();
        t.c_lflag &= ~(ICANON | ECHO);
        t.c_cc[VMIN] = vmin;
        t.c_cc[VTIME] = vtime;
        set(t);
    }
};

constexpr u64 kMs = 1'000'000;

}  // namespace

// ------------------------------------------------------------ defaults

TEST(TtyLdisc, DefaultTermiosIsTtyStdTermios) {
    termios2 t = default_termios();
    EXPECT_EQ(t.c_iflag, tcflag_t(ICRNL | IXON));
    EXPECT_EQ(t.c_oflag, tcflag_t(OPOST | ONLCR));
    EXPECT_EQ(t.c_cflag, tcflag_t(B38400 | CS8 | CREAD | HUPCL));
    EXPECT_EQ(t.c_lflag, tcflag_t(ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN));
    EXPECT_EQ(t.c_line, 0);
    const u8 cc[NCCS] = {3, 28, 127, 21, 4, 0, 1, 0, 17, 19, 26, 0, 18, 15, 23, 22, 0, 0, 0};
    for (int i = 0; i < NCCS; ++i) EXPECT_EQ(t.c_cc[i], cc[i]) << "c_cc[" << i << "]";
    EXPECT_EQ(t.c_ispeed, 38400u);
    EXPECT_EQ(t.c_ospeed, 38400u);
    EXPECT_EQ(kSigInt, SIGINT);
    EXPECT_EQ(kSigQuit, SIGQUIT);
    EXPECT_EQ(kSigTstp, SIGTSTP);
    EXPECT_EQ(kSigWinch, SIGWINCH);
}

// ------------------------------------------------------------ canonical mode

TEST(TtyCanon, LineWithEchoAndIcrnl) {
    Tty t;
    EXPECT_EQ(t.type("ls -l"), 5u);
    EXPECT_EQ(t.port.take(), "ls -l");
    EXPECT_FALSE(t.ld->input_available());
    EXPECT_EQ(t.read(), "");
    t.type("\r");
    EXPECT_EQ(t.port.take(), "\r\n");
    EXPECT_TRUE(t.ld->input_available());
    EXPECT_EQ(t.ld->readable(), 6u);
    EXPECT_EQ(t.read(), "ls -l\n");
    EXPECT_FALSE(t.ld->input_available());
    EXPECT_EQ(t.ld->column(), 0u);
}

TEST(TtyCanon, OneLinePerRead) {
    Tty t;
    t.type("one\ntwo\nthr");
    EXPECT_EQ(t.port.take(), "one\r\ntwo\r\nthr");
    EXPECT_EQ(t.ld->readable(), 8u);  // the partial line does not count
    EXPECT_EQ(t.read(), "one\n");
    EXPECT_EQ(t.read(2), "tw");
    EXPECT_EQ(t.read(), "o\n");
    EXPECT_EQ(t.read(), "");
}

TEST(TtyCanon, EraseCharacter) {
    Tty t;
    t.type("ab\x7f");
    EXPECT_EQ(t.port.take(), "ab\b \b");
    EXPECT_EQ(t.ld->column(), 1u);
    t.type("c\r");
    EXPECT_EQ(t.read(), "ac\n");
}

TEST(TtyCanon, EraseOverControlCharacterTakesTwoColumns) {
    Tty t;
    t.type("a\x01");
    EXPECT_EQ(t.port.take(), "a^A");
    EXPECT_EQ(t.ld->column(), 3u);
    t.type("\x7f");
    EXPECT_EQ(t.port.take(), "\b \b\b \b");
    EXPECT_EQ(t.ld->column(), 1u);
    t.type("\r");
    EXPECT_EQ(t.read(), "a\n");
}

TEST(TtyCanon, EraseAtLineStartDoesNothing) {
    Tty t;
    t.type("\x7f\x7f");
    EXPECT_EQ(t.port.take(), "");
    t.type("x\n\x7f");  // a finished line cannot be erased
    EXPECT_EQ(t.port.take(), "x\r\n");
    EXPECT_EQ(t.read(), "x\n");
}

TEST(TtyCanon, EraseWithoutEchoeEchoesTheEraseCharacter) {
    Tty t;
    t.lflags(0, ECHOE);
    t.type("ab\x7f");
    EXPECT_EQ(t.port.take(), "ab^?");
    t.type("\r");
    EXPECT_EQ(t.read(), "a\n");
}

TEST(TtyCanon, EraseTabGoesBackToItsStart) {
    Tty t;
    t.type("ab\t");
    EXPECT_EQ(t.port.take(), "ab\t");
    EXPECT_EQ(t.ld->column(), 8u);
    t.type("\x7f");
    EXPECT_EQ(t.port.take(), std::string(6, '\b'));
    EXPECT_EQ(t.ld->column(), 2u);
}

TEST(TtyCanon, EraseTabCountsFromThePromptColumn) {
    Tty t;
    t.write("$ ");  // the shell's prompt: the line's echo starts at column 2
    t.type("a\t\x7f");
    // From "$ a" (column 3) the tab went to 8: erasing it goes back 5.
    EXPECT_EQ(t.port.take(), "a\t" + std::string(5, '\b'));
}

TEST(TtyCanon, KillLineVisually) {
    Tty t;
    t.type("abc\x15");
    EXPECT_EQ(t.port.take(), "abc\b \b\b \b\b \b");
    t.type("d\r");
    EXPECT_EQ(t.read(), "d\n");
}

TEST(TtyCanon, KillWithoutEchokeEchoesKillAndNewline) {
    Tty t;
    t.lflags(0, ECHOKE);
    t.type("abc\x15");
    EXPECT_EQ(t.port.take(), "abc^U\r\n");
    t.type("d\r");
    EXPECT_EQ(t.read(), "d\n");
}

TEST(TtyCanon, KillWithoutEchokAndEchokeEchoesOnlyTheKill) {
    Tty t;
    t.lflags(0, ECHOK | ECHOKE);
    t.type("abc\x15");
    EXPECT_EQ(t.port.take(), "abc^U");
}

TEST(TtyCanon, WordErase) {
    Tty t;
    t.type("foo bar  \x17");
    EXPECT_EQ(t.port.take(), "foo bar  " + std::string("\b \b\b \b\b \b\b \b\b \b"));
    t.type("\x17");
    EXPECT_EQ(t.port.take(), "\b \b\b \b\b \b\b \b");  // "foo " goes; nothing before it stops the erase
    t.type("x\r");
    EXPECT_EQ(t.read(), "x\n");
}

TEST(TtyCanon, WordEraseKeepsPunctuationBeforeTheWord) {
    Tty t;
    t.type("a/b_c\x17\r");
    EXPECT_EQ(t.read(), "a/\n");  // '_' counts as a word character
}

TEST(TtyCanon, WordEraseNeedsIexten) {
    Tty t;
    t.lflags(0, IEXTEN);
    t.type("ab\x17\r");
    EXPECT_EQ(t.port.take(), "ab^W\r\n");
    EXPECT_EQ(t.read(), "ab\x17\n");
}

TEST(TtyCanon, EofOnEmptyLineReadsZero) {
    Tty t;
    t.type("\x04");
    EXPECT_EQ(t.port.take(), "");  // EOF is not echoed
    EXPECT_TRUE(t.ld->input_available());
    EXPECT_TRUE(t.ld->at_eof_pending());
    EXPECT_EQ(t.ld->readable(), 0u);
    EXPECT_EQ(t.read(), "");
    EXPECT_FALSE(t.ld->input_available());
    EXPECT_FALSE(t.ld->at_eof_pending());
}

TEST(TtyCanon, EofMidLineDeliversThePartialLine) {
    Tty t;
    t.type("abc\x04");
    EXPECT_EQ(t.port.take(), "abc");
    EXPECT_EQ(t.ld->readable(), 3u);
    EXPECT_FALSE(t.ld->at_eof_pending());
    EXPECT_EQ(t.read(), "abc");
    EXPECT_FALSE(t.ld->input_available());
    t.type("\x04");
    EXPECT_EQ(t.read(), "");
    EXPECT_FALSE(t.ld->input_available());
}

TEST(TtyCanon, ExactFitBeforeEofSkipsIt) {
    // tty_read's final zero-length ldisc call (canon_skip_eof): a buffer
    // that ends right before the EOF character does not leave a spurious
    // end of file behind.
    Tty t;
    t.type("abc\x04");
    EXPECT_EQ(t.read(3), "abc");
    EXPECT_FALSE(t.ld->input_available());
    // A newline is not skipped that way.
    t.type("def\n");
    EXPECT_EQ(t.read(3), "def");
    EXPECT_EQ(t.read(), "\n");
}

TEST(TtyCanon, LiteralNext) {
    Tty t;
    t.type("\x16");
    EXPECT_EQ(t.port.take(), "^\b");
    t.type("\x03");
    EXPECT_EQ(t.port.take(), "^C");
    EXPECT_TRUE(t.port.signals.empty());
    t.type("\x16\x7f\x16\x04\r");
    EXPECT_EQ(t.port.take(), "^\b^?^\b^D\r\n");
    EXPECT_EQ(t.read(), "\x03\x7f\x04\n");
}

TEST(TtyCanon, LiteralNextAcrossReceiveCalls) {
    Tty t;
    t.type("\x16");
    t.type("\x15");
    t.type("\n");
    EXPECT_EQ(t.read(), "\x15\n");
}

TEST(TtyCanon, Reprint) {
    Tty t;
    t.type("ab\x01");
    t.port.take();
    t.type("\x12");
    EXPECT_EQ(t.port.take(), "^R\r\nab^A");
    t.type("\r");
    EXPECT_EQ(t.read(), "ab\x01\n");
}

TEST(TtyCanon, EchoprtErase) {
    // Reading of n_tty.c's eraser(): "\" opens the erased text, which is
    // echoed backwards, and "/" closes it at the next ordinary character.
    Tty t;
    t.lflags(ECHOPRT, ECHOE);
    t.type("abc\x7f\x7f");
    EXPECT_EQ(t.port.take(), "abc\\cb");
    t.type("d");
    EXPECT_EQ(t.port.take(), "/d");
    t.type("\x7f\x7f");  // back to the line start: closed at once
    EXPECT_EQ(t.port.take(), "\\da/");
}

TEST(TtyCanon, EolCharacters) {
    Tty t;
    t.cc(VEOL, ';');
    t.cc(VEOL2, '|');
    t.type("a;b|c");
    EXPECT_EQ(t.port.take(), "a;b|c");
    EXPECT_EQ(t.read(), "a;");
    EXPECT_EQ(t.read(), "b|");
    EXPECT_FALSE(t.ld->input_available());
}

TEST(TtyCanon, NulIsNeverSpecial) {
    // VEOL and VEOL2 are 0 by default: a typed NUL is an ordinary character.
    Tty t;
    const u8 nul[] = {'a', 0, 'b', '\n'};
    t.ld->receive(nul, 4);
    EXPECT_EQ(t.port.take(), "a^@b\r\n");
    EXPECT_EQ(t.read(), std::string("a\0b\n", 4));
}

TEST(TtyCanon, EchoOff) {
    Tty t;
    t.lflags(0, ECHO);
    t.type("secret\x7f\r");
    EXPECT_EQ(t.port.take(), "");
    EXPECT_EQ(t.read(), "secre\n");
}

TEST(TtyCanon, EchonlWithoutEcho) {
    Tty t;
    t.lflags(ECHONL, ECHO);
    t.type("pw\r");
    EXPECT_EQ(t.port.take(), "\r\n");
    EXPECT_EQ(t.read(), "pw\n");
}

TEST(TtyCanon, EchoWithoutEchoctl) {
    Tty t;
    t.lflags(0, ECHOCTL);
    t.type("a\x01");
    EXPECT_EQ(t.port.take(), "a\x01");
    t.type("\x7f");
    EXPECT_EQ(t.port.take(), "");  // the raw control character took no column
    t.type("\x7f");
    EXPECT_EQ(t.port.take(), "\b \b");
}

TEST(TtyCanon, LineLimitIs4095PlusNewline) {
    Tty t;
    t.lflags(0, ECHO);
    std::string lots(5000, 'a');
    lots[4094] = 'y';  // the 4095th character is kept
    lots[4095] = 'z';  // from here on each character replaces the last
    EXPECT_EQ(t.type(lots), 5000u);
    t.type("\r");
    std::string line = t.read();
    ASSERT_EQ(line.size(), 4096u);
    EXPECT_EQ(line.substr(0, 4094), std::string(4094, 'a'));
    EXPECT_EQ(line.substr(4094), "y\n");
}

TEST(TtyCanon, FullLineStillEditable) {
    Tty t;
    t.lflags(0, ECHO);
    t.type(std::string(4095, 'a'));
    t.type("\x7f\x7f" "bc\r");
    std::string line = t.read();
    ASSERT_EQ(line.size(), 4096u);
    EXPECT_EQ(line.substr(4092), "abc\n");
}

TEST(TtyCanon, CompleteLineStopsInputWhenFull) {
    // With a line waiting, the buffer takes no more than 4095 bytes: the
    // rest waits in the driver.
    Tty t;
    t.lflags(0, ECHO);
    t.type("x\n");
    EXPECT_EQ(t.type(std::string(5000, 'b')), 4093u);
    EXPECT_EQ(t.read(), "x\n");
    EXPECT_EQ(t.type("cc"), 2u);
}

// ------------------------------------------------------------ signals

TEST(TtySignals, InterruptFlushesAndEchoes) {
    Tty t;
    t.type("abc");
    EXPECT_EQ(t.port.take(), "abc");
    t.type("\x03");
    EXPECT_EQ(t.port.signals, std::vector<int>{SIGINT});
    EXPECT_EQ(t.port.discards, 1);
    EXPECT_EQ(t.port.take(), "^C");
    EXPECT_EQ(t.ld->column(), 5u);
    t.type("\r");
    EXPECT_EQ(t.read(), "\n");  // "abc" was flushed
}

TEST(TtySignals, InterruptDiscardsEchoesOfTheSameBurst) {
    // isig() clears the echo buffer before "^C" is added, and echoes are
    // only written at the end of a receive burst (below 256 bytes).
    Tty t;
    t.type("ab\x03");
    EXPECT_EQ(t.port.take(), "^C");
}

TEST(TtySignals, QuitAndSuspend) {
    Tty t;
    t.type("\x1c");
    EXPECT_EQ(t.port.take(), "^\\");
    t.type("\x1a");
    EXPECT_EQ(t.port.take(), "^Z");
    EXPECT_EQ(t.port.signals, (std::vector<int>{SIGQUIT, SIGTSTP}));
    t.type("\x1c\x1a");  // in one burst the second flush drops the first echo
    EXPECT_EQ(t.port.take(), "^Z");
}

TEST(TtySignals, NoflshKeepsInput) {
    Tty t;
    t.lflags(NOFLSH);
    t.type("abc\x03" "d\r");
    EXPECT_EQ(t.port.discards, 0);
    EXPECT_EQ(t.port.take(), "abc^Cd\r\n");
    EXPECT_EQ(t.read(), "abcd\n");
}

TEST(TtySignals, SignalsWorkInNonCanonicalMode) {
    Tty t;
    t.noncanon(1, 0);
    t.type("xy\x03z");
    EXPECT_EQ(t.port.signals, std::vector<int>{SIGINT});
    EXPECT_EQ(t.read(), "z");
}

TEST(TtySignals, IsigOffMakesThemOrdinary) {
    Tty t;
    t.lflags(0, ISIG);
    t.type("\x03\r");
    EXPECT_TRUE(t.port.signals.empty());
    EXPECT_EQ(t.port.take(), "^C\r\n");
    EXPECT_EQ(t.read(), "\x03\n");
}

TEST(TtySignals, BreakWithBrkint) {
    Tty t;
    t.ld->receive_break();  // default: no BRKINT, a NUL is read
    t.type("\n");
    EXPECT_EQ(t.read(), std::string("\0\n", 2));
    t.iflags(BRKINT);
    t.type("ab");
    t.ld->receive_break();
    EXPECT_EQ(t.port.signals, std::vector<int>{SIGINT});
    t.type("\n");
    EXPECT_EQ(t.read(), "\n");
    t.iflags(IGNBRK);
    t.ld->receive_break();
    EXPECT_EQ(t.port.signals.size(), 1u);
}

TEST(TtySignals, WindowSizeChange) {
    Tty t;
    winsize ws = t.ld->window_size();
    EXPECT_EQ(ws.ws_row, 0);
    EXPECT_EQ(ws.ws_col, 0);
    t.ld->set_window_size(winsize{24, 80, 0, 0});
    EXPECT_EQ(t.port.signals, std::vector<int>{SIGWINCH});
    t.ld->set_window_size(winsize{24, 80, 0, 0});
    EXPECT_EQ(t.port.signals.size(), 1u);  // unchanged: no signal
    t.ld->set_window_size(winsize{24, 80, 640, 0});
    EXPECT_EQ(t.port.signals.size(), 2u);
    EXPECT_EQ(t.ld->window_size().ws_xpixel, 640);
}

// ------------------------------------------------------------ non-canonical

TEST(TtyRaw, MakeRawPassesEveryByte) {
    Tty t;
    t.make_raw();
    std::string all;
    for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
    EXPECT_EQ(t.type(all), 256u);
    EXPECT_EQ(t.port.take(), "");
    EXPECT_TRUE(t.port.signals.empty());
    EXPECT_EQ(t.ld->readable(), 256u);
    EXPECT_EQ(t.read(100), all.substr(0, 100));
    EXPECT_EQ(t.read(), all.substr(100));
    // Output is not processed either.
    EXPECT_EQ(t.write("a\nb\t"), "a\nb\t");
}

TEST(TtyRaw, BufferHolds4095Bytes) {
    Tty t;
    t.make_raw();
    EXPECT_EQ(t.type(std::string(5000, 'q')), 4095u);
    EXPECT_EQ(t.read(10).size(), 10u);
    EXPECT_EQ(t.type(std::string(20, 'r')), 10u);
}

TEST(TtyRaw, NonCanonicalEchoUsesCaretNotation) {
    Tty t;
    termios2 tio = t.tio();
    tio.c_lflag &= ~ICANON;
    t.set(tio);
    t.type("a\x01\r\x7f");
    EXPECT_EQ(t.port.take(), "a^A\r\n^?");  // CR (mapped to NL by ICRNL) is echoed as a newline
    EXPECT_EQ(t.read(), "a\x01\n\x7f");
}

TEST(TtyRaw, ReadPlanMin0Time0) {
    Tty t;
    t.noncanon(0, 0);
    std::vector<u8> buf(16);
    BlockingRead op(*t.ld, buf.size());
    EXPECT_TRUE(op.step(*t.ld, buf.data(), 1000));  // polls: nothing, returns 0
    EXPECT_EQ(op.copied(), 0u);
    t.type("hi");
    BlockingRead op2(*t.ld, buf.size());
    EXPECT_TRUE(op2.step(*t.ld, buf.data(), 1000));
    EXPECT_EQ(op2.copied(), 2u);
}

TEST(TtyRaw, ReadPlanMin0TimeN) {
    Tty t;
    t.noncanon(0, 5);  // wait up to 0.5 s for the first byte
    std::vector<u8> buf(16);
    BlockingRead op(*t.ld, buf.size());
    EXPECT_FALSE(op.step(*t.ld, buf.data(), 1000 * kMs));
    EXPECT_EQ(op.deadline_ns(), 1500 * kMs);
    EXPECT_FALSE(op.step(*t.ld, buf.data(), 1200 * kMs));  // woken early, nothing there
    t.type("a");
    EXPECT_TRUE(op.step(*t.ld, buf.data(), 1300 * kMs));
    EXPECT_EQ(op.copied(), 1u);

    BlockingRead timeout(*t.ld, buf.size());
    EXPECT_FALSE(timeout.step(*t.ld, buf.data(), 0));
    EXPECT_TRUE(timeout.step(*t.ld, buf.data(), 500 * kMs));
    EXPECT_EQ(timeout.copied(), 0u);
}

TEST(TtyRaw, ReadPlanMinNTime0) {
    Tty t;
    t.noncanon(3, 0);
    std::vector<u8> buf(16);
    BlockingRead op(*t.ld, buf.size());
    EXPECT_FALSE(op.step(*t.ld, buf.data(), 0));
    EXPECT_EQ(op.deadline_ns(), BlockingRead::kForever);
    t.type("ab");
    EXPECT_FALSE(op.step(*t.ld, buf.data(), 10 * kMs));
    EXPECT_EQ(op.copied(), 2u);
    EXPECT_EQ(op.deadline_ns(), BlockingRead::kForever);
    t.type("cdef");
    EXPECT_TRUE(op.step(*t.ld, buf.data(), 20 * kMs));
    EXPECT_EQ(op.copied(), 6u);  // more than VMIN: what is there is taken
    EXPECT_EQ(std::string(buf.begin(), buf.begin() + 6), "abcdef");
    EXPECT_FALSE(t.ld->poll_readable());
    t.type("gh");
    EXPECT_FALSE(t.ld->poll_readable());  // POLLIN waits for VMIN when VTIME is 0
    t.type("i");
    EXPECT_TRUE(t.ld->poll_readable());

    // A buffer smaller than VMIN ends the read when it is full.
    Tty s;
    s.noncanon(5, 0);
    s.type("xyz");
    BlockingRead small(*s.ld, 2);
    EXPECT_TRUE(small.step(*s.ld, buf.data(), 0));
    EXPECT_EQ(small.copied(), 2u);
}

TEST(TtyRaw, ReadPlanMinNTimeNIsAnInterByteTimer) {
    Tty t;
    t.noncanon(4, 2);
    std::vector<u8> buf(16);
    BlockingRead op(*t.ld, buf.size());
    EXPECT_FALSE(op.step(*t.ld, buf.data(), 0));
    EXPECT_EQ(op.deadline_ns(), BlockingRead::kForever);  // no timer before the first byte
    t.type("a");
    EXPECT_FALSE(op.step(*t.ld, buf.data(), 1000 * kMs));
    EXPECT_EQ(op.deadline_ns(), 1200 * kMs);
    t.type("b");
    EXPECT_FALSE(op.step(*t.ld, buf.data(), 1100 * kMs));
    EXPECT_EQ(op.deadline_ns(), 1300 * kMs);  // restarted by the new byte
    EXPECT_TRUE(op.step(*t.ld, buf.data(), 1300 * kMs));
    EXPECT_EQ(op.copied(), 2u);
}

TEST(TtyRaw, CanonicalReadWaitsForALine) {
    Tty t;
    std::vector<u8> buf(64);
    BlockingRead op(*t.ld, buf.size());
    t.type("ab");
    EXPECT_FALSE(op.step(*t.ld, buf.data(), 0));
    EXPECT_EQ(op.deadline_ns(), BlockingRead::kForever);
    t.type("\ncd\n");
    EXPECT_TRUE(op.step(*t.ld, buf.data(), 0));
    EXPECT_EQ(op.copied(), 3u);
    t.type("\x04");
    BlockingRead second(*t.ld, buf.size());
    EXPECT_TRUE(second.step(*t.ld, buf.data(), 0));
    EXPECT_EQ(second.copied(), 3u);
    BlockingRead eof(*t.ld, buf.size());
    EXPECT_TRUE(eof.step(*t.ld, buf.data(), 0));
    EXPECT_EQ(eof.copied(), 0u);
}

// ------------------------------------------------------------ mode switches

TEST(TtyModes, RawInputBecomesALineWhenIcanonIsSet) {
    Tty t;
    t.noncanon(1, 0);
    t.type("abc");
    t.lflags(ICANON);
    EXPECT_TRUE(t.ld->input_available());
    EXPECT_EQ(t.ld->readable(), 3u);
    EXPECT_EQ(t.read(), "abc");
    EXPECT_FALSE(t.ld->input_available());
}

TEST(TtyModes, PartialLineIsReadableWhenIcanonIsCleared) {
    Tty t;
    t.type("ab\x04" "cd");
    t.lflags(0, ICANON);
    // The EOF character is stored as a NUL, which raw reads now see.
    EXPECT_EQ(t.ld->readable(), 5u);
    EXPECT_EQ(t.read(), std::string("ab\0cd", 5));
}

TEST(TtyModes, LnextIsCancelledBySwitchingModes) {
    Tty t;
    t.type("\x16");
    t.lflags(0, ICANON);
    t.lflags(ICANON);
    t.type("\x15x\n");
    EXPECT_EQ(t.read(), "x\n");
}

TEST(TtyModes, TermiosGetAndSet) {
    Tty t;
    termios old{};
    t.ld->get(old);
    EXPECT_EQ(old.c_lflag, t.tio().c_lflag);
    EXPECT_EQ(old.c_cc[VERASE], 0x7f);
    old.c_cflag = (old.c_cflag & ~CBAUD) | B9600;
    old.c_cc[VERASE] = '\b';
    t.ld->set(old);
    EXPECT_EQ(t.tio().c_ospeed, 9600u);
    EXPECT_EQ(t.tio().c_ispeed, 9600u);
    t.type("ab\b\r");
    EXPECT_EQ(t.read(), "a\n");

    termios2 t2 = t.tio();
    t2.c_cflag = (t2.c_cflag & ~CBAUD) | BOTHER;
    t2.c_ospeed = 12345;
    t2.c_ispeed = 0;
    t.set(t2);
    EXPECT_EQ(t.tio().c_ospeed, 12345u);
    EXPECT_EQ(t.tio().c_ispeed, 12345u);  // CIBAUD of B0: input follows output
    t2.c_cflag = (t2.c_cflag & ~CBAUD) | B115200;
    t.set(t2);
    EXPECT_EQ(t.tio().c_ospeed, 115200u);
}

TEST(TtyModes, InputMapping) {
    Tty t;
    t.lflags(0, ECHO);
    t.iflags(IGNCR);
    t.type("a\rb\n");
    EXPECT_EQ(t.read(), "ab\n");
    t.iflags(INLCR, IGNCR | ICRNL);
    t.cc(VEOL, '\r');
    t.type("c\n");
    EXPECT_EQ(t.read(), "c\r");
    t.iflags(ISTRIP | IUCLC | ICRNL, INLCR);
    t.type("\xc1" "BC\r");
    EXPECT_EQ(t.read(), "abc\n");
}

// ------------------------------------------------------------ output

TEST(TtyOutput, Onlcr) {
    Tty t;
    EXPECT_EQ(t.write("a\nb\n"), "a\r\nb\r\n");
    t.oflags(0, ONLCR);
    EXPECT_EQ(t.write("a\nb"), "a\nb");
    t.oflags(0, OPOST);
    t.oflags(ONLCR);
    EXPECT_EQ(t.write("a\n"), "a\n");  // ONLCR needs OPOST
}

TEST(TtyOutput, CarriageReturnFlags) {
    Tty t;
    t.oflags(OCRNL, ONLCR);
    EXPECT_EQ(t.write("a\rb"), "a\nb");
    EXPECT_EQ(t.ld->column(), 2u);  // OCRNL without ONLRET keeps the column
    t.oflags(ONOCR | ONLCR, OCRNL);
    EXPECT_EQ(t.write("\r"), "\r");
    EXPECT_EQ(t.write("\r"), "");  // at column 0: dropped
    t.oflags(ONLRET, ONLCR);
    EXPECT_EQ(t.write("xy\n\r"), "xy\n");  // ONLRET: NL returns the carriage
}

TEST(TtyOutput, OlcucAndTabs) {
    Tty t;
    t.oflags(OLCUC);
    EXPECT_EQ(t.write("abc\n"), "ABC\r\n");
    t.oflags(XTABS, OLCUC);
    EXPECT_EQ(t.write("ab\tc\t"), "ab      c       ");
    EXPECT_EQ(t.ld->column(), 16u);
    t.oflags(0, TABDLY);
    EXPECT_EQ(t.write("\t"), "\t");
    EXPECT_EQ(t.ld->column(), 24u);
    EXPECT_EQ(t.write("\b\b"), "\b\b");
    EXPECT_EQ(t.ld->column(), 22u);
}

TEST(TtyOutput, Utf8ContinuationBytesTakeNoColumn) {
    Tty t;
    t.iflags(IUTF8);
    t.write("\xc3\xa9\t");
    EXPECT_EQ(t.ld->column(), 8u);
    t.type("\xc3\xa9");
    t.type("\x7f");
    EXPECT_EQ(t.port.take(), "\xc3\xa9\b \b");  // one character, one column
    t.type("\r");
    EXPECT_EQ(t.read(), "\n");
}

TEST(TtyOutput, StopsWhereTheDeviceIsFull) {
    Tty t;
    t.port.room = 3;
    auto r = t.ld->process_output(reinterpret_cast<const u8*>("ab\ncd"), 5);
    ASSERT_TRUE(r.is_ok());
    EXPECT_EQ(r.value(), 2u);  // CR LF does not fit whole
    EXPECT_EQ(t.port.take(), "ab");
    EXPECT_EQ(t.ld->column(), 2u);
    t.port.room = 0;
    auto full = t.ld->process_output(reinterpret_cast<const u8*>("\ncd"), 3);
    ASSERT_TRUE(full.is_error());
    EXPECT_EQ(full.error().code(), EAGAIN);
}

// ------------------------------------------------------------ flow control

TEST(TtyFlow, IxonStopAndStart) {
    Tty t;
    t.type("\x13");
    EXPECT_TRUE(t.ld->output_stopped());
    EXPECT_EQ(t.port.flow, std::vector<bool>{true});
    auto r = t.ld->process_output(reinterpret_cast<const u8*>("x"), 1);
    ASSERT_TRUE(r.is_error());
    EXPECT_EQ(r.error().code(), EAGAIN);
    t.type("ab");
    EXPECT_EQ(t.port.take(), "");  // echoes wait for ^Q
    t.type("\x11");
    EXPECT_FALSE(t.ld->output_stopped());
    EXPECT_EQ(t.port.take(), "ab");
    EXPECT_EQ(t.write("x"), "x");
    t.type("\r");
    EXPECT_EQ(t.read(), "ab\n");  // ^S/^Q never reach the reader
}

TEST(TtyFlow, IxanyRestartsOnAnyCharacter) {
    Tty t;
    t.iflags(IXANY);
    t.type("\x13");
    t.type("q");
    EXPECT_FALSE(t.ld->output_stopped());
    EXPECT_EQ(t.port.take(), "q");
    // Without IXANY only ^Q restarts.
    t.iflags(0, IXANY);
    t.type("\x13" "r");
    EXPECT_TRUE(t.ld->output_stopped());
}

TEST(TtyFlow, InterruptRestartsOutput) {
    Tty t;
    t.type("\x13\x03");
    EXPECT_FALSE(t.ld->output_stopped());
    EXPECT_EQ(t.port.take(), "^C");
}

TEST(TtyFlow, ClearingIxonRestarts) {
    Tty t;
    t.type("\x13");
    t.iflags(0, IXON);
    EXPECT_FALSE(t.ld->output_stopped());
    t.type("\x13\x11\r");
    EXPECT_EQ(t.read(), "\x13\x11\n");
}

TEST(TtyFlow, Tcxonc) {
    Tty t;
    EXPECT_TRUE(t.ld->flow(TCOOFF).is_ok());
    EXPECT_TRUE(t.ld->output_stopped());
    t.type("\x11");  // ^Q does not undo TCOOFF
    EXPECT_TRUE(t.ld->output_stopped());
    EXPECT_TRUE(t.ld->flow(TCOON).is_ok());
    EXPECT_FALSE(t.ld->output_stopped());
    EXPECT_TRUE(t.ld->flow(TCIOFF).is_ok());
    EXPECT_TRUE(t.ld->flow(TCION).is_ok());
    EXPECT_EQ(t.port.xchars, "\x13\x11");
    EXPECT_EQ(t.ld->flow(7).error().code(), EINVAL);
}

TEST(TtyFlow, IxoffThrottlesNearFull) {
    Tty t;
    t.make_raw();
    t.iflags(IXOFF);
    t.type(std::string(3900, 'a'));
    EXPECT_EQ(t.port.xchars, "");
    t.type(std::string(100, 'a'));  // fewer than 128 free: send STOP
    EXPECT_EQ(t.port.xchars, "\x13");
    t.read(3000);
    EXPECT_EQ(t.port.xchars, "\x13");
    t.read(900);  // 100 left: send START
    EXPECT_EQ(t.port.xchars, "\x13\x11");

    Tty p;
    p.port.pty = true;
    p.make_raw();
    p.iflags(IXOFF);
    p.type(std::string(4000, 'a'));
    EXPECT_EQ(p.port.xchars, "");
}

TEST(TtyFlow, Tcflsh) {
    Tty t;
    t.type("abc\ndef");
    EXPECT_TRUE(t.ld->flush(TCIFLUSH).is_ok());
    EXPECT_FALSE(t.ld->input_available());
    EXPECT_EQ(t.port.discards, 0);
    EXPECT_TRUE(t.ld->flush(TCOFLUSH).is_ok());
    EXPECT_EQ(t.port.discards, 1);
    EXPECT_TRUE(t.ld->flush(TCIOFLUSH).is_ok());
    EXPECT_EQ(t.port.discards, 2);
    EXPECT_EQ(t.ld->flush(3).error().code(), EINVAL);
    t.type("g\n");
    EXPECT_EQ(t.read(), "g\n");
}
