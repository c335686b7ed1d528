# Shared by network-cli.bats and ports.bats: the engine suites' setup plus
# names and subnets of this run only, and checks that a container's network
# left nothing behind (interfaces, namespaces, rules, leases, records).
#
# Incident rule: every name removed here carries this run's TAG, every path
# is checked by engine_t_ok first.
load engine-common

SHARED_CHAINS=" CNI-HOSTPORT-DNAT CNI-HOSTPORT-MASQ CNI-HOSTPORT-SETMARK CNI-FORWARD CNI-ADMIN "

# Free /24s for user networks: in 10.184.0.0/16, on no host interface or route.
pick_subnets() {
        local used start i n=0
        used=$({ ip -4 -o addr; ip -4 route; } | grep -oE '10\.184\.[0-9]+\.' | sort -u)
        start=$((RANDOM % 200))
        for ((i = start; i < start + 56 && n < $1; i++)); do
                grep -qx "10\.184\.$i\." <<<"$used" && continue
                echo "10.184.$i.0/24"
                n=$((n + 1))
        done
}

volnet_setup_file() {
        engine_setup_file || return 1
        export SKIP_REASON=
        if [ ! -x /usr/lib/cni/bridge ] || ! command -v iptables >/dev/null; then
                SKIP_REASON="needs containernetworking-plugins and iptables"
                return 0
        fi
        export TAG="vn$(printf %04d $((RANDOM % 10000)))"
        local s
        s=$(pick_subnets 3)
        [ "$(wc -l <<<"$s")" = 3 ] || { SKIP_REASON="no free /24 in 10.184.0.0/16"; return 0; }
        export SUBNET1 SUBNET2 SUBNET3
        SUBNET1=$(sed -n 1p <<<"$s") SUBNET2=$(sed -n 2p <<<"$s") SUBNET3=$(sed -n 3p <<<"$s")
        # What CNI changes host-wide, to put back at the end (the shared CNI-HOSTPORT-*
        # and CNI-FORWARD chains stay, as with podman: other users of the host use them).
        sysctl -n net.ipv4.ip_forward >"$ENGINE_T/ip_forward"
}

volnet_teardown_file() {
        engine_t_ok || return 0
        local n
        b rm -f $(b ps -aq --no-trunc 2>/dev/null) >/dev/null 2>&1 || true
        for n in $(b network ls -q 2>/dev/null); do
                case $n in "$TAG"?*) b network rm "$n" >/dev/null 2>&1 || true ;; esac
        done
        if [ -n "${TAG:-}" ]; then
                for n in $(ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep "^$TAG"); do
                        ip link del "$n" 2>/dev/null || true
                done
                scrub_rules
        fi
        [ -f "$ENGINE_T/ip_forward" ] && sysctl -qw net.ipv4.ip_forward="$(cat "$ENGINE_T/ip_forward")"
        engine_teardown_file
}

volnet_setup() {
        [ -z "${SKIP_REASON:-}" ] || skip "$SKIP_REASON"
        engine_setup
}

volnet_teardown() {
        engine_teardown
        engine_t_ok && [ -z "${SKIP_REASON:-}" ] || return 0
        local n
        for n in $(b network ls -q 2>/dev/null); do
                case $n in "$TAG"?*) b network rm "$n" >/dev/null 2>&1 || true ;; esac
        done
        stop_bg
}

# A regex of the address prefixes of this run's networks (the default one included).
our_subnets() {
        local p="${SUBNET1%.0/24}.|${SUBNET2%.0/24}.|${SUBNET3%.0/24}.|${ENGINE_SUBNET%.0/24}."
        echo "${p//./\\.}"
}

# Rules that name this run's subnets or bridges (after a failed test only).
scrub_rules() {
        local ipt t line pat="$(our_subnets)|$TAG"
        for ipt in iptables ip6tables; do
                for t in filter nat; do
                        $ipt -t "$t" -S 2>/dev/null | grep -E "^-A .*($pat)" | while read -r line; do
                                eval "$ipt -t $t ${line/#-A/-D}" 2>/dev/null || true
                        done
                done
        done
}

