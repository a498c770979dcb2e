#include "arch/x86_64/firmware_tables.h"

#include "arch/x86_64/cpu.h"
#include "kernel/printk.h"
#include "mm/ioremap.h"

namespace keel::arch {

namespace {

PlatformTopology topo;
bool parsed = false;

const u8* map(u64 phys, usize len) {
    auto r = ioremap(phys, len);
    return r.is_ok() ? static_cast<const u8*>(r.value()) : nullptr;
}

template <typename T>
T rd(const u8* p) {
    T v;
    __builtin_memcpy(&v, p, sizeof(T));
    return v;
}

bool checksum_ok(const u8* p, usize len) {
    u8 sum = 0;
    for (usize i = 0; i < len; ++i) sum = static_cast<u8>(sum + p[i]);
    return sum == 0;
}

// Finds `sig` (aligned to `step`) in [phys, phys+len).
u64 scan(u64 phys, usize len, const char* sig, usize siglen, usize step) {
    const u8* p = map(phys, len);
    if (!p) return 0;
    for (usize off = 0; off + siglen <= len; off += step)
        if (__builtin_memcmp(p + off, sig, siglen) == 0) return phys + off;
    return 0;
}

void add_cpu(u32 apic_id) {
    if (topo.ncpus < PlatformTopology::MAX) topo.apic_ids[topo.ncpus++] = apic_id;
}

void parse_madt(u64 phys) {
    const u8* h = map(phys, 8);
    if (!h) return;
    u32 len = rd<u32>(h + 4);
    if (len < 44 || len > 64 * 1024) return;
    const u8* t = map(phys, len);
    if (!t || !checksum_ok(t, len)) return;
    for (u32 off = 44; off + 2 <= len;) {
        u8 type = t[off], elen = t[off + 1];
        if (elen < 2 || off + elen > len) break;
        const u8* e = t + off;
        if (type == 0 && elen >= 8 && (rd<u32>(e + 4) & 1)) add_cpu(e[3]);
        else if (type == 9 && elen >= 16 && (rd<u32>(e + 8) & 1)) add_cpu(rd<u32>(e + 4));
        else if (type == 1 && elen >= 12 && !topo.have_ioapic) {
            topo.have_ioapic = true;
            topo.ioapic_phys = rd<u32>(e + 4);
            topo.ioapic_gsi_base = rd<u32>(e + 8);
        } else if (type == 2 && elen >= 10 && e[3] < 16) {
            topo.isa_gsi[e[3]] = rd<u32>(e + 4);
            topo.isa_flags[e[3]] = rd<u16>(e + 8);
        }
        off += elen;
    }
    topo.source = "ACPI MADT";
}

// The FADT's ways to enter S5 (power off): the sleep control register of
// a hardware-reduced platform (microvm's GED), else PM1a's control block.
struct PowerOff {
    u64 sleep_ctl = 0;
    u8 sleep_ctl_space = 0;  // ACPI address space: 0 memory, 1 I/O
    volatile u8* sleep_ctl_mmio = nullptr;  // mapped at boot: power-off runs with IRQs off
    u16 pm1a_cnt = 0;
} power;

void parse_fadt(u64 phys) {
    const u8* h = map(phys, 8);
    if (!h) return;
    u32 len = rd<u32>(h + 4);
    if (len < 116 || len > 64 * 1024) return;
    const u8* t = map(phys, len);
    if (!t || !checksum_ok(t, len)) return;
    power.pm1a_cnt = static_cast<u16>(rd<u32>(t + 64));
    constexpr u32 kHwReduced = 1u << 20;
    if ((rd<u32>(t + 112) & kHwReduced) && len >= 256) {
        // Generic address structure: space, width, offset, access size, address.
        power.sleep_ctl_space = t[244];
        power.sleep_ctl = rd<u64>(t + 248);
        if (power.sleep_ctl && power.sleep_ctl_space == 0) {
            auto r = ioremap(power.sleep_ctl, 1);
            if (r.is_ok()) power.sleep_ctl_mmio = static_cast<volatile u8*>(r.value());
        }
    }
}

bool parse_acpi(u64 rsdp) {
    if (!rsdp) rsdp = scan(0xe0000, 0x20000, "RSD PTR ", 8, 16);
    if (!rsdp) return false;
    const u8* r = map(rsdp, 36);
    if (!r || !checksum_ok(r, 20)) return false;
    bool xsdt = r[15] >= 2 && rd<u64>(r + 24);
    u64 root = xsdt ? rd<u64>(r + 24) : rd<u32>(r + 16);
    const u8* h = map(root, 36);
    if (!h) return false;
    u32 len = rd<u32>(h + 4);
    if (len < 36 || len > 64 * 1024) return false;
    const u8* t = map(root, len);
    usize esz = xsdt ? 8 : 4;
    for (u32 off = 36; off + esz <= len; off += esz) {
        u64 p = xsdt ? rd<u64>(t + off) : rd<u32>(t + off);
        const u8* sig = map(p, 4);
        if (sig && __builtin_memcmp(sig, "APIC", 4) == 0) parse_madt(p);
        if (sig && __builtin_memcmp(sig, "FACP", 4) == 0) parse_fadt(p);
    }
    return topo.ncpus > 0;
}

bool parse_mptable() {
    // Where the MP specification says to look: the first KiB of the EBDA
    // (its segment is at 0x40e in the BIOS data area), the last KiB of base
    // memory, and the BIOS ROM area.
    u64 fp = 0;
    if (const u8* bda = map(0x400, 0x100)) {
        u64 ebda = u64(rd<u16>(bda + 0x0e)) << 4;
        if (ebda >= 0x80000 && ebda < 0xa0000) fp = scan(ebda, 0x400, "_MP_", 4, 16);
    }
    if (!fp) fp = scan(0x9fc00, 0x400, "_MP_", 4, 16);
    if (!fp) fp = scan(0xe0000, 0x20000, "_MP_", 4, 16);
    if (!fp) return false;
    const u8* f = map(fp, 16);
    if (!f || !checksum_ok(f, 16)) return false;
    u64 cfg = rd<u32>(f + 4);
    if (!cfg) return false;
    const u8* h = map(cfg, 44);
    if (!h || __builtin_memcmp(h, "PCMP", 4) != 0) return false;
    u16 len = rd<u16>(h + 4);
    const u8* t = map(cfg, len);
    if (!t || !checksum_ok(t, len)) return false;
    // Walk by the table length, not the entry count: qboot (microvm without
    // ACPI) leaves the count at 0, and Linux also goes by length.
    u32 off = 44;
    while (off < len) {
        u8 type = t[off];
        if (type == 0) {
            if (off + 20 > len) break;
            if (t[off + 3] & 1) add_cpu(t[off + 1]);
            off += 20;
        } else {
            if (type == 2 && off + 8 <= len && !topo.have_ioapic) {
                topo.have_ioapic = true;
                topo.ioapic_phys = rd<u32>(t + off + 4);
            }
            off += 8;
        }
    }
    topo.source = "MP table";
    return topo.ncpus > 0;
}

}  // namespace

const PlatformTopology& platform_topology(u64 rsdp_hint) {
    if (parsed) return topo;
    parsed = true;
    for (u32 i = 0; i < 16; ++i) topo.isa_gsi[i] = i;
    if (!parse_acpi(rsdp_hint)) {
        topo.ncpus = 0;
        topo.have_ioapic = false;
        if (!parse_mptable()) {
            topo.ncpus = 0;
            topo.source = "none (single CPU)";
        }
    }
    pr_info("smp: %u CPUs described by %s", topo.ncpus, topo.source);
    return topo;
}

bool acpi_power_off() {
    // QEMU's tables: S5 is sleep type 5 on the GED of hardware-reduced
    // platforms and sleep type 0 in PM1a_CNT (its \_S5 package).
    constexpr u8 kSleepEnable = 1 << 5;
    if (power.sleep_ctl) {
        u8 v = static_cast<u8>((5 << 2) | kSleepEnable);
        if (power.sleep_ctl_space == 1) {
            outb(static_cast<u16>(power.sleep_ctl), v);
        } else if (power.sleep_ctl_mmio) {
            *power.sleep_ctl_mmio = v;
        }
    } else if (power.pm1a_cnt) {
        outw(power.pm1a_cnt, static_cast<u16>((0 << 10) | (1 << 13)));
    }
    return false;  // still here: it did not work
}

}  // namespace keel::arch
