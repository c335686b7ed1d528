# Shared setup for bats suites that drive berth-runtime.
#   load ../lib/runtime
# Every test gets $T (a temp dir), $ROOT (the --root state dir) and a bundle
# at $B built from busybox-static; teardown force-deletes every container left
# under $ROOT and removes $T, also when the test failed.

load ../lib/bundle

RT=${BERTH_RUNTIME:-$(command -v berth-runtime)}
TOOLS=${BERTH_BUILD:+$BERTH_BUILD/tests/tools}

setup_file() {
        BERTH_TEMPLATE_ROOTFS=$(mktemp -d /tmp/berth-tmpl.XXXXXX)/rootfs
        make_rootfs "$BERTH_TEMPLATE_ROOTFS"
        export BERTH_TEMPLATE_ROOTFS
}

teardown_file() {
        [ -n "${BERTH_TEMPLATE_ROOTFS:-}" ] && rm -rf "$(dirname "$BERTH_TEMPLATE_ROOTFS")"
}

setup() {
        T=$(mktemp -d /tmp/berth-test.XXXXXX)
        ROOT=$T/state
        B=$T/bundle
        make_bundle "$B" "${DEFAULT_ARGS[@]:-true}"
}

teardown() {
        local id
        if [ -d "$ROOT" ]; then
                for id in $("$RT" --root "$ROOT" list -q 2>/dev/null); do
                        "$RT" --root "$ROOT" delete --force "$id" >/dev/null 2>&1 || true
                done
        fi
        # A failed test may leave mounts under $T (never expected): detach them.
        # Only mount points strictly below a real temp dir qualify (an empty $T
        # would otherwise match every mount on the host).
        case "${T:-}" in /tmp/berth-test.?*) ;; *) return 0 ;; esac
        awk -v t="$T/" 'substr($5, 1, length(t)) == t {print $5}' /proc/self/mountinfo | sort -r |
                while read -r m; do umount -l "$m" 2>/dev/null || true; done
        rm -rf "$T"
}

# rt ARGS...: berth-runtime with this test's state root.
rt() {
        "$RT" --root "$ROOT" "$@"
}

# Runs a container in the foreground with the given process args.
run_in() {
        bundle_set "$B" ".process.args = $(printf '%s\n' "$@" | jq -R . | jq -cs .)"
        run rt run -b "$B" "c$BATS_TEST_NUMBER"
}

status_of() {
        rt state "$1" | jq -r .status
}

# No mount, process or state may remain for container $1 in $ROOT.
assert_gone() {
        [ ! -e "$ROOT/$1" ] || { echo "state dir of $1 left behind"; return 1; }
        ! grep -qF "$B/rootfs" /proc/self/mountinfo || { echo "mount of $B/rootfs left behind"; return 1; }
}
