# Shared setup of the image suites: a store root per test, the test registry per file.
load ../fixtures/registry

# Every test gets its own store; bats removes BATS_TEST_TMPDIR.
image_setup() {
        ROOT=$BATS_TEST_TMPDIR/root
        export BERTH_REGISTRIES_CONF=$BATS_TEST_TMPDIR/registries.conf
}

image_teardown() {
        local m
        # Unmount whatever a failed test left mounted below the store.
        awk -v r="$BATS_TEST_TMPDIR" 'index($5, r) == 1 {print $5}' /proc/self/mountinfo | sort -r |
                while read -r m; do umount -l "$m"; done
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
