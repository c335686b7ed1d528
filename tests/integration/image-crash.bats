#!/usr/bin/env bats
# kill -9 at random moments of pull, rmi and prune: the next command must find a
# store it can use (no half blob or layer under a final name), and check must agree.

load image-common

setup_file() {
        fixture_images "$BATS_FILE_TMPDIR"
        registry_start "$BATS_FILE_TMPDIR/registry"
        push_image "$BATS_FILE_TMPDIR" layers test/layers:latest
        push_image "$BATS_FILE_TMPDIR" many test/many:latest
        umoci unpack --image "$BATS_FILE_TMPDIR/oci:layers" "$BATS_FILE_TMPDIR/umoci-layers" >/dev/null
        echo "$REGISTRY" >"$BATS_FILE_TMPDIR/addr"
}

teardown_file() {
        registry_stop "$BATS_FILE_TMPDIR/registry"
}

setup() {
        image_setup
        REGISTRY=$(cat "$BATS_FILE_TMPDIR/addr")
}
teardown() { image_teardown; }

# Runs "berth ARGS" in the background and kills it with SIGKILL after 0-149 ms.
kill_at_random() {
        b "$@" >/dev/null 2>&1 &
        local pid=$!
        sleep "0.$(printf '%03d' $((RANDOM % 150)))"
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        return 0
}

# Every committed layer has its metadata and every blob its digest.
store_consistent() {
        run b system check
        echo "$output"
        [ "$status" -eq 0 ]
        [[ "$output" != *problem:* ]]
}

@test "kill -9 during pulls, again and again" {
        for i in $(seq 1 12); do
                kill_at_random pull -q --tls-verify=false --max-concurrent-downloads 2 "$REGISTRY/test/many"
                kill_at_random pull -q --tls-verify=false "$REGISTRY/test/layers"
                store_consistent
                # every third round starts over, so later kills meet downloads again
                if [ $((i % 3)) = 0 ]; then
                        b rmi -a >/dev/null 2>&1 || true
                        b system prune -a -f >/dev/null 2>&1
                fi
        done
        b pull -q --tls-verify=false "$REGISTRY/test/layers"
        b pull -q --tls-verify=false "$REGISTRY/test/many"
        mnt=$(b image mount "$REGISTRY/test/layers")
        diff <(tree_listing "$BATS_FILE_TMPDIR/umoci-layers/rootfs") <(tree_listing "$mnt")
        b image unmount "$REGISTRY/test/layers"
        store_consistent
        # prune clears what the killed pulls left in tmp/, ingest/ and trash/
        b system prune -f >/dev/null 2>&1
        [ -z "$(find "$ROOT/tmp" "$ROOT/ingest" "$ROOT/trash" -mindepth 1)" ]
}

@test "kill -9 during rmi and prune" {
        for i in $(seq 1 6); do
                b pull -q --tls-verify=false "$REGISTRY/test/many" >/dev/null
                b pull -q --tls-verify=false "$REGISTRY/test/layers" >/dev/null
                kill_at_random rmi -a
                store_consistent
                kill_at_random system prune -a -f
                store_consistent
        done
        b rmi -a >/dev/null 2>&1 || true
        b system prune -a -f >/dev/null 2>&1
        [ -z "$(find "$ROOT/blobs/sha256" "$ROOT/snapshots" -mindepth 1)" ]
        b pull -q --tls-verify=false "$REGISTRY/test/layers"
        store_consistent
}
