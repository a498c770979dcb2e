// The files of a cgroup directory: which exist where (root, other cgroups,
// with a controller enabled) and how each is shown and written. The
// handlers run with the tree mutex held, on a cgroup that is not removed.
#pragma once

#include "fs/proc/seq.h"
#include "kernel/cgroup/cgroup.h"

namespace keel::fs {
class File;
class OpenFile;
}

namespace keel::cgroup {

enum class Where : u8 { Both, RootOnly, ChildOnly };
// Which change counter a file's poll() watches.
enum class Notify : u8 { None, Events, PidsEvents, MemEvents, MemEventsLocal };

struct FileDef {
    const char* name;
    u16 mode;   // permission bits (regular file)
    u8 ctrl;    // NCTRL: present whatever the controllers
    Where where;
    Status (*show)(fs::SeqBuf& out, Cgroup& c);
    // The whole write, at once (as kernfs hands it over).
    Status (*store)(Cgroup& c, StringView text);
    Notify notify = Notify::None;
    // {cpu,memory,io}.pressure: the PSI resource (psi::Resource), else -1.
    i8 psi_res = -1;
    // A description of its own (state per open file, as memory.peak's),
    // made with the tree mutex held on a cgroup not removed.
    Result<fs::OpenFile*> (*open)(fs::File& file, Cgroup& c) = nullptr;
};

// Every file, in no particular order: file_at(0 .. nfiles() - 1).
const FileDef& file_at(usize i);
usize nfiles();
bool file_visible(const FileDef& f, const Cgroup& c);
const FileDef* find_file(const Cgroup& c, StringView name);

// The controller files (files_ctrl.cpp), after the core ones.
const FileDef* ctrl_file_defs();
usize ctrl_nfiles();

}  // namespace keel::cgroup
