#!/bin/bash
# Clean-store pulls from a loopback registry: berth against podman, ctr,
# skopeo and the curl|tar floors, interleaved in one run, medians and ratios.
#   bench/pull.sh [-n REPS] [-i "IMAGE..."] [-t "TOOL..."]
#     IMAGES default: bench/debian:bookworm bench/layers:latest bench/debian:bookworm-zstd
#     TOOLS  default: berth podman ctr skopeo floor-seq floor-dl
#
# The images are the anchors' set (/work/shared/anchors/make-images.sh): an OCI
# layout in $IMAGES_DIR/oci (default /var/tmp/berth-bench-pull-images, built
# with `make-images.sh --no-push` when missing; ANCHORS points at the scripts),
# pushed to a docker-registry this script starts on a free loopback port.
#
#   berth      berth --root NEW pull -q --tls-verify=false (download, verify, unpack)
#   podman     podman pull into a new --root/--runroot/--tmpdir (overlay driver)
#   ctr        ctr images pull --plain-http against a private containerd started
#              for every sample with a new root and state (fetch, then unpack)
#   skopeo     skopeo copy to an oci: directory (download and verify only)
#   floor-seq  curl each layer blob | tar -x (-z or --zstd), one after another
#   floor-dl   curl every blob to a file (download only)
# Every sample starts from an empty store in a new directory; `sync` before each
# sample, deletions only between repetitions (deleting right before a timed
# sample slows it on this disk). A first untimed pass warms the page cache.
# Everything runs in a private mount namespace, so no mount made by a tool can
# outlive the script.
set -euo pipefail
SELF=$(realpath "$0")
cd "$(dirname "$SELF")/.."
TOP=$PWD

REPS=3
IMAGES="bench/debian:bookworm bench/layers:latest bench/debian:bookworm-zstd"
TOOLS="berth podman ctr skopeo floor-seq floor-dl"
while getopts n:i:t: o; do
        case $o in
        n) REPS=$OPTARG ;; i) IMAGES=$OPTARG ;; t) TOOLS=$OPTARG ;;
        *) sed -n '2,25p' "$SELF"; exit 2 ;;
        esac
done
BERTH=${BERTH:-$TOP/build/src/cmd/berth/berth}
ANCHORS=${ANCHORS:-/work/shared/anchors}
IMAGES_DIR=${IMAGES_DIR:-/var/tmp/berth-bench-pull-images}

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
for t in podman ctr containerd skopeo curl jq tar gzip zstd docker-registry unshare python3; do
        command -v "$t" >/dev/null || die "missing $t (./scripts/install-deps)"
done
[ -x "$BERTH" ] || die "build berth first (meson setup build && ninja -C build)"

if [ -z "${BERTH_BENCH_NS:-}" ]; then
        exec env BERTH_BENCH_NS=1 unshare --mount --propagation private -- "$SELF" "$@"
fi

if [ ! -f "$IMAGES_DIR/oci/index.json" ]; then
        [ -x "$ANCHORS/make-images.sh" ] || die "no image set in $IMAGES_DIR/oci and no $ANCHORS/make-images.sh"
        log "building the image set into $IMAGES_DIR (debootstrap, a few minutes, once)"
        IMG_WORK=$IMAGES_DIR "$ANCHORS/make-images.sh" --no-push >&2
fi
if [ ! -f "$IMAGES_DIR/oci-zstd/index.json" ]; then
        log "recompressing debian and layers with zstd (level 3)"
        for r in debian layers; do
                skopeo --insecure-policy copy -q --format oci --dest-compress-format zstd --dest-compress-level 3 \
                        "oci:$IMAGES_DIR/oci:$r" "oci:$IMAGES_DIR/oci-zstd.new:$r"
        done
        mv "$IMAGES_DIR/oci-zstd.new" "$IMAGES_DIR/oci-zstd"
fi

W=$(mktemp -d /var/tmp/berth-bench-pull.XXXXXX)
case $W in /var/tmp/berth-bench-pull.?*) ;; *) die "unexpected work dir '$W'" ;; esac
CTRD_PID=
# shellcheck source=../tests/fixtures/registry.bash
. "$TOP/tests/fixtures/registry.bash"

ctrd_stop() {
        [ -n "$CTRD_PID" ] || return 0
        kill "$CTRD_PID" 2>/dev/null && wait "$CTRD_PID" 2>/dev/null
        CTRD_PID=
        return 0
}

