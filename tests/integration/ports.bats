#!/usr/bin/env bats
# -p, -P, --expose and `berth port`: a busybox httpd in the container reached
# on the host at 127.0.0.1:PORT, conflicts named, and nothing left after rm.

load volnet-common

setup_file() {
        volnet_setup_file
        [ -z "$SKIP_REASON" ] || return 0
        tar -C "$ENGINE_T/rootfs" -c . | b import -q -c 'CMD ["/bin/sh"]' -c 'EXPOSE 80 53/udp' - web >/dev/null
}
teardown_file() { volnet_teardown_file; }
setup() { volnet_setup; }
teardown() { volnet_teardown; }

# httpd NAME [RUN ARGS...]: a detached container serving "hello from NAME" on port 80.
httpd() {
        local name=$1
        shift
        b run -d --name "$name" "$@" demo sh -c "mkdir -p /www && echo 'hello from $name' >/www/index.html && exec httpd -f -p 80 -h /www"
}

@test "-p HOST:CONTAINER: reached at 127.0.0.1:HOST; port, ps and inspect show it; rm leaves no rule" {
        port=$(free_port)
        httpd web1 -p "$port:80" >/dev/null
        wait_get "127.0.0.1:$port" | grep -qx "hello from web1"
        run b port web1
        [ "$output" = "80/tcp -> 0.0.0.0:$port" ]
        run b port web1 80
        [ "$output" = "0.0.0.0:$port" ]
        run b port web1 80/tcp
        [ "$output" = "0.0.0.0:$port" ]
        run b port web1 81
        [ "$status" -eq 125 ]
        [[ "$output" == *"No public port '81/tcp' published for web1"* ]]
        [ "$(b ps --format '{{.Ports}}')" = "0.0.0.0:$port->80/tcp" ]
        [ "$(b inspect -f '{{json .NetworkSettings.Ports}}' web1)" = "{\"80/tcp\":[{\"HostIp\":\"0.0.0.0\",\"HostPort\":\"$port\"}]}" ]
        [ "$(b inspect -f '{{json .HostConfig.PortBindings}}' web1)" = "{\"80/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"$port\"}]}" ]
        [ "$(b inspect -f '{{json .Config.ExposedPorts}}' web1)" = '{"80/tcp":{}}' ]
        ip=$(ip_of web1)
        # Stopped: nothing published.
        b stop -t 1 web1 >/dev/null
        [ -z "$(b port web1)" ]
        ! get "127.0.0.1:$port" 2>/dev/null
        b rm web1 >/dev/null
        check_net_clean "$ip/" "$ip:" "dport $port "
        assert_no_leftovers
}

