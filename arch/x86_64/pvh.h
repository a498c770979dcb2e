// The PVH boot ABI (Xen's hvm_start_info, version 1): what the loader hands
// the kernel in %ebx. Layouts are ABI facts, checked below.
#pragma once

#include "lib/types.h"

namespace keel::arch::pvh {

constexpr u32 START_MAGIC = 0x336ec578;

struct StartInfo {
    u32 magic;
    u32 version;
    u32 flags;
    u32 nr_modules;
    u64 modlist_paddr;
    u64 cmdline_paddr;
    u64 rsdp_paddr;
    u64 memmap_paddr;  // version >= 1
    u32 memmap_entries;
    u32 reserved;
};
static_assert(sizeof(StartInfo) == 56);

struct ModlistEntry {
    u64 paddr;
    u64 size;
    u64 cmdline_paddr;
    u64 reserved;
};
static_assert(sizeof(ModlistEntry) == 32);

// Types follow the E820 convention.
enum MemType : u32 { RAM = 1, RESERVED = 2, ACPI_RECLAIM = 3, ACPI_NVS = 4, UNUSABLE = 5 };

struct MemmapEntry {
    u64 addr;
    u64 size;
    u32 type;
    u32 reserved;
};
static_assert(sizeof(MemmapEntry) == 24);

}  // namespace keel::arch::pvh