# Mounts below $W (containerd and podman unpack through overlay mounts), deepest first.
umount_work() {
        local m
        awk -v p="$W/" 'substr($5, 1, length(p)) == p {print $5}' /proc/self/mountinfo | sort -r |
                while read -r m; do umount -l "$m" 2>/dev/null || true; done
}

cleanup() {
        set +e
        ctrd_stop
        registry_stop "$W/registry"
        umount_work
        rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "registry and pushes"
registry_start "$W/registry" >/dev/null
src_of() { # image -> skopeo source and copy options
        case $1 in
        bench/debian:bookworm) echo "oci:$IMAGES_DIR/oci:debian --format v2s2" ;;
        bench/debian:bookworm-oci) echo "oci:$IMAGES_DIR/oci:debian --preserve-digests" ;;
        bench/debian:bookworm-zstd) echo "oci:$IMAGES_DIR/oci-zstd:debian --preserve-digests" ;;
        bench/layers:latest) echo "oci:$IMAGES_DIR/oci:layers --preserve-digests" ;;
        bench/layers:v2s2) echo "oci:$IMAGES_DIR/oci:layers --format v2s2" ;;
        bench/layers:zstd) echo "oci:$IMAGES_DIR/oci-zstd:layers --preserve-digests" ;;
        bench/busybox:latest) echo "oci:$IMAGES_DIR/oci:busybox --preserve-digests" ;;
        *) return 1 ;;
        esac
}
read -r -a IL <<<"$IMAGES"
read -r -a TL <<<"$TOOLS"
for img in "${IL[@]}"; do
        spec=$(src_of "$img") || die "unknown image $img"
        read -r src opt <<<"$spec"
        skopeo --insecure-policy copy -q --dest-tls-verify=false $opt "$src" "docker://$REGISTRY/$img"
done

ACCEPT='application/vnd.oci.image.manifest.v1+json,application/vnd.docker.distribution.manifest.v2+json'
# Layer digests and media types of IMAGE, written once (untimed) for the floors.
for img in "${IL[@]}"; do
        curl -fsS -H "Accept: $ACCEPT" "http://$REGISTRY/v2/${img%%:*}/manifests/${img#*:}" |
                jq -r '"\(.config.digest) config", (.layers[] | "\(.digest) \(.mediaType)")' >"$W/plan-${img//[\/:]/_}"
done

podman_args() { echo --root "$1/root" --runroot "$1/runroot" --tmpdir "$1/tmp" --storage-driver overlay \
        --cgroup-manager cgroupfs --events-backend none; }

ctrd_start() { # ctrd_start DIR: a private containerd whose root and state are new
        local d=$1 i
        mkdir -p "$d"
        cat >"$d/config.toml" <<EOF
version = 2
root = "$d/root"
state = "$d/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$d/sock"
[ttrpc]
  address = "$d/sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$d/opt"
EOF
        containerd --config "$d/config.toml" >"$d/log" 2>&1 </dev/null &
        CTRD_PID=$!
        for i in $(seq 1 200); do
                ctr -a "$d/sock" version >/dev/null 2>&1 && return 0
                sleep 0.05
        done
        die "containerd did not start: $(tail -3 "$d/log")"
}

prep() { # prep TOOL DIR (untimed)
        mkdir -p "$2"
        if [ "$1" = ctr ]; then
                ctrd_stop
                ctrd_start "$2/ctrd"
        fi
        sync
}

pull() { # pull TOOL IMAGE DIR (timed)
        local tool=$1 img=$2 ref=$REGISTRY/$2 S=$3 repo=${2%%:*} d mt i=0 x
        case $tool in
        berth) "$BERTH" --root "$S/root" pull -q --tls-verify=false "$ref" >/dev/null ;;
        podman) podman $(podman_args "$S") pull -q --tls-verify=false "$ref" >/dev/null ;;
        ctr) ctr -a "$S/ctrd/sock" -n bench images pull --plain-http "$ref" >/dev/null ;;
        skopeo) skopeo --insecure-policy copy -q --src-tls-verify=false "docker://$ref" "oci:$S/oci:img" ;;
        floor-*)
                curl -fsS -H "Accept: $ACCEPT" -o "$S/manifest" "http://$REGISTRY/v2/$repo/manifests/${img#*:}"
                while read -r d mt; do
                        if [ "$mt" = config ] || [ "$tool" = floor-dl ]; then
                                curl -fsS -o "$S/${d#sha256:}" "http://$REGISTRY/v2/$repo/blobs/$d"
                                continue
                        fi
                        i=$((i + 1))
                        case $mt in *zstd*) x=--zstd ;; *gzip*) x=--gzip ;; *) x= ;; esac
                        mkdir "$S/$i"
                        curl -fsS "http://$REGISTRY/v2/$repo/blobs/$d" | tar -C "$S/$i" $x -xf -
                done <"$W/plan-${img//[\/:]/_}"
                ;;
        esac
}

