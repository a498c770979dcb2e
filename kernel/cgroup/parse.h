// The text formats of cgroup v2's files, as Linux 6.12 parses them: numbers
// (kstrto* rules: optional sign, 0x/0 prefixes, one trailing newline),
// "max", the "+ctrl -ctrl" tokens of cgroup.subtree_control, cpu.max's
// "$QUOTA $PERIOD", byte sizes with K/M/G/T suffixes, and CPU lists.
// Portable: host-tested in tests/host/cgroup_parse_test.cpp.
#pragma once

#include "lib/result.h"
#include "lib/string_view.h"

namespace keel::cgroup {

constexpr u64 UNLIMITED = ~0ull;  // "max"

// Leading and trailing whitespace removed (Linux's strstrip).
StringView strip(StringView s);

// A whole signed number in base 0 (as kstrtoll): EINVAL for anything that
// is not one, ERANGE when it does not fit.
Result<i64> parse_i64(StringView s);
// The same for an unsigned number (a leading '-' is EINVAL).
Result<u64> parse_u64(StringView s);

// "max" -> UNLIMITED, else an unsigned number; negative numbers are
// `negative_errno` (ERANGE for cgroup.max.*, EINVAL for pids.max).
Result<u64> parse_max_or_u64(StringView s, int negative_errno);

// memparse: a number with an optional K/M/G/T/P/E suffix (powers of 1024);
// "max" -> UNLIMITED.
Result<u64> parse_bytes_or_max(StringView s);

// cgroup.subtree_control: whitespace-separated "+name"/"-name" tokens; a
// later token about the same controller overrides an earlier one. `names`
// lists the controllers by bit. EINVAL for a token without a sign or an
// unknown name.
struct ControlChange {
    u32 enable = 0;
    u32 disable = 0;
};
Result<ControlChange> parse_subtree_control(StringView s, const char* const* names, usize count);

// cpu.max: "$QUOTA [$PERIOD]" in microseconds, QUOTA a number or "max";
// the period keeps `period_us` when not given. Range checks are the
// caller's (they depend on the period).
struct CpuMax {
    u64 quota_us;   // UNLIMITED for "max"
    u64 period_us;
};
Result<CpuMax> parse_cpu_max(StringView s, u64 period_us);

// A CPU list ("0-3,5", "" for none; bitmap_parselist) as a mask; EINVAL for
// junk or a reversed range, ERANGE for a number at or past `nbits` (<= 64).
Result<u64> parse_cpu_list(StringView s, u32 nbits);

}  // namespace keel::cgroup
