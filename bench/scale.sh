#!/bin/bash
# N detached containers (busybox `sleep`, --network none) started, stopped and
# removed by berth and by podman (crun, conmon) in one run, interleaved
# container by container, printing the time per container of each phase and
# the memory per container of its monitor (berth-monitor vs conmon: RSS, PSS)
# with the berth/podman ratios.
#
#   bench/scale.sh [-n CONTAINERS] [-r PODMAN_RUNTIME]     (root; default 100, crun)
#
# The image is the same busybox-static rootfs imported by both. Like
# bench/run.sh it uses /work/shared/anchors (ANCHORS_DIR) for the cgroup
# workaround crun needs on this hybrid host. Everything it creates is removed.
set -euo pipefail
cd "$(dirname "$0")/.."
TOP=$PWD
ANCHORS_DIR=${ANCHORS_DIR:-$(cd "$TOP/.." && pwd)/shared/anchors}
[ -f "$ANCHORS_DIR/lib.sh" ] || ANCHORS_DIR=/work/shared/anchors
export ANCHORS_DIR
# shellcheck source=/dev/null
. "$ANCHORS_DIR/lib.sh"
need podman conmon crun jq

N=100
PRT=crun
ORIG_ARGS=("$@")
while getopts n:r: o; do
        case $o in n) N=$OPTARG ;; r) PRT=$OPTARG ;; *) exit 2 ;; esac
done
BUILD=${BERTH_BUILD:-$TOP/build}
[ -x "$BUILD/src/cmd/berth/berth" ] || die "build berth first (ninja -C build)"
cg_private_ns "${ORIG_ARGS[@]}"

W=$(mktemp -d /var/tmp/berth-bench-scale.XXXXXX)
case $W in /var/tmp/berth-bench-scale.??????) ;; *) die "bad work dir '$W'" ;; esac
export PATH="$BUILD/src/cmd/berth:$BUILD/src/cmd/berth-monitor:$BUILD/src/cmd/berth-runtime:$PATH"
CG=berth-bench-scale-$$
cat >"$W/berth.conf" <<EOF
{"seccompProfile": "$TOP/data/seccomp/default.json", "cgroupParent": "/$CG"}
EOF
BERTH=(berth --root "$W/berth/root" --runroot "$W/berth/run" --config "$W/berth.conf")
PODMAN=(podman --root "$W/podman/root" --runroot "$W/podman/runroot" --tmpdir "$W/podman/tmp"
        --storage-driver overlay --cgroup-manager cgroupfs --events-backend none --runtime "$PRT")
ULIMITS=(--ulimit nofile=20000:20000 --ulimit nproc=32768:32768)
IMG=localhost/bench/busybox:latest

cleanup() {
        set +e
        local ids m c
        ids=$("${BERTH[@]}" ps -aq --no-trunc 2>/dev/null)
        [ -z "$ids" ] || "${BERTH[@]}" rm -f $ids >/dev/null 2>&1
        "${PODMAN[@]}" rm -a -f -t 0 >/dev/null 2>&1
        awk -v p="$W/" 'substr($5, 1, length(p)) == p {print $5}' /proc/self/mountinfo | sort -r |
                while read -r m; do
                        case $m in "$W"/?*) umount -l "$m" ;; esac
                done
        for c in /sys/fs/cgroup/*/"$CG"; do
                [ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} \; 2>/dev/null
        done
        for c in /sys/fs/cgroup/*/; do
                rmdir "${c}libpod_parent/conmon" "${c}libpod_parent" 2>/dev/null
        done
        rm -rf "$W"
        return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "image: busybox-static rootfs, imported by each engine"
# shellcheck source=tests/lib/bundle.bash
. "$TOP/tests/lib/bundle.bash"
make_rootfs "$W/rootfs"
tar -C "$W/rootfs" -c . >"$W/rootfs.tar"
"${BERTH[@]}" import -q -c 'CMD ["/bin/sh"]' "$W/rootfs.tar" "$IMG" >/dev/null
"${PODMAN[@]}" import -q "$W/rootfs.tar" "$IMG" >/dev/null

