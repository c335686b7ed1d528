#!/usr/bin/env bats
# berth network create/ls/inspect/rm/prune/exists as podman users type them,
# containers on user networks finding each other by name, and a teardown
# that leaves no interface, namespace, rule, lease or record.

load volnet-common

setup_file() { volnet_setup_file; }
teardown_file() { volnet_teardown_file; }
setup() { volnet_setup; }
teardown() { volnet_teardown; }

gw_of() { echo "${1%.0/24}.1"; }

@test "network create, ls, inspect, exists and rm" {
        run b network create --subnet "$SUBNET1" --gateway "$(gw_of "$SUBNET1")" --label team=a --label tier=web \
                --interface-name "${TAG}b1" "${TAG}one"
        [ "$status" -eq 0 ]
        [ "$output" = "${TAG}one" ]
        run b network ls
        [ "${lines[0]}" = "NETWORK ID    NAME        DRIVER" ]
        # The default network is listed too, as podman lists its own.
        [[ "$output" == *" $ENGINE_NET "*" bridge"* ]]
        [[ "$output" =~ [0-9a-f]{12}\ +${TAG}one\ +bridge ]]
        [ "$(b network ls -q -f name="^${TAG}")" = "${TAG}one" ]
        [ "$(b network ls -q -f label=team=a)" = "${TAG}one" ]
        [ -z "$(b network ls -q -f label=team=b)" ]
        [ "$(b network ls --format '{{.Name}} {{.Driver}}' -f name="${TAG}one")" = "${TAG}one bridge" ]
        id=$(b network inspect -f '{{.id}}' "${TAG}one")
        [[ "$id" =~ ^[0-9a-f]{64}$ ]]
        [ "$(b network ls -q -f id="${id:0:10}")" = "${TAG}one" ]
        [ "$(b network ls --no-trunc | awk -v n="${TAG}one" '$2 == n {print $1}')" = "$id" ]

        run b network inspect "${TAG}one"
        [ "$status" -eq 0 ]
        [ "$(jq -r '.[0].name + " " + .[0].driver + " " + .[0].network_interface' <<<"$output")" = "${TAG}one bridge ${TAG}b1" ]
        [ "$(jq -r '.[0].subnets[0].subnet + " " + .[0].subnets[0].gateway' <<<"$output")" = "$SUBNET1 $(gw_of "$SUBNET1")" ]
        [ "$(jq -c '.[0].labels' <<<"$output")" = '{"team":"a","tier":"web"}' ]
        [ "$(jq -r '.[0].internal' <<<"$output")" = false ]
        [ "$(b network ls --format json | jq -r --arg n "${TAG}one" '.[] | select(.name == $n) | .driver')" = bridge ]
        b network exists "${TAG}one"
        run b network exists "${TAG}nope"
        [ "$status" -eq 1 ]

        run b network rm "${TAG}one"
        [ "$status" -eq 0 ]
        [ "$output" = "${TAG}one" ]
        ! b network exists "${TAG}one"
        ! ip link show "${TAG}b1" 2>/dev/null
}

@test "network create errors: taken names and subnets, bad drivers and subnets; rm of what is missing or default" {
        net dup "$SUBNET1"
        run b network create --subnet "$SUBNET2" --interface-name "${TAG}x" "${TAG}dup"
        [ "$status" -eq 125 ]
        [[ "$output" == *"network \`${TAG}dup\` already exists"* ]]
        # --ignore answers with the existing network (podman).
        run b network create --ignore --subnet "$SUBNET2" "${TAG}dup"
        [ "$status" -eq 0 ]
        [ "$output" = "${TAG}dup" ]
        run b network create --subnet "$SUBNET1" --interface-name "${TAG}x" "${TAG}other"
        [ "$status" -eq 125 ]
        [[ "$output" == *"overlaps"* ]]
        run b network create -d macvlan "${TAG}mv"
        [ "$status" -eq 125 ]
        [[ "$output" == *"unsupported driver macvlan"* ]]
        run b network create --subnet 10.184.999.0/24 "${TAG}bad"
        [ "$status" -eq 125 ]
        run b network create --subnet "$SUBNET2" 'bad/name'
        [ "$status" -eq 125 ]
        [[ "$output" == *"invalid network name"* ]]
        run b network create --bogus x
        [ "$status" -eq 125 ]
        [[ "$output" == *"unknown flag: --bogus"* ]]
        [ "$(b network ls -q -f name="^${TAG}")" = "${TAG}dup" ]
        run b network rm "${TAG}nope"
        [ "$status" -eq 1 ]
        [[ "$output" == *"network \`${TAG}nope\` not found"* ]]
        run b network rm -f "${TAG}nope"
        [ "$status" -eq 0 ]
        run b network rm "$ENGINE_NET"
        [ "$status" -eq 125 ]
        [[ "$output" == *"the default network \`$ENGINE_NET\` cannot be removed"* ]]
        run b network inspect "${TAG}nope"
        [ "$status" -eq 125 ]
        b network rm "${TAG}dup"
}