# CPU seconds (user+sys) of all waited-for children of this shell, into CHILD_CPU.
# `times` must run in this shell, not in a $(...) subshell with counters of its own.
child_cpu() {
        times >"$W/times"
        CHILD_CPU=$(awk 'NR == 2 { s = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); s += a[1] * 60 + a[2] }
                printf "%.3f", s }' "$W/times")
}
pid_cpu() { awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.3f", ($12 + $13) / hz }' "/proc/$1/stat"; }

wipe_samples() {
        ctrd_stop
        umount_work
        find "$W" -mindepth 1 -maxdepth 1 -name 's-*' -exec rm -rf {} +
        sync
        sleep 3
}

log "warm-up pass (untimed)"
k=0
for img in "${IL[@]}"; do
        for tool in "${TL[@]}"; do
                k=$((k + 1))
                prep "$tool" "$W/s-$k"
                pull "$tool" "$img" "$W/s-$k" || die "$tool failed to pull $img"
        done
done
wipe_samples

printf 'image\ttool\trep\tseconds\tcpu_s\n' >"$W/samples.tsv"
n=${#TL[@]}
for ((r = 0; r < REPS; r++)); do
        for img in "${IL[@]}"; do
                for ((j = 0; j < n; j++)); do
                        tool=${TL[(j + r) % n]}
                        k=$((k + 1))
                        S=$W/s-$k
                        prep "$tool" "$S"
                        d0=0 d1=0
                        [ "$tool" = ctr ] && d0=$(pid_cpu "$CTRD_PID")
                        child_cpu
                        c0=$CHILD_CPU t0=$(date +%s.%N)
                        pull "$tool" "$img" "$S"
                        t1=$(date +%s.%N)
                        child_cpu
                        [ "$tool" = ctr ] && d1=$(pid_cpu "$CTRD_PID")
                        s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
                        cpu=$(awk -v a="$c0" -v b="$CHILD_CPU" -v c="$d0" -v d="$d1" 'BEGIN { printf "%.3f", b - a + d - c }')
                        printf '%s\t%s\t%d\t%s\t%s\n' "$img" "$tool" "$r" "$s" "$cpu" >>"$W/samples.tsv"
                        log "rep $((r + 1))/$REPS $img $tool: ${s}s, cpu ${cpu}s"
                done
        done
        wipe_samples
done

median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print a[(NR + 1) / 2];
        else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
col() { awk -F'\t' -v i="$1" -v t="$2" -v c="$3" 'NR > 1 && $1 == i && $2 == t { print $c }' "$W/samples.tsv"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == "" || b == "nan" || a == "nan" || b == 0) print "-"; else printf "%.2f", a / b }'; }

echo "## Clean-store pull from a loopback docker-registry ($(date -u +%Y-%m-%dT%H:%MZ))"
echo
echo "host: $(uname -r), $(nproc) CPUs; berth $(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo '?')," \
        "podman $(podman --version | awk '{print $3}'), containerd $(containerd --version | awk '{print $3}')," \
        "skopeo $(skopeo --version | awk '{print $3}'); $REPS samples per cell, interleaved, warm page cache"
for img in "${IL[@]}"; do
        pm=$(col "$img" podman 4 | median)
        fs=$(col "$img" floor-seq 4 | median)
        echo
        echo "### $img"
        echo
        echo "| tool | median s | min s | max s | / podman | / floor-seq | CPU s (median) |"
        echo "|---|---|---|---|---|---|---|"
        for tool in "${TL[@]}"; do
                v=$(col "$img" "$tool" 4)
                m=$(median <<<"$v")
                printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$tool" "$m" "$(sort -g <<<"$v" | head -1)" \
                        "$(sort -g <<<"$v" | tail -1)" "$(ratio "$m" "$pm")" "$(ratio "$m" "$fs")" \
                        "$(col "$img" "$tool" 5 | median)"
        done
        bm=$(col "$img" berth 4 | median)
        case $img in *zstd*) goal=1.3 ;; *) goal=1.2 ;; esac
        echo
        echo "berth / podman = $(ratio "$bm" "$pm") (goal <= 0.6); berth / floor-seq = $(ratio "$bm" "$fs") (goal <= $goal)"
done
