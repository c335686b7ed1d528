#!/bin/bash
# Leak check: N `berth run --rm` cycles on a bridge network of its own, then
# verifies that nothing of them is left: container rows, files under --root
# and --runroot, mounts, cgroups, network namespaces, veths on the bridge,
# IPAM leases, iptables rules for the subnet, monitor processes.
#
#   bench/leak.sh [-n CYCLES] [-N NETWORK]     (root; default 1000 cycles, bridge)
#
# -N none runs without networking (no netns, veth or lease to check). Prints
# the time per cycle; exits 1 and lists what was left when anything was.
set -euo pipefail
cd "$(dirname "$0")/.."
TOP=$PWD
N=1000
NET=bridge
while getopts n:N: o; do
        case $o in n) N=$OPTARG ;; N) NET=$OPTARG ;; *) exit 2 ;; esac
done
BUILD=${BERTH_BUILD:-$TOP/build}
[ -x "$BUILD/src/cmd/berth/berth" ] || { echo "build berth first (ninja -C build)" >&2; exit 2; }
export PATH="$BUILD/src/cmd/berth:$BUILD/src/cmd/berth-monitor:$BUILD/src/cmd/berth-runtime:$PATH"
# shellcheck source=tests/lib/bundle.bash
. "$TOP/tests/lib/bundle.bash"

W=$(mktemp -d /var/tmp/berth-leak.XXXXXX)
case $W in /var/tmp/berth-leak.??????) ;; *) echo "bad work dir '$W'" >&2; exit 2 ;; esac
CG=berth-leak-$$
BR=blk$$
NETNAME=leak$$
SUBNET_PREFIX=10.188.$((($$ % 200) + 20))
cat >"$W/berth.conf" <<EOF
{
  "seccompProfile": "$TOP/data/seccomp/default.json",
  "cgroupParent": "/$CG",
  "network": {"configDir": "$W/networks", "defaultNetwork": "$NETNAME",
              "defaultBridge": "$BR", "defaultSubnet": "$SUBNET_PREFIX.0/24"}
}
EOF
BERTH=(berth --root "$W/root" --runroot "$W/run" --config "$W/berth.conf")

cleanup() {
        set +e
        local ids m c
        ids=$("${BERTH[@]}" ps -aq --no-trunc 2>/dev/null)
        [ -z "$ids" ] || "${BERTH[@]}" rm -f $ids >/dev/null 2>&1
        awk -v p="$W/" 'substr($5, 1, length(p)) == p {print $5}' /proc/self/mountinfo | sort -r |
                while read -r m; do
                        case $m in "$W"/?*) umount -l "$m" ;; esac
                done
        for c in /sys/fs/cgroup/*/"$CG"; do
                [ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} \; 2>/dev/null
        done
        ip link show "$BR" >/dev/null 2>&1 && ip link del "$BR"
        rm -rf "$W"
        return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

make_rootfs "$W/rootfs"
tar -C "$W/rootfs" -c . | "${BERTH[@]}" import -q -c 'CMD ["/bin/sh"]' - leak-img >/dev/null

rules() { iptables-save 2>/dev/null | grep -c -F "$SUBNET_PREFIX." || true; }
# The first run creates the default network (bridge, chains): what the
# cycles must leave as they found it is measured after it.
"${BERTH[@]}" run --rm --network "$NET" leak-img true
rules_before=$(rules)
# A lease while a container runs, so the check below looks where leases are.
if [ "$NET" = bridge ]; then
        "${BERTH[@]}" run -d --name leak-probe leak-img sleep 60 >/dev/null
        [ -n "$(find "$W/root/network/ipam" -type f -name "$SUBNET_PREFIX.*" 2>/dev/null)" ] ||
                { echo "no IPAM lease found under $W/root/network/ipam" >&2; exit 2; }
        "${BERTH[@]}" rm -f leak-probe >/dev/null
fi

start=$(date +%s%N)
for ((i = 0; i < N; i++)); do
        "${BERTH[@]}" run --rm --network "$NET" leak-img true 2>>"$W/stderr"
done
end=$(date +%s%N)

left=()
[ ! -s "$W/stderr" ] || left+=("messages on stderr: $(sort "$W/stderr" | uniq -c | head -3 | tr '\n' ' ')")
check() { # check WHAT OUTPUT: OUTPUT non-empty is a leak
        [ -z "$2" ] || left+=("$1: $(echo "$2" | head -5 | tr '\n' ' ')")
}
listing() { [ -d "$1" ] && ls -A "$1" | grep -v '^\.' || true; }
check "containers (berth ps -a)" "$("${BERTH[@]}" ps -aq)"
check "rows in containers" "$(sqlite3 "file:$W/root/berth.db?mode=ro" 'SELECT id FROM containers' 2>&1)"
check "rows in exec_sessions" "$(sqlite3 "file:$W/root/berth.db?mode=ro" 'SELECT id FROM exec_sessions' 2>&1)"
check "root/containers" "$(listing "$W/root/containers")"
check "root/rw" "$(listing "$W/root/rw")"
check "runroot/containers" "$(listing "$W/run/containers")"
for r in "$W"/run/runtime/*; do
        check "runtime state $r" "$(listing "$r")"
done
check "runroot/netns" "$(listing "$W/run/netns")"
# runroot/netns itself is a shared bind mount made once (as `ip netns` does); the namespaces are below it.
check "mounts" "$(awk -v p="$W/" -v ns="$W/run/netns" 'substr($5, 1, length(p)) == p && $5 != ns {print $5}' \
        /proc/self/mountinfo)"
check "cgroups" "$(find /sys/fs/cgroup/*/"$CG" -mindepth 1 -type d 2>/dev/null)"
check "monitors" "$(pgrep -f "berth-monitor --id .* --state-dir $W/" || true)"
if [ "$NET" = bridge ]; then
        check "veths on $BR" "$(ip -o link show master "$BR" 2>/dev/null)"
        check "IPAM leases" "$(find "$W/root/network/ipam" -type f -name "$SUBNET_PREFIX.*" 2>/dev/null)"
        rules_after=$(rules)
        [ "$rules_after" = "$rules_before" ] ||
                left+=("iptables rules for $SUBNET_PREFIX.0/24: $rules_before before, $rules_after after")
fi

echo "$N x berth run --rm --network $NET: $(awk -v t=$((end - start)) -v n="$N" 'BEGIN{printf "%.1f", t / n / 1e6}') ms per cycle"
if [ ${#left[@]} -ne 0 ]; then
        printf 'LEFT BEHIND: %s\n' "${left[@]}"
        exit 1
fi
echo "nothing left behind: rows, files under --root/--runroot, mounts, cgroups, netns, veths, leases, rules"
