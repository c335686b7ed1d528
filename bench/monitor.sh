#!/bin/bash
# Idle memory of berth-monitor vs conmon, each watching the same kind of
# container (busybox `sleep`, same OCI runtime), measured in one run.
#
#   bench/monitor.sh [-n CONTAINERS] [-r RUNTIME]     (root; default 5 containers each, runc)
#
# Starts N containers under each monitor (interleaved), lets them settle, then
# reads VmRSS, RssAnon (private memory) and Pss (shared pages divided among
# the processes mapping them) of every monitor process and prints medians and
# the berth/conmon ratios. Everything it creates is removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
N=5
RUNTIME=runc
while getopts n:r: o; do
        case $o in n) N=$OPTARG ;; r) RUNTIME=$OPTARG ;; *) exit 2 ;; esac
done
BUILD=${BERTH_BUILD:-$top/build}
MON=$BUILD/src/cmd/berth-monitor/berth-monitor
[ -x "$MON" ] || { echo "build berth-monitor first (ninja -C build)" >&2; exit 1; }
command -v conmon >/dev/null || { echo "conmon is not installed" >&2; exit 1; }
RUNTIME=$(command -v "$RUNTIME")
. "$top/tests/lib/bundle.bash"

W=$(mktemp -d /tmp/berth-bench-monitor.XXXXXX)
CG=berth-bench-monitor-$$
ids=()

cleanup() {
        set +e
        local id c
        for id in "${ids[@]}"; do
                "$RUNTIME" --root "$W/runc" kill "$id" KILL >/dev/null 2>&1
        done
        sleep 0.5
        for id in "${ids[@]}"; do
                "$RUNTIME" --root "$W/runc" delete --force "$id" >/dev/null 2>&1
        done
        for c in /sys/fs/cgroup/*/"$CG"; do
                [ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} \; 2>/dev/null
        done
        rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# One read-only busybox rootfs shared by every container.
make_bundle "$W/template" sleep 3600
bundle() { # bundle ID: $W/ID running `sleep 3600` in cgroup /$CG/ID
        mkdir -p "$W/$1"
        jq --arg cg "/$CG/$1" --arg root "$W/template/rootfs" '.linux.cgroupsPath = $cg | .root.path = $root' \
                "$W/template/config.json" >"$W/$1/config.json"
}

# start_berth I / start_conmon I: one container under that monitor; the monitor's pid goes to pids.
start_berth() {
        local id=berth-$1
        bundle "$id"
        ids+=("$id")
        "$MON" --id "$id" --runtime "$RUNTIME" --runtime-root "$W/runc" --bundle "$W/$id" \
                --state-dir "$W/$id/state" --log-path "$W/$id/ctr.log" --start
        berth_pids+=("$(cat "$W/$id/state/monitor.pid")")
}

start_conmon() {
        local id=conmon-$1 i
        bundle "$id"
        ids+=("$id")
        mkdir -p "$W/$id/exits" "$W/$id/sock"
        conmon --api-version 1 -c "$id" -u "$id" -n "$id" -r "$RUNTIME" -b "$W/$id" \
                -p "$W/$id/pidfile" -l "k8s-file:$W/$id/ctr.log" --exit-dir "$W/$id/exits" \
                --socket-dir-path "$W/$id/sock" -P "$W/$id/conmon.pid" \
                --runtime-arg --root --runtime-arg "$W/runc" --log-level error </dev/null >/dev/null 2>&1
        # conmon returns before the runtime's create is done; podman waits on its sync pipe.
        for ((i = 0; i < 300; i++)); do
                [ -s "$W/$id/pidfile" ] && [ -s "$W/$id/conmon.pid" ] && break
                sleep 0.05
        done
        "$RUNTIME" --root "$W/runc" start "$id"
        conmon_pids+=("$(cat "$W/$id/conmon.pid")")
}

median() { sort -n | awk '{a[NR]=$1} END{ if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2 }'; }
field() { awk -v k="$2:" '$1==k{print $2}' "$1"; }
sample() { # sample NAME PID
        printf '%s %s %s %s\n' "$1" "$(field "/proc/$2/status" VmRSS)" "$(field "/proc/$2/status" RssAnon)" \
                "$(field "/proc/$2/smaps_rollup" Pss)" >>"$W/samples"
}

berth_pids=() conmon_pids=()
for ((i = 0; i < N; i++)); do
        start_berth "$i"
        start_conmon "$i"
done
sleep 2
for id in "${ids[@]}"; do
        "$RUNTIME" --root "$W/runc" state "$id" | jq -e '.status == "running"' >/dev/null ||
                { echo "container $id is not running" >&2; exit 1; }
done

: >"$W/samples"
for p in "${berth_pids[@]}"; do
        [ "$(cat "/proc/$p/comm")" = berth-monitor ] || { echo "pid $p is not berth-monitor" >&2; exit 1; }
        sample berth "$p"
done
for p in "${conmon_pids[@]}"; do
        [ "$(cat "/proc/$p/comm")" = conmon ] || { echo "pid $p is not conmon" >&2; exit 1; }
        sample conmon "$p"
done

stat() { awk -v w="$1" -v c="$2" '$1==w{print $c}' "$W/samples" | median; }
br=$(stat berth 2) ba=$(stat berth 3) bp=$(stat berth 4)
cr=$(stat conmon 2) ca=$(stat conmon 3) cp=$(stat conmon 4)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a / b}'; }

echo "Idle monitor memory, $N containers each (busybox sleep, $(basename "$RUNTIME")), KiB, medians"
echo "host: $(uname -r); conmon $(conmon --version | awk 'NR==1{print $3}'); $("$MON" --version | head -1)"
echo
echo "| monitor | RSS | private (RssAnon) | PSS |"
echo "|---|---|---|---|"
echo "| berth-monitor | $br | $ba | $bp |"
echo "| conmon | $cr | $ca | $cp |"
echo "| berth / conmon | $(ratio "$br" "$cr") | $(ratio "$ba" "$ca") | $(ratio "$bp" "$cp") |"
