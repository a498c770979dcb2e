// kernel/cgroup/parse: the text formats of cgroup v2 files, with the
// outcomes Linux 6.12 gives (tests/diff/c/cgroup_*.c compare the same
// inputs against it).
#include <gtest/gtest.h>

#include "kernel/cgroup/parse.h"

using namespace keel;
using namespace keel::cgroup;

namespace {

const char* const NAMES[] = {"cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma", "misc"};

int err(const Error& e) { return e.code(); }

}  // namespace

TEST(CgroupParse, Numbers) {
    EXPECT_EQ(parse_u64("42").value(), 42u);
    EXPECT_EQ(parse_u64("42\n").value(), 42u);
    EXPECT_EQ(parse_u64("0x10").value(), 16u);
    EXPECT_EQ(parse_u64("010").value(), 8u);
    EXPECT_EQ(parse_u64("+7").value(), 7u);
    EXPECT_EQ(err(parse_u64("").error()), EINVAL);
    EXPECT_EQ(err(parse_u64("1 2").error()), EINVAL);
    EXPECT_EQ(err(parse_u64("-1").error()), EINVAL);
    EXPECT_EQ(err(parse_u64("12x").error()), EINVAL);
    EXPECT_EQ(err(parse_u64("99999999999999999999").error()), ERANGE);
    EXPECT_EQ(parse_i64("-20").value(), -20);
    EXPECT_EQ(err(parse_i64("x").error()), EINVAL);
}

TEST(CgroupParse, MaxOrNumber) {
    EXPECT_EQ(parse_max_or_u64("max", ERANGE).value(), UNLIMITED);
    EXPECT_EQ(parse_max_or_u64(" max\n", ERANGE).value(), UNLIMITED);
    EXPECT_EQ(parse_max_or_u64("5", ERANGE).value(), 5u);
    EXPECT_EQ(err(parse_max_or_u64("-1", ERANGE).error()), ERANGE);
    EXPECT_EQ(err(parse_max_or_u64("-1", EINVAL).error()), EINVAL);
    EXPECT_EQ(err(parse_max_or_u64("maxx", ERANGE).error()), EINVAL);
}

TEST(CgroupParse, Bytes) {
    EXPECT_EQ(parse_bytes_or_max("max").value(), UNLIMITED);
    EXPECT_EQ(parse_bytes_or_max("1M").value(), 1u << 20);
    EXPECT_EQ(parse_bytes_or_max("2g").value(), 2ull << 30);
    EXPECT_EQ(parse_bytes_or_max("64K\n").value(), 64u << 10);
    EXPECT_EQ(parse_bytes_or_max("5000").value(), 5000u);
    EXPECT_EQ(err(parse_bytes_or_max("12x").error()), EINVAL);
    EXPECT_EQ(err(parse_bytes_or_max("-1").error()), EINVAL);
    EXPECT_EQ(err(parse_bytes_or_max("1MB").error()), EINVAL);
}

TEST(CgroupParse, SubtreeControl) {
    auto c = parse_subtree_control("+cpu +memory", NAMES, 8).value();
    EXPECT_EQ(c.enable, (1u << 1) | (1u << 3));
    EXPECT_EQ(c.disable, 0u);
    c = parse_subtree_control("  +io -io \n", NAMES, 8).value();
    EXPECT_EQ(c.enable, 0u);
    EXPECT_EQ(c.disable, 1u << 2);
    c = parse_subtree_control("", NAMES, 8).value();
    EXPECT_EQ(c.enable | c.disable, 0u);
    EXPECT_EQ(err(parse_subtree_control("pids", NAMES, 8).error()), EINVAL);
    EXPECT_EQ(err(parse_subtree_control("+bogus", NAMES, 8).error()), EINVAL);
    EXPECT_EQ(err(parse_subtree_control("+io +bogus", NAMES, 8).error()), EINVAL);
    EXPECT_EQ(err(parse_subtree_control("+", NAMES, 8).error()), EINVAL);
}

TEST(CgroupParse, CpuMax) {
    auto m = parse_cpu_max("50000 100000", 100000).value();
    EXPECT_EQ(m.quota_us, 50000u);
    EXPECT_EQ(m.period_us, 100000u);
    m = parse_cpu_max("20000", 50000).value();
    EXPECT_EQ(m.quota_us, 20000u);
    EXPECT_EQ(m.period_us, 50000u);
    m = parse_cpu_max("max 50000\n", 100000).value();
    EXPECT_EQ(m.quota_us, UNLIMITED);
    EXPECT_EQ(m.period_us, 50000u);
    EXPECT_EQ(err(parse_cpu_max("abc", 100000).error()), EINVAL);
    EXPECT_EQ(err(parse_cpu_max("\n", 100000).error()), EINVAL);
    EXPECT_EQ(err(parse_cpu_max("max x", 100000).error()), EINVAL);
}

TEST(CgroupParse, CpuList) {
    EXPECT_EQ(parse_cpu_list("", 2).value(), 0u);
    EXPECT_EQ(parse_cpu_list("1", 2).value(), 2u);
    EXPECT_EQ(parse_cpu_list("0-1\n", 2).value(), 3u);
    EXPECT_EQ(parse_cpu_list("0,2-3", 8).value(), 0xdu);
    EXPECT_EQ(err(parse_cpu_list("5", 2).error()), ERANGE);
    EXPECT_EQ(err(parse_cpu_list("100", 2).error()), ERANGE);
    EXPECT_EQ(err(parse_cpu_list("a", 2).error()), EINVAL);
    EXPECT_EQ(err(parse_cpu_list("1-0", 2).error()), EINVAL);
    EXPECT_EQ(err(parse_cpu_list("1-", 2).error()), EINVAL);
    EXPECT_EQ(err(parse_cpu_list("0,,1", 2).error()), EINVAL);
}
