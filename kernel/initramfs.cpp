#include "kernel/initramfs.h"

#include "kernel/boot_info.h"
#include "kernel/printk.h"
#include "lib/inflate.h"
#include "mm/layout.h"
#include "mm/vmalloc.h"

namespace keel {

namespace {
InitramfsImage image;
bool ready = false;
// Decompressed images larger than this are refused (ENOMEM-like EFBIG).
constexpr usize MAX_UNPACKED = 1 * GiB;
}  // namespace

Result<InitramfsImage> initramfs_image() {
    if (ready) return image;
    if (!boot_info.initrd_size) return Error(ENOENT);
    const u8* raw = mm::phys_to_ptr<const u8>(boot_info.initrd_phys);
    usize raw_size = boot_info.initrd_size;
    if (!is_gzip(raw, raw_size)) {
        image = {raw, raw_size, false};
        ready = true;
        return image;
    }
    // The decoder's state (about 78 KiB) and the output are too big for the
    // slab allocator's classes: vmalloc both.
    auto* st = static_cast<InflateState*>(TRY(mm::vmalloc(sizeof(InflateState))));
    auto size = gunzip_size(*st, raw, raw_size, MAX_UNPACKED);
    if (size.is_error()) {
        mm::vfree(st);
        return size.error();
    }
    auto out = mm::vmalloc(max<usize>(size.value(), 1));
    if (out.is_error()) {
        mm::vfree(st);
        return out.error();
    }
    auto done = gunzip_to_buffer(*st, raw, raw_size, static_cast<u8*>(out.value()), size.value());
    mm::vfree(st);
    if (done.is_error()) {
        mm::vfree(out.value());
        return done.error();
    }
    image = {static_cast<const u8*>(out.value()), done.value(), true};
    ready = true;
    pr_info("initramfs: gzip, %zu bytes unpacked to %zu", raw_size, done.value());
    return image;
}

}  // namespace keel
