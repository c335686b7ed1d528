#!/usr/bin/env bats
# berth-runtime: the container lifecycle commands, as runc users drive them.

load ../lib/runtime

@test "run: output and exit status of the container" {
        run_in sh -c 'echo hello; exit 3'
        [ "$status" -eq 3 ]
        [ "$output" = hello ]
        assert_gone c1
}

@test "run: a container killed by a signal exits 128+signal" {
        # Outside a pid namespace the shell is not pid 1, which ignores SIGKILL from inside.
        bundle_set "$B" 'del(.linux.namespaces[] | select(.type == "pid"))'
        run_in sh -c 'kill -9 $$'
        [ "$status" -eq 137 ]
}

@test "run --keep leaves a stopped container to delete" {
        bundle_set "$B" '.process.args = ["true"]'
        rt run --keep -b "$B" k1
        [ "$(status_of k1)" = stopped ]
        [ "$(rt state k1 | jq .pid)" = 0 ]
        rt delete k1
        assert_gone k1
}

@test "run --detach returns while the container runs; --pid-file has its pid" {
        bundle_set "$B" '.process.args = ["sleep", "100"]'
        rt run -d --pid-file "$T/pid" -b "$B" d1
        [ "$(status_of d1)" = running ]
        [ "$(cat "$T/pid")" = "$(rt state d1 | jq .pid)" ]
        rt kill d1 KILL
        rt delete --force d1
        assert_gone d1
}

@test "create, start, state, kill, delete" {
        bundle_set "$B" '.process.args = ["sleep", "100"] | .annotations = {"org.example.key": "v1"}'
        rt create -b "$B" --pid-file "$T/pid" c1
        run rt state c1
        [ "$status" -eq 0 ]
        [ "$(jq -r .status <<<"$output")" = created ]
        [ "$(jq -r .id <<<"$output")" = c1 ]
        [ "$(jq -r .bundle <<<"$output")" = "$B" ]
        [ "$(jq -r .rootfs <<<"$output")" = "$B/rootfs" ]
        [ "$(jq -r .ociVersion <<<"$output")" = 1.2.0 ]
        [ "$(jq -r '.annotations["org.example.key"]' <<<"$output")" = v1 ]
        jq -e '.created | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T")' <<<"$output"
        jq -e 'has("owner")' <<<"$output"
        pid=$(jq .pid <<<"$output")
        [ "$(cat "$T/pid")" = "$pid" ]
        # The init waits in berth's code until start: not the container's process yet.
        ! grep -q sleep "/proc/$pid/cmdline"
        rt start c1
        [ "$(status_of c1)" = running ]
        grep -q sleep "/proc/$pid/cmdline"
        run rt start c1
        [ "$status" -eq 1 ]
        [[ "$output" == *"already running"* ]]
        rt kill c1 KILL
        for _ in $(seq 50); do [ "$(status_of c1)" = stopped ] && break; sleep 0.1; done
        [ "$(status_of c1)" = stopped ]
        run rt start c1
        [ "$status" -eq 1 ]
        [[ "$output" == *"stopped"* ]]
        rt delete c1
        assert_gone c1
}

@test "delete of a created container kills its init" {
        rt create -b "$B" c1
        pid=$(rt state c1 | jq .pid)
        rt delete c1
        [ ! -d "/proc/$pid" ] || grep -q '^State:.*Z' "/proc/$pid/status"
        assert_gone c1
}

@test "delete refuses a running container without --force" {
        bundle_set "$B" '.process.args = ["sleep", "100"]'
        rt run -d -b "$B" r1
        run rt delete r1
        [ "$status" -eq 1 ]
        [[ "$output" == *"not stopped: running"* ]]
        [ "$(status_of r1)" = running ]
        rt delete --force r1
        assert_gone r1
}

@test "delete of an unknown container fails, --force succeeds" {
        run rt delete nosuch
        [ "$status" -eq 1 ]
        [[ "$output" == *"does not exist"* ]]
        rt delete --force nosuch
}

@test "create with an existing id fails and leaves the first container alone" {
        bundle_set "$B" '.process.args = ["sleep", "100"]'
        rt create -b "$B" dup
        run rt create -b "$B" dup
        [ "$status" -eq 1 ]
        [[ "$output" == *"container with id exists: dup"* ]]
        [ "$(status_of dup)" = created ]
        rt delete dup
}

