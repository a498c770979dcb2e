#include "arch/x86_64/firmware_tables.h"

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
        if (sig && __builtin_memcmp(sig, "APIC", 4) == 0) {
            parse_madt(p);
            return topo.ncpus > 0;
        }
    }
    return false;
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

}  // namespace keel::arch
