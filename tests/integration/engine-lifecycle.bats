#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# berth's container commands as a user types them: run, create, start, stop,
# kill, restart, rm, ps, inspect, wait, logs, exec, attach; exit codes.

load engine-common

setup_file() { engine_setup_file; }
teardown_file() { engine_teardown_file; }
setup() { engine_setup; }
teardown() { engine_teardown; }

@test "run prints the container's output and exits with its status; --rm leaves nothing" {
        run b run --rm --network none demo sh -c 'echo out; echo err >&2; exit 3'
        [ "$status" -eq 3 ]
        [ "${lines[0]}" = out ]
        [ "${lines[1]}" = err ]
        assert_no_leftovers
}

@test "run without --rm keeps the record; the exit command cleans up the rest" {
        run b run --name keep --network none demo echo hi
        [ "$status" -eq 0 ]
        [ "$output" = hi ]
        retry state_is keep exited
        # The monitor's exit command unmounts and forgets the run's state.
        retry test ! -d "$ENGINE_T/run/containers/$(b inspect -f '{{.Id}}' keep)"
        ! grep -q " $ENGINE_T/root/rw/" /proc/self/mountinfo
        [ "$(b inspect -f '{{.State.ExitCode}} {{.Name}} {{.HostConfig.AutoRemove}}' keep)" = "0 /keep false" ]
        run b logs keep
        [ "$output" = hi ]
        b rm keep
        assert_no_leftovers
}

@test "run -d prints the id; ps, stop, ps -a" {
        run b run -d --name bg --network none demo sh -c 'trap "exit 0" TERM; echo ready; sleep 100 & wait'
        [ "$status" -eq 0 ]
        [[ "$output" =~ ^[0-9a-f]{64}$ ]]
        id=$output
        run b ps --format '{{.ID}} {{.Names}} {{.State}}'
        [ "$output" = "${id:0:12} bg running" ]
        run b ps -q
        [ "$output" = "${id:0:12}" ]
        # Not before the trap is set: the TERM would kill sh (143).
        retry sh -c "berth --root '$ENGINE_T/root' --runroot '$ENGINE_T/run' --config '$ENGINE_T/berth.conf' logs bg | grep -q ready"
        b stop bg
        [ "$(b inspect -f '{{.State.Status}} {{.State.ExitCode}}' bg)" = "exited 0" ]
        [ -z "$(b ps -q)" ]
        run b ps -a --format json
        [ "$(echo "$output" | jq -r .State)" = exited ]
        [ "$(echo "$output" | jq -r .Status | cut -d' ' -f1-2)" = "Exited (0)" ]
        b rm bg
        assert_no_leftovers
}

@test "stop escalates to SIGKILL after the timeout" {
        b run -d --name stubborn --network none demo sleep 100
        retry state_is stubborn running
        b stop -t 1 stubborn
        b inspect -f '{{.State.Status}} {{.State.ExitCode}} {{.State.Error}}' stubborn
        [ "$(b inspect -f '{{.State.Status}} {{.State.ExitCode}}' stubborn)" = "exited 137" ]
        b rm stubborn
}

@test "create, start, wait, logs, start again" {
        run b create --name c1 --network none demo sh -c 'echo run; exit 7'
        [ "$status" -eq 0 ]
        [ "$(b ps -a --format '{{.Names}} {{.State}}')" = "c1 created" ]
        [ "$(b ps -q)" = "" ]
        run b start c1
        [ "$output" = c1 ]
        run b wait c1
        [ "$output" = 7 ]
        b start c1
        b wait c1
        run b logs c1
        [ "${lines[0]}" = run ]
        [ "${lines[1]}" = run ]
        run b logs --tail 1 c1
        [ "$output" = run ]
        run b logs -t c1
        [[ "${lines[0]}" =~ ^20[0-9-]+T[0-9:.]+Z\ run$ ]]
        run b start -a c1
        [ "$status" -eq 7 ]
        [ "$output" = run ]
        b rm c1
        assert_no_leftovers
}

