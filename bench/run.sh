#!/bin/bash
# `berth run --rm --network none IMAGE true` against its peers, interleaved in
# one run (hyperfine rounds with rotated order), printing medians and ratios:
#   berth         berth run --rm --network none demo true (berth-runtime)
#   berth-crun    the same with --runtime crun
#   podman-crun   podman run --rm --network=none (crun, conmon)
#   podman-runc   the same with runc
#   ctr-runc      ctr run --rm (containerd-shim-runc-v2 + runc)
# The image is the same busybox-static rootfs for all: berth imports it, podman
# imports the same tar, containerd imports berth's docker-archive of it; no
# registry is needed. The goal (docs/ENGINE.md): berth <= 0.25x podman, <= 0.6x ctr.
#
#   bench/run.sh [-r ROUNDS] [-n RUNS]      (default 3 rounds x 10 runs)
#
# Uses /work/shared/anchors (ANCHORS_DIR) for hyperfine rounds, the private
# containerd and the cgroup workaround crun needs on this hybrid host (the
# script re-executes itself in a private mount namespace without the cgroup2 mount).
set -euo pipefail
cd "$(dirname "$0")/.."
TOP=$PWD
ANCHORS_DIR=${ANCHORS_DIR:-$(cd "$TOP/.." && pwd)/shared/anchors}
[ -f "$ANCHORS_DIR/lib.sh" ] || ANCHORS_DIR=/work/shared/anchors
export ANCHORS_DIR
# shellcheck source=/dev/null
. "$ANCHORS_DIR/lib.sh"
need podman conmon crun runc ctr containerd hyperfine jq

ROUNDS=3 RUNS=10
ORIG_ARGS=("$@")
while getopts r:n: o; do
	case $o in r) ROUNDS=$OPTARG ;; n) RUNS=$OPTARG ;; *) exit 2 ;; esac
done
BUILD=${BERTH_BUILD:-$TOP/build}
[ -x "$BUILD/src/cmd/berth/berth" ] || { meson setup "$BUILD" >/dev/null && ninja -C "$BUILD" >/dev/null; }
cg_private_ns "${ORIG_ARGS[@]}"

W=$(mktemp -d /var/tmp/berth-bench-run.XXXXXX)
case $W in /var/tmp/berth-bench-run.??????) ;; *) die "bad work dir '$W'" ;; esac
export PATH="$BUILD/src/cmd/berth:$BUILD/src/cmd/berth-monitor:$BUILD/src/cmd/berth-runtime:$PATH"
CG=berth-bench-$$
cat >"$W/berth.conf" <<EOF
{"seccompProfile": "$TOP/data/seccomp/default.json", "cgroupParent": "/$CG"}
EOF
BERTH=(berth --root "$W/berth/root" --runroot "$W/berth/run" --config "$W/berth.conf")
PODMAN=(podman --root "$W/podman/root" --runroot "$W/podman/runroot" --tmpdir "$W/podman/tmp"
	--storage-driver overlay --cgroup-manager cgroupfs --events-backend none)
CTR=(ctr -a "$CTRD_SOCK" -n "$CTRD_NS")
ULIMITS="--ulimit nofile=20000:20000 --ulimit nproc=32768:32768"

cleanup() {
	set +e
	"${BERTH[@]}" rm -f $("${BERTH[@]}" ps -aq 2>/dev/null) >/dev/null 2>&1
	"${PODMAN[@]}" rm -a -f -t 0 >/dev/null 2>&1
	local id c m
	for id in $("${CTR[@]}" tasks ls -q 2>/dev/null); do "${CTR[@]}" tasks kill -s KILL "$id" >/dev/null 2>&1; done
	for id in $("${CTR[@]}" containers ls -q 2>/dev/null); do "${CTR[@]}" containers delete "$id" >/dev/null 2>&1; done
	"$ANCHORS_DIR/containerd.sh" stop >/dev/null 2>&1
	awk -v p="$W/" 'substr($5, 1, length(p)) == p {print $5}' /proc/self/mountinfo | sort -r | while read -r m; do
		case $m in "$W"/?*) umount -l "$m" ;; esac
	done
	for c in /sys/fs/cgroup/*/"$CG"; do
		[ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} \; 2>/dev/null
	done
	for c in /sys/fs/cgroup/*/; do
		[ -d "$c$CTRD_NS" ] && find "$c$CTRD_NS" -depth -type d -exec rmdir {} \; 2>/dev/null
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
"${BERTH[@]}" import -q -c 'CMD ["/bin/sh"]' "$W/rootfs.tar" localhost/bench/busybox:latest >/dev/null
"${BERTH[@]}" save -q -o "$W/image.tar" localhost/bench/busybox:latest
"${PODMAN[@]}" import -q "$W/rootfs.tar" localhost/bench/busybox:latest >/dev/null
"$ANCHORS_DIR/containerd.sh" wipe >/dev/null 2>&1
"$ANCHORS_DIR/containerd.sh" start >/dev/null
"${CTR[@]}" images import "$W/image.tar" >/dev/null
IMG=localhost/bench/busybox:latest

CMD_BERTH="${BERTH[*]} run --rm --network none $IMG true"
CMD_BERTH_CRUN="${BERTH[*]} run --rm --network none --runtime crun $IMG true"
CMD_PODMAN_CRUN="${PODMAN[*]} --runtime crun run --rm --network=none --pull=never $ULIMITS $IMG true"
CMD_PODMAN_RUNC="${PODMAN[*]} --runtime runc run --rm --network=none --pull=never $ULIMITS $IMG true"
CMD_CTR_RUNC="${CTR[*]} run --rm --runc-root $W/runc $IMG bench-\$\$ true"

log "sanity check of every command"
for c in "$CMD_BERTH" "$CMD_BERTH_CRUN" "$CMD_PODMAN_CRUN" "$CMD_PODMAN_RUNC" "$CMD_CTR_RUNC"; do
	sh -c "$c" || die "failed: $c"
done

hf_rounds "$W/hyperfine" "$ROUNDS" "$RUNS" 1 \
	berth "$CMD_BERTH" berth-crun "$CMD_BERTH_CRUN" \
	podman-crun "$CMD_PODMAN_CRUN" podman-runc "$CMD_PODMAN_RUNC" ctr-runc "$CMD_CTR_RUNC"

left=$("${BERTH[@]}" ps -aq | grep -c . || true)
mounts=$(grep -c " $W/berth/" /proc/self/mountinfo || true)
echo
echo "host: $(uname -r), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg); $ROUNDS rounds x $RUNS runs, interleaved"
hf_table "$W/hyperfine" berth berth berth-crun podman-crun podman-runc ctr-runc
b=$(hf_median "$W/hyperfine" berth)
echo
echo "berth / podman-crun: $(ratio "$b" "$(hf_median "$W/hyperfine" podman-crun)")  (goal <= 0.25)"
echo "berth / podman-runc: $(ratio "$b" "$(hf_median "$W/hyperfine" podman-runc)")"
echo "berth / ctr-runc:    $(ratio "$b" "$(hf_median "$W/hyperfine" ctr-runc)")  (goal <= 0.6)"
echo "berth leftovers after the run: $left containers, $mounts mounts"
