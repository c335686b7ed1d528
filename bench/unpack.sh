#!/bin/bash
# Layer unpack speed: berth's unpacker (build/tests/tools/berth-unpack) against
# `tar -xzf` and `zstd -dc | tar -x` on the same layer, interleaved in one run.
#   bench/unpack.sh [-n rounds] [-s "dirs under / to pack"] [-m]
# -m extracts into /dev/shm (tmpfs): measures the unpackers without the disk,
# whose latency other jobs on this machine make very noisy.
# The layer is a pax tar of parts of this machine's /usr (~170 MB), built once
# into $WORK (default /var/tmp/berth-bench-unpack). Every sample extracts into a
# new directory; old outputs are deleted between rounds (then sync and a pause),
# because deleting right before a timed run slows it down on this disk.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=3
dirs="usr/include usr/sbin usr/share/perl"
outbase=
while getopts n:s:m o; do
        case $o in
        m) outbase=/dev/shm/berth-bench-unpack.$$ ;;
        n) rounds=$OPTARG ;;
        s) dirs=$OPTARG ;;
        *) exit 2 ;;
        esac
done
WORK=${WORK:-/var/tmp/berth-bench-unpack}
UNPACK=${UNPACK:-build/tests/tools/berth-unpack}
[ -x "$UNPACK" ] || { echo "build first: meson setup build && ninja -C build" >&2; exit 1; }
mkdir -p "$WORK"
outbase=${outbase:-$WORK/out}
mkdir -p "$outbase"
trap 'rm -rf "$outbase"' EXIT
if [ ! -f "$WORK/layer.tar.zst" ]; then
        # shellcheck disable=SC2086
        tar --format=pax --numeric-owner --sort=name -C / -cf "$WORK/layer.tar" $dirs
        gzip -n -6 -c "$WORK/layer.tar" >"$WORK/layer.tar.gz"
        zstd -q -3 -c "$WORK/layer.tar" >"$WORK/layer.tar.zst"
        rm "$WORK/layer.tar"
fi
printf 'layer: %s MB gzip, %s MB zstd, %s MB tar, %s entries\n' \
        $(($(stat -c %s "$WORK/layer.tar.gz") >> 20)) $(($(stat -c %s "$WORK/layer.tar.zst") >> 20)) \
        $(($(gzip -dc "$WORK/layer.tar.gz" | wc -c) >> 20)) "$(gzip -dc "$WORK/layer.tar.gz" | tar -t | wc -l)"

declare -A cmd=(
        [berth-gzip]="$UNPACK -c gzip $WORK/layer.tar.gz OUT >/dev/null"
        [tar-xzf]="tar -xzf $WORK/layer.tar.gz -C OUT"
        [berth-zstd]="$UNPACK -c zstd $WORK/layer.tar.zst OUT >/dev/null"
        [zstd-tar]="zstd -dc $WORK/layer.tar.zst | tar -x -C OUT"
)
order=(berth-gzip tar-xzf berth-zstd zstd-tar)
declare -A samples cpu
n=0
for ((r = 0; r < rounds; r++)); do
        # Rotate the order each round so no tool always runs first.
        for ((i = 0; i < ${#order[@]}; i++)); do
                name=${order[$(((i + r) % ${#order[@]}))]}
                out=$outbase/$((n++))
                mkdir "$out"
                sync
                /usr/bin/time -f '%e %U %S' -o "$outbase/time" sh -c "${cmd[$name]//OUT/$out}"
                read -r wall user sys <"$outbase/time"
                samples[$name]+="$wall "
                cpu[$name]+="$(echo "$user + $sys" | bc) "
        done
        rm -rf "${outbase:?}"/*
        sync
        sleep 2
done

median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
printf '\n%-12s %8s %8s   (%d rounds, medians in seconds; cpu = user + sys of all processes)\n' \
        tool wall cpu "$rounds"
for name in "${order[@]}"; do
        printf '%-12s %8.3f %8.3f   wall samples: %s\n' "$name" "$(echo "${samples[$name]}" | median)" \
                "$(echo "${cpu[$name]}" | median)" "${samples[$name]}"
done
g=$(echo "${samples[berth-gzip]}" | median) tg=$(echo "${samples[tar-xzf]}" | median)
z=$(echo "${samples[berth-zstd]}" | median) tz=$(echo "${samples[zstd-tar]}" | median)
printf '\nratio berth/tar -xzf:        %.2f\n' "$(echo "$g / $tg" | bc -l)"
printf 'ratio berth/zstd -dc|tar -x: %.2f\n' "$(echo "$z / $tz" | bc -l)"
g=$(echo "${cpu[berth-gzip]}" | median) tg=$(echo "${cpu[tar-xzf]}" | median)
z=$(echo "${cpu[berth-zstd]}" | median) tz=$(echo "${cpu[zstd-tar]}" | median)
printf 'cpu ratio gzip: %.2f, zstd: %.2f\n' "$(echo "$g / $tg" | bc -l)" "$(echo "$z / $tz" | bc -l)"