@test "invalid container ids are refused before anything is created" {
        for id in 'a/b' '..' '.' 'x y' ''; do
                run rt create -b "$B" "$id"
                [ "$status" -eq 1 ]
                [[ "$output" == *"container id"* ]]
        done
        [ ! -d "$ROOT" ] || [ -z "$(ls -A "$ROOT")" ]
}

@test "kill accepts signal names and numbers; kill of a stopped container fails" {
        bundle_set "$B" '.process.args = ["sh", "-c", "trap \"echo usr1 >/tmp/got\" USR1; while :; do sleep 0.05; done"] | .root.readonly = false'
        rt run -d -b "$B" k1
        sleep 0.3
        rt kill k1 USR1
        rt kill k1 SIGUSR1
        rt kill k1 10
        for _ in $(seq 50); do [ -f "$B/rootfs/tmp/got" ] && break; sleep 0.1; done
        grep -q usr1 "$B/rootfs/tmp/got"
        run rt kill k1 NOSUCHSIG
        [ "$status" -eq 1 ]
        [[ "$output" == *"unknown signal"* ]]
        rt kill k1 9
        for _ in $(seq 50); do [ "$(status_of k1)" = stopped ] && break; sleep 0.1; done
        run rt kill k1 KILL
        [ "$status" -eq 1 ]
        [[ "$output" == *"not running"* ]]
}

@test "kill --all signals every process of the container" {
        bundle_set "$B" '.process.args = ["sh", "-c", "sleep 100 & sleep 100 & wait"]'
        rt run -d -b "$B" a1
        sleep 0.3
        [ "$(rt ps --format json a1 | jq length)" -eq 3 ]
        rt kill --all a1 KILL
        for _ in $(seq 50); do [ "$(status_of a1)" = stopped ] && break; sleep 0.1; done
        [ "$(status_of a1)" = stopped ]
}

@test "list: table, json and quiet" {
        bundle_set "$B" '.process.args = ["sleep", "100"]'
        rt create -b "$B" l1
        rt run -d -b "$B" l2
        run rt list
        [ "$status" -eq 0 ]
        [[ "${lines[0]}" == "ID"*"PID"*"STATUS"*"BUNDLE"*"CREATED"*"OWNER" ]]
        [[ "${lines[1]}" == l1*created*"$B"* ]]
        [[ "${lines[2]}" == l2*running*"$B"* ]]
        [ "$(rt list -q | tr '\n' ' ')" = "l1 l2 " ]
        run rt list --format json
        [ "$(jq -r '.[].id' <<<"$output" | tr '\n' ' ')" = "l1 l2 " ]
        [ "$(jq -r '.[1].status' <<<"$output")" = running ]
        run rt list --format yaml
        [ "$status" -eq 1 ]
}

@test "list on an empty or missing root prints only the header" {
        run rt list
        [ "$status" -eq 0 ]
        [ "${#lines[@]}" -eq 1 ]
        run rt list --format json
        [ "$output" = "[]" ]
}

@test "ps: table with the ps header and json pid list" {
        bundle_set "$B" '.process.args = ["sleep", "100"]'
        rt run -d -b "$B" p1
        pid=$(rt state p1 | jq .pid)
        run rt ps p1
        [ "$status" -eq 0 ]
        [[ "${lines[0]}" == *PID* ]]
        [[ "$output" == *" $pid "* ]]
        [ "${#lines[@]}" -eq 2 ]
        [ "$(rt ps --format json p1)" = "[$pid]" ]
        run rt ps p1 -o pid,comm
        [[ "${lines[1]}" == *"$pid sleep" ]]
}

@test "spec writes runc's default config and refuses to overwrite it" {
        cd "$T"
        rt spec
        jq -e '.ociVersion and .process.terminal == true and .root.path == "rootfs" and (.mounts | length) == 7' config.json
        jq -e '.linux.namespaces | map(.type) | index("mount")' config.json
        run rt spec
        [ "$status" -eq 1 ]
        [[ "$output" == *"exists"* ]]
        mkdir r && rt spec --rootless --bundle r
        jq -e '.linux.uidMappings[0].hostID == 1000 and (.linux.namespaces | map(.type) | index("user"))' r/config.json
}

@test "spec's config runs once the terminal is switched off" {
        cd "$T"
        rt spec --bundle "$T"
        cp -a "$B/rootfs" "$T/rootfs"
        bundle_set "$T" '.process.terminal = false | .process.args = ["echo", "spec-ok"] | del(.linux.resources)'
        run rt run -b "$T" s1
        [ "$status" -eq 0 ]
        [ "$output" = spec-ok ]
}

