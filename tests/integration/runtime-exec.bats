#!/usr/bin/env bats
# berth-runtime exec: processes joining a running container.

load ../lib/runtime

start_sleeper() {
        bundle_set "$B" '.process.args = ["sleep", "1000"] | .hostname = "execbox" | .process.env = ["PATH=/bin", "FROM_CONFIG=1"]'
        rt run -d -b "$B" e1
}

@test "exec runs in the container's namespaces and returns its exit status" {
        start_sleeper
        run rt exec e1 sh -c 'hostname; echo $$; ps -o pid,comm | grep -c sleep; echo $FROM_CONFIG; exit 5'
        [ "$status" -eq 5 ]
        [ "${lines[0]}" = execbox ]
        [ "${lines[1]}" -gt 1 ]
        [ "${lines[2]}" = 1 ]
        [ "${lines[3]}" = 1 ]
        [ "$(readlink /proc/$(rt state e1 | jq .pid)/ns/mnt)" != "$(readlink /proc/self/ns/mnt)" ]
}

@test "exec --env, --cwd, --user, --additional-gids" {
        start_sleeper
        run rt exec --env A=1 -e B=2 --cwd /tmp --user 1000:1001 -g 5 e1 sh -c 'echo $A$B; pwd; id -u; id -g; grep Groups /proc/self/status'
        [ "$status" -eq 0 ]
        [ "${lines[0]}" = 12 ]
        [ "${lines[1]}" = /tmp ]
        [ "${lines[2]}" = 1000 ]
        [ "${lines[3]}" = 1001 ]
        [[ "${lines[4]}" == *5* ]]
}

@test "exec --cap adds a capability; the config's set is the default" {
        start_sleeper
        run rt exec e1 grep CapEff /proc/self/status
        [ "$output" = "CapEff:	00000000200004a0" ] || [ "$output" = "CapEff:	0000000020000420" ]
        run rt exec --cap CAP_SYS_ADMIN e1 grep CapEff /proc/self/status
        [[ "$output" == *"CapEff:	00000000202004"* ]]
        run rt exec --cap CAP_NOPE e1 true
        [ "$status" -eq 1 ]
        [[ "$output" == *"unknown capability"* ]]
}

@test "exec --process takes a process.json" {
        start_sleeper
        cat >"$T/process.json" <<'EOS'
{"args": ["sh", "-c", "echo $X; pwd"], "env": ["X=from-file", "PATH=/bin"], "cwd": "/etc", "user": {"uid": 0, "gid": 0}}
EOS
        run rt exec --process "$T/process.json" e1
        [ "$status" -eq 0 ]
        [ "${lines[0]}" = from-file ]
        [ "${lines[1]}" = /etc ]
        echo '{"args": "nope"}' >"$T/bad.json"
        run rt exec --process "$T/bad.json" e1
        [ "$status" -eq 1 ]
        [[ "$output" == *"process.args: expected an array"* ]]
}

@test "exec --detach with --pid-file" {
        start_sleeper
        rt exec -d --pid-file "$T/epid" e1 sleep 77
        pid=$(cat "$T/epid")
        grep -q "sleep" "/proc/$pid/cmdline"
        grep -q 77 "/proc/$pid/cmdline"
        [ "$(rt ps --format json e1 | jq length)" -eq 2 ]
}

@test "exec --tty in the foreground" {
        start_sleeper
        run script -qec "$RT --root $ROOT exec -t e1 tty" /dev/null
        [ "$status" -eq 0 ]
        [[ "$output" == */dev/pts/* ]]
}

@test "exec of a missing command or into a stopped container fails clearly" {
        start_sleeper
        run rt exec e1 /no/such/binary
        [ "$status" -ne 0 ]
        [[ "$output" == *"/no/such/binary"* ]]
        run rt exec e1 nosuchcmd
        [[ "$output" == *"executable file not found in \$PATH"* ]]
        rt kill e1 KILL
        for _ in $(seq 50); do [ "$(status_of e1)" = stopped ] && break; sleep 0.1; done
        run rt exec e1 true
        [ "$status" -eq 1 ]
        [[ "$output" == *"stopped container"* ]]
        run rt exec nosuch true
        [ "$status" -eq 1 ]
        [[ "$output" == *"does not exist"* ]]
}

@test "exec's cwd cannot be a runtime fd leaked into the container (CVE-2024-21626)" {
        start_sleeper
        for fd in 3 4 5 6 7 8 9; do
                run rt exec --cwd "/proc/self/fd/$fd" e1 sh -c 'ls -d ../../../../etc/hostname 2>/dev/null; cat ../../../../etc/hostname 2>/dev/null'
                [[ "$output" != *"$(hostname)"* ]] || [ "$(hostname)" = execbox ]
                [ "$status" -ne 0 ]
        done
}
