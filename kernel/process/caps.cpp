#include "kernel/process/caps.h"

#include <linux/securebits.h>

#include "kernel/process/process.h"

namespace keel::caps {

namespace {

// What a change of the filesystem uid to or from 0 takes away or gives
// back: the file-system capabilities, as Linux groups them.
constexpr u64 FS_SET = bit(CAP_CHOWN) | bit(CAP_MKNOD) | bit(CAP_DAC_OVERRIDE) | bit(CAP_DAC_READ_SEARCH) |
                       bit(CAP_FOWNER) | bit(CAP_FSETID) | bit(CAP_MAC_OVERRIDE) | bit(CAP_LINUX_IMMUTABLE);

bool secure(const proc::Cred& c, int which) { return c.securebits & (1u << which); }

}  // namespace

bool has(const proc::Cred& c, int cap) { return valid(static_cast<unsigned long>(cap)) && (c.cap_effective & bit(cap)); }

bool capable(int cap) { return has(proc::current_process()->cred, cap); }

void fix_setuid(proc::Cred& c, const proc::Cred& old) {
    if (secure(c, SECURE_NO_SETUID_FIXUP)) return;
    bool had_root = old.ruid == 0 || old.euid == 0 || old.suid == 0;
    bool no_root = c.ruid != 0 && c.euid != 0 && c.suid != 0;
    if (had_root && no_root) {
        if (!secure(c, SECURE_KEEP_CAPS)) c.cap_permitted = c.cap_effective = 0;
        c.cap_ambient = 0;
    }
    if (old.euid == 0 && c.euid != 0) c.cap_effective = 0;
    if (old.euid != 0 && c.euid == 0) c.cap_effective = c.cap_permitted;
}

void fix_setfsuid(proc::Cred& c, const proc::Cred& old) {
    if (secure(c, SECURE_NO_SETUID_FIXUP)) return;
    if (old.fsuid == 0 && c.fsuid != 0) c.cap_effective &= ~FS_SET;
    if (old.fsuid != 0 && c.fsuid == 0) c.cap_effective |= c.cap_permitted & FS_SET;
}

bool loses_dumpable(const proc::Cred& c, const proc::Cred& old) {
    return c.euid != old.euid || c.egid != old.egid || c.fsuid != old.fsuid || c.fsgid != old.fsgid ||
           (c.cap_permitted & ~old.cap_permitted);
}

void exec(proc::Process& p) {
    proc::Cred& c = p.cred;
    // No file capabilities and no set-id bits in Keel's executables: root
    // (unless SECBIT_NOROOT) is treated as if the file had every
    // capability, and is effective only with an effective uid of 0.
    u64 permitted = 0;
    bool effective = false;
    if ((c.euid == 0 || c.ruid == 0) && !secure(c, SECURE_NOROOT)) {
        permitted = c.cap_bset | c.cap_inheritable;
        effective = c.euid == 0;
    }
    u64 old_permitted = c.cap_permitted;
    c.cap_permitted = (permitted | c.cap_ambient) & ALL;
    c.cap_effective = effective ? c.cap_permitted : c.cap_ambient;
    c.securebits &= ~(1u << SECURE_KEEP_CAPS);
    // Dumpable again unless the ids differ, or the exec gained permitted
    // capabilities (root after a capset that dropped some).
    p.dumpable = c.euid == c.ruid && c.egid == c.rgid && !(c.cap_permitted & ~old_permitted) ? 1 : 0;
}

}  // namespace keel::caps
