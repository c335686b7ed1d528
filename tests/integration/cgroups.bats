#!/usr/bin/env bats
# berth-runtime and cgroups: linux.resources read back from the host's cgroup
# files, limits hit by real processes, update, pause/resume, events, cgroup
# mounts, and no cgroup left behind. Written for this project's hybrid host
# (v1 controllers, a cgroup2 tree at /sys/fs/cgroup/unified); tests that need
# a controller the host lacks skip.

load ../lib/runtime

DEFAULT_ARGS=(sleep 1000)

# Container ids unique to this run: cgroups live in host-wide trees.
id() {
        echo "cg$$-$BATS_TEST_NUMBER${1:-}"
}

# cgdir CONTROLLER ID: the container's cgroup directory (default cgroupsPath).
cgdir() {
        local c=$1
        [ "$c" = name=systemd ] && c=systemd
        echo "/sys/fs/cgroup/$c/berth-runtime/$2"
}

have() {
        [ -d "/sys/fs/cgroup/$1" ] && grep -q " /sys/fs/cgroup/$1 .* - cgroup " /proc/self/mountinfo
}

# No directory of container $1 in any hierarchy.
assert_no_cgroup() {
        local d
        for d in /sys/fs/cgroup/*/; do
                if [ -e "$d/berth-runtime/$1" ]; then
                        echo "cgroup $d/berth-runtime/$1 left behind"
                        return 1
                fi
        done
        if [ -n "${2:-}" ] && ls -d /sys/fs/cgroup/*/"$2" 2>/dev/null; then
                echo "cgroup $2 left behind"
                return 1
        fi
}

start() { # start ID: runs the bundle detached
        rt run -d -b "$B" "$1" </dev/null >/dev/null
}

# run_ctr ARGS...: runs the bundle in the foreground as $(id) with these args.
run_ctr() {
        bundle_set "$B" ".process.args = $(printf '%s\n' "$@" | jq -R . | jq -cs .)"
        run rt run -b "$B" "$(id)"
}

setup() {
        have memory || skip "these tests read cgroup v1 files (no v1 memory hierarchy here)"
        T=$(mktemp -d /tmp/berth-test.XXXXXX)
        ROOT=$T/state
        B=$T/bundle
        make_bundle "$B" "${DEFAULT_ARGS[@]}"
}