ms() { echo $((($(date +%s%N) - $1) / 1000000)); }
# timed NAME PHASE CMD...: runs CMD, appends "NAME PHASE ms" to the samples
timed() {
        local name=$1 phase=$2 t0
        shift 2
        t0=$(date +%s%N)
        "$@" >/dev/null
        echo "$name $phase $(ms "$t0")" >>"$W/times"
}
: >"$W/times"

log "starting $N containers with each engine (interleaved)"
for ((i = 0; i < N; i++)); do
        timed berth start "${BERTH[@]}" run -d --name "s$i" --network none "$IMG" sleep 3600
        timed podman start "${PODMAN[@]}" run -d --name "s$i" --network=none --pull=never "${ULIMITS[@]}" \
                "$IMG" sleep 3600
done
nb=$("${BERTH[@]}" ps -q | grep -c . || true)
np=$("${PODMAN[@]}" ps -q | grep -c . || true)
[ "$nb" = "$N" ] && [ "$np" = "$N" ] || die "running: berth $nb, podman $np of $N"

log "memory of the monitors"
sleep 2
: >"$W/mem"
for p in $(pgrep -f "berth-monitor --id .* --state-dir $W/berth/"); do
        echo "berth $(rss_kb "$p") $(pss_kb "$p")" >>"$W/mem"
done
for p in $(pgrep -x conmon); do
        tr '\0' ' ' <"/proc/$p/cmdline" | grep -qF " $W/podman/" || continue
        echo "podman $(rss_kb "$p") $(pss_kb "$p")" >>"$W/mem"
done
mb=$(grep -c '^berth ' "$W/mem" || true)
mp=$(grep -c '^podman ' "$W/mem" || true)
[ "$mb" = "$N" ] && [ "$mp" = "$N" ] || die "monitors found: berth-monitor $mb, conmon $mp of $N"

log "stopping and removing them (interleaved)"
for ((i = 0; i < N; i++)); do
        timed berth stop "${BERTH[@]}" stop -t 0 "s$i"
        timed podman stop "${PODMAN[@]}" stop -t 0 "s$i"
done
for ((i = 0; i < N; i++)); do
        timed berth rm "${BERTH[@]}" rm "s$i"
        timed podman rm "${PODMAN[@]}" rm "s$i"
done
left=$("${BERTH[@]}" ps -aq | grep -c . || true)

t() { awk -v n="$1" -v p="$2" '$1==n && $2==p {print $3}' "$W/times" | median; }
tsum() { awk -v n="$1" -v p="$2" '$1==n && $2==p {s+=$3} END{print s / 1000}' "$W/times"; }
m() { awk -v n="$1" -v c="$2" '$1==n {print $c}' "$W/mem" | median; }

echo
echo "$N containers each, busybox sleep, --network none; berth (berth-runtime) vs podman ($PRT, conmon)"
echo "host: $(uname -r), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| per container (median) | berth | podman | berth / podman |"
echo "|---|---|---|---|"
for ph in start stop rm; do
        b=$(t berth $ph) p=$(t podman $ph)
        echo "| $ph, ms | $b | $p | $(ratio "$b" "$p") |"
done
b=$(m berth 2) p=$(m podman 2)
echo "| monitor RSS, KiB | $b | $p | $(ratio "$b" "$p") |"
b=$(m berth 3) p=$(m podman 3)
echo "| monitor PSS, KiB | $b | $p | $(ratio "$b" "$p") |"
echo
echo "total wall time, s: berth start $(tsum berth start), stop $(tsum berth stop), rm $(tsum berth rm);" \
        "podman start $(tsum podman start), stop $(tsum podman stop), rm $(tsum podman rm)"
echo "berth leftovers after rm: $left containers"
