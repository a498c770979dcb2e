# Busybox sh: pipelines, redirection, $?, test operators, printf, here-documents, functions.
# Each check prints "CHECK name: value"; values must be deterministic.
cd /tmp/sh_basic.sh 2>/dev/null || cd /tmp

echo "CHECK pipeline: $(printf 'c\nb\na\n' | sort | tr '\n' ' ')"
echo "CHECK pipeline_wc: $(seq 1 100 | grep 7 | wc -l)"
false; echo "CHECK status_false: $?"
true; echo "CHECK status_true: $?"
(exit 42); echo "CHECK status_subshell: $?"
sh -c 'exit 7'; echo "CHECK status_child_sh: $?"
sh -c 'kill -TERM $$'; echo "CHECK status_killed_sh: $?"
false | true; echo "CHECK status_pipeline_last: $?"
nonexistent_command_xyz 2>/dev/null; echo "CHECK status_not_found: $?"
echo hello > f1; echo world >> f1
echo "CHECK redirect_append: $(cat f1 | tr '\n' ' ')"
echo "CHECK redirect_wc: $(wc -c < f1)"
ls nonexistent_file 2> err1; echo "CHECK redirect_stderr_status: $?"
echo "CHECK redirect_stderr_nonempty: $(test -s err1 && echo yes || echo no)"
{ echo out; echo err >&2; } > both 2>&1
echo "CHECK redirect_both: $(cat both | tr '\n' ' ')"
exec 3> fd3; echo via3 >&3; exec 3>&-
echo "CHECK exec_fd3: $(cat fd3)"
cat > heredoc <<END
line1 $((6*7))
line2
END
echo "CHECK heredoc: $(cat heredoc | tr '\n' ' ')"
echo "CHECK arith: $((1 + 2 * 3)) $((10 / 3)) $((10 % 3)) $((1 << 10)) $((-5 / 2))"
x=abcdef
echo "CHECK param_expansion: ${#x} ${x#ab} ${x%ef} ${x:-unset} ${y:-default}"
set -- a "b c" d
echo "CHECK positional: $# $2"
f() { echo "in-f:$1"; return 3; }
out=$(f arg); st=$?
echo "CHECK function: $out $st"
i=0; while [ $i -lt 5 ]; do i=$((i+1)); done
echo "CHECK while_loop: $i"
s=""; for w in one two three; do s="$s$w."; done
echo "CHECK for_loop: $s"
case "hello.c" in *.c) r=C;; *) r=other;; esac
echo "CHECK case: $r"
echo "CHECK printf: $(printf '%5s|%-5s|%05d|%x|%o|%c|%%' ab cd 42 255 8 xyz)"
echo "CHECK printf_escape: $(printf 'a\tb' | od -An -c | tr -s ' ')"
echo "CHECK echo_n: $(echo -n abc; echo def)"
# test operators
touch tf; mkdir -p td; ln -sf tf tl; chmod 644 tf
t() { if test "$@"; then echo 1; else echo 0; fi; }
echo "CHECK test_files: $(t -e tf) $(t -f tf) $(t -d td) $(t -L tl) $(t -h tl) $(t -s tf) $(t -e nope) $(t -r tf) $(t -w tf) $(t -x tf)"
echo "CHECK test_strings: $(t abc = abc) $(t abc != abd) $(t -z '') $(t -n x) $(t abc \< abd)"
echo "CHECK test_numbers: $(t 3 -lt 5) $(t 5 -le 5) $(t 7 -gt 8) $(t 2 -ge 1) $(t 4 -eq 4) $(t 4 -ne 4)"
echo "CHECK test_logic: $(t 1 -eq 1 -a 2 -eq 2) $(t 1 -eq 2 -o 2 -eq 2) $(t ! 1 -eq 2)"
echo "CHECK test_nt: $(t tf -ef tl)"
[ 1 -eq ] 2>/dev/null; echo "CHECK test_syntax_error_status: $?"
# text tools
echo "CHECK sed: $(echo hello world | sed 's/o/0/g')"
echo "CHECK awk: $(printf '1 2\n3 4\n' | awk '{s+=$1*$2} END {print s}')"
echo "CHECK cut: $(echo a:b:c | cut -d: -f2)"
echo "CHECK head_tail: $(seq 10 | head -3 | tail -1)"
echo "CHECK sort_n_uniq: $(printf '3\n1\n3\n2\n' | sort -n | uniq | tr '\n' ,)"
echo "CHECK tr_upper: $(echo abc | tr a-z A-Z)"
echo "CHECK expr: $(expr 6 \* 7)"
echo "CHECK basename_dirname: $(basename /a/b/c.txt .txt) $(dirname /a/b/c.txt)"
echo "CHECK md5sum: $(echo keel | md5sum | cut -d' ' -f1)"
echo "CHECK sha256sum: $(printf abc | sha256sum | cut -c1-16)"
echo "CHECK xargs: $(echo 1 2 3 | xargs -n1 echo | tr '\n' ' ')"
echo "CHECK find: $(mkdir -p fd1/fd2 && touch fd1/a fd1/fd2/b && find fd1 | sort | tr '\n' ' ')"
echo "CHECK tar_roundtrip: $(tar cf t.tar fd1 && rm -rf fd1 && tar xf t.tar && find fd1 -type f | sort | tr '\n' ' ')"
echo "CHECK gzip_roundtrip: $(echo compress-me > g && gzip g && gunzip g.gz && cat g)"
echo "CHECK background_wait: $( (sleep 0.1; exit 5) & wait $!; echo $?)"
echo "CHECK trap_exit: $(sh -c 'trap "echo trapped" EXIT; exit 0')"
echo "CHECK trap_signal: $(sh -c 'trap "echo got-usr1" USR1; kill -USR1 $$; echo after')"
echo "CHECK umask_sh: $(umask)"
echo "CHECK id: $(id)"
echo "CHECK whoami: $(whoami)"
echo "CHECK pwd_physical: $(cd /tmp && pwd)"
echo "CHECK uname_s_m: $(uname -s) $(uname -m)"
echo "CHECK env_path: $PATH"
echo "CHECK sleep_status: $(sleep 0.05; echo $?)"
echo "CHECK timeout_status: $(timeout 1 sleep 5; echo $?)"
echo "CHECK kill_l: $(kill -l 9) $(kill -l 15)"
echo "CHECK yes_head: $(yes | head -3 | tr '\n' ' ')"
echo "CHECK dd: $(dd if=/dev/zero bs=512 count=3 2>/dev/null | wc -c)"
echo "CHECK seq_sum: $(seq 1 1000 | awk '{s+=$1} END {print s}')"