teardown() {
        local i
        if [ -d "$ROOT" ]; then
                for i in $("$RT" --root "$ROOT" list -q 2>/dev/null); do
                        "$RT" --root "$ROOT" resume "$i" >/dev/null 2>&1 || true
                        "$RT" --root "$ROOT" delete --force "$i" >/dev/null 2>&1 || true
                done
        fi
        [ -z "${EVENTS_PID:-}" ] || kill "$EVENTS_PID" 2>/dev/null || true
        for i in /sys/fs/cgroup/*/berth-test-$$; do
                [ -d "$i" ] && find "$i" -depth -type d -exec rmdir {} + 2>/dev/null || true
        done
        grep -F " $T" /proc/self/mountinfo | awk '{print $5}' | sort -r | while read -r m; do
                umount -l "$m" 2>/dev/null || true
        done
        rm -rf "$T"
}

@test "every resource of the v1 controllers is read back from the cgroup files" {
        local c dev w
        c=$(id)
        dev=$(cat /sys/block/vda/dev 2>/dev/null || cat /sys/block/loop0/dev)
        bundle_set "$B" ".linux.resources = {
                \"memory\": {\"limit\": 67108864, \"reservation\": 33554432, \"swap\": 100663296, \"kernelTCP\": 16777216,
                             \"swappiness\": 20, \"disableOOMKiller\": false},
                \"cpu\": {\"shares\": 512, \"quota\": 25000, \"period\": 100000, \"burst\": 5000, \"idle\": 0,
                          \"realtimePeriod\": 800000, \"cpus\": \"0\", \"mems\": \"0\"},
                \"pids\": {\"limit\": 64},
                \"blockIO\": {\"weight\": 300,
                              \"throttleReadBpsDevice\": [{\"major\": ${dev%:*}, \"minor\": ${dev#*:}, \"rate\": 1048576}],
                              \"throttleWriteBpsDevice\": [{\"major\": ${dev%:*}, \"minor\": ${dev#*:}, \"rate\": 2097152}],
                              \"throttleReadIOPSDevice\": [{\"major\": ${dev%:*}, \"minor\": ${dev#*:}, \"rate\": 1000}],
                              \"throttleWriteIOPSDevice\": [{\"major\": ${dev%:*}, \"minor\": ${dev#*:}, \"rate\": 500}]},
                \"devices\": [{\"allow\": false, \"access\": \"rwm\"}, {\"allow\": true, \"type\": \"c\", \"major\": 4, \"minor\": 64, \"access\": \"rw\"}]}"
        start "$c"
        [ "$(cat "$(cgdir memory "$c")/memory.limit_in_bytes")" = 67108864 ]
        [ "$(cat "$(cgdir memory "$c")/memory.soft_limit_in_bytes")" = 33554432 ]
        [ "$(cat "$(cgdir memory "$c")/memory.memsw.limit_in_bytes")" = 100663296 ]
        [ "$(cat "$(cgdir memory "$c")/memory.kmem.tcp.limit_in_bytes")" = 16777216 ]
        [ "$(cat "$(cgdir memory "$c")/memory.swappiness")" = 20 ]
        grep -qx "oom_kill_disable 0" "$(cgdir memory "$c")/memory.oom_control"
        [ "$(cat "$(cgdir cpu "$c")/cpu.shares")" = 512 ]
        [ "$(cat "$(cgdir cpu "$c")/cpu.cfs_quota_us")" = 25000 ]
        [ "$(cat "$(cgdir cpu "$c")/cpu.cfs_period_us")" = 100000 ]
        [ "$(cat "$(cgdir cpu "$c")/cpu.cfs_burst_us")" = 5000 ]
        [ "$(cat "$(cgdir cpu "$c")/cpu.idle")" = 0 ]
        [ "$(cat "$(cgdir cpu "$c")/cpu.rt_period_us")" = 800000 ]
        [ "$(cat "$(cgdir cpuset "$c")/cpuset.cpus")" = 0 ]
        [ "$(cat "$(cgdir cpuset "$c")/cpuset.mems")" = 0 ]
        [ "$(cat "$(cgdir pids "$c")/pids.max")" = 64 ]
        # No CFQ here: the weight goes to BFQ's file.
        w=$(cgdir blkio "$c")/blkio.weight
        [ -e "$w" ] || w=$(cgdir blkio "$c")/blkio.bfq.weight
        [ "$(cat "$w")" = 300 ]
        [ "$(cat "$(cgdir blkio "$c")/blkio.throttle.read_bps_device")" = "$dev 1048576" ]
        [ "$(cat "$(cgdir blkio "$c")/blkio.throttle.write_bps_device")" = "$dev 2097152" ]
        [ "$(cat "$(cgdir blkio "$c")/blkio.throttle.read_iops_device")" = "$dev 1000" ]
        [ "$(cat "$(cgdir blkio "$c")/blkio.throttle.write_iops_device")" = "$dev 500" ]
        grep -qx "c 4:64 rw" "$(cgdir devices "$c")/devices.list"
        grep -qx "c 1:3 rwm" "$(cgdir devices "$c")/devices.list"
        ! grep -q "^a " "$(cgdir devices "$c")/devices.list"
        rt delete --force "$c"
        assert_no_cgroup "$c"
}

@test "the container is in its cgroup in every hierarchy, the cgroup2 tree included" {
        local c pid line
        c=$(id)
        start "$c"
        pid=$(rt state "$c" | jq .pid)
        while read -r line; do
                [[ "$line" == *":/berth-runtime/$c" ]] || { echo "not in its cgroup: $line"; return 1; }
        done <"/proc/$pid/cgroup"
        grep -q "^0::/berth-runtime/$c$" "/proc/$pid/cgroup"
        grep -q ":name=systemd:/berth-runtime/$c$" "/proc/$pid/cgroup"
        rt delete --force "$c"
        assert_no_cgroup "$c"
}

@test "cgroupsPath: absolute paths are used as given, '..' escapes are refused" {
        local c
        c=$(id)
        bundle_set "$B" ".linux.cgroupsPath = \"/berth-test-$$/a/../ctr\" | .linux.resources = {\"pids\": {\"limit\": 9}}"
        start "$c"
        [ "$(cat "/sys/fs/cgroup/pids/berth-test-$$/ctr/pids.max")" = 9 ]
        grep -q "pids:/berth-test-$$/ctr$" "/proc/$(rt state "$c" | jq .pid)/cgroup"
        rt delete --force "$c"
        [ ! -e "/sys/fs/cgroup/pids/berth-test-$$/ctr" ]

        bundle_set "$B" ".linux.cgroupsPath = \"/berth-test-$$/../../x$$\""
        run rt run -d -b "$B" "$(id b)"
        [ "$status" -eq 1 ]
        [[ "$output" == *"linux.cgroupsPath"*"escapes the cgroup hierarchy"* ]]
        assert_gone "$(id b)"
        assert_no_cgroup "$(id b)" "x$$"
}

@test "invalid resources fail create with the field named and leave nothing" {
        local c=$(id) i
        local -a cases=(
                '{"cpu": {"shares": 1}}' 'linux.resources.cpu.shares: value 1 out of range [2, 262144]'
                '{"memory": {"limit": -5}}' 'linux.resources.memory.limit: value -5 out of range'
                '{"memory": {"limit": 200000000, "swap": 100000000}}' 'memory+swap limit 100000000 is lower than the memory limit'
                '{"devices": [{"allow": true, "type": "x"}]}' 'linux.resources.devices[0].type: unknown device type `x`'
                '{"devices": [{"allow": true, "access": "rwx"}]}' 'linux.resources.devices[0].access: `rwx` is not a combination of r, w and m'
                '{"cpu": {"cpus": "0-"}}' 'linux.resources.cpu.cpus: `0-` is not a list'
                '{"hugepageLimits": [{"pageSize": "2M", "limit": 1}]}' 'is not a page size'
                '{"cpu": {"realtimeRuntime": 10000}}' 'cpu.realtimeRuntime: write `10000`'
        )
        # On this hybrid host, unified keys of v1-bound controllers have no home.
        [ -d /sys/fs/cgroup/unified ] && cases+=('{"unified": {"memory.max": "1"}}' 'the memory controller is bound to cgroup v1')
        for ((i = 0; i < ${#cases[@]}; i += 2)); do
                bundle_set "$B" ".linux.resources = ${cases[i]}"
                run rt run -d -b "$B" "$c"
                [ "$status" -eq 1 ] || { echo "accepted: ${cases[i]}"; return 1; }
                [[ "$output" == *"${cases[i + 1]}"* ]] || { echo "${cases[i]}: $output"; return 1; }
                assert_gone "$c"
                assert_no_cgroup "$c"
        done
}

@test "a controller the host lacks is an error only when a key needs it" {
        local c=$(id)
        have rdma && skip "this host has an rdma hierarchy"
        grep -qw rdma /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null && skip "rdma on cgroup v2"
        bundle_set "$B" '.linux.resources = {"rdma": {"mlx5_0": {"hcaHandles": 2}}}'
        run rt run -d -b "$B" "$c"
        [ "$status" -eq 1 ]
        [[ "$output" == *"linux.resources.rdma: the rdma controller is not available on this host"* ]]
        assert_gone "$c"
        assert_no_cgroup "$c"
        bundle_set "$B" '.linux.resources = {"rdma": {}}'
        start "$c"
        rt delete --force "$c"
        assert_no_cgroup "$c"
}

@test "the pids limit stops forks in the container" {
        local c=$(id) d
        # The inner shell forks until the limit stops it (a failed fork ends it);
        # its sleeps stay, and the init goes on to signal that it got there.
        bundle_set "$B" '.root.readonly = false | .linux.resources = {"pids": {"limit": 4}}
                | .process.args = ["sh", "-c", "sh -c \"for i in 1 2 3 4 5 6; do sleep 1000 & done\" 2>/tmp/err; : >/tmp/done; exec sleep 1000"]'
        start "$c"
        d=$(cgdir pids "$c")
        for _ in $(seq 100); do [ -e "$B/rootfs/tmp/done" ] && break; sleep 0.1; done
        [ -e "$B/rootfs/tmp/done" ]
        grep -q "can't fork" "$B/rootfs/tmp/err"
        grep -q "^max [1-9]" "$d/pids.events"
        [ "$(cat "$d/pids.max")" = 4 ]
        [ "$(cat "$d/pids.current")" -le 4 ]
        [ "$(rt ps --format json "$c" | jq length)" -eq "$(cat "$d/pids.current")" ]
        rt kill --all "$c" KILL
        for _ in $(seq 100); do [ "$(status_of "$c")" = stopped ] && break; sleep 0.1; done
        rt delete "$c"
        assert_no_cgroup "$c"
}

@test "the memory limit brings the OOM killer and events reports it as runc does" {
        local c=$(id) out=$T/events
        bundle_set "$B" '.root.readonly = false | .linux.resources = {"memory": {"limit": 16777216, "swap": 16777216}}
                | .process.args = ["sh", "-c", "while [ ! -e /tmp/go ]; do sleep 0.1; done; tail /dev/zero; sleep 1000"]'
        start "$c"
        rt events --interval 100ms "$c" >"$out" &
        EVENTS_PID=$!
        # The first stats line means the OOM notification is registered.
        for _ in $(seq 100); do grep -q '"type":"stats"' "$out" && break; sleep 0.1; done
        grep -q '"type":"stats"' "$out"
        touch "$B/rootfs/tmp/go"
        for _ in $(seq 300); do grep -q '"type":"oom"' "$out" && break; sleep 0.1; done
        grep -qx "{\"type\":\"oom\",\"id\":\"$c\"}" "$out"
        grep -q "^oom_kill [1-9]" "$(cgdir memory "$c")/memory.oom_control"
        # events ends by itself when the container's cgroup goes.
        rt delete --force "$c"
        for _ in $(seq 100); do kill -0 "$EVENTS_PID" 2>/dev/null || break; sleep 0.1; done
        ! kill -0 "$EVENTS_PID" 2>/dev/null
        wait "$EVENTS_PID"
        EVENTS_PID=
        assert_no_cgroup "$c"
}

@test "events --stats prints one stats event in runc's shape" {
        local c=$(id)
        bundle_set "$B" '.linux.resources = {"memory": {"limit": 33554432}, "pids": {"limit": 20}}'
        start "$c"
        run rt events --stats "$c"
        [ "$status" -eq 0 ]
        [ "${#lines[@]}" -eq 1 ]
        jq -e --arg id "$c" '.type == "stats" and .id == $id' <<<"$output"
        jq -e '.data | keys == ["blkio", "cpu", "cpuset", "hugetlb", "intel_rdt", "memory", "network_interfaces", "pids"]' <<<"$output"
        jq -e '.data.memory.usage.limit == 33554432 and .data.memory.usage.usage > 0' <<<"$output"
        jq -e '.data.memory.swap | has("limit") and has("failcnt")' <<<"$output"
        jq -e '.data.memory.raw | has("rss") and has("cache")' <<<"$output"
        jq -e '.data.pids == {"current": 1, "limit": 20}' <<<"$output"
        jq -e '.data.cpu.usage.total > 0 and (.data.cpu.usage.percpu | length) > 0 and (.data.cpu.usage | has("kernel"))' <<<"$output"
        jq -e '.data.cpuset.cpus | length > 0' <<<"$output"
        jq -e '.data.network_interfaces == null' <<<"$output"
        run rt events --interval 0s "$c"
        [ "$status" -eq 1 ]
        [[ "$output" == *"duration interval must be greater than 0"* ]]
        run rt events --interval 5x "$c"
        [ "$status" -eq 1 ]
        rt delete --force "$c"
        run rt events --stats "$c"
        [ "$status" -eq 1 ]
        assert_no_cgroup "$c"
}

@test "update: every flag is applied and read back" {
        local c=$(id) w
        bundle_set "$B" '.linux.resources = {"memory": {"limit": 33554432}, "pids": {"limit": 10}}'
        start "$c"
        rt update --memory 64m --memory-reservation 32M --memory-swap 128MiB --kernel-memory-tcp 16m \
                --cpu-share 256 --cpu-quota 30000 --cpu-period 100000 --cpu-burst 1000 --cpu-rt-period 900000 \
                --cpu-idle 0 --cpuset-cpus 0 --cpuset-mems 0 --pids-limit 33 --blkio-weight 200 "$c"
        [ "$(cat "$(cgdir memory "$c")/memory.limit_in_bytes")" = 67108864 ]
        [ "$(cat "$(cgdir memory "$c")/memory.soft_limit_in_bytes")" = 33554432 ]
        [ "$(cat "$(cgdir memory "$c")/memory.memsw.limit_in_bytes")" = 134217728 ]
        [ "$(cat "$(cgdir memory "$c")/memory.kmem.tcp.limit_in_bytes")" = 16777216 ]
        [ "$(cat "$(cgdir cpu "$c")/cpu.shares")" = 256 ]
        [ "$(cat "$(cgdir cpu "$c")/cpu.cfs_quota_us")" = 30000 ]
        [ "$(cat "$(cgdir cpu "$c")/cpu.cfs_burst_us")" = 1000 ]
        [ "$(cat "$(cgdir cpu "$c")/cpu.rt_period_us")" = 900000 ]
        [ "$(cat "$(cgdir cpuset "$c")/cpuset.cpus")" = 0 ]
        [ "$(cat "$(cgdir pids "$c")/pids.max")" = 33 ]
        w=$(cgdir blkio "$c")/blkio.weight
        [ -e "$w" ] || w=$(cgdir blkio "$c")/blkio.bfq.weight
        [ "$(cat "$w")" = 200 ]
        # --cpu-shares is taken as well; a lower memory+swap comes after the lower limit.
        rt update --cpu-shares 300 --memory 16m --memory-swap 16m "$c"
        [ "$(cat "$(cgdir cpu "$c")/cpu.shares")" = 300 ]
        [ "$(cat "$(cgdir memory "$c")/memory.limit_in_bytes")" = 16777216 ]
        [ "$(cat "$(cgdir memory "$c")/memory.memsw.limit_in_bytes")" = 16777216 ]
        # -1 lifts the limit, and memory+swap with it.
        rt update --memory -1 "$c"
        [ "$(cat "$(cgdir memory "$c")/memory.limit_in_bytes")" = 9223372036854771712 ]
        [ "$(cat "$(cgdir memory "$c")/memory.memsw.limit_in_bytes")" = 9223372036854771712 ]
        # A resources file replaces the flags; - reads it from stdin.
        echo '{"pids": {"limit": 44}, "cpu": {"shares": 1024}}' >"$T/res.json"
        rt update -r "$T/res.json" --pids-limit 1 "$c"
        [ "$(cat "$(cgdir pids "$c")/pids.max")" = 44 ]
        [ "$(cat "$(cgdir cpu "$c")/cpu.shares")" = 1024 ]
        echo '{"memory": {"limit": 50331648}}' | rt update -r - "$c"
        [ "$(cat "$(cgdir memory "$c")/memory.limit_in_bytes")" = 50331648 ]
        rt update --pids-limit -1 "$c"
        [ "$(cat "$(cgdir pids "$c")/pids.max")" = max ]
        # 0 is a limit (written as 1, as runc does), not "unset".
        rt update --pids-limit 0 "$c"
        [ "$(cat "$(cgdir pids "$c")/pids.max")" = 1 ]
        rt delete --force "$c"
        assert_no_cgroup "$c"
}

@test "update: bad values and stopped containers are refused" {
        local c=$(id)
        start "$c"
        run rt update --memory abc "$c"
        [ "$status" -eq 1 ]
        [[ "$output" == *"invalid value for --memory: \`abc\`"* ]]
        run rt update --cpu-share 1 "$c"
        [ "$status" -eq 1 ]
        [[ "$output" == *"linux.resources.cpu.shares: value 1 out of range"* ]]
        run rt update --cpu-period x1 "$c"
        [ "$status" -eq 1 ]
        echo '[1]' >"$T/bad.json"
        run rt update -r "$T/bad.json" "$c"
        [ "$status" -eq 1 ]
        [[ "$output" == *"expected a JSON object"* ]]
        run rt update --l3-cache-schema L3:0=f "$c"
        [ "$status" -eq 1 ]
        [[ "$output" == *"Intel RDT is not supported"* ]]
        run rt update --pids-limit 5 nosuch$$
        [ "$status" -eq 1 ]
        rt kill "$c" KILL
        for _ in $(seq 100); do [ "$(status_of "$c")" = stopped ] && break; sleep 0.1; done
        run rt update --pids-limit 5 "$c"
        [ "$status" -eq 1 ]
        [[ "$output" == *"is not running"* ]]
        rt delete "$c"
        assert_no_cgroup "$c"
}

@test "update: a memory limit under the current usage is refused" {
        local c=$(id)
        # The shell keeps a 24 MB string in memory.
        printf '%s\n' 'x=$(head -c 24000000 /dev/zero | tr "\\000" a)' 'sleep 1000' >"$B/rootfs/hold.sh"
        bundle_set "$B" '.linux.resources = {"memory": {"limit": 134217728, "swap": 134217728}} | .process.args = ["sh", "/hold.sh"]'
        start "$c"
        for _ in $(seq 200); do [ "$(cat "$(cgdir memory "$c")/memory.usage_in_bytes")" -gt 24000000 ] && break; sleep 0.1; done
        [ "$(cat "$(cgdir memory "$c")/memory.usage_in_bytes")" -gt 24000000 ]
        run rt update --memory 8m --memory-swap 8m "$c"
        [ "$status" -eq 1 ]
        [[ "$output" == *"cannot set the memory limit"*"to 8388608"*"current usage"* ]]
        [ "$(cat "$(cgdir memory "$c")/memory.limit_in_bytes")" = 134217728 ]
        rt delete --force "$c"
        assert_no_cgroup "$c"
}

@test "pause and resume freeze and thaw every process" {
        local c=$(id) pid
        bundle_set "$B" '.process.args = ["sh", "-c", "sleep 1000 & sleep 1000"]'
        start "$c"
        pid=$(rt state "$c" | jq .pid)
        rt pause "$c"
        [ "$(status_of "$c")" = paused ]
        [ "$(cat "$(cgdir freezer "$c")/freezer.state")" = FROZEN ]
        run rt pause "$c"
        [ "$status" -eq 1 ]
        [[ "$output" == *"is already paused"* ]]
        rt list | grep -q "^$c .*paused"
        rt resume "$c"
        [ "$(status_of "$c")" = running ]
        [ "$(cat "$(cgdir freezer "$c")/freezer.state")" = THAWED ]
        run rt resume "$c"
        [ "$status" -eq 1 ]
        [[ "$output" == *"is not paused"* ]]
        # Signals other than KILL wait for resume; KILL and delete --force work on a paused container.
        rt pause "$c"
        rt kill --all "$c" TERM
        [ "$(status_of "$c")" = paused ]
        rt delete --force "$c"
        [ ! -d "/proc/$pid" ] || grep -q '^State:.*Z' "/proc/$pid/status"
        assert_no_cgroup "$c"
        run rt pause "$c"
        [ "$status" -eq 1 ]
}

@test "kill --all reaches processes in nested cgroups; delete leaves none behind" {
        local c=$(id)
        bundle_set "$B" '.process.args = ["sh", "-c", "sleep 1000 & sleep 1000 & wait"]'
        start "$c"
        # What a container's own manager would do below its cgroup.
        mkdir "$(cgdir pids "$c")/inner" "$(cgdir memory "$c")/inner"
        echo "$(rt ps --format json "$c" | jq '.[-1]')" >"$(cgdir pids "$c")/inner/cgroup.procs"
        [ "$(rt ps --format json "$c" | jq length)" -eq 3 ]
        rt kill --all "$c" KILL
        for _ in $(seq 100); do [ "$(status_of "$c")" = stopped ] && break; sleep 0.1; done
        [ "$(status_of "$c")" = stopped ]
        rt delete "$c"
        assert_no_cgroup "$c"
}

@test "cgroup mount with a cgroup namespace: the container's cgroup is the root, read-only" {
        local c=$(id)
        bundle_set "$B" '.linux.namespaces += [{"type": "cgroup"}]
                | .mounts += [{"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}]
                | .linux.resources = {"memory": {"limit": 41943040}}'
        run_ctr sh -c 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes; ls /sys/fs/cgroup; grep -v ":/$" /proc/self/cgroup; touch /sys/fs/cgroup/memory/x 2>&1; ls /sys/fs/cgroup/memory | grep -c berth-runtime'
        [ "${lines[0]}" = 41943040 ]
        [[ "$output" == *memory* && "$output" == *systemd* && "$output" == *unified* && "$output" == *pids* ]]
        [[ "$output" == *"Read-only file system"* ]]
        [ "${lines[-1]}" = 0 ]
        assert_no_cgroup "$c"
}

@test "cgroup mount without a cgroup namespace binds the container's own cgroups" {
        bundle_set "$B" '.mounts += [{"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["ro"]}]
                | .linux.resources = {"memory": {"limit": 41943040}, "pids": {"limit": 7}}'
        run_ctr sh -c 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max; cat /sys/fs/cgroup/unified/cgroup.procs | wc -l'
        [ "$status" -eq 0 ]
        [ "${lines[0]}" = 41943040 ]
        [ "${lines[1]}" = 7 ]
        [ "${lines[2]}" -ge 1 ]
        assert_no_cgroup "$(id)"
}

@test "devices: the device cgroup refuses what the config does not allow" {
        bundle_set "$B" '.linux.devices = [{"path": "/dev/loop7", "type": "b", "major": 7, "minor": 7, "fileMode": 420}]'
        run_ctr sh -c 'exec 3</dev/loop7 && echo opened'
        [ "$status" -ne 0 ]
        [[ "$output" == *"Operation not permitted"* ]]
        bundle_set "$B" '.linux.resources = {"devices": [{"allow": true, "type": "b", "major": 7, "minor": 7, "access": "r"}]}'
        run_ctr sh -c 'exec 3</dev/loop7 && echo opened'
        [ "$status" -eq 0 ]
        [ "$output" = opened ]
        run_ctr sh -c 'exec 3<>/dev/loop7 && echo opened'
        [ "$status" -ne 0 ]
        assert_no_cgroup "$(id)"
}
