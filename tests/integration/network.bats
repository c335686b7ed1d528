#!/usr/bin/env bats
# src/network through its test driver, the way the engine uses it: network
# namespaces, the Debian CNI plugins, port mappings, user networks, and a
# teardown that leaves no interface, namespace, rule or lease behind.

NETCTL=${BERTH_BUILD:-$BATS_TEST_DIRNAME/../../build}/tests/tools/berth-netctl
SHARED_CHAINS=" CNI-HOSTPORT-DNAT CNI-HOSTPORT-MASQ CNI-HOSTPORT-SETMARK CNI-FORWARD CNI-ADMIN "

setup_file() {
        export SKIP_REASON=
        if [ "$(id -u)" != 0 ]; then
                SKIP_REASON="needs root"
        elif [ ! -x /usr/lib/cni/bridge ] || ! command -v iptables >/dev/null; then
                SKIP_REASON="needs containernetworking-plugins and iptables"
        elif [ ! -x "$NETCTL" ]; then
                SKIP_REASON="berth-netctl is not built"
        fi
        [ -z "$SKIP_REASON" ] || return 0
        WORK=$(mktemp -d /tmp/berth-net.XXXXXX)
        export WORK TAG="bn$(printf %05d $((RANDOM % 100000)))"
        # A /16 nothing on the host uses: every subnet of this run lives in it.
        local i
        for i in $(seq 190 199); do
                if ! { ip -4 -o addr; ip -4 route; } | grep -qE "(inet |^)10\.$i\."; then
                        export NETP=10.$i
                        break
                fi
        done
        [ -n "${NETP:-}" ] || SKIP_REASON="no free 10.190-199.0.0/16 on this host"
        export V6P=fd42:${NETP#10.}
        export BERTH_NETWORK_CONFIG_DIR=$WORK/conf BERTH_NETWORK_STATE_DIR=$WORK/state BERTH_NETWORK_RUN_DIR=$WORK/run
        export BERTH_NETWORK_DEFAULT_NAME=${TAG}def BERTH_NETWORK_DEFAULT_BRIDGE=${TAG}d0
        export BERTH_NETWORK_DEFAULT_SUBNET=$NETP.0.0/24
        # What the plugins change on the host, to put back at the end.
        sysctl -n net.ipv4.ip_forward >"$WORK/ip_forward"
        iptables-save >"$WORK/iptables.before" 2>/dev/null
        ip6tables-save >"$WORK/ip6tables.before" 2>/dev/null || true
        nft list tables >"$WORK/nft.before" 2>/dev/null || true
        ip -o link show type veth | wc -l >"$WORK/veths"
}

teardown_file() {
        [ -n "${WORK:-}" ] && [ -d "$WORK" ] || return 0
        while umount "$WORK/run/netns" 2>/dev/null; do :; done
        restore_host
        rm -rf "$WORK"
}

setup() {
        [ -z "$SKIP_REASON" ] || skip "$SKIP_REASON"
        unset BERTH_CNI_PATH http_proxy HTTP_PROXY
        mkdir -p "$WORK/t"
}

teardown() {
        [ -z "$SKIP_REASON" ] || return 0
        stop_bg
        # What a failing test left: attachments, namespaces, networks.
        local net id name ifname rest n
        "$NETCTL" ps 2>/dev/null | while read -r net id name ifname rest; do
                "$NETCTL" detach --network "$net" --id "$id" --ifname "$ifname" || true
        done
        for n in $(ls "$WORK/run/netns" 2>/dev/null); do "$NETCTL" netns-rm "$n" || true; done
        for n in $(cd "$BERTH_NETWORK_CONFIG_DIR" 2>/dev/null && ls -- *.conflist 2>/dev/null); do
                "$NETCTL" rm "${n%.conflist}" --allow-default >/dev/null 2>&1 || true
        done
        for n in $(ip -o link show | awk -F': ' '{print $2}' | grep "^$TAG" | cut -d@ -f1); do
                ip link del "$n" 2>/dev/null || true
        done
        scrub_rules
        rm -rf "$BERTH_NETWORK_CONFIG_DIR" "$BERTH_NETWORK_STATE_DIR" "$WORK/t"
}

# ---- helpers ----

ns() { echo "$WORK/run/netns/$1"; }
in_ns() {
        local n=$1
        shift
        nsenter --net="$(ns "$n")" "$@"
}
ns_add() { for n in "$@"; do "$NETCTL" netns-add "$n" >/dev/null; done; }
ns_rm() { for n in "$@"; do "$NETCTL" netns-rm "$n"; done; }
# attach NETWORK NS NAME [ARGS...]: the container id is ${TAG}NS.
attach() {
        local net=$1 n=$2 name=$3
        shift 3
        "$NETCTL" attach --network "$net" --id "$TAG$n" --name "$name" --netns "$(ns "$n")" "$@"
}
detach() { "$NETCTL" detach --network "$1" --id "$TAG$2"; }
addr_of() { jq -r '.ips[0].address' <<<"$1" | cut -d/ -f1; }
host_port_of() { jq -r ".ports[$2]" <<<"$1" | sed -E 's/.*:([0-9]+)->.*/\1/'; }
# A host port nothing uses right now.
free_port() { "$NETCTL" ports 80 | sed -E 's/.*:([0-9]+)->.*/\1/'; }
bridge_of() { jq -r '.[0].network_interface' <<<"$("$NETCTL" inspect "$1")"; }
leases() { find "$BERTH_NETWORK_STATE_DIR/ipam" -type f ! -name lock ! -name 'last_reserved_ip.*' 2>/dev/null | sort; }

bg() {
        "$@" </dev/null >/dev/null 2>&1 3>&- &
        echo $! >>"$WORK/t/pids"
}
stop_bg() {
        [ -f "$WORK/t/pids" ] || return 0
        local p
        while read -r p; do
                kill "$p" 2>/dev/null || true
                wait "$p" 2>/dev/null || true
        done <"$WORK/t/pids"
        rm -f "$WORK/t/pids"
}
# httpd NS PORT: serves "hello from NS" inside the namespace.
httpd() {
        mkdir -p "$WORK/t/www-$1-$2"
        echo "hello from $1" >"$WORK/t/www-$1-$2/index.html"
        bg nsenter --net="$(ns "$1")" busybox httpd -f -p "$2" -h "$WORK/t/www-$1-$2"
}
# (busybox 1.35 wget -T crashes on a refused connection: timeout(1) bounds it instead.)
get() { timeout 10 busybox wget -q -O - "http://$1/"; }
# Retries while a just-started server comes up.
wait_get() {
        local i
        for i in $(seq 100); do
                get "$1" 2>/dev/null && return 0
                sleep 0.1
        done
        get "$1"
}

# Everything berth made is gone: interfaces, namespaces, rules, leases, records.
check_clean() {
        local ipt t c i
        run ip -o link show
        [[ "$output" != *"$TAG"* ]] || { echo "leftover link: $output"; return 1; }
        for i in $(seq 100); do
                [ "$(ip -o link show type veth | wc -l)" = "$(cat "$WORK/veths")" ] && break
                sleep 0.1
        done
        [ "$(ip -o link show type veth | wc -l)" = "$(cat "$WORK/veths")" ] || { ip -o link show type veth; return 1; }
        ! grep -q " $WORK/run/netns/[^ ]" /proc/self/mountinfo
        [ -z "$(ls "$WORK/run/netns" 2>/dev/null)" ]
        for ipt in iptables ip6tables; do
                for t in filter nat; do
                        run bash -c "$ipt -t $t -S 2>/dev/null | grep -E '$TAG|${NETP//./\\.}\\.|$V6P:'"
                        [ "$status" -ne 0 ] || { echo "leftover $ipt rules: $output"; return 1; }
                done
                for c in $($ipt-save 2>/dev/null | grep -oE '^:CNI-[^ ]+' | tr -d :); do
                        [[ "$SHARED_CHAINS" == *" $c "* ]] && continue
                        grep -q "^:$c " "$WORK/$ipt.before" || { echo "leftover $ipt chain $c"; return 1; }
                done
        done
        [ -z "$(leases)" ] || { echo "leftover leases: $(leases)"; return 1; }
        [ -z "$(find "$BERTH_NETWORK_STATE_DIR" -name '*.json' 2>/dev/null)" ] || { echo "leftover records"; return 1; }
}

# Drops rules that name this run's networks, containers or addresses (after a failed test).
scrub_rules() {
        local ipt t line c
        for ipt in iptables ip6tables; do
                for t in filter nat; do
                        $ipt -t "$t" -S 2>/dev/null | grep -E "^-A .*($TAG|${NETP//./\\.}\\.|$V6P:)" |
                                while read -r line; do
                                        eval "$ipt -t $t ${line/#-A/-D}" 2>/dev/null || true
                                done
                        for c in $($ipt -t "$t" -S 2>/dev/null | awk '$1 == "-N" {print $2}' | grep '^CNI-'); do
                                [[ "$SHARED_CHAINS" == *" $c "* ]] && continue
                                grep -q "^:$c " "$WORK/$ipt.before" && continue
                                [ -z "$($ipt -t "$t" -S "$c" | grep '^-A')" ] || continue
                                $ipt -t "$t" -X "$c" 2>/dev/null || true
                        done
                done
        done
}

# Puts back what the plugins set up host-wide during this run, when nothing
# else uses it: the shared CNI chains, empty nftables tables, ip_forward.
restore_host() {
        local ipt t line c fam name
        for ipt in iptables ip6tables; do
                for t in filter nat; do
                        sed -n "/^\*$t\$/,/^COMMIT/p" "$WORK/$ipt.before" | grep -q ':CNI-' && continue
                        $ipt -t "$t" -S 2>/dev/null | grep -qE -- '-[sd] [0-9a-f.:]+/|id: ' && continue
                        $ipt -t "$t" -S 2>/dev/null | grep -E '^-A [A-Z]+ .*-j CNI-' | while read -r line; do
                                eval "$ipt -t $t ${line/#-A/-D}" 2>/dev/null || true
                        done
                        for c in $($ipt -t "$t" -S 2>/dev/null | awk '$1 == "-N" {print $2}' | grep '^CNI-'); do
                                $ipt -t "$t" -F "$c" 2>/dev/null || true
                        done
                        for c in $($ipt -t "$t" -S 2>/dev/null | awk '$1 == "-N" {print $2}' | grep '^CNI-'); do
                                $ipt -t "$t" -X "$c" 2>/dev/null || true
                        done
                done
        done
        nft list tables 2>/dev/null | while read -r _ fam name; do
                grep -qx "table $fam $name" "$WORK/nft.before" && continue
                nft list table "$fam" "$name" | grep -qvE '^\s*(table |chain |type |\}|$)' && continue
                nft delete table "$fam" "$name" 2>/dev/null || true
        done
        sysctl -qw net.ipv4.ip_forward="$(cat "$WORK/ip_forward")"
}

# ---- tests ----

@test "--network none, host, bridge and a network name" {
        run "$NETCTL" mode none
        [ "$output" = none ]
        run "$NETCTL" mode host
        [ "$output" = host ]
        run "$NETCTL" mode bridge
        [ "$output" = "bridge ${TAG}def" ]
        run "$NETCTL" mode backend
        [ "$output" = "bridge backend" ]
        run "$NETCTL" mode 'a;b'
        [ "$status" -eq 1 ]
        [[ "$output" == *"expected none, host, bridge or a network name"* ]]
}

@test "network namespaces: own namespace with loopback up, removed completely" {
        run "$NETCTL" netns-add a
        [ "$status" -eq 0 ]
        [ "$output" = "$(ns a)" ]
        [ "$(stat -f -c %T "$(ns a)")" = nsfs ]
        [ "$(readlink /proc/self/ns/net)" != "$(in_ns a readlink /proc/self/ns/net)" ]
        in_ns a ip -o link show lo | grep -q 'LOOPBACK,UP'
        in_ns a busybox ping -c 1 -W 5 127.0.0.1
        run "$NETCTL" netns-add a
        [ "$status" -eq 1 ]
        [[ "$output" == *"network namespace \`$(ns a)\` already exists"* ]]
        run "$NETCTL" netns-add ../x
        [ "$status" -eq 1 ]
        [[ "$output" == *"invalid network namespace name"* ]]
        ns_rm a
        [ ! -e "$(ns a)" ]
        ns_rm a
        check_clean
}

@test "default network: created on first use, containers get addresses and reach each other" {
        ns_add a b
        A=$(attach "${TAG}def" a web)
        B=$(attach "${TAG}def" b db)
        conf=$BERTH_NETWORK_CONFIG_DIR/${TAG}def.conflist
        jq -e '.plugins | map(.type) == ["bridge", "portmap", "firewall", "tuning"]' "$conf"
        jq -e --arg br "${TAG}d0" '.plugins[0].bridge == $br' "$conf"
        ipa=$(addr_of "$A") ipb=$(addr_of "$B")
        [[ "$ipa" == $NETP.0.* ]] && [[ "$ipb" == $NETP.0.* ]] && [ "$ipa" != "$ipb" ]
        [ "$(jq -r '.ips[0].gateway' <<<"$A")" = "$NETP.0.1" ]
        in_ns a ip -o link show eth0 | grep -q "link/ether $(jq -r .mac <<<"$A") "
        in_ns a ip -o -4 addr show eth0 | grep -q "inet $ipa/24"
        in_ns a ip route | grep -q "^default via $NETP.0.1 dev eth0"
        ip -o -4 addr show "${TAG}d0" | grep -q "inet $NETP.0.1/24"
        in_ns a busybox ping -c 1 -W 5 "$ipb"
        in_ns b busybox ping -c 1 -W 5 "$ipa"
        in_ns a busybox ping -c 1 -W 5 "$NETP.0.1"
        # One lease per container, under berth's own state directory.
        [ "$(leases | wc -l)" = 2 ]
        # What the engine writes to /etc/hosts.
        run "$NETCTL" hosts "${TAG}def"
        [[ "$output" == *"$ipa	web ${TAG}a"* ]]
        [[ "$output" == *"$ipb	db ${TAG}b"* ]]
        detach "${TAG}def" a
        detach "${TAG}def" b
        ns_rm a b
        "$NETCTL" rm "${TAG}def" --allow-default
        check_clean
}

@test "port mappings: reachable at 127.0.0.1, at host addresses from this and another host, at the container" {
        ns_add a
        port=$(free_port)
        A=$(attach "${TAG}def" a web -p "$port:80" --expose 8080)
        ip=$(addr_of "$A")
        rport=$(host_port_of "$A" 1)
        [ "$(jq -r '.ports[0]' <<<"$A")" = "0.0.0.0:$port->80/tcp" ]
        [[ "$(jq -r '.ports[1]' <<<"$A")" == "0.0.0.0:$rport->8080/tcp" ]]
        [ "$rport" -gt 0 ] && [ "$rport" != "$port" ]
        httpd a 80
        httpd a 8080
        [ "$(wait_get "$ip:80")" = "hello from a" ]
        [ "$(wait_get "$ip:8080")" = "hello from a" ]
        [ "$(get "127.0.0.1:$port")" = "hello from a" ]
        [ "$(get "$NETP.0.1:$port")" = "hello from a" ]
        [ "$(get "127.0.0.1:$rport")" = "hello from a" ]
        # From another host: a namespace wired to this one by a veth pair.
        ns_add ext
        in_ns ext ip link add eth0 type veth peer name "${TAG}x" netns $$
        ip addr add "$NETP.99.1/30" dev "${TAG}x"
        ip link set "${TAG}x" up
        in_ns ext ip addr add "$NETP.99.2/30" dev eth0
        in_ns ext ip link set eth0 up
        [ "$(in_ns ext timeout 10 busybox wget -q -O - "http://$NETP.99.1:$port/")" = "hello from a" ]
        ip link del "${TAG}x"
        ns_rm ext
        "$NETCTL" ps | grep -q "0.0.0.0:$port->80/tcp"
        detach "${TAG}def" a
        # The mapping is gone with the attachment (the server still runs in the namespace).
        run get "127.0.0.1:$port"
        [ "$status" -ne 0 ]
        stop_bg
        ns_rm a
        "$NETCTL" rm "${TAG}def" --allow-default
        check_clean
}

@test "port mapping to one host address, and a host port range" {
        ns_add a
        p1=$(free_port)
        A=$(attach "${TAG}def" a web -p "127.0.0.1:$p1:80" -p "$((p1 + 1))-$((p1 + 2)):81")
        [ "$(jq -r '.ports[0]' <<<"$A")" = "127.0.0.1:$p1->80/tcp" ]
        [[ "$(jq -r '.ports[1]' <<<"$A")" == *"->81/tcp" ]]
        httpd a 80
        [ "$(wait_get "127.0.0.1:$p1")" = "hello from a" ]
        run get "$NETP.0.1:$p1"
        [ "$status" -ne 0 ]
        stop_bg
        detach "${TAG}def" a
        ns_rm a
        "$NETCTL" rm "${TAG}def" --allow-default
        check_clean
}

@test "an internal network has no route out" {
        "$NETCTL" create "${TAG}in" --internal --subnet "$NETP.5.0/24" --bridge "${TAG}i0"
        ns_add a b
        A=$(attach "${TAG}in" a a1)
        B=$(attach "${TAG}in" b b1)
        in_ns a busybox ping -c 1 -W 5 "$(addr_of "$B")"
        ! in_ns a ip route | grep -q default
        run in_ns a ip route get 192.0.2.1
        [ "$status" -ne 0 ]
        [[ "$output" == *"unreachable"* ]]
        # No address on the bridge: the host is no gateway for it.
        ! ip -o -4 addr show "${TAG}i0" | grep -q inet
        ! iptables -t nat -S | grep -q "$NETP.5."
        run "$NETCTL" attach --network "${TAG}in" --id "${TAG}c" --netns "$(ns a)" --ifname eth1 -p 8080:80
        [ "$status" -eq 1 ]
        [[ "$output" == *"network \`${TAG}in\` is internal: ports cannot be published"* ]]
        run "$NETCTL" inspect "${TAG}in"
        [ "$(jq -r '.[0].internal' <<<"$output")" = true ]
        detach "${TAG}in" a
        detach "${TAG}in" b
        ns_rm a b
        "$NETCTL" rm "${TAG}in"
        check_clean
}

@test "user networks: create, ls, inspect, rm" {
        run "$NETCTL" create "${TAG}u1" --subnet "$NETP.10.0/24" --gateway "$NETP.10.254" --label team=infra --label tier=db
        [ "$status" -eq 0 ]
        run "$NETCTL" inspect "${TAG}u1"
        [ "$status" -eq 0 ]
        jq -e --arg n "${TAG}u1" '.[0].name == $n and .[0].driver == "bridge"' <<<"$output"
        jq -e --arg s "$NETP.10.0/24" --arg g "$NETP.10.254" '.[0].subnets == [{"subnet": $s, "gateway": $g}]' <<<"$output"
        jq -e '.[0].labels == {"team": "infra", "tier": "db"} and .[0].internal == false' <<<"$output"
        jq -e '.[0].ipv6_enabled == false and .[0].dns_enabled == false and .[0].ipam_options.driver == "host-local"' <<<"$output"
        jq -e '(.[0].id | test("^[0-9a-f]{64}$")) and (.[0].created | test("^[0-9]{4}-"))' <<<"$output"
        jq -e '.[0].network_interface | test("^berth[0-9]+$")' <<<"$output"
        id=$(jq -r '.[0].id' <<<"$output")
        br=$(jq -r '.[0].network_interface' <<<"$output")
        run "$NETCTL" ls
        [[ "$output" == *"${id:0:12}  ${TAG}u1"*bridge* ]]

        run "$NETCTL" create "${TAG}u2" --subnet "$NETP.10.128/25"
        [ "$status" -eq 1 ]
        [[ "$output" == *"subnet $NETP.10.128/25 overlaps subnet $NETP.10.0/24 of network \`${TAG}u1\`"* ]]
        run "$NETCTL" create "${TAG}u1" --subnet "$NETP.11.0/24"
        [ "$status" -eq 1 ]
        [[ "$output" == *"network \`${TAG}u1\` already exists"* ]]
        run "$NETCTL" create "${TAG}u3" --subnet 127.0.0.0/16
        [ "$status" -eq 1 ]
        [[ "$output" == *"overlaps address 127.0.0.1/8 of host interface \`lo\`"* ]]
        run "$NETCTL" create "${TAG}u3" --subnet "$NETP.12.1/24"
        [ "$status" -eq 1 ]
        [[ "$output" == *"did you mean $NETP.12.0/24?"* ]]
        run "$NETCTL" create none
        [ "$status" -eq 1 ]
        [[ "$output" == *"reserved"* ]]

        # The gateway given is the bridge's address; a network in use cannot go.
        ns_add a
        A=$(attach "${TAG}u1" a web)
        [ "$(jq -r '.ips[0].gateway' <<<"$A")" = "$NETP.10.254" ]
        ip -o -4 addr show "$br" | grep -q "inet $NETP.10.254/24"
        run "$NETCTL" rm "${TAG}u1"
        [ "$status" -eq 1 ]
        [[ "$output" == *"network \`${TAG}u1\` is in use by 1 container (${TAG}a)"* ]]
        detach "${TAG}u1" a
        ns_rm a
        [ -d "$BERTH_NETWORK_STATE_DIR/ipam/${TAG}u1" ]
        # Removing it takes its bridge and its lease directory along.
        "$NETCTL" rm "${TAG}u1"
        ! ip link show "$br" 2>/dev/null
        [ ! -e "$BERTH_NETWORK_STATE_DIR/ipam/${TAG}u1" ]
        [ ! -e "$BERTH_NETWORK_CONFIG_DIR/${TAG}u1.conflist" ]
        run "$NETCTL" inspect "${TAG}u1"
        [ "$status" -eq 1 ]
        [[ "$output" == *"network \`${TAG}u1\` not found"* ]]
        run "$NETCTL" rm "${TAG}u1"
        [ "$status" -eq 1 ]
        # The default network stays unless asked for explicitly.
        "$NETCTL" inspect "${TAG}def" >/dev/null
        run "$NETCTL" rm "${TAG}def"
        [ "$status" -eq 1 ]
        [[ "$output" == *"the default network \`${TAG}def\` cannot be removed"* ]]
        "$NETCTL" rm "${TAG}def" --allow-default
        check_clean
}

@test "a missing plugin is reported before anything is set up" {
        mkdir "$WORK/t/partial"
        for p in /usr/lib/cni/*; do
                [ "${p##*/}" = tuning ] || ln -s "$p" "$WORK/t/partial/"
        done
        ns_add a
        run env BERTH_CNI_PATH="$WORK/t/partial" "$NETCTL" attach --network "${TAG}def" --id "${TAG}a" --netns "$(ns a)"
        [ "$status" -eq 1 ]
        [[ "$output" == *"CNI plugin \`tuning\` not found in $WORK/t/partial"* ]]
        ! ip link show "${TAG}d0" 2>/dev/null
        [ -z "$("$NETCTL" ps)" ]
        ns_rm a
        "$NETCTL" rm "${TAG}def" --allow-default
        check_clean
}

@test "a failing plugin: its CNI error is the message and the ADD is rolled back" {
        mkdir "$WORK/t/fake"
        cat >"$WORK/t/fake/tuning" <<'EOF'
#!/bin/sh
cat >/dev/null
[ "$CNI_COMMAND" = ADD ] || exit 0
echo '{"cniVersion":"1.0.0","code":7,"msg":"invalid sysctl","details":"net.ipv4.bogus"}'
exit 1
EOF
        chmod +x "$WORK/t/fake/tuning"
        ns_add a
        port=$(free_port)
        run env BERTH_CNI_PATH="$WORK/t/fake:/usr/lib/cni" "$NETCTL" attach --network "${TAG}def" --id "${TAG}a" \
                --netns "$(ns a)" -p "$port:80"
        [ "$status" -eq 1 ]
        [[ "$output" == *"plugin \`tuning\` ADD failed: invalid sysctl: net.ipv4.bogus (CNI error code 7)"* ]]
        # bridge, portmap and firewall ran, and were undone.
        ip link show "${TAG}d0"
        [ -z "$(ip -o link show master "${TAG}d0")" ]
        ! in_ns a ip link show eth0 2>/dev/null
        [ -z "$(leases)" ]
        ! iptables -t nat -S | grep -qE "$TAG|$port"
        [ -z "$("$NETCTL" ps)" ]
        ns_rm a
        "$NETCTL" rm "${TAG}def" --allow-default
        check_clean
}

@test "an exhausted address pool: clear error, nothing left of the failed container" {
        "$NETCTL" create "${TAG}sm" --subnet "$NETP.20.0/30" --bridge "${TAG}s0"
        ns_add a b
        A=$(attach "${TAG}sm" a a1)
        [ "$(addr_of "$A")" = "$NETP.20.2" ]
        run attach "${TAG}sm" b b1
        [ "$status" -eq 1 ]
        [[ "$output" == *"plugin \`bridge\` ADD failed"*"no IP addresses available"* ]]
        ! in_ns b ip link show eth0 2>/dev/null
        [ "$(ip -o link show master "${TAG}s0" | wc -l)" = 1 ]
        [ "$(leases | xargs -n1 basename)" = "$NETP.20.2" ]
        [ "$("$NETCTL" ps | wc -l)" = 1 ]
        detach "${TAG}sm" a
        ns_rm a b
        "$NETCTL" rm "${TAG}sm"
        check_clean
}

@test "a host port in use: by a host process, by another container" {
        port=$(free_port)
        bg busybox nc -l -p "$port"
        for _ in $(seq 100); do ss -Hltn "sport = :$port" | grep -q . && break; sleep 0.1; done
        ns_add a b
        run attach "${TAG}def" a web -p "$port:80"
        [ "$status" -eq 1 ]
        [[ "$output" == *"host port 0.0.0.0:$port/tcp is already in use on the host"* ]]
        # Refused before any plugin ran.
        ! ip link show "${TAG}d0" 2>/dev/null
        stop_bg
        port2=$(free_port)
        attach "${TAG}def" a web -p "$port2:80" >/dev/null
        run attach "${TAG}def" b db -p "$port2:80/tcp"
        [ "$status" -eq 1 ]
        [[ "$output" == *"host port $port2/tcp is already mapped by container ${TAG}a (network ${TAG}def)"* ]]
        [ "$("$NETCTL" ps | wc -l)" = 1 ]
        # Another protocol on the same port is fine.
        attach "${TAG}def" b db -p "$port2:80/udp" >/dev/null
        detach "${TAG}def" a
        detach "${TAG}def" b
        ns_rm a b
        "$NETCTL" rm "${TAG}def" --allow-default
        check_clean
}

@test "detach after the namespace is gone still releases everything" {
        ns_add a
        port=$(free_port)
        A=$(attach "${TAG}def" a web -p "$port:80")
        ip=$(addr_of "$A")
        iptables -t nat -S | grep -q "$ip"
        # The container died and its namespace went first.
        ns_rm a
        detach "${TAG}def" a
        ! iptables -S | grep -q "$ip"
        "$NETCTL" rm "${TAG}def" --allow-default
        check_clean
}

@test "a crash in the middle of ADD: detach cleans up from what is on disk" {
        mkdir "$WORK/t/fake"
        # The last plugin kills berth: bridge, portmap and firewall have run.
        cat >"$WORK/t/fake/tuning" <<'EOF'
#!/bin/sh
cat >/dev/null
[ "$CNI_COMMAND" = ADD ] || exit 0
kill -9 $PPID
exit 1
EOF
        chmod +x "$WORK/t/fake/tuning"
        ns_add a
        port=$(free_port)
        run env BERTH_CNI_PATH="$WORK/t/fake:/usr/lib/cni" "$NETCTL" attach --network "${TAG}def" --id "${TAG}a" \
                --netns "$(ns a)" -p "$port:80"
        [ "$status" -eq 137 ]
        in_ns a ip link show eth0
        ip=$(in_ns a ip -o -4 addr show eth0 | awk '{print $4}' | cut -d/ -f1)
        iptables -S | grep -q "$ip"
        iptables -t nat -S | grep -q "dport $port"
        run "$NETCTL" ps
        [[ "$output" == *"${TAG}a"*"(incomplete)" ]]
        # A later process needs nothing but the record.
        detach "${TAG}def" a
        ! in_ns a ip link show eth0 2>/dev/null
        ! iptables -S | grep -q "$ip"
        ns_rm a
        "$NETCTL" rm "${TAG}def" --allow-default
        check_clean
}

@test "check passes on a healthy attachment and fails when the interface is gone" {
        ns_add a
        attach "${TAG}def" a web >/dev/null
        "$NETCTL" check --network "${TAG}def" --id "${TAG}a"
        in_ns a ip link del eth0
        run "$NETCTL" check --network "${TAG}def" --id "${TAG}a"
        [ "$status" -eq 1 ]
        [[ "$output" == *"plugin \`bridge\` CHECK failed"*eth0* ]]
        run "$NETCTL" check --network "${TAG}def" --id "${TAG}nosuch"
        [ "$status" -eq 1 ]
        [[ "$output" == *"is not attached"* ]]
        detach "${TAG}def" a
        ns_rm a
        "$NETCTL" rm "${TAG}def" --allow-default
        check_clean
}

@test "a static address, extra CNI_ARGS, a second interface on another network" {
        "$NETCTL" create "${TAG}n2" --subnet "$NETP.30.0/24" --bridge "${TAG}n0"
        ns_add a b
        A=$(attach "${TAG}def" a web --ip "$NETP.0.77" --cni-arg K8S_POD_NAMESPACE=test)
        [ "$(addr_of "$A")" = "$NETP.0.77" ]
        A2=$(attach "${TAG}n2" a web --ifname eth1)
        B=$(attach "${TAG}n2" b db)
        in_ns a ip -o -4 addr show eth1 | grep -q "inet $(addr_of "$A2")/24"
        in_ns b busybox ping -c 1 -W 5 "$(addr_of "$A2")"
        # Each network's hosts entries carry its own addresses.
        run "$NETCTL" hosts "${TAG}n2"
        [[ "$output" == *"$(addr_of "$A2")	web ${TAG}a"* ]]
        [[ "$output" != *"$NETP.0.77"* ]]
        run attach "${TAG}def" b db --ip 10.250.0.1
        [ "$status" -eq 1 ]
        [[ "$output" == *"address 10.250.0.1 is not in a subnet of network \`${TAG}def\`"* ]]
        run attach "${TAG}def" b db --cni-arg 'A=b;c=d'
        [ "$status" -eq 1 ]
        [[ "$output" == *"invalid CNI argument"* ]]
        run attach "${TAG}def" a web
        [ "$status" -eq 1 ]
        [[ "$output" == *"already attached to network \`${TAG}def\` as eth0"* ]]
        detach "${TAG}def" a
        "$NETCTL" detach --network "${TAG}n2" --id "${TAG}a" --ifname eth1
        detach "${TAG}n2" b
        ns_rm a b
        "$NETCTL" rm "${TAG}n2"
        "$NETCTL" rm "${TAG}def" --allow-default
        check_clean
}

@test "dual stack: IPv4 and IPv6 addresses, both reach the other container" {
        "$NETCTL" create "${TAG}ds" --subnet "$NETP.40.0/24" --subnet "$V6P::/64" --bridge "${TAG}6"
        run "$NETCTL" inspect "${TAG}ds"
        jq -e '.[0].ipv6_enabled' <<<"$output"
        jq -e --arg g "$V6P::1" '.[0].subnets[1].gateway == $g' <<<"$output"
        ns_add a b
        A=$(attach "${TAG}ds" a web -p "$(free_port):80")
        B=$(attach "${TAG}ds" b db)
        a6=$(jq -r '.ips[1].address' <<<"$A" | cut -d/ -f1)
        b6=$(jq -r '.ips[1].address' <<<"$B" | cut -d/ -f1)
        [[ "$a6" == $V6P::* ]] && [[ "$b6" == $V6P::* ]]
        in_ns a ip -6 route | grep -q "^default via $V6P::1 dev eth0"
        in_ns a busybox ping -c 1 -W 5 "$b6"
        in_ns b busybox ping -c 1 -W 5 "$(addr_of "$A")"
        ip6tables -t nat -S | grep -q "$a6"
        run "$NETCTL" hosts "${TAG}ds"
        [[ "$output" == *"$a6	web ${TAG}a"* ]]
        detach "${TAG}ds" a
        detach "${TAG}ds" b
        ns_rm a b
        "$NETCTL" rm "${TAG}ds"
        check_clean
}

@test "parallel attaches get distinct addresses and ports, and all detach cleanly" {
        local i
        ns_add p1 p2 p3 p4
        for i in 1 2 3 4; do
                attach "${TAG}def" "p$i" "w$i" --expose 80 >"$WORK/t/att$i" &
        done
        wait
        for i in 1 2 3 4; do jq -e '.complete' "$WORK/t/att$i"; done
        [ "$(cat "$WORK/t"/att* | jq -r '.ips[0].address' | sort -u | wc -l)" = 4 ]
        [ "$(cat "$WORK/t"/att* | jq -r '.ports[0]' | sort -u | wc -l)" = 4 ]
        [ "$(leases | wc -l)" = 4 ]
        for i in 1 2 3 4; do detach "${TAG}def" "p$i" & done
        wait
        [ -z "$("$NETCTL" ps)" ]
        ns_rm p1 p2 p3 p4
        "$NETCTL" rm "${TAG}def" --allow-default
        check_clean
}