@test "-p with a host address, without a host port, and a range" {
        httpd web2 -p 127.0.0.1::80 -p 127.0.0.1::80/udp >/dev/null
        run b port web2 80
        [[ "$output" =~ ^127\.0\.0\.1:([0-9]+)$ ]]
        port=${BASH_REMATCH[1]}
        wait_get "127.0.0.1:$port" | grep -qx "hello from web2"
        [[ "$(b port web2 80/udp)" =~ ^127\.0\.0\.1:[0-9]+$ ]]
        b rm -f web2 >/dev/null
        base=$(free_port)
        b run -d --name range -p "$base-$((base + 1)):8000-8001" demo sleep 100 >/dev/null
        run b port range
        [ "$output" = "8000/tcp -> 0.0.0.0:$base
8001/tcp -> 0.0.0.0:$((base + 1))" ]
        ip=$(ip_of range)
        b rm -f range >/dev/null
        check_net_clean "$ip/" "$ip:"
        assert_no_leftovers
}

@test "-P publishes the image's EXPOSE and --expose on free host ports" {
        b run -d --name pub -P --expose 8080 --expose 9000-9001/udp web sh -c "mkdir /www && echo hi-P >/www/index.html && exec httpd -f -p 80 -h /www" >/dev/null
        run b port pub
        [ "${#lines[@]}" -eq 5 ]
        [[ "$output" == *"53/udp -> 0.0.0.0:"* ]]
        [[ "$output" == *"8080/tcp -> 0.0.0.0:"* ]]
        [[ "$output" == *"9001/udp -> 0.0.0.0:"* ]]
        port=$(b port pub 80 | cut -d: -f2)
        wait_get "127.0.0.1:$port" | grep -qx hi-P
        [ "$(b inspect -f '{{json .Config.ExposedPorts}}' pub | jq -r 'keys | join(" ")')" = "53/udp 80/tcp 8080/tcp 9000/udp 9001/udp" ]
        [ "$(b inspect -f '{{.HostConfig.PublishAllPorts}}' pub)" = true ]
        b rm -f pub >/dev/null
        # Without -P exposed ports are only listed (docker's null), not published.
        b run -d --name nopub web sleep 100 >/dev/null
        [ -z "$(b port nopub)" ]
        [ "$(b inspect -f '{{json .NetworkSettings.Ports}}' nopub | jq -cS .)" = '{"53/udp":null,"80/tcp":null}' ]
        b rm -f nopub >/dev/null
        assert_no_leftovers
}

@test "a host port another container maps, or a host process holds, is refused naming the port" {
        port=$(free_port)
        httpd first -p "$port:80" >/dev/null
        run b run --rm --name second -p "$port:80" demo true
        [ "$status" -eq 125 ]
        [[ "$output" == *"host port $port/tcp is already mapped by container $(b inspect -f '{{.Id}}' first)"* ]]
        # Nothing of the refused container remains, and the first still serves.
        [ "$(b ps -aq | wc -l)" = 1 ]
        wait_get "127.0.0.1:$port" | grep -qx "hello from first"
        b rm -f first >/dev/null

        port=$(free_port)
        bg busybox nc -l -p "$port"
        for _ in $(seq 50); do ss -Hltn "sport = :$port" | grep -q . && break; sleep 0.1; done
        run b run --rm -p "$port:80" demo true
        [ "$status" -eq 125 ]
        [[ "$output" == *"host port 0.0.0.0:$port/tcp is already in use on the host"* ]]
        assert_no_leftovers
        check_net_clean
}

@test "bad -p specs and -p without a bridge network are refused before anything is made" {
        run b run --rm -p 99999:80 demo true
        [ "$status" -eq 125 ]
        [[ "$output" == *"invalid port mapping"* ]]
        run b run --rm -p 80/xyz demo true
        [ "$status" -eq 125 ]
        [[ "$output" == *"unknown protocol"* ]]
        run b run --rm --network none -p 8080:80 demo true
        [ "$status" -eq 125 ]
        [[ "$output" == *"port mappings need a bridge network; the container's network is none"* ]]
        run b run --rm --network host -p 8080:80 demo true
        [ "$status" -eq 125 ]
        [[ "$output" == *"the container's network is host"* ]]
        run b create --expose bogus demo true
        [ "$status" -eq 125 ]
        [[ "$output" == *"--expose"* ]]
        run b port
        [ "$status" -eq 125 ]
        run b port nosuch
        [ "$status" -eq 125 ]
        assert_no_leftovers
}

@test "a user network's containers publish ports too; restart picks the mapping up again" {
        net pn "$SUBNET1"
        port=$(free_port)
        httpd web3 --network "${TAG}pn" -p "$port:80" >/dev/null
        wait_get "127.0.0.1:$port" | grep -qx "hello from web3"
        b restart -t 1 web3 >/dev/null
        wait_get "127.0.0.1:$port" | grep -qx "hello from web3"
        [ "$(b port web3)" = "80/tcp -> 0.0.0.0:$port" ]
        ip=$(ip_of web3)
        b rm -f web3 >/dev/null
        b network rm "${TAG}pn" >/dev/null
        ! ip link show "${TAG}pn" 2>/dev/null
        check_net_clean "$ip/" "$ip:" "dport $port "
        assert_no_leftovers
}
