#!/bin/sh
# Builds the libFuzzer targets in tests/fuzz and runs each for a while.
#
#   tools/fuzz.sh [seconds per target] [target...]
#
# Targets: cmdline format elf inflate (default: all). Needs clang++ with the libFuzzer
# runtime (Debian: clang-14, libclang-rt-14-dev). Set CXX to pick another
# clang, OUT for the build/corpus directory (default /tmp/keel-fuzz), and
# JOBS to run several fuzzing workers per target (default 1).
# A crash leaves its input as $OUT/<target>/artifacts/crash-*; rerun it with
#   $OUT/<target>_fuzz $OUT/<target>/artifacts/crash-...
set -eu

seconds=${1:-60}
[ $# -gt 0 ] && shift
targets=${*:-cmdline format elf inflate}
root=$(cd "$(dirname "$0")/.." && pwd)
out=${OUT:-/tmp/keel-fuzz}
jobs=${JOBS:-1}
if [ -z "${CXX:-}" ]; then
    CXX=clang++-14
    command -v "$CXX" >/dev/null 2>&1 || CXX=clang++
fi
mkdir -p "$out"

flags="-std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
       -fno-omit-frame-pointer -Wall -Wextra -Werror -Wshadow -Wvla -DKEEL_HOST=1 -I$root"

# Seeds: typical inputs give the fuzzer a head start on the grammar.
seed() {
    dir=$out/$1/corpus
    mkdir -p "$dir"
    shift
    i=0
    for s in "$@"; do
        printf '%s' "$s" > "$dir/seed-$i"
        i=$((i + 1))
    done
}

for t in $targets; do
    libs=
    case $t in
    cmdline)
        srcs="$root/kernel/cmdline.cpp $root/lib/string.cpp"
        seed cmdline 'console=ttyS0,115200 quiet init="/bin/sh -x" LANG=C single -- --verbose a=b' \
            'panic=-1 log-buf-len=0x100 usbcore.autosuspend=-1 "a b"=c' 'x="unterminated' '=v "" -- ""' \
            "$(printf 'opt%d="v v" ' $(seq 1 150))"  # past the 2048-byte limit
        ;;
    format)
        srcs="$root/lib/format.cpp $root/lib/string.cpp"
        # 2 size bytes + 16 * 8 argument bytes, then the format.
        pad=$(head -c 130 /dev/zero | tr '\0' 'A')
        seed format "${pad}%d %5.3x %-08o %+hhd %#llX %*.*d %c %% %zu" "${pad}[%0#20.10lo|% ji|%-*td]"
        ;;
    elf)
        srcs="$root/kernel/exec/elf.cpp $root/lib/string.cpp"
        # Binary seeds: the first page of real executables (a dynamic PIE,
        # a static binary, the dynamic loader), which holds their headers.
        mkdir -p "$out/elf/corpus"
        for f in /bin/true /bin/busybox /lib64/ld-linux-x86-64.so.2; do
            if [ -f "$f" ]; then head -c 4096 "$f" > "$out/elf/corpus/seed-$(basename "$f")"; fi
        done
        ;;
    inflate)
        # Compares with zlib and round-trips through it.
        srcs="$root/lib/inflate.cpp $root/lib/crc32.cpp"
        libs=-lz
        seed inflate 'the kernel unpacks the initramfs; the initramfs holds the init' "$(seq 1 400)"
        if command -v gzip >/dev/null 2>&1; then
            seq 1 2000 | gzip -9 > "$out/inflate/corpus/seed-gz9"
            seq 1 50 | gzip -1 > "$out/inflate/corpus/seed-gz1"
            # Output past 64 KiB makes the decoder slide its window.
            head -c 300000 /dev/zero | gzip -9 > "$out/inflate/corpus/seed-gz-zeros"
        fi
        ;;
    *)
        echo "unknown target: $t" >&2
        exit 2
        ;;
    esac
    bin=$out/${t}_fuzz
    echo "== building $bin"
    # shellcheck disable=SC2086
    $CXX $flags "$root/tests/fuzz/${t}_fuzz.cpp" $srcs -o "$bin" $libs
    echo "== fuzzing $t for ${seconds}s"
    parallel=
    [ "$jobs" -gt 1 ] && parallel="-jobs=$jobs -workers=$jobs"
    # Crash and timeout inputs land in $out/$t/artifacts/.
    mkdir -p "$out/$t/artifacts"
    # shellcheck disable=SC2086
    "$bin" -max_total_time="$seconds" -max_len=4096 -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$out/$t/artifacts/" $parallel "$out/$t/corpus"
done
