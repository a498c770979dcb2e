#include "arch/x86_64/rtc.h"

#include "arch/x86_64/cpu.h"

namespace keel::arch {

namespace {

u8 cmos(u8 reg) {
    outb(0x70, reg);
    return inb(0x71);
}

u32 bcd(u8 v) { return (v & 0x0f) + (v >> 4) * 10; }

// Days from 1970-01-01 to y-m-d (proleptic Gregorian), the civil-from-days
// inverse commonly used for this.
i64 days_from_civil(i64 y, u32 m, u32 d) {
    y -= m <= 2;
    i64 era = (y >= 0 ? y : y - 399) / 400;
    u32 yoe = static_cast<u32>(y - era * 400);
    u32 doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    u32 doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<i64>(doe) - 719468;
}

}  // namespace

u64 rtc_read_epoch_seconds() {
    // No RTC: the index port floats and every register reads 0xff.
    if (cmos(0x0a) == 0xff && cmos(0x0b) == 0xff) return 0;
    // Wait (bounded) for the end of an update, then read twice until stable.
    for (int i = 0; i < 100000 && (cmos(0x0a) & 0x80); ++i) cpu_relax();
    u8 r[6], again[6];
    const u8 regs[6] = {0x00, 0x02, 0x04, 0x07, 0x08, 0x09};
    for (int tries = 0; tries < 5; ++tries) {
        for (int i = 0; i < 6; ++i) r[i] = cmos(regs[i]);
        for (int i = 0; i < 6; ++i) again[i] = cmos(regs[i]);
        if (__builtin_memcmp(r, again, sizeof(r)) == 0) break;
    }
    u8 status_b = cmos(0x0b);
    bool binary = status_b & 0x04;
    bool h24 = status_b & 0x02;
    auto v = [&](u8 x) { return binary ? x : bcd(x); };
    u32 sec = v(r[0]), min = v(r[1]), day = v(r[3]), mon = v(r[4]), year = v(r[5]) + 2000;
    u32 hour = v(r[2] & 0x7f);
    if (!h24 && (r[2] & 0x80)) hour = (hour % 12) + 12;
    if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60) return 0;
    i64 days = days_from_civil(year, mon, day);
    return static_cast<u64>(days * 86400 + hour * 3600 + min * 60 + sec);
}

}  // namespace keel::arch
