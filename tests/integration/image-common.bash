# Shared setup of the image suites: a store root per test, the test registry per file.
load ../fixtures/registry

# Bats' directory of the running test, or nothing when it is not what it
# should be: a path computed from an empty or unexpected variable must never
# reach `berth --root`, `rm` or `umount`.
image_test_dir() {
        local t=${BATS_TEST_TMPDIR:-}
        case $t in
        *//* | */./* | */../* | */. | */..) return 1 ;;
        /?*/bats-run-?*/test/[0-9]*) ;;
        *) return 1 ;;
        esac
        [ -d "$t" ] || return 1
        printf '%s\n' "$t"
}

# Every test gets its own store; bats removes BATS_TEST_TMPDIR.
image_setup() {
        local t
        t=$(image_test_dir) || {
                echo "image_setup: refusing BATS_TEST_TMPDIR='${BATS_TEST_TMPDIR:-}'" >&2
                return 1
        }
        ROOT=$t/root
        export BERTH_REGISTRIES_CONF=$t/registries.conf
}

# A failed test may leave `berth image mount`s below its stores (all of them
# inside the test's directory): detach those and only those, mount points
# strictly below "$BATS_TEST_TMPDIR/" once that passed image_test_dir.
image_teardown() {
        local t m
        t=$(image_test_dir) || return 0
        awk -v p="$t/" 'substr($5, 1, length(p)) == p {print $5}' /proc/self/mountinfo | sort -r |
                while read -r m; do
                        case $m in
                        "$t"/?*) umount -l "$m" ;;
                        esac
                done
        return 0
}

b() { berth --root "$ROOT" "$@"; }

# Sorted listing of a tree: type, mode, owner, size (files), link target, content hash.
tree_listing() {
        (cd "$1" && find . -mindepth 1 ! -path './.wh.*' -printf '%p %y %m %U:%G %l\n' | LC_ALL=C sort |
                while read -r p t m o l; do
                        case $t in
                        f) printf '%s f %s %s %s\n' "$p" "$m" "$o" "$(sha256sum <"$p" | cut -c1-16)" ;;
                        l) printf '%s l %s -> %s\n' "$p" "$o" "$l" ;;
                        d) printf '%s d %s %s\n' "$p" "$m" "$o" ;;
                        *) printf '%s %s %s %s\n' "$p" "$t" "$m" "$o" ;;
                        esac
                done)
}
