#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# The engine when things go wrong: a monitor killed -9, a runtime that
# crashes, the database locked or damaged, many berth processes at once;
# other runtimes (runc, crun); bridge networking teardown.

load engine-common

setup_file() { engine_setup_file; }
teardown_file() { engine_teardown_file; }
setup() { engine_setup; }
teardown() {
        engine_teardown
        # A test that held the database in the background.
        [ -z "${HOLDER:-}" ] || kill "$HOLDER" 2>/dev/null || true
}

@test "a monitor killed -9 shows as dead, and rm -f still cleans everything" {
        b run -d --name victim --network none demo sleep 1000
        mon=$(b inspect -f '{{.State.MonitorPid}}' victim)
        pid=$(b inspect -f '{{.State.Pid}}' victim)
        [ "$mon" -gt 0 ] && [ "$pid" -gt 0 ]
        kill -9 "$mon"
        retry state_is victim dead
        [[ "$(b inspect -f '{{.State.Error}}' victim)" == *"monitor (pid $mon) is gone"* ]]
        [[ "$(b ps -a --format '{{.Status}}')" == Dead ]]
        b rm -f victim
        retry test ! -e "/proc/$pid/cmdline"
        assert_no_leftovers
}

@test "a runtime that crashes: a clear error, exit 125, nothing left" {
        cat >"$ENGINE_T/crashing-runtime" <<'EOF'
#!/bin/sh
echo "crashing-runtime: about to crash in $*" >&2
kill -SEGV $$
EOF
        chmod +x "$ENGINE_T/crashing-runtime"
        run b run --rm --network none --runtime "$ENGINE_T/crashing-runtime" demo true
        [ "$status" -eq 125 ]
        [[ "$output" == *"crashing-runtime"*"signal 11"* ]] || [[ "$output" == *"crashing-runtime"*"about to crash"* ]]
        assert_no_leftovers
        run b run --name kept --network none --runtime "$ENGINE_T/crashing-runtime" demo true
        [ "$status" -eq 125 ]
        [ "$(b inspect -f '{{.State.Status}}' kept)" = created ]
        b rm -f kept
        assert_no_leftovers
        run b run --rm --network none --runtime nosuch-runtime demo true
        [ "$status" -eq 125 ]
        [[ "$output" == *"unknown OCI runtime"* ]]
}

# hold_db SECONDS: a process holding a write transaction on the database; returns once it holds it.
hold_db() {
        rm -f "$ENGINE_T/held"
        python3 -c '
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
c.execute("BEGIN IMMEDIATE")
open(sys.argv[2], "w").close()
time.sleep(float(sys.argv[3]))
c.execute("COMMIT")
' "$ENGINE_T/root/berth.db" "$ENGINE_T/held" "$1" &
        HOLDER=$!
        retry test -e "$ENGINE_T/held"
}

@test "the database locked by another process: berth waits within the busy timeout" {
        hold_db 1.5
        # Without waiting for the holder this would fail with "database is locked".
        run b run --rm --network none demo echo waited
        [ "$status" -eq 0 ]
        [ "$output" = waited ]
        wait "$HOLDER"
        HOLDER=
        assert_no_leftovers
}

@test "the database locked for longer than the busy timeout: a clear error" {
        sed 's|^{|{"dbBusyTimeout": 200,|' "$ENGINE_T/berth.conf" >"$ENGINE_T/short.conf"
        hold_db 30
        run berth --root "$ENGINE_T/root" --runroot "$ENGINE_T/run" --config "$ENGINE_T/short.conf" \
                run --rm --network none demo true
        [ "$status" -eq 125 ]
        [[ "$output" == *"database is locked"* ]]
        kill "$HOLDER"
        wait "$HOLDER" || true
        HOLDER=
        assert_no_leftovers
}

@test "a damaged database: a clear error, and system check says so" {
        mkdir -p "$ENGINE_T/broken"
        cp "$ENGINE_T/root/berth.db" "$ENGINE_T/broken/berth.db"
        printf 'this is not sqlite at all, sorry' | dd of="$ENGINE_T/broken/berth.db" conv=notrunc 2>/dev/null
        run berth --root "$ENGINE_T/broken" --runroot "$ENGINE_T/broken-run" --config "$ENGINE_T/berth.conf" ps -a
        [ "$status" -eq 125 ]
        [[ "$output" == *"berth.db"*"not a database"*"berth system check"* ]]
        run berth --root "$ENGINE_T/broken" --runroot "$ENGINE_T/broken-run" --config "$ENGINE_T/berth.conf" system check
        [ "$status" -eq 125 ]
        [[ "$output" == *"problem:"*"not a database"* ]]
        [[ "$output" == *"cannot be read"* ]]
        # The real one is fine.
        run b system check -q
        [ "$status" -eq 0 ]
}

