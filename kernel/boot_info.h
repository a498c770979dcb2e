// What the boot loader told us, copied out of loader memory before the boot
// page tables go away. Architecture-neutral.
#pragma once

#include "lib/types.h"
#include "mm/boot_mem.h"

namespace keel {

struct BootInfo {
    bool valid = false;            // a PVH start info with the right magic
    // One byte more than Linux's COMMAND_LINE_SIZE (2048) and a NUL: the
    // parser then sees that the line was cut and drops the cut token.
    char cmdline[2050] = {};
    u64 initrd_phys = 0;
    u64 initrd_size = 0;
    u64 rsdp_phys = 0;
    u32 memmap_entries = 0;
};

extern BootInfo boot_info;
extern mm::BootMemory boot_memory;

// Fills boot_info and boot_memory from the PVH start info at `phys`.
void parse_pvh_start_info(u32 phys);

}  // namespace keel
