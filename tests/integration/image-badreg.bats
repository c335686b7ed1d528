#!/usr/bin/env bats
# A registry that lies, truncates, floods and loops (tests/fixtures/bad-registry.py):
# each failure names the image and what was wrong, and the store stays as it was.

load image-common

setup_file() {
        port=$(free_port)
        python3 "$FIXTURES/bad-registry.py" "$port" "$BATS_FILE_TMPDIR/requests.log" >"$BATS_FILE_TMPDIR/bad.log" 2>&1 &
        echo $! >"$BATS_FILE_TMPDIR/bad.pid"
        echo "127.0.0.1:$port" >"$BATS_FILE_TMPDIR/addr"
        wait_http "http://127.0.0.1:$port/v2/"
}

teardown_file() {
        kill "$(cat "$BATS_FILE_TMPDIR/bad.pid")" 2>/dev/null
        return 0
}

setup() {
        image_setup
        BAD=$(cat "$BATS_FILE_TMPDIR/addr")
}
teardown() { image_teardown; }

# The store holds nothing after a failed pull: no image, blob, layer or temporary directory.
store_untouched() {
        [ -z "$(b images -q)" ]
        [ -z "$(ls "$ROOT/blobs/sha256")" ]
        [ -z "$(ls "$ROOT/snapshots")" ]
        [ -z "$(ls "$ROOT/tmp")" ]
        run b system check
        [ "$status" -eq 0 ]
}

fails_with() { # fails_with MODE TEXT...
        local mode=$1
        shift
        run b pull --tls-verify=false "$BAD/$mode/img"
        [ "$status" -eq 125 ]
        [[ "$output" == *"Error: pulling $BAD/$mode/img:latest"* ]]
        for t in "$@"; do
                [[ "$output" == *"$t"* ]] || { echo "missing: $t"; return 1; }
        done
        store_untouched
}

@test "control: the fake registry's image pulls" {
        b pull -q --tls-verify=false "$BAD/good/img"
        mnt=$(b image mount "$BAD/good/img")
        grep -q "bad-registry test file" "$mnt/hello.txt"
        b image unmount "$BAD/good/img"
}

@test "a layer with the wrong content: digest mismatch, nothing committed" {
        fails_with wrongdigest "layer sha256:" "digest mismatch: the content hashes to sha256:"
        [ -z "$(ls "$ROOT/ingest")" ]
}

@test "a truncated blob is resumed with Range requests" {
        b pull -q --tls-verify=false "$BAD/flaky/img"
        grep -q "^GET /v2/flaky/img/blobs/sha256:.* bytes=[1-9][0-9]*-$" "$BATS_FILE_TMPDIR/requests.log"
}

@test "a server that ignores Range resends everything; the stored part is skipped" {
        b pull -q --tls-verify=false "$BAD/norange/img"
        grep -q "^GET /v2/norange/img/blobs/sha256:.* bytes=" "$BATS_FILE_TMPDIR/requests.log"
}

@test "blobs redirected to storage: followed, and no credentials go to another host" {
        b pull -q --tls-verify=false "$BAD/redirect/img"
        grep -qx "STORAGE-AUTH redirect no" "$BATS_FILE_TMPDIR/requests.log"
        ROOT=$BATS_TEST_TMPDIR/root2 # the same layer again: not in this store
        b pull -q --tls-verify=false "$BAD/authredirect/img"
        grep -q "^GET /token?.*authredirect" "$BATS_FILE_TMPDIR/requests.log"
        grep -qx "STORAGE-AUTH authredirect no" "$BATS_FILE_TMPDIR/requests.log"
        ! grep -q "STORAGE-AUTH .* yes" "$BATS_FILE_TMPDIR/requests.log"
}

@test "a blob that always stops halfway: retries with backoff, then a clear error" {
        fails_with truncated "giving up after" "bytes received"
}

@test "a connection closed without an answer" {
        fails_with closer "layer sha256:" "giving up after"
}

@test "a giant manifest is refused at the cap" {
        fails_with giant "response larger than 4194304 bytes"
}

@test "HTML instead of a manifest, and an HTML error page" {
        fails_with html "HTML page instead of a manifest"
        fails_with html404 "HTTP 404: an HTML page (\"404 Not Found\")"
}

@test "a registry that answers 401 to every token does not loop" {
        fails_with authloop "unauthorized"
        [ "$(grep -c '^GET /token?.*authloop' "$BATS_FILE_TMPDIR/requests.log")" -le 2 ]
}

@test "malformed documents: bad JSON, schema 1, a config that is not an image config, 200 layers" {
        fails_with badjson "invalid JSON"
        fails_with schema1 "unsupported manifest format: Docker image manifest schema 1"
        fails_with badconfig "rootfs: required field is missing"
        fails_with manylayers "200 entries, more than the limit of 128"
}