@test "system check finds containers whose files are gone, and --repair removes them" {
        b create --name orphan --network none demo true
        id=$(b inspect -f '{{.Id}}' orphan)
        b container cleanup "$id"
        umount "$ENGINE_T/root/rw/$id/merged"
        rm -rf "${ENGINE_T:?}/root/containers/$id"
        run b system check -q
        [ "$status" -eq 125 ]
        [[ "$output" == *"container orphan"*"directory is missing"* ]]
        run b system check -q --repair
        [ "$status" -eq 0 ]
        [[ "$output" == *"removed container orphan"* ]]
        assert_no_leftovers
}

@test "concurrent berth run from several shells" {
        local pids=() i
        for i in 1 2 3 4; do
                b run --rm --network none demo sh -c "echo r$i" >"$ENGINE_T/c$i.out" &
                pids+=($!)
                b run -d --name par$i --network none demo sleep 100 >/dev/null &
                pids+=($!)
        done
        for i in "${pids[@]}"; do
                wait "$i"
        done
        for i in 1 2 3 4; do
                [ "$(cat "$ENGINE_T/c$i.out")" = "r$i" ]
                state_is par$i running
        done
        [ "$(b ps -q | wc -l)" = 4 ]
        b rm -f par1 par2 par3 par4 >/dev/null
        assert_no_leftovers
}

@test "--runtime runc" {
        command -v runc >/dev/null || skip "runc is not installed"
        run b run --rm --network none --runtime runc demo sh -c 'echo via-runc'
        [ "$status" -eq 0 ]
        [ "$output" = via-runc ]
        b run -d --name rc --network none --runtime runc demo sleep 100
        [ "$(b inspect -f '{{.HostConfig.Runtime}}' rc)" = runc ]
        run b exec rc echo exec-runc
        [ "$output" = exec-runc ]
        b stop -t 0 rc
        b rm rc
        assert_no_leftovers
}

@test "--runtime crun (with the host's cgroup2 mount hidden, as crun 1.8 needs on hybrid hosts)" {
        command -v crun >/dev/null || skip "crun is not installed"
        # crun refuses hybrid hosts with controllers in cgroup2; a private mount namespace hides it.
        run unshare -m --propagation private sh -c '
                if mountpoint -q /sys/fs/cgroup/unified; then umount /sys/fs/cgroup/unified || exit 99; fi
                exec berth --root "$1/root" --runroot "$1/run" --config "$1/berth.conf" \
                        run --rm --network none --runtime crun demo sh -c "echo via-crun"' sh "$ENGINE_T"
        [ "$status" -ne 99 ] || skip "cannot hide the cgroup2 mount for crun"
        [ "$status" -eq 0 ]
        [ "$output" = via-crun ]
        assert_no_leftovers
}

@test "bridge network: an address, names of peers, and complete teardown" {
        command -v iptables-save >/dev/null || skip "iptables is not installed"
        b run -d --name web demo sleep 100
        ip=$(b inspect -f '{{.NetworkSettings.IPAddress}}' web)
        [[ "$ip" == "${ENGINE_SUBNET%.0/24}".* ]]
        run b run --rm demo sh -c 'ip -4 -o addr show eth0; grep -w web /etc/hosts; hostname'
        [ "$status" -eq 0 ]
        [[ "${lines[0]}" == *"inet ${ENGINE_SUBNET%.0/24}."* ]]
        [[ "${lines[1]}" == "$ip"*web* ]]
        id=$(b inspect -f '{{.Id}}' web)
        run b rm -f web
        echo "$output"
        [ "$status" -eq 0 ]
        assert_no_leftovers
        # Other suites create veths on this host at the same time: only our bridge's count.
        [ -z "$(ip -o link show master "$ENGINE_BRIDGE" 2>/dev/null)" ]
        [ -z "$(ls -A "$ENGINE_T/root/network/results/$ENGINE_NET" 2>/dev/null)" ]
        ! iptables-save | grep -q "${id:0:12}"
        [ -z "$(find "$ENGINE_T/root/network/ipam" -type f -name '10.*' 2>/dev/null)" ]
}
