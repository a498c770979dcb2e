// The core files (cgroup.*, and cpu.stat and the pressure files, which
// every cgroup has whatever its controllers), in Linux 6.12's formats.
#include "kernel/cgroup/cgroupfs.h"
#include "kernel/cgroup/files.h"
#include "kernel/cgroup/freeze.h"
#include "kernel/cgroup/parse.h"
#include "kernel/psi/psi.h"

namespace keel::cgroup {

namespace {

void put_ctrl_list(fs::SeqBuf& out, u32 mask) {
    bool first = true;
    for (u32 i = 0; i < NCTRL; ++i) {
        if (!(mask & (1u << i))) continue;
        out.printf("%s%s", first ? "" : " ", CTRL_NAMES[i]);
        first = false;
    }
    if (!first) out.putc('\n');  // nothing at all when the list is empty, as Linux
}

Status show_controllers(fs::SeqBuf& out, Cgroup& c) {
    put_ctrl_list(out, c.controllers());
    return {};
}

Status show_subtree_control(fs::SeqBuf& out, Cgroup& c) {
    put_ctrl_list(out, c.subtree_control);
    return {};
}

Status store_subtree_control(Cgroup& c, StringView text) {
    ControlChange ch = TRY(parse_subtree_control(text, CTRL_NAMES, NCTRL));
    return change_subtree_control(c, ch.enable, ch.disable);
}

void emit_id(void* ctx, int id) { static_cast<fs::SeqBuf*>(ctx)->printf("%d\n", id); }

Status show_procs(fs::SeqBuf& out, Cgroup& c) {
    if (c.threaded) return Error(EOPNOTSUPP);
    list_members(c, false, emit_id, &out);
    return out.status();
}

Status show_threads(fs::SeqBuf& out, Cgroup& c) {
    list_members(c, true, emit_id, &out);
    return out.status();
}

// kstrtouint on the stripped text: the pid to move.
Result<int> parse_pid(StringView text) {
    u64 v = TRY(parse_u64(strip(text)));
    if (v > 0x7fffffff) return Error(ERANGE);
    return static_cast<int>(v);
}

Status store_procs(Cgroup& c, StringView text) { return move_process(c, TRY(parse_pid(text))); }
Status store_threads(Cgroup& c, StringView text) { return move_thread(c, TRY(parse_pid(text))); }

Status show_events(fs::SeqBuf& out, Cgroup& c) {
    bool frozen = __atomic_load_n(&c.frozen_state, __ATOMIC_RELAXED);
    out.printf("populated %d\nfrozen %d\n", c.populated() ? 1 : 0, frozen ? 1 : 0);
    return {};
}

Status show_type(fs::SeqBuf& out, Cgroup& c) {
    if (c.threaded) out.puts("threaded\n");
    else if (!is_valid_domain(c)) out.puts("domain invalid\n");
    else if (is_thread_root(c)) out.puts("domain threaded\n");
    else out.puts("domain\n");
    return {};
}

// Only the switch to "threaded" exists (it cannot be undone).
Status store_type(Cgroup& c, StringView text) {
    if (strip(text) == "threaded") return make_threaded(c);
    return Error(EINVAL);
}

void put_max(fs::SeqBuf& out, u64 v) {
    if (v == UNLIMITED) out.puts("max\n");
    else out.printf("%llu\n", static_cast<unsigned long long>(v));
}

Status show_max_depth(fs::SeqBuf& out, Cgroup& c) {
    put_max(out, c.max_depth);
    return {};
}

Status show_max_descendants(fs::SeqBuf& out, Cgroup& c) {
    put_max(out, c.max_descendants);
    return {};
}

// kstrtoint: "max", or 0..INT_MAX; negative ERANGE.
Result<u64> parse_int_limit(StringView text) {
    u64 v = TRY(parse_max_or_u64(text, ERANGE));
    if (v != UNLIMITED && v > 0x7fffffff) return Error(ERANGE);
    return v;
}

Status store_max_depth(Cgroup& c, StringView text) {
    c.max_depth = TRY(parse_int_limit(text));
    return {};
}

Status store_max_descendants(Cgroup& c, StringView text) {
    c.max_descendants = TRY(parse_int_limit(text));
    return {};
}

// Every subsystem, with the implicit perf_event.
const char* const STAT_NAMES[] = {"cpuset", "cpu", "io", "memory", "perf_event", "hugetlb", "pids", "rdma", "misc"};
constexpr int STAT_CTRL[] = {CPUSET, CPU, IO, MEMORY, -1, HUGETLB, PIDS, RDMA, MISC};

// perf_event is implicit: a cgroup has it once its parent's
// subtree_control has been written.
u32 count_subsys(const Cgroup& c, int ctrl) {
    u32 n = 0;
    if (c.is_root()) ++n;
    else if (ctrl >= 0 ? (c.controllers() & (1u << ctrl)) != 0 : c.parent->control_written) ++n;
    const_cast<Cgroup&>(c).children.for_each([&](Cgroup& ch) { n += count_subsys(ch, ctrl); });
    return n;
}

Status show_stat(fs::SeqBuf& out, Cgroup& c) {
    out.printf("nr_descendants %u\n", c.nr_descendants);
    for (usize i = 0; i < sizeof(STAT_CTRL) / sizeof(STAT_CTRL[0]); ++i)
        out.printf("nr_subsys_%s %u\n", STAT_NAMES[i], count_subsys(c, STAT_CTRL[i]));
    out.puts("nr_dying_descendants 0\n");
    for (const char* name : STAT_NAMES) out.printf("nr_dying_subsys_%s 0\n", name);
    return {};
}

Status show_freeze(fs::SeqBuf& out, Cgroup& c) {
    out.printf("%d\n", c.frozen ? 1 : 0);
    return {};
}

// kstrtoint, then 0 or 1 (ERANGE otherwise).
Result<int> parse_bool_int(StringView text) {
    i64 v = TRY(parse_i64(strip(text)));
    if (v != 0 && v != 1) return Error(ERANGE);
    return static_cast<int>(v);
}

Status store_freeze(Cgroup& c, StringView text) {
    set_freeze(c, TRY(parse_bool_int(text)) == 1);
    return {};
}

Status store_kill(Cgroup& c, StringView text) {
    i64 v = TRY(parse_i64(strip(text)));
    if (v != 1) return Error(ERANGE);
    kill_subtree(c);
    return {};
}

Status show_cgroup_pressure(fs::SeqBuf& out, Cgroup& c) {
    out.printf("%d\n", c.pressure_off ? 0 : 1);
    return {};
}

Status store_cgroup_pressure(Cgroup& c, StringView text) {
    i64 v = TRY(parse_i64(strip(text)));
    if (v != 0 && v != 1) return Error(ERANGE);
    c.pressure_off = v == 0;
    psi::set_enabled(psi_of(c), v == 1);  // the system group (root) stays on
    return {};
}

template <psi::Resource R>
Status show_pressure(fs::SeqBuf& out, Cgroup& c) {
    if (c.pressure_off) return Error(EOPNOTSUPP);
    psi::show(*psi_of(c), R, out);
    return {};
}

Status show_cpu_stat(fs::SeqBuf& out, Cgroup& c) {
    CpuUsage u = cpu_usage(c);
    u64 user = u.user_ns / 1000, system = u.system_ns / 1000;
    out.printf("usage_usec %llu\nuser_usec %llu\nsystem_usec %llu\nnice_usec 0\n",
               static_cast<unsigned long long>(user + system), static_cast<unsigned long long>(user),
               static_cast<unsigned long long>(system));
    if (c.controllers() & (1u << CPU)) {
        sched::BandwidthStats b = sched::bandwidth::stats(c.bw);
        out.printf("nr_periods %llu\nnr_throttled %llu\nthrottled_usec %llu\nnr_bursts 0\nburst_usec 0\n",
                   static_cast<unsigned long long>(b.nr_periods), static_cast<unsigned long long>(b.nr_throttled),
                   static_cast<unsigned long long>(b.throttled_usec));
    }
    return {};
}

Status show_cpu_stat_local(fs::SeqBuf& out, Cgroup& c) {
    if (c.controllers() & (1u << CPU))
        out.printf("throttled_usec %llu\n", static_cast<unsigned long long>(sched::bandwidth::stats(c.bw).throttled_usec));
    return {};
}

constexpr u8 CORE = NCTRL;

}  // namespace

const FileDef CORE_FILES[] = {
    {"cgroup.controllers", 0444, CORE, Where::Both, show_controllers, nullptr},
    {"cgroup.subtree_control", 0644, CORE, Where::Both, show_subtree_control, store_subtree_control},
    {"cgroup.procs", 0644, CORE, Where::Both, show_procs, store_procs, Notify::None, -1, open_procs},
    {"cgroup.threads", 0644, CORE, Where::Both, show_threads, store_threads, Notify::None, -1, open_threads},
    {"cgroup.events", 0444, CORE, Where::ChildOnly, show_events, nullptr, Notify::Events},
    {"cgroup.type", 0644, CORE, Where::ChildOnly, show_type, store_type},
    {"cgroup.max.depth", 0644, CORE, Where::Both, show_max_depth, store_max_depth},
    {"cgroup.max.descendants", 0644, CORE, Where::Both, show_max_descendants, store_max_descendants},
    {"cgroup.stat", 0444, CORE, Where::Both, show_stat, nullptr},
    {"cgroup.freeze", 0644, CORE, Where::ChildOnly, show_freeze, store_freeze},
    {"cgroup.kill", 0200, CORE, Where::ChildOnly, nullptr, store_kill},
    {"cgroup.pressure", 0644, CORE, Where::Both, show_cgroup_pressure, store_cgroup_pressure},
    {"cpu.stat", 0444, CORE, Where::Both, show_cpu_stat, nullptr},
    {"cpu.stat.local", 0444, CORE, Where::Both, show_cpu_stat_local, nullptr},
    // Writes (triggers) go to the open description psi makes (cgroupfs.cpp).
    {"cpu.pressure", 0644, CORE, Where::Both, show_pressure<psi::RES_CPU>, nullptr, Notify::None, psi::RES_CPU},
    {"io.pressure", 0644, CORE, Where::Both, show_pressure<psi::RES_IO>, nullptr, Notify::None, psi::RES_IO},
    {"memory.pressure", 0644, CORE, Where::Both, show_pressure<psi::RES_MEM>, nullptr, Notify::None, psi::RES_MEM},
};
constexpr usize NCORE = sizeof(CORE_FILES) / sizeof(CORE_FILES[0]);

usize nfiles() { return NCORE + ctrl_nfiles(); }

const FileDef& file_at(usize i) { return i < NCORE ? CORE_FILES[i] : ctrl_file_defs()[i - NCORE]; }

bool file_visible(const FileDef& f, const Cgroup& c) {
    if (f.where == Where::RootOnly && !c.is_root()) return false;
    if (f.where == Where::ChildOnly && c.is_root()) return false;
    if (f.psi_res >= 0 && c.pressure_off) return false;  // cgroup.pressure 0 hides them
    if (f.ctrl == CORE || c.is_root()) return true;
    return c.controllers() & (1u << f.ctrl);
}

const FileDef* find_file(const Cgroup& c, StringView name) {
    for (usize i = 0; i < nfiles(); ++i) {
        const FileDef& f = file_at(i);
        if (StringView(f.name) == name && file_visible(f, c)) return &f;
    }
    return nullptr;
}

}  // namespace keel::cgroup