@test "names: conflicts, lookup by prefix, generated names" {
        b create --name dup --network none demo true
        run b create --name dup --network none demo true
        [ "$status" -eq 125 ]
        [[ "$output" == *'"/dup" is already in use by container'* ]]
        run b create --name 'bad name' demo true
        [ "$status" -eq 125 ]
        [[ "$output" == *"invalid container name"* ]]
        id=$(b inspect -f '{{.Id}}' dup)
        [ "$(b inspect -f '{{.Name}}' "${id:0:6}")" = /dup ]
        gen=$(b create --network none demo true)
        [[ "$(b inspect -f '{{.Name}}' "$gen")" =~ ^/[a-z]+_[a-z]+[0-9]?$ ]]
        run b rm nosuch
        [ "$status" -eq 125 ]
        [[ "$output" == *"no such container: nosuch"* ]]
}

@test "berth errors exit 125; a command not found 127, not executable 126" {
        run b run --bogus demo true
        [ "$status" -eq 125 ]
        [[ "$output" == *"unknown flag: --bogus"* ]]
        run b run --rm --pull never --network none nosuchimage true
        [ "$status" -eq 125 ]
        [[ "$output" == *"nosuchimage: image not known"* ]]
        run b run --rm --network none --memory 12q demo true
        [ "$status" -eq 125 ]
        [[ "$output" == *"--memory"* ]]
        run -127 b run --rm --network none demo nosuchcommand
        [ "$status" -eq 127 ]
        [[ "$output" == *"executable file not found"* ]]
        run b run --rm --network none demo /etc/passwd
        [ "$status" -eq 126 ]
        run b run --rm --restart always demo true
        [ "$status" -eq 125 ]
        [[ "$output" == *"--restart and --rm"* ]]
        assert_no_leftovers
}

@test "a container that fails to start stays created with the reason" {
        run -127 b run --name nf --network none demo nosuchcommand
        [ "$status" -eq 127 ]
        [ "$(b inspect -f '{{.State.Status}} {{.State.ExitCode}}' nf)" = "created 127" ]
        [[ "$(b inspect -f '{{.State.Error}}' nf)" == *"executable file not found"* ]]
        b rm nf
        assert_no_leftovers
}

@test "kill -s, restart" {
        b run -d --name k --network none demo sh -c 'trap "echo got-usr1" USR1; while :; do sleep 0.1; done'
        run b kill -s USR1 k
        [ "$output" = k ]
        retry sh -c "berth --root '$ENGINE_T/root' --runroot '$ENGINE_T/run' --config '$ENGINE_T/berth.conf' logs k | grep -q got-usr1"
        state_is k running
        pid1=$(b inspect -f '{{.State.Pid}}' k)
        b restart -t 0 k
        state_is k running
        [ "$(b inspect -f '{{.State.Pid}}' k)" != "$pid1" ]
        b kill k
        retry state_is k exited
        [ "$(b inspect -f '{{.State.ExitCode}}' k)" = 137 ]
        run b kill k
        [ "$status" -eq 125 ]
        [[ "$output" == *"is not running"* ]]
}

