# Shared setup of the engine suites: one berth root, runroot, configuration,
# cgroup parent and default network per bats file, a busybox image imported
# once; every test removes its containers, the file removes the rest.
#
# Incident rule: nothing is ever removed or unmounted from a variable that
# could be empty. ENGINE_T must look like our own mktemp directory before any
# cleanup uses it, and mounts are matched on the whole prefix "$ENGINE_T/".
load ../lib/bundle

BUILD=${BERTH_BUILD:-$BATS_TEST_DIRNAME/../../build}

engine_t_ok() {
        case ${ENGINE_T:-} in
        /tmp/berth-engine-test.??????) [ -d "$ENGINE_T" ] ;;
        *) return 1 ;;
        esac
}

engine_setup_file() {
        ENGINE_T=$(mktemp -d /tmp/berth-engine-test.XXXXXX)
        export ENGINE_T
        engine_t_ok || return 1
        # A /24 and names of our own: other suites (and the host) never see them.
        local n=$((($$ % 200) + 20))
        export ENGINE_CG=berth-test-$$
        export ENGINE_NET=bt$$
        export ENGINE_BRIDGE=btb$$
        export ENGINE_SUBNET=10.187.$n.0/24
        cat >"$ENGINE_T/berth.conf" <<EOF
{
  "seccompProfile": "$BATS_TEST_DIRNAME/../../data/seccomp/default.json",
  "cgroupParent": "/$ENGINE_CG",
  "network": {"configDir": "$ENGINE_T/networks", "defaultNetwork": "$ENGINE_NET",
              "defaultBridge": "$ENGINE_BRIDGE", "defaultSubnet": "$ENGINE_SUBNET"}
}
EOF
        make_rootfs "$ENGINE_T/rootfs"
        tar -C "$ENGINE_T/rootfs" -c . | b import -q -c 'CMD ["/bin/sh"]' - demo >/dev/null
}

engine_teardown_file() {
        engine_t_ok || return 0
        b rm -f $(b ps -aq --no-trunc 2>/dev/null) >/dev/null 2>&1 || true
        # Mounts strictly below our directory only (netns, overlays of a failed test).
        awk -v p="$ENGINE_T/" 'substr($5, 1, length(p)) == p {print $5}' /proc/self/mountinfo | sort -r |
                while read -r m; do
                        case $m in
                        "$ENGINE_T"/?*) umount -l "$m" ;;
                        esac
                done
        local c
        for c in /sys/fs/cgroup/*/"$ENGINE_CG"; do
                [ -n "$ENGINE_CG" ] && [ -d "$c" ] || continue
                find "$c" -mindepth 1 -depth -type d -exec rmdir {} \; 2>/dev/null
                rmdir "$c" 2>/dev/null || true
        done
        if [ -n "$ENGINE_BRIDGE" ] && ip link show "$ENGINE_BRIDGE" >/dev/null 2>&1; then
                ip link del "$ENGINE_BRIDGE"
        fi
        rm -rf "$ENGINE_T"
}

engine_setup() {
        engine_t_ok || return 1
        # Sanitizer reports of daemonized processes (monitor, exit command) land here.
        export ASAN_OPTIONS="${ASAN_OPTIONS:-}:log_path=$ENGINE_T/sanitizer"
        export UBSAN_OPTIONS="${UBSAN_OPTIONS:-}:log_path=$ENGINE_T/sanitizer"
}

# Removes this test's containers and checks that nothing of them is left.
engine_teardown() {
        engine_t_ok || return 0
        local ids reports
        ids=$(b ps -aq --no-trunc 2>/dev/null)
        [ -z "$ids" ] || b rm -f $ids >/dev/null 2>&1 || true
        reports=$(cat "$ENGINE_T"/sanitizer.* 2>/dev/null || true)
        rm -f "$ENGINE_T"/sanitizer.*
        if [ -n "$reports" ]; then
                echo "$reports"
                return 1
        fi
}

b() { berth --root "$ENGINE_T/root" --runroot "$ENGINE_T/run" --config "$ENGINE_T/berth.conf" "$@"; }

# Nothing of any container remains: records, directories, mounts, runtime state, monitors.
assert_no_leftovers() {
        [ -z "$(b ps -aq)" ] || { b ps -a; return 1; }
        [ -z "$(ls -A "$ENGINE_T/root/containers")" ] || { ls "$ENGINE_T/root/containers"; return 1; }
        [ -z "$(ls -A "$ENGINE_T/root/rw")" ] || { ls "$ENGINE_T/root/rw"; return 1; }
        [ ! -d "$ENGINE_T/run/containers" ] || [ -z "$(ls -A "$ENGINE_T/run/containers")" ] ||
                { ls "$ENGINE_T/run/containers"; return 1; }
        local r
        for r in "$ENGINE_T"/run/runtime/*; do
                [ -d "$r" ] || continue
                [ -z "$(ls -A "$r" | grep -v '^\.')" ] || { ls "$r"; return 1; }
        done
        ! grep -q " $ENGINE_T/root/rw/" /proc/self/mountinfo || { grep " $ENGINE_T/root/rw/" /proc/self/mountinfo; return 1; }
        [ ! -d "$ENGINE_T/run/netns" ] || [ -z "$(ls "$ENGINE_T/run/netns")" ] || { ls "$ENGINE_T/run/netns"; return 1; }
        ! pgrep -f "berth-monitor --id .* --state-dir $ENGINE_T/" >/dev/null
}

# retry CMD...: until it succeeds (bounded, so a bug fails the test instead of hanging it)
retry() {
        local i
        for ((i = 0; i < 200; i++)); do
                "$@" && return 0
                sleep 0.05
        done
        echo "gave up waiting for: $*" >&2
        return 1
}

state_is() { [ "$(b inspect -f '{{.State.Status}}' "$1")" = "$2" ]; }
