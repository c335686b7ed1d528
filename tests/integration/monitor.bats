#!/usr/bin/env bats
# berth-monitor driving a real OCI runtime (runc; BERTH_TEST_RUNTIME overrides)
# on busybox bundles, as the engine will: logs, exit status, OOM, attach,
# terminal, restart policy, rotation, signals, a monitor killed -9.

load ../lib/bundle

setup_file() {
        # One busybox tree, copied per test: linking every applet each time is slow.
        BERTH_TEMPLATE_ROOTFS=$(mktemp -d /tmp/berth-monitor-rootfs.XXXXXX)/rootfs
        make_rootfs "$BERTH_TEMPLATE_ROOTFS"
        export BERTH_TEMPLATE_ROOTFS
}

teardown_file() {
        rm -rf "$(dirname "$BERTH_TEMPLATE_ROOTFS")"
}

setup() {
        BUILD=${BERTH_BUILD:-$BATS_TEST_DIRNAME/../../build}
        MON=$BUILD/src/cmd/berth-monitor/berth-monitor
        CTL=$BUILD/tests/tools/berth-monitorctl
        RUNTIME=${BERTH_TEST_RUNTIME:-runc}
        T=$(mktemp -d /tmp/berth-monitor-test.XXXXXX)
        ID=bmt-$$-$BATS_TEST_NUMBER
        CG=berth-monitor-test-$$
        STATE=$T/state
        BG_PIDS=()
        # Sanitizer reports of the daemonized monitor (its stderr is /dev/null) land here.
        export ASAN_OPTIONS="${ASAN_OPTIONS:-}:log_path=$T/sanitizer"
        export UBSAN_OPTIONS="${UBSAN_OPTIONS:-}:log_path=$T/sanitizer"
}