@test "containers on a user network reach each other by name; /etc/hosts follows them coming and going" {
        net app "$SUBNET1"
        b run -d --name "${TAG}db" --network "${TAG}app" demo sleep 1000 >/dev/null
        b run -d --name "${TAG}web" --network "${TAG}app" demo sleep 1000 >/dev/null
        dbip=$(ip_of "${TAG}db") webip=$(ip_of "${TAG}web")
        [[ "$dbip" == ${SUBNET1%.0/24}.* ]] && [[ "$webip" == ${SUBNET1%.0/24}.* ]]
        # Both directions: the first container learned about the second when it joined.
        run b exec "${TAG}web" ping -c 1 -W 5 "${TAG}db"
        [ "$status" -eq 0 ]
        [[ "$output" == *"PING ${TAG}db ($dbip)"* ]]
        run b exec "${TAG}db" ping -c 1 -W 5 "${TAG}web"
        [ "$status" -eq 0 ]
        [[ "$output" == *"($webip)"* ]]
        # The short id resolves as well.
        dbid=$(b inspect -f '{{.Id}}' "${TAG}db")
        b exec "${TAG}web" ping -c 1 -W 5 "${dbid:0:12}" >/dev/null
        # A third joins and leaves (--rm): the others' files follow.
        run b run --rm --name "${TAG}job" --network "${TAG}app" demo sh -c 'ping -c 1 -W 5 '"${TAG}db"' >/dev/null && cat /etc/hosts'
        [ "$status" -eq 0 ]
        [[ "$output" == *"$dbip	${TAG}db "* ]]
        [[ "$output" == *"$webip	${TAG}web "* ]]
        run b exec "${TAG}db" cat /etc/hosts
        [[ "$output" != *"${TAG}job"* ]]
        [[ "$output" == *"${TAG}web"* ]]
        # Stopping one drops it from the others; starting it again brings it back.
        b stop -t 0 "${TAG}web" >/dev/null
        retry sh -c "! berth --root '$ENGINE_T/root' --runroot '$ENGINE_T/run' --config '$ENGINE_T/berth.conf' exec ${TAG}db cat /etc/hosts | grep -q ${TAG}web"
        b start "${TAG}web" >/dev/null
        run b exec "${TAG}db" ping -c 1 -W 5 "${TAG}web"
        [ "$status" -eq 0 ]
        # Containers of another network are not listed (nor the default network's).
        b run -d --name "${TAG}alone" demo sleep 1000 >/dev/null
        run b exec "${TAG}db" cat /etc/hosts
        [[ "$output" != *"${TAG}alone"* ]]
        run b exec "${TAG}alone" ping -c 1 -W 2 "${TAG}db"
        [ "$status" -ne 0 ]
        ips=$(for c in db web alone; do ip_of "${TAG}$c"; done)
        b rm -f "${TAG}db" "${TAG}web" "${TAG}alone" >/dev/null
        b network rm "${TAG}app" >/dev/null
        check_net_clean $(for i in $ips; do echo "$i/"; done)
        assert_no_leftovers
}

