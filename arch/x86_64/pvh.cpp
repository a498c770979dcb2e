#include "arch/x86_64/pvh.h"

#include "kernel/boot_info.h"
#include "mm/layout.h"

namespace keel {

BootInfo boot_info;
mm::BootMemory boot_memory;

namespace {
// The boot page tables map the first 4 GiB at the direct map; loader data
// beyond that cannot be reached yet and is treated as absent.
constexpr u64 EARLY_MAPPED = 4 * GiB;

bool early_readable(u64 phys, u64 size) { return phys != 0 && phys + size >= phys && phys + size <= EARLY_MAPPED; }
}  // namespace

void parse_pvh_start_info(u32 phys) {
    if (!early_readable(phys, sizeof(arch::pvh::StartInfo))) return;
    const auto& si = *mm::phys_to_ptr<const arch::pvh::StartInfo>(phys);
    if (si.magic != arch::pvh::START_MAGIC) return;
    boot_info.valid = true;

    if (si.cmdline_paddr && early_readable(si.cmdline_paddr, 1)) {
        const char* src = mm::phys_to_ptr<const char>(si.cmdline_paddr);
        usize max = sizeof(boot_info.cmdline) - 1;
        usize n = 0;
        while (n < max && early_readable(si.cmdline_paddr + n, 1) && src[n]) {
            boot_info.cmdline[n] = src[n];
            ++n;
        }
        boot_info.cmdline[n] = 0;
    }

    if (si.nr_modules > 0 && early_readable(si.modlist_paddr, sizeof(arch::pvh::ModlistEntry))) {
        const auto& mod = *mm::phys_to_ptr<const arch::pvh::ModlistEntry>(si.modlist_paddr);
        boot_info.initrd_phys = mod.paddr;
        boot_info.initrd_size = mod.size;
    }
    boot_info.rsdp_phys = si.rsdp_paddr;

    if (si.version >= 1 && si.memmap_entries > 0 &&
        early_readable(si.memmap_paddr, u64(si.memmap_entries) * sizeof(arch::pvh::MemmapEntry))) {
        const auto* e = mm::phys_to_ptr<const arch::pvh::MemmapEntry>(si.memmap_paddr);
        boot_info.memmap_entries = si.memmap_entries;
        for (u32 i = 0; i < si.memmap_entries; ++i)
            if (e[i].type == arch::pvh::RAM) boot_memory.add_ram(e[i].addr, e[i].size);
    }
}

}  // namespace keel
