// fs/proc/seq: the text builder behind generated files and the number
// formats /proc shares.
#include <gtest/gtest.h>

#include <string>

#include "fs/proc/seq.h"

using namespace keel;
using namespace keel::fs;

namespace {

std::string str(const SeqBuf& s) { return std::string(s.view().data(), s.view().size()); }

std::string window(const SeqBuf& s, u64 off, usize n) {
    std::string out(n, '\0');
    KernelDataBuffer buf(out.data(), n);
    auto got = s.copy_window(off, buf, 0, n);
    EXPECT_TRUE(got.is_ok());
    out.resize(got.value());
    return out;
}

}  // namespace

TEST(ProcSeq, PrintfGrowsPastTheFirstChunk) {
    SeqBuf s;
    std::string want;
    for (int i = 0; i < 2000; ++i) {
        s.printf("line %d\n", i);
        want += "line " + std::to_string(i) + "\n";
    }
    EXPECT_TRUE(s.status().is_ok());
    EXPECT_EQ(str(s), want);
}

TEST(ProcSeq, WindowsCopyThePartAsked) {
    SeqBuf s;
    s.puts("0123456789");
    EXPECT_EQ(window(s, 0, 4), "0123");
    EXPECT_EQ(window(s, 8, 10), "89");
    EXPECT_EQ(window(s, 10, 4), "");
    EXPECT_EQ(window(s, 1000, 4), "");
}

TEST(ProcSeq, BinaryBytesAreKept) {
    SeqBuf s;
    s.write("a\0b\0", 4);
    EXPECT_EQ(s.size(), 4u);
    EXPECT_EQ(str(s), std::string("a\0b\0", 4));
}

TEST(ProcSeq, EscapesLikeProcMounts) {
    SeqBuf s;
    s.put_escaped("/mnt/a b\\c\td\ne");
    EXPECT_EQ(str(s), "/mnt/a\\040b\\134c\\011d\\012e");
}

TEST(ProcSeq, CpuLists) {
    auto list = [](u64 m) {
        SeqBuf s;
        put_cpu_list(s, m);
        return str(s);
    };
    EXPECT_EQ(list(0), "");
    EXPECT_EQ(list(1), "0");
    EXPECT_EQ(list(3), "0-1");
    EXPECT_EQ(list(0b1011101), "0,2-4,6");
    EXPECT_EQ(list(~0ull), "0-63");
}

TEST(ProcSeq, CpuMasksAreAsWideAsTheCpuCount) {
    auto mask = [](u64 m, u32 n) {
        SeqBuf s;
        put_cpu_mask(s, m, n);
        return str(s);
    };
    EXPECT_EQ(mask(3, 2), "3");
    EXPECT_EQ(mask(1, 8), "01");
    EXPECT_EQ(mask(0xff, 8), "ff");
    EXPECT_EQ(mask(~0ull, 2), "3");
    EXPECT_EQ(mask(~0ull, 64), "ffffffff,ffffffff");
    EXPECT_EQ(mask(1, 40), "00,00000001");
}

TEST(ProcSeq, MeminfoLinesMatchLinux) {
    SeqBuf s;
    put_meminfo_line(s, "MemTotal", 217220);
    put_meminfo_line(s, "VmallocTotal", 13743895347199ull);
    put_meminfo_line(s, "Buffers", 0);
    EXPECT_EQ(str(s),
              "MemTotal:         217220 kB\n"
              "VmallocTotal:   13743895347199 kB\n"
              "Buffers:               0 kB\n");
}

TEST(ProcSeq, UuidsAreVersion4) {
    u8 b[16];
    for (int i = 0; i < 16; ++i) b[i] = static_cast<u8>(0xff - i);
    SeqBuf s;
    put_uuid(s, b);
    EXPECT_EQ(str(s), "fffefdfc-fbfa-49f8-b7f6-f5f4f3f2f1f0");
}