teardown() {
        local p c
        for p in "${BG_PIDS[@]}"; do
                kill -9 "$p" 2>/dev/null || true
        done
        # The monitor first: it would restart the container.
        "$CTL" signal "$STATE" 9 2>/dev/null || true
        "$RUNTIME" --root "$T/runc" kill "$ID" KILL 2>/dev/null || true
        "$RUNTIME" --root "$T/runc" delete --force "$ID" 2>/dev/null || true
        for c in /sys/fs/cgroup/*/"$CG"; do
                [ -d "$c" ] || continue
                rmdir "$c/$ID" 2>/dev/null || true
                rmdir "$c" 2>/dev/null || true
        done
        local reports
        reports=$(cat "$T"/sanitizer.* 2>/dev/null || true)
        rm -rf "$T"
        if [ -n "$reports" ]; then
                echo "$reports"
                return 1
        fi
}

# bundle ARG...: the container runs ARG... (in its own cgroup, removed by teardown)
bundle() {
        make_bundle "$T/b" "$@"
        bundle_set "$T/b" ".linux.cgroupsPath = \"/$CG/$ID\""
}

# monitor [OPTION...]: starts berth-monitor on $T/b; its --sync-fd report goes to $T/sync
monitor() {
        "$MON" --id "$ID" --runtime "$RUNTIME" --runtime-root "$T/runc" --bundle "$T/b" \
                --state-dir "$STATE" --log-path "$T/ctr.log" --sync-fd 3 "$@" 3>"$T/sync"
}

# retry CMD...: until it succeeds (bounded, so that a broken monitor fails the test instead of hanging it)
retry() {
        local i
        for ((i = 0; i < 300; i++)); do
                "$@" && return 0
                sleep 0.1
        done
        echo "gave up waiting for: $*" >&2
        return 1
}

monitor_gone() { ! "$CTL" alive "$STATE"; }
state() { jq -r ".$1" "$STATE/state.json"; }
log_has() { grep -q -- "$1" "$T/ctr.log" 2>/dev/null; }

@test "output is logged in k8s-file format and the exit code recorded" {
        bundle sh -c 'echo out; echo err >&2; printf partial; exit 3'
        monitor --start
        pid=$(jq -r .pid "$T/sync")
        [ "$pid" -gt 0 ]
        [ "$(jq -r .monitorPid "$T/sync")" = "$(cat "$STATE/monitor.pid")" ] || monitor_gone
        retry monitor_gone
        [ "$(state status)" = exited ]
        [ "$(state exitCode)" = 3 ]
        [ "$(state oomKilled)" = false ]
        [ "$(state restartCount)" = 0 ]
        [ "$(state signal)" = null ]
        ts='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z'
        grep -Eq "^$ts stdout F out$" "$T/ctr.log"
        grep -Eq "^$ts stderr F err$" "$T/ctr.log"
        grep -Eq "^$ts stdout P partial$" "$T/ctr.log"
        run "$CTL" logs "$T/ctr.log"
        [ "$status" = 0 ]
        [ "${lines[0]}" = out ]
        # Without --cleanup the stopped container is left for the engine.
        "$RUNTIME" --root "$T/runc" state "$ID" | jq -e '.status == "stopped"'
        [ ! -e "$STATE/attach" ]
}

@test "json-file logs are docker's format" {
        bundle sh -c 'echo "a \"quoted\" \\ line"; printf "tab\tend\n" >&2'
        monitor --start --log-driver json-file
        retry monitor_gone
        jq -es '.[0].log == "a \"quoted\" \\ line\n" and .[0].stream == "stdout"' "$T/ctr.log"
        jq -es '.[1].log == "tab\tend\n" and .[1].stream == "stderr"' "$T/ctr.log"
        [ "$(wc -l <"$T/ctr.log")" = 2 ]
        jq -rs '.[1].time' "$T/ctr.log" | grep -Eq 'Z$'
        run "$CTL" logs --driver json-file -t "$T/ctr.log"
        [ "$status" = 0 ]
        [[ "${lines[0]}" =~ ^20[0-9-]+T[0-9:.]+Z\ a\ \"quoted\"\ \\\ line$ ]]
}

@test "a container that exits at once, cleaned up with --cleanup" {
        bundle true
        monitor --start --cleanup
        retry monitor_gone
        [ "$(state exitCode)" = 0 ]
        [ "$(state status)" = exited ]
        run "$RUNTIME" --root "$T/runc" state "$ID"
        [ "$status" != 0 ]
        [ ! -e "$STATE/pid" ]
}

@test "a container killed by a signal exits with 128+signal" {
        bundle sleep 1000
        monitor --start
        "$RUNTIME" --root "$T/runc" kill "$ID" KILL
        retry monitor_gone
        [ "$(state exitCode)" = 137 ]
        [ "$(state signal)" = 9 ]
        [ "$(state oomKilled)" = false ]
}

@test "an OOM kill is recorded" {
        [ -e /sys/fs/cgroup/memory/memory.limit_in_bytes ] || [ -e /sys/fs/cgroup/cgroup.controllers ] ||
                skip "no memory cgroup controller"
        bundle sh -c 'echo allocating; exec dd if=/dev/zero of=/dev/null bs=64M count=1'
        bundle_set "$T/b" '.linux.resources.memory.limit = 33554432'
        monitor --start
        retry monitor_gone
        [ "$(state oomKilled)" = true ]
        [ "$(state exitCode)" = 137 ]
        log_has allocating
}

@test "create failures come back on --sync-fd and as the exit status" {
        bundle /nonexistent/binary
        run monitor --start
        [ "$status" = 1 ]
        [[ "$output" == *"create container"* ]]
        jq -e '.error | contains("create container")' "$T/sync"
        monitor_gone
        [ ! -e "$STATE/attach" ]
        [ ! -e "$STATE/monitor.pid" ]
}

@test "a second monitor for the same state directory is refused" {
        bundle sleep 1000
        monitor --start
        run "$MON" --id "$ID-2" --runtime "$RUNTIME" --runtime-root "$T/runc" --bundle "$T/b" \
                --state-dir "$STATE" --log-driver none
        [ "$status" = 1 ]
        [[ "$output" == *"another monitor"* ]]
        "$CTL" alive "$STATE"
}

@test "attach: live output, stdin, end of input and the exit code" {
        bundle sh -c 'while read l; do echo "got:$l"; done; echo bye >&2; exit 7'
        monitor --start --stdin
        run "$CTL" attach "$STATE" <<<$'a\nb'
        [ "$status" = 7 ]
        [ "${lines[0]}" = got:a ]
        [ "${lines[1]}" = got:b ]
        [ "${lines[2]}" = bye ]
        retry monitor_gone
        [ "$(state exitCode)" = 7 ]
        log_has 'stdout F got:b'
}

@test "attach: two clients see the same output; a detach leaves the container running" {
        bundle sh -c 'while read l; do echo "got:$l"; done; exit 5'
        monitor --start --stdin
        "$CTL" attach --no-stdin --ready-file "$T/a.ready" "$STATE" >"$T/a.out" 2>&1 3>&- &
        BG_PIDS+=($!)
        retry test -e "$T/a.ready"
        # B writes one line and detaches; the container keeps running.
        run "$CTL" attach --detach-on-eof "$STATE" <<<x
        [ "$status" = 0 ]
        retry grep -q got:x "$T/a.out"
        "$CTL" alive "$STATE"
        "$RUNTIME" --root "$T/runc" state "$ID" | jq -e '.status == "running"'
        # C ends the input: the loop ends and everyone gets the exit code.
        run "$CTL" attach "$STATE" <<<y
        [ "$status" = 5 ]
        [ "$output" = got:y ]
        wait "${BG_PIDS[0]}" || [ $? = 5 ]
        [ "$(cat "$T/a.out")" = $'got:x\ngot:y' ]
}

@test "attach: --stdin-once closes stdin when the client leaves" {
        bundle sh -c 'cat; echo eof-seen'
        monitor --start --stdin --stdin-once
        run "$CTL" attach --detach-on-eof "$STATE" <<<hello
        [ "$status" = 0 ]
        retry monitor_gone
        log_has 'stdout F hello'
        log_has 'stdout F eof-seen'
        [ "$(state exitCode)" = 0 ]
}

@test "a client that never reads slows the container but cannot hold up its exit record" {
        bundle sh -c 'yes output-line'
        monitor --start --log-driver none
        "$CTL" attach --no-read --no-stdin --ready-file "$T/stuck.ready" "$STATE" 3>&- &
        BG_PIDS+=($!)
        retry test -e "$T/stuck.ready"
        "$RUNTIME" --root "$T/runc" kill "$ID" KILL
        retry monitor_gone
        [ "$(state exitCode)" = 137 ]
}

@test "attach to a container that is gone fails cleanly" {
        bundle true
        monitor --start
        retry monitor_gone
        run "$CTL" attach "$STATE"
        [ "$status" = 1 ]
        [[ "$output" == *"connect"* ]]
}

@test "terminal: pty from the console socket, input, resize" {
        bundle sh -c 'read l; stty size; echo "got:$l"; tty'
        bundle_set "$T/b" '.process.terminal = true'
        monitor --start --terminal --stdin
        run "$CTL" attach --resize 30x100 "$STATE" <<<hello
        echo "$output"
        [ "$status" = 0 ]
        [[ "$output" == *"30 100"* ]]
        [[ "$output" == *"got:hello"* ]]
        [[ "$output" == *"/dev/pts/"* ]]
        retry monitor_gone
        log_has 'stdout F got:hello'
}

@test "restart policy on-failure:2 runs the container three times" {
        bundle sh -c 'echo run; exit 3'
        monitor --start --restart on-failure:2
        retry monitor_gone
        [ "$(state restartCount)" = 2 ]
        [ "$(state exitCode)" = 3 ]
        [ "$(state status)" = exited ]
        [ "$(grep -c 'stdout F run' "$T/ctr.log")" = 3 ]
}

@test "restart policy on-failure does not restart a clean exit" {
        bundle sh -c 'echo run; exit 0'
        monitor --start --restart on-failure
        retry monitor_gone
        [ "$(state restartCount)" = 0 ]
        [ "$(grep -c 'stdout F run' "$T/ctr.log")" = 1 ]
}

@test "restart policy always, until the monitor gets SIGTERM" {
        bundle sh -c 'echo run; exit 0'
        monitor --start --restart always
        retry jq -e '.restartCount >= 2' "$STATE/state.json"
        "$CTL" signal "$STATE" 15
        retry monitor_gone
        [ "$(state status)" = exited ]
        n=$(state restartCount)
        [ "$(grep -c 'stdout F run' "$T/ctr.log")" = $((n + 1)) ]
}

@test "SIGTERM to the monitor stops the container and keeps its exit status" {
        bundle sh -c 'trap "echo term; exit 7" TERM; echo ready; while :; do sleep 0.1; done'
        monitor --start --restart always
        retry log_has 'stdout F ready'
        "$CTL" signal "$STATE" 15
        retry monitor_gone
        [ "$(state exitCode)" = 7 ]
        [ "$(state status)" = exited ]
        [ "$(state restartCount)" = 0 ]
        log_has 'stdout F term'
}

@test "a monitor killed -9 is detectable; the container lives on" {
        bundle sleep 1000
        monitor --start
        "$CTL" alive "$STATE"
        kill -9 "$(jq -r .monitorPid "$T/sync")"
        retry monitor_gone
        # state.json still says running: the lock, not the file, tells the truth.
        [ "$(state status)" = running ]
        run "$CTL" signal "$STATE" 15
        [ "$status" = 1 ]
        "$RUNTIME" --root "$T/runc" state "$ID" | jq -e '.status == "running"'
}

@test "the log rotates by size and keeps --log-max-files files" {
        bundle seq 1 3000
        monitor --start --log-size-max 8k --log-max-files 3
        retry monitor_gone
        [ -s "$T/ctr.log.1" ]
        [ -s "$T/ctr.log.2" ]
        [ ! -e "$T/ctr.log.3" ]
        for f in "$T/ctr.log" "$T/ctr.log.1" "$T/ctr.log.2"; do
                [ "$(stat -c %s "$f")" -le 8192 ]
        done
        # The oldest file may begin inside a line whose start was rotated away.
        "$CTL" logs "$T/ctr.log" | sed 1d >"$T/all"
        first=$(head -1 "$T/all")
        [ "$first" -gt 1000 ]
        seq "$first" 3000 | cmp - "$T/all"
        # --tail counts records (partial ones too), as docker and the kubelet do.
        tail -3 "$T/ctr.log" | awk '{ m = substr($0, index($0, $3) + 2); printf "%s%s", m, ($3 == "F" ? "\n" : "") }' \
                >"$T/expect"
        "$CTL" logs --tail 3 "$T/ctr.log" | cmp - "$T/expect"
}

@test "logs --follow reads across rotations until the monitor is gone" {
        bundle seq 1 5000
        monitor --log-size-max 4k --log-max-files 64
        "$CTL" logs --follow --state-dir "$STATE" "$T/ctr.log" >"$T/followed" 3>&- &
        BG_PIDS+=($!)
        "$RUNTIME" --root "$T/runc" start "$ID"
        wait "${BG_PIDS[0]}"
        seq 1 5000 | cmp - "$T/followed"
        [ -e "$T/ctr.log.10" ]
}

@test "the exit command runs once the monitor has let go" {
        bundle sh -c 'exit 4'
        monitor --start --exit-command /bin/sh --exit-command-arg -c \
                --exit-command-arg '"$0" alive "$1"; echo "alive=$?" >"$2.tmp"; mv "$2.tmp" "$2"' \
                --exit-command-arg "$CTL" --exit-command-arg "$STATE" --exit-command-arg "$T/exit-cmd"
        retry test -e "$T/exit-cmd"
        [ "$(cat "$T/exit-cmd")" = alive=1 ]
        [ "$(state exitCode)" = 4 ]
}

@test "berth-runtime drives the same container life" {
        command -v berth-runtime >/dev/null || [ -x "$BUILD/src/cmd/berth-runtime/berth-runtime" ] ||
                skip "berth-runtime is not built"
        RUNTIME=$(command -v berth-runtime || echo "$BUILD/src/cmd/berth-runtime/berth-runtime")
        bundle sh -c 'echo out; echo err >&2; exit 3'
        monitor --start --cleanup
        retry monitor_gone
        [ "$(state exitCode)" = 3 ]
        log_has 'stdout F out'
        log_has 'stderr F err'
}
