#!/bin/bash
# berth-runtime vs crun vs runc vs the kernel floor: `run` of a busybox bundle
# whose process is /bin/true, interleaved rounds in one run, medians, ratios
# and peak RSS.
#   bench/runtime.sh [-r ROUNDS] [-n RUNS] [-c CONFIG-JQ-EDIT] [-l LABEL] [-t] [-p SECONDS]
# -c edits the bundle's config.json (jq) for every runtime alike; -t is the
# "typical" case: a resources block (memory, cpu, pids) and docker's default
# seccomp profile (data/seccomp/default.json resolved for docker's default caps).
# -p pauses before every sample: isolated starts, as a container usually starts,
# instead of back-to-back ones (the kernel's cgroup migration lock is only slow
# for the first writer after a quiet moment, see docs/cgroups.md).
set -euo pipefail
SELF=$(realpath "$0")
cd "$(dirname "$SELF")/.."
ROUNDS=5 RUNS=20 EDIT='.' LABEL=default TYPICAL= PAUSE=
while getopts r:n:c:l:tp: o; do
        case $o in
        r) ROUNDS=$OPTARG ;; n) RUNS=$OPTARG ;; c) EDIT=$OPTARG ;; l) LABEL=$OPTARG ;; t) TYPICAL=1 LABEL=typical ;;
        p) PAUSE=$OPTARG ;;
        *) exit 2 ;;
        esac
done
BERTH=${BERTH_RUNTIME:-$PWD/build/src/cmd/berth-runtime/berth-runtime}
for t in crun runc hyperfine jq python3 unshare chroot /usr/bin/time; do
        command -v $t >/dev/null || { echo "missing $t (./scripts/install-deps)"; exit 1; }
done
[ -x "$BERTH" ] || { echo "build berth first (ninja -C build)"; exit 1; }

# crun refuses hybrid cgroup hosts whose cgroup2 mount has controllers: run
# everything (berth too, for the same conditions) where that mount is hidden.
if [ -z "${BERTH_BENCH_NS:-}" ]; then
        exec env BERTH_BENCH_NS=1 unshare --mount --propagation private -- "$SELF" "$@"
fi
mountpoint -q /sys/fs/cgroup/unified && umount /sys/fs/cgroup/unified

W=$(mktemp -d /tmp/berth-bench.XXXXXX)
trap 'rm -rf "$W"' EXIT
. tests/lib/bundle.bash
make_bundle "$W/b" /bin/true
bundle_set "$W/b" "$EDIT"
if [ -n "$TYPICAL" ]; then
        caps=CAP_CHOWN,CAP_DAC_OVERRIDE,CAP_FSETID,CAP_FOWNER,CAP_MKNOD,CAP_NET_RAW,CAP_SETGID,CAP_SETUID,CAP_SETFCAP,CAP_SETPCAP,CAP_NET_BIND_SERVICE,CAP_SYS_CHROOT,CAP_KILL,CAP_AUDIT_WRITE
        "$PWD/build/tests/tools/berth-test-seccomp-resolve" data/seccomp/default.json native "$caps" >"$W/seccomp.json"
        bundle_set "$W/b" --slurpfile sc "$W/seccomp.json" '.linux.seccomp = $sc[0]
                | .linux.resources = {"memory": {"limit": 268435456}, "cpu": {"shares": 512, "quota": 50000, "period": 100000}, "pids": {"limit": 1024},
                                      "devices": [{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"}]}'
fi
B=$W/b
mkdir -p "$W/st-berth" "$W/st-crun" "$W/st-runc"
names=(berth crun runc floor)
cmds=("$BERTH --root $W/st-berth run -b $B bb"
      "crun --root $W/st-crun run -b $B cc"
      "runc --root $W/st-runc run -b $B rr"
      "unshare --fork --pid --mount --uts --ipc --net chroot $B/rootfs /bin/true")
for i in "${!cmds[@]}"; do
        ${cmds[$i]} >/dev/null || { echo "${names[$i]} failed: ${cmds[$i]}"; exit 1; }
done

for ((r = 0; r < ROUNDS; r++)); do
        args=()
        for ((k = 0; k < ${#cmds[@]}; k++)); do
                i=$(((k + r) % ${#cmds[@]}))
                args+=(-n "${names[$i]}" "${cmds[$i]}")
        done
        hyperfine -N -w 3 -r "$RUNS" ${PAUSE:+--prepare "sleep $PAUSE"} --export-json "$W/round-$r.json" \
                "${args[@]}" >/dev/null 2>&1
done

rss() { # median peak RSS (KiB) over 10 runs, from GNU time (a small parent, unlike a shell)
        local i
        for i in $(seq 10); do /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; done | sort -n | sed -n 5p
}
declare -A RSS
for i in "${!cmds[@]}"; do
        # A fresh interpreter per tool, so an earlier tool's peak does not mask this one's.
        RSS[${names[$i]}]=$(rss ${cmds[$i]})
done

python3 - "$W" "$LABEL" "${RSS[berth]}" "${RSS[crun]}" "${RSS[runc]}" "${RSS[floor]}" <<'PY'
import json, glob, statistics, sys
w, label = sys.argv[1], sys.argv[2]
rss = dict(zip(["berth", "crun", "runc", "floor"], map(int, sys.argv[3:7])))
times = {}
for f in sorted(glob.glob(w + "/round-*.json")):
    for r in json.load(open(f))["results"]:
        times.setdefault(r["command"], []).extend(r["times"])
med = {k: statistics.median(v) * 1000 for k, v in times.items()}
print(f"berth-runtime benchmark ({label}): run of /bin/true, {len(times['berth'])} samples each, interleaved")
print(f"{'runtime':8} {'median ms':>10} {'/ crun':>8} {'/ floor':>8} {'peak RSS KiB':>13} {'RSS / crun':>10}")
for k in ["berth", "crun", "runc", "floor"]:
    print(f"{k:8} {med[k]:10.2f} {med[k]/med['crun']:8.2f} {med[k]/med['floor']:8.2f} {rss[k]:13d} {rss[k]/rss['crun']:10.2f}")
PY
