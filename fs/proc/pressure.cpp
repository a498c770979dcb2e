// /proc/pressure: the system-wide PSI figures (kernel/psi), one file per
// resource, each writable to set up a trigger on its descriptor.
#include "fs/proc/procfs_internal.h"
#include "kernel/psi/psi.h"

namespace keel::fs::procfs {

namespace {

template <psi::Resource R>
Status show_pressure(SeqBuf& out, const Target&) {
    psi::show(*psi::system_group(), R, out);
    return {};
}

template <psi::Resource R>
Result<OpenFile*> open_pressure(File& file, const Target&) {
    return psi::open_pressure_file(file, psi::system_group(), R, psi::WriteStyle::Proc);
}

// Linux makes them 0666: unprivileged programs may set triggers too (with
// windows in multiples of 2 s).
constexpr u32 PRESSURE_MODE = S_IFREG | 0666;

template <psi::Resource R>
constexpr ProcEntry pressure_entry(const char* name) {
    return {name, PRESSURE_MODE, show_pressure<R>, nullptr, nullptr, nullptr, 0, DirKind::Table, nullptr, nullptr,
            open_pressure<R>};
}

}  // namespace

// Without CONFIG_IRQ_TIME_ACCOUNTING (Debian's cloud kernel) there is no irq file.
const ProcEntry PRESSURE_ENTRIES[3] = {
    pressure_entry<psi::RES_IO>("io"),
    pressure_entry<psi::RES_MEM>("memory"),
    pressure_entry<psi::RES_CPU>("cpu"),
};

}  // namespace keel::fs::procfs