@test "exec: status, env, user, workdir, missing command, stopped container" {
        b run -d --name ex --network none demo sleep 100
        # Each exec's files (process.json, console socket, pid file) go in $TMPDIR, and go.
        export TMPDIR="$ENGINE_T/exec-tmp"
        mkdir "$TMPDIR"
        run b exec ex sh -c 'exit 4'
        [ "$status" -eq 4 ]
        run b exec -e FOO=bar -w /tmp ex sh -c 'echo $FOO $(pwd)'
        [ "$output" = "bar /tmp" ]
        run b exec -u nobody ex id -u
        [ "$output" = 65534 ]
        run -127 b exec ex nosuchcommand
        [ "$status" -eq 127 ]
        run b exec -d ex sh -c 'echo detached >/tmp/d'
        [ "$status" -eq 0 ]
        retry b exec ex test -s /tmp/d
        echo piped | b exec -i ex cat >"$ENGINE_T/out"
        [ "$(cat "$ENGINE_T/out")" = piped ]
        run b exec -t ex tty
        [[ "$output" == /dev/pts/* ]]
        [ -z "$(ls -A "$TMPDIR")" ]
        b kill ex
        retry state_is ex exited
        run b exec ex true
        [ "$status" -eq 125 ]
        [[ "$output" == *"is not running"* ]]
}

@test "inspect: docker's fields; berth inspect falls back to images" {
        b create --name ins --network none -e A=1 -l role=test --stop-signal SIGINT -w /srv demo sleep 5
        run b inspect ins
        [ "$status" -eq 0 ]
        doc=$output
        [ "$(echo "$doc" | jq -r '.[0].Name')" = /ins ]
        [ "$(echo "$doc" | jq -r '.[0].State.Status')" = created ]
        [ "$(echo "$doc" | jq -r '.[0].Path')" = sleep ]
        [ "$(echo "$doc" | jq -r '.[0].Args[0]')" = 5 ]
        [ "$(echo "$doc" | jq -r '.[0].Config.Cmd | join(" ")')" = "sleep 5" ]
        [ "$(echo "$doc" | jq -r '.[0].Config.Labels.role')" = test ]
        [ "$(echo "$doc" | jq -r '.[0].Config.StopSignal')" = SIGINT ]
        [ "$(echo "$doc" | jq -r '.[0].Config.WorkingDir')" = /srv ]
        echo "$doc" | jq -e '.[0].Config.Env | index("A=1")'
        [ "$(echo "$doc" | jq -r '.[0].HostConfig.NetworkMode')" = none ]
        [ "$(echo "$doc" | jq -r '.[0].Image')" = "$(b image inspect -f '{{.Id}}' demo)" ]
        [ "$(b inspect -f '{{.Id}}' demo)" = "$(b image inspect -f '{{.Id}}' demo)" ]
        run b inspect nothing-here
        [ "$status" -eq 125 ]
        [ "$(b container inspect -f '{{.Config.Image}}' ins)" = demo ]
}

@test "ps: filters and formats" {
        b run --name p-exit --network none -l tier=a demo sh -c 'exit 2' || true
        b run -d --name p-run --network none -l tier=b demo sleep 100
        retry state_is p-exit exited
        [ "$(b ps --format '{{.Names}}')" = p-run ]
        [ "$(b ps -a --filter status=exited --format '{{.Names}}')" = p-exit ]
        [ "$(b ps -a --filter exited=2 --format '{{.Names}}')" = p-exit ]
        [ "$(b ps -a --filter label=tier=b --format '{{.Names}}')" = p-run ]
        [ "$(b ps -a --filter name=p- --format '{{.Names}}' | sort | tr '\n' ' ')" = "p-exit p-run " ]
        [ "$(b ps -a --filter ancestor=demo -q | wc -l)" = 2 ]
        [ "$(b ps -a -n 1 --format '{{.Names}}')" = p-run ]
        run b ps -a
        [[ "${lines[0]}" == "CONTAINER ID"*IMAGE*COMMAND*CREATED*STATUS*PORTS*NAMES ]]
        [[ "$output" == *"Exited (2)"* ]]
        [[ "$output" == *"Up "* ]]
        run b ps --filter bogus=1
        [ "$status" -eq 125 ]
}

@test "logs -f follows until the container exits" {
        b run -d --name lf --network none demo sh -c 'for i in 1 2 3; do echo line$i; sleep 0.2; done'
        run timeout 20 berth --root "$ENGINE_T/root" --runroot "$ENGINE_T/run" --config "$ENGINE_T/berth.conf" logs -f lf
        [ "$status" -eq 0 ]
        [ "$output" = "$(printf 'line1\nline2\nline3')" ]
}

@test "restart policies: on-failure:N counts, always stops on stop" {
        b run --name of --network none --restart on-failure:2 demo sh -c 'echo try; exit 1' || true
        retry state_is of exited
        [ "$(b inspect -f '{{.RestartCount}} {{.State.ExitCode}}' of)" = "2 1" ] ||
                { b inspect -f '{{.RestartCount}} {{json .State}}' of; false; }
        [ "$(b logs of | grep -c try)" = 3 ]
        b run -d --name al --network none --restart always demo sh -c 'sleep 0.2; exit 0'
        retry sh -c "[ \$(berth --root '$ENGINE_T/root' --runroot '$ENGINE_T/run' --config '$ENGINE_T/berth.conf' inspect -f '{{.RestartCount}}' al) -ge 1 ]"
        b stop -t 1 al
        state_is al exited
        n=$(b inspect -f '{{.RestartCount}}' al)
        sleep 0.5
        state_is al exited
        [ "$(b inspect -f '{{.RestartCount}}' al)" = "$n" ]
}

@test "stop wins over a restart policy, whatever the monitor is doing" {
        # A container that exits at once keeps its monitor between exits, backoffs
        # and restarts: a stop at any of those moments must be final.
        for i in 1 2 3 4 5 6; do
                b run -d --name "sr$i" --network none --restart always demo true >/dev/null
                sleep "0.$((RANDOM % 4))"
                b stop -t 1 "sr$i"
                state_is "sr$i" exited || { b inspect -f '{{json .State}}' "sr$i"; false; }
                n=$(b inspect -f '{{.RestartCount}}' "sr$i")
                sleep 0.7
                state_is "sr$i" exited || { b inspect -f "{{json .State}} {{.RestartCount}}" "sr$i"; false; }
                [ "$(b inspect -f '{{.RestartCount}}' "sr$i")" = "$n" ]
                b rm "sr$i" >/dev/null
        done
}

@test "run -it through a terminal (script)" {
        command -v script >/dev/null || skip "script(1) is not installed"
        run script -qec "berth --root '$ENGINE_T/root' --runroot '$ENGINE_T/run' --config '$ENGINE_T/berth.conf' run -it --rm --network none demo sh -c 'tty; exit 5'" /dev/null </dev/null
        [ "$status" -eq 5 ]
        [[ "$output" == *"/dev/pts/0"* ]]
        run script -qec "printf 'echo typed\nexit 6\n' | berth --root '$ENGINE_T/root' --runroot '$ENGINE_T/run' --config '$ENGINE_T/berth.conf' run -i --rm --network none demo sh" /dev/null </dev/null
        [ "$status" -eq 6 ]
        [[ "$output" == *typed* ]]
        assert_no_leftovers
}

@test "attach: output and detach keys" {
        command -v script >/dev/null || skip "script(1) is not installed"
        b run -d -it --name at --network none demo sh
        # ctrl-p ctrl-q leaves the container running.
        run timeout 20 script -qec "berth --root '$ENGINE_T/root' --runroot '$ENGINE_T/run' --config '$ENGINE_T/berth.conf' attach at" /dev/null < <(sleep 0.5; printf 'echo attached-ok\n'; sleep 0.5; printf '\020\021')
        [ "$status" -eq 0 ]
        [[ "$output" == *attached-ok* ]]
        state_is at running
        # Input through attach reaches the shell; its exit ends the session with its status.
        run timeout 20 script -qec "berth --root '$ENGINE_T/root' --runroot '$ENGINE_T/run' --config '$ENGINE_T/berth.conf' attach at" /dev/null < <(sleep 0.5; printf 'exit 9\n')
        [ "$status" -eq 9 ]
        retry state_is at exited
}

@test "sig-proxy: SIGTERM to a foreground run reaches the container" {
        # exec: the signal must reach berth itself, not a shell around it.
        (exec berth --root "$ENGINE_T/root" --runroot "$ENGINE_T/run" --config "$ENGINE_T/berth.conf" \
                run --name sp --network none demo sh -c 'trap "echo got-term; exit 42" TERM; while :; do sleep 0.1; done' \
                >"$ENGINE_T/sp.out") &
        pid=$!
        retry state_is sp running 2>/dev/null
        sleep 0.3
        kill -TERM "$pid"
        wait "$pid" || st=$?
        [ "${st:-0}" -eq 42 ]
        grep -q got-term "$ENGINE_T/sp.out"
}

@test "read-only root, tmpfs and bind mounts" {
        mkdir -p "$ENGINE_T/bind"
        echo host >"$ENGINE_T/bind/f"
        run b run --rm --network none --read-only --tmpfs /scratch -v "$ENGINE_T/bind:/b:ro" demo \
                sh -c 'cat /b/f; touch /x 2>/dev/null && echo rw || echo ro; touch /scratch/y && echo tmpfs-ok; touch /b/g 2>/dev/null || echo bind-ro'
        [ "$status" -eq 0 ]
        [ "$output" = "$(printf 'host\nro\ntmpfs-ok\nbind-ro')" ]
        assert_no_leftovers
}

@test "container cleanup is idempotent and safe alongside rm" {
        b run --name cl --network none demo true
        id=$(b inspect -f '{{.Id}}' cl)
        retry state_is cl exited
        b container cleanup "$id"
        b container cleanup "$id"
        state_is cl exited
        b container cleanup "$id" &
        b rm -f cl
        wait
        b container cleanup "$id"
        assert_no_leftovers
}
