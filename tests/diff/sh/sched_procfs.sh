# What /proc shows of the scheduler: the formats of /proc/<pid>/sched,
# /proc/<pid>/schedstat, /proc/schedstat and /proc/loadavg, and the
# scheduler sysctls. Values that vary are replaced by their shape.
check() { echo "CHECK $1: $2"; }

# /proc/self/sched: the header and every key, in order (one awk, so that
# the test forks little).
awk 'NR == 1 { gsub(/[0-9]+/, "N"); print "CHECK sched_header: " $0; next }
     NR == 2 { print "CHECK sched_rule: " $0; next }
     { key = $0; sub(/ *:.*/, "", key); val = $0; sub(/.*: */, "", val); gsub(/[0-9]+/, "N", val);
       print "CHECK sched_key_" NR - 2 ": " key " " val }
     /^(policy|prio|se.load.weight|nr_voluntary_switches) / { v = $0; gsub(/  +/, " ", v); print "CHECK sched_value: " v }' /proc/self/sched

# /proc/self/schedstat: three numbers.
check self_schedstat "$(sed 's/[0-9][0-9]*/N/g' /proc/self/schedstat)"

# /proc/schedstat: version, timestamp, one cpu line per CPU (field count),
# and the domain lines' shape.
check schedstat_version "$(sed -n 1p /proc/schedstat)"
check schedstat_timestamp "$(sed -n 2p /proc/schedstat | sed 's/[0-9][0-9]*/N/g')"
grep '^cpu' /proc/schedstat | while read -r l; do check schedstat_cpu "$(echo "$l" | awk '{print $1, NF}')"; done
grep '^domain' /proc/schedstat | while read -r l; do check schedstat_domain "$(echo "$l" | awk '{print $1, $2, NF}')"; done

# /proc/loadavg
check loadavg_shape "$(sed 's/[0-9][0-9]*/N/g' /proc/loadavg)"

# Scheduler sysctls.
for f in sched_rt_runtime_us sched_rt_period_us sched_rr_timeslice_ms sched_child_runs_first \
         sched_autogroup_enabled sched_schedstats sched_energy_aware sched_util_clamp_min; do
    if [ -e /proc/sys/kernel/$f ]; then check "sysctl_$f" "$(cat /proc/sys/kernel/$f)"; else check "sysctl_$f" missing; fi
done
ls /proc/sys/kernel | grep '^sched' | while read -r f; do check sysctl_listed "$f"; done

# Column layout of /proc/self/sched: where the colon is, and the widths of
# a number and of a time (digits after the point).
check sched_layout_num "$(grep '^policy' /proc/self/sched | awk '{print index($0, ":"), length($0)}')"
check sched_layout_time "$(grep '^se.exec_start' /proc/self/sched | awk '{print index($0, ":"), length($0) - index($0, ".")}')"

# Writing the RT limits: accepted values, then the errno for bad ones.
w() { if echo "$2" > /proc/sys/kernel/$1 2>/dev/null; then echo ok; else echo fail; fi; }
check rt_runtime_write_unlimited "$(w sched_rt_runtime_us -1) $(cat /proc/sys/kernel/sched_rt_runtime_us)"
check rt_runtime_write_over_period "$(w sched_rt_runtime_us 2000000) $(cat /proc/sys/kernel/sched_rt_runtime_us)"
check rt_runtime_write_junk "$(w sched_rt_runtime_us abc) $(cat /proc/sys/kernel/sched_rt_runtime_us)"
check rt_period_write_zero "$(w sched_rt_period_us 0) $(cat /proc/sys/kernel/sched_rt_period_us)"
check rt_runtime_write_back "$(w sched_rt_runtime_us 950000) $(cat /proc/sys/kernel/sched_rt_runtime_us)"