@test "containers started at the same time all end up in each other's /etc/hosts" {
        net par "$SUBNET2"
        local i j pids=
        for i in 1 2 3 4; do
                b run -d --name "${TAG}p$i" --network "${TAG}par" demo sleep 1000 >/dev/null &
                pids="$pids $!"
        done
        for i in $pids; do wait "$i"; done
        for i in 1 2 3 4; do
                run b exec "${TAG}p$i" cat /etc/hosts
                for j in 1 2 3 4; do
                        [ "$i" = "$j" ] && continue
                        [[ "$output" == *"	${TAG}p$j "* ]] || { echo "p$i misses p$j: $output"; return 1; }
                done
        done
        b rm -f "${TAG}p1" "${TAG}p2" "${TAG}p3" "${TAG}p4" >/dev/null
        b network rm "${TAG}par" >/dev/null
        check_net_clean
        assert_no_leftovers
}

@test "a network in use cannot be removed; prune keeps it and the default network" {
        net busy "$SUBNET1"
        net idle "$SUBNET2" --label scratch=1
        net idle2 "$SUBNET3"
        b run -d --name "${TAG}user" --network "${TAG}busy" demo sleep 1000 >/dev/null
        run b network rm "${TAG}busy"
        [ "$status" -eq 2 ]
        [[ "$output" == *"network \`${TAG}busy\` is in use by 1 container ($(b inspect -f '{{.Id}}' "${TAG}user"))"* ]]
        run b network prune -f --filter label=scratch
        [ "$output" = "${TAG}idle" ]
        run b network prune <<<"n"
        [[ "$output" == *"WARNING! This will remove all networks not used by at least one container."* ]]
        b network exists "${TAG}idle2"
        run b network prune -f
        [[ "$output" == *"${TAG}idle2"* ]]
        [[ "$output" != *"${TAG}busy"* ]]
        [[ "$output" != *"$ENGINE_NET"* ]]
        b network exists "${TAG}busy"
        b network exists "$ENGINE_NET"
        ip=$(ip_of "${TAG}user")
        # rm -f takes the containers along (podman).
        run b network rm -f "${TAG}busy"
        [ "$status" -eq 0 ]
        [ "$output" = "${TAG}busy" ]
        [ -z "$(b ps -aq)" ]
        check_net_clean "$ip/"
        assert_no_leftovers
}

@test "--internal: members reach each other and nothing else" {
        net int "$SUBNET1" --internal
        [ "$(b network inspect -f '{{.internal}}' "${TAG}int")" = true ]
        b run -d --name "${TAG}i1" --network "${TAG}int" demo sleep 1000 >/dev/null
        run b run --rm --network "${TAG}int" demo sh -c "ping -c 1 -W 5 ${TAG}i1 >/dev/null && echo reached; ip route"
        [ "$status" -eq 0 ]
        [ "${lines[0]}" = reached ]
        [[ "$output" != *default* ]]
        run b run --rm --network "${TAG}int" -p "$(free_port):80" demo true
        [ "$status" -eq 125 ]
        [[ "$output" == *internal* ]]
        b rm -f "${TAG}i1" >/dev/null
        b network rm "${TAG}int" >/dev/null
        check_net_clean
        assert_no_leftovers
}

@test "run/rm cycles on the default and a user network leave no veth, namespace, rule, lease or record" {
        net cyc "$SUBNET1"
        local i ips=
        for i in 1 2 3; do
                b run -d --name "${TAG}c$i" --network "${TAG}cyc" -p "$(free_port):80" demo sleep 1000 >/dev/null
                b run -d --name "${TAG}d$i" demo sleep 1000 >/dev/null
                ips="$ips $(ip_of "${TAG}c$i")/ $(ip_of "${TAG}d$i")/"
                [ -n "$(ls "$ENGINE_T/root/network/ipam/${TAG}cyc")" ]
        done
        # A monitor killed -9 leaves the container running and attached: rm -f still cleans everything.
        kill -9 "$(b inspect -f '{{.State.MonitorPid}}' "${TAG}c1")"
        b rm -f $(for i in 1 2 3; do echo "${TAG}c$i ${TAG}d$i"; done) >/dev/null
        b network rm "${TAG}cyc" >/dev/null
        check_net_clean $ips
        assert_no_leftovers
}
