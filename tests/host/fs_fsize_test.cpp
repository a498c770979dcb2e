// RLIMIT_FSIZE as the file layer applies it (Cred::fsize_limit): a write
// that would cross the limit is cut there, one that starts at or past it
// fails with EFBIG (the kernel adds SIGXFSZ), O_APPEND counts from the
// end, and a truncate that grows a file past it fails too.
#include "tests/host/fs_test_support.h"

using namespace fstest;

namespace {

class FsFsize : public FsTest {
protected:
    Cred limited() {
        Cred c = rootc;
        c.fsize_limit = 10;
        return c;
    }
    Result<usize> pw(File& f, const std::string& s, u64 off, const Cred& c) {
        KernelDataBuffer b(s.data(), s.size());
        return fs::pwrite(f, b, off, c);
    }
    Result<usize> w(File& f, const std::string& s, const Cred& c) {
        KernelDataBuffer b(s.data(), s.size());
        return fs::write(f, b, c);
    }
};

TEST_F(FsFsize, WritesStopAtTheLimit) {
    Cred c = limited();
    auto f = openf("/f", O_CREAT | O_RDWR);
    ASSERT_TRUE(f);
    auto n = w(*f, "0123456789abcdef", c);
    ASSERT_TRUE(n.is_ok());
    EXPECT_EQ(n.value(), 10u);
    EXPECT_EQ(err(w(*f, "x", c)), EFBIG);
    EXPECT_EQ(err(pw(*f, "x", 10, c)), EFBIG);
    EXPECT_EQ(err(pw(*f, "x", 100, c)), EFBIG);
    auto n2 = pw(*f, "AB", 9, c);
    ASSERT_TRUE(n2.is_ok());
    EXPECT_EQ(n2.value(), 1u);
    EXPECT_EQ(read_file("/f"), "012345678A");
    // An empty write is no write: no EFBIG.
    auto z = w(*f, "", c);
    ASSERT_TRUE(z.is_ok());
    EXPECT_EQ(z.value(), 0u);
    // Without a limit the file grows on.
    ASSERT_TRUE(pw(*f, "x", 10, rootc).is_ok());
    EXPECT_EQ(st("/f").stx_size, 11u);
}

TEST_F(FsFsize, AppendCountsFromTheEnd) {
    Cred c = limited();
    ASSERT_EQ(write_file("/f", "01234567"), 0);
    auto f = openf("/f", O_WRONLY | O_APPEND);
    ASSERT_TRUE(f);
    auto n = w(*f, "abcdef", c);
    ASSERT_TRUE(n.is_ok());
    EXPECT_EQ(n.value(), 2u);
    EXPECT_EQ(err(w(*f, "x", c)), EFBIG);
    EXPECT_EQ(read_file("/f"), "01234567ab");
}

TEST_F(FsFsize, TruncateBeyondTheLimit) {
    Cred c = limited();
    auto f = openf("/f", O_CREAT | O_RDWR);
    ASSERT_TRUE(f);
    EXPECT_EQ(err(fs::ftruncate(*f, 11, c)), EFBIG);
    EXPECT_TRUE(fs::ftruncate(*f, 10, c).is_ok());
    ASSERT_TRUE(fs::ftruncate(*f, 100, rootc).is_ok());
    EXPECT_TRUE(fs::ftruncate(*f, 50, c).is_ok());  // shrinking is always allowed
    EXPECT_EQ(st("/f").stx_size, 50u);
}

}  // namespace
