#include "lib/log_ring.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace keel;

namespace {

std::string text_of(const LogRing& ring, u64 seq) {
    LogRecord r;
    if (!ring.get(seq, r)) return "<gone>";
    return std::string(r.text.data(), r.text.size());
}

}  // namespace

TEST(LogRing, KeepsRecordsInOrder) {
    std::vector<u8> buf(1024);
    LogRing ring(buf.data(), buf.size());
    ring.append(6, 0, 1000, "first");
    ring.append(3, 1, 2000, "second");
    EXPECT_EQ(ring.first_seq(), 0u);
    EXPECT_EQ(ring.next_seq(), 2u);
    LogRecord r;
    ASSERT_TRUE(ring.get(1, r));
    EXPECT_EQ(r.level, 3);
    EXPECT_EQ(r.facility, 1);
    EXPECT_EQ(r.ts_ns, 2000u);
    EXPECT_EQ(text_of(ring, 0), "first");
    EXPECT_FALSE(ring.get(2, r));
}

TEST(LogRing, DropsOldestWholeRecordsWhenFull) {
    std::vector<u8> buf(512);
    LogRing ring(buf.data(), buf.size());
    for (int i = 0; i < 1000; ++i) {
        std::string t = "message number " + std::to_string(i) + std::string(i % 37, 'x');
        ring.append(6, 0, i, StringView(t.data(), t.size()));
        // Every held record is intact and the newest is always there.
        for (u64 s = ring.first_seq(); s < ring.next_seq(); ++s) {
            std::string want = "message number " + std::to_string(s) + std::string(s % 37, 'x');
            ASSERT_EQ(text_of(ring, s), want) << "after " << i;
        }
        ASSERT_EQ(ring.next_seq(), static_cast<u64>(i + 1));
        ASSERT_LT(ring.first_seq(), ring.next_seq());
    }
    EXPECT_GT(ring.first_seq(), 900u);
    LogRecord r;
    EXPECT_FALSE(ring.get(0, r));
}

TEST(LogRing, CutsOverlongText) {
    std::vector<u8> buf(256);
    LogRing ring(buf.data(), buf.size());
    std::string big(1000, 'a');
    ring.append(6, 0, 0, StringView(big.data(), big.size()));
    EXPECT_EQ(text_of(ring, 0).size(), 64u);
}

TEST(LogRing, RendersSyslogAndKmsg) {
    std::vector<u8> buf(1024);
    LogRing ring(buf.data(), buf.size());
    ring.append(6, 0, 1234567891, "hello");
    ring.append(4, 1, 5000, StringView("tab\there\\", 9));
    LogRecord r;
    ASSERT_TRUE(ring.get(0, r));
    char out[128];
    usize n = render_syslog(r, out, sizeof(out));
    EXPECT_EQ(std::string(out, n), "<6>[    1.234567] hello\n");
    n = render_kmsg(r, out, sizeof(out));
    EXPECT_EQ(std::string(out, n), "6,0,1234567,-;hello\n");
    ASSERT_TRUE(ring.get(1, r));
    n = render_kmsg(r, out, sizeof(out));
    EXPECT_EQ(std::string(out, n), "12,1,5,-;tab\\x09here\\x5c\n");
    // Counting only, and a short buffer still reports the full length.
    EXPECT_EQ(render_syslog(r, nullptr, 0), std::string("<12>[    0.000005] tab\there\\\n").size());
    EXPECT_EQ(render_kmsg(r, out, 4), n);
    EXPECT_EQ(ring.rendered_size(0, render_syslog), 24u + 29u);
}