# A network of this run: net NAME SUBNET [ARGS...] (bridge ${TAG}NAME).
net() {
        local name=$1 subnet=$2
        shift 2
        b network create --subnet "$subnet" --interface-name "${TAG}$name" "$@" "${TAG}$name" >/dev/null
}

ip_of() { b inspect -f '{{.NetworkSettings.IPAddress}}' "$1"; }

# Nothing a container's network held is left: no veth on our bridges, namespace, rule naming
# its address, port or chain, lease or attachment record.
check_net_clean() {
        local i ipt t c ours="master ($TAG[^ ]*|$ENGINE_BRIDGE) "
        # Veths on this run's bridges (other users of the host make their own).
        for i in $(seq 100); do
                ip -o link show type veth | grep -qE "$ours" || break
                sleep 0.1
        done
        ! ip -o link show type veth | grep -E "$ours" || { echo "leftover veths"; return 1; }
        [ -z "$(ls -A "$ENGINE_T/run/netns" 2>/dev/null | grep -v "^\.lock$")" ] || { echo "leftover netns"; return 1; }
        ! grep -q " $ENGINE_T/run/netns/[^ ]" /proc/self/mountinfo || { echo "leftover netns mount"; return 1; }
        for ipt in iptables ip6tables; do
                for t in filter nat; do
                        for addr in "$@"; do
                                ! $ipt -t "$t" -S 2>/dev/null | grep -qF -- "$addr" ||
                                        { echo "leftover $ipt rule for $addr"; $ipt -t "$t" -S | grep -F -- "$addr"; return 1; }
                        done
                done
                # Per-container chains of this run name our subnets (other users' do not).
                for t in filter nat; do
                        for c in $($ipt -t "$t" -S 2>/dev/null | awk '$1 == "-N" {print $2}' | grep '^CNI-'); do
                                [[ "$SHARED_CHAINS" == *" $c "* ]] && continue
                                ! $ipt -t "$t" -S "$c" 2>/dev/null | grep -qE -- "$(our_subnets)" ||
                                        { echo "leftover $ipt chain $c"; $ipt -t "$t" -S "$c"; return 1; }
                        done
                done
        done
        [ -z "$(find "$ENGINE_T/root/network/ipam" -type f ! -name lock ! -name 'last_reserved_ip.*' 2>/dev/null)" ] ||
                { echo "leftover leases"; find "$ENGINE_T/root/network/ipam" -type f; return 1; }
        [ -z "$(find "$ENGINE_T/root/network/results" -name '*.json' 2>/dev/null)" ] ||
                { echo "leftover records"; return 1; }
}

# A host port nothing listens on now.
free_port() {
        local p
        for _ in $(seq 50); do
                p=$((20000 + RANDOM % 30000))
                ss -Hltn "sport = :$p" | grep -q . || { echo "$p"; return 0; }
        done
        return 1
}

# Background helpers of a test, stopped by teardown.
bg() {
        "$@" </dev/null >/dev/null 2>&1 3>&- &
        echo $! >>"$BATS_TEST_TMPDIR/pids"
}
stop_bg() {
        [ -f "$BATS_TEST_TMPDIR/pids" ] || return 0
        local p
        while read -r p; do
                kill "$p" 2>/dev/null || true
                wait "$p" 2>/dev/null || true
        done <"$BATS_TEST_TMPDIR/pids"
        rm -f "$BATS_TEST_TMPDIR/pids"
}

# busybox 1.35's wget -T crashes on a refused connection: timeout(1) bounds it instead.
get() { timeout 10 busybox wget -q -O - "http://$1/"; }
wait_get() {
        local i
        for i in $(seq 100); do
                get "$1" 2>/dev/null && return 0
                sleep 0.1
        done
        get "$1"
}