@test "features describes the runtime" {
        run rt features
        [ "$status" -eq 0 ]
        jq -e '.ociVersionMin == "1.0.0" and .ociVersionMax == "1.2.0"' <<<"$output"
        jq -e '.hooks | index("createContainer")' <<<"$output"
        jq -e '.mountOptions | index("rbind") and index("nosymfollow")' <<<"$output"
        jq -e '.linux.namespaces | length == 8' <<<"$output"
        jq -e '.linux.capabilities | index("CAP_SYS_ADMIN")' <<<"$output"
        jq -e '.linux | has("cgroup") and has("seccomp")' <<<"$output"
}

@test "--version and --help" {
        run "$RT" --version
        [ "$status" -eq 0 ]
        [[ "${lines[0]}" == "berth-runtime version "* ]]
        [[ "$output" == *"spec: 1.2.0"* ]]
        run "$RT" --help
        [ "$status" -eq 0 ]
        [[ "$output" == *"create"*"delete"*"exec"* ]]
        run "$RT" nosuchcommand
        [ "$status" -eq 1 ]
}

@test "--log with --log-format json records errors as containerd's shim reads them" {
        run "$RT" --root "$ROOT" --log "$T/log.json" --log-format json state nosuch
        [ "$status" -eq 1 ]
        jq -e '.level == "error" and (.msg | contains("does not exist")) and (.time | length > 0)' "$T/log.json"
        run "$RT" --root "$ROOT" --log "$T/log.txt" state nosuch
        grep -q 'level=error msg=".*does not exist' "$T/log.txt"
}

@test "--systemd-cgroup fails clearly without systemd" {
        run "$RT" --root "$ROOT" --systemd-cgroup run -b "$B" sd1
        [ "$status" -eq 1 ]
        [[ "$output" == *systemd* ]]
        assert_gone sd1
}

@test "--preserve-fds passes extra fds; LISTEN_FDS is passed on like runc" {
        bundle_set "$B" '.process.args = ["sh", "-c", "cat <&3; echo fds=$LISTEN_FDS"]'
        echo preserved >"$T/in"
        run rt run --preserve-fds 1 -b "$B" f1 3<"$T/in"
        [ "$status" -eq 0 ]
        [ "${lines[0]}" = preserved ]
        [ "${lines[1]}" = "fds=" ]
        # Without --preserve-fds the fd does not reach the container.
        run rt run -b "$B" f2 3<"$T/in"
        [ "$status" -ne 0 ] || [ "${lines[0]}" != preserved ]
        run env LISTEN_FDS=1 sh -c 'LISTEN_PID=$$ exec "$0" --root "$1" run -b "$2" f3 3<"$3"' "$RT" "$ROOT" "$B" "$T/in"
        [ "${lines[0]}" = preserved ]
        [ "${lines[1]}" = "fds=1" ]
}

@test "run with a terminal in the foreground" {
        bundle_set "$B" '.process.terminal = true | .process.args = ["sh", "-c", "tty; echo out"]'
        run script -qec "$RT --root $ROOT run -b $B t1" /dev/null
        [ "$status" -eq 0 ]
        [[ "$output" == *"/dev/pts/0"* ]]
        [[ "$output" == *out* ]]
}

@test "--console-socket receives the pty master" {
        bundle_set "$B" '.process.terminal = true | .process.consoleSize = {"height": 30, "width": 100} | .process.args = ["sh", "-c", "read line; echo got $line; stty size; ls -l /dev/console"]'
        "$TOOLS/berth-test-recvtty" "$T/console.sock" hello >"$T/tty.out" 2>"$T/tty.err" &
        for _ in $(seq 50); do grep -q ready "$T/tty.err" && break; sleep 0.05; done
        rt create --console-socket "$T/console.sock" -b "$B" t1
        rt start t1
        wait
        grep -q "got hello" "$T/tty.out"
        grep -q "30 100" "$T/tty.out"
        grep -q "crw.* /dev/console" "$T/tty.out"
}

@test "a terminal without a console socket cannot detach" {
        bundle_set "$B" '.process.terminal = true'
        run rt create -b "$B" t1
        [ "$status" -eq 1 ]
        [[ "$output" == *"console-socket"* ]]
        bundle_set "$B" '.process.terminal = false'
        run rt create --console-socket "$T/x.sock" -b "$B" t2
        [ "$status" -eq 1 ]
        [[ "$output" == *"terminal is false"* ]]
        assert_gone t1
        assert_gone t2
}
