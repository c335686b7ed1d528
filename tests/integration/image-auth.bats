#!/usr/bin/env bats
# TLS (self-signed CA), Basic (htpasswd) and token auth, login/logout, push.

load image-common

setup_file() {
        fixture_images "$BATS_FILE_TMPDIR"
        registry_start "$BATS_FILE_TMPDIR/tls" --tls
        echo "$REGISTRY" >"$BATS_FILE_TMPDIR/tls.addr"
        skopeo --insecure-policy copy -q --dest-cert-dir "$BATS_FILE_TMPDIR/tls/certs" \
                "oci:$BATS_FILE_TMPDIR/oci:busybox" "docker://$REGISTRY/test/busybox:latest"
        registry_start "$BATS_FILE_TMPDIR/basic" --basic alice:wonderland
        echo "$REGISTRY" >"$BATS_FILE_TMPDIR/basic.addr"
        push_image "$BATS_FILE_TMPDIR" busybox test/busybox:latest --dest-creds alice:wonderland
        registry_start "$BATS_FILE_TMPDIR/token" --token bob:builder
        echo "$REGISTRY" >"$BATS_FILE_TMPDIR/token.addr"
        push_image "$BATS_FILE_TMPDIR" busybox test/busybox:latest --dest-creds bob:builder
}

teardown_file() {
        registry_stop "$BATS_FILE_TMPDIR/tls"
        registry_stop "$BATS_FILE_TMPDIR/basic"
        registry_stop "$BATS_FILE_TMPDIR/token"
}

setup() {
        image_setup
        export REGISTRY_AUTH_FILE=$BATS_TEST_TMPDIR/auth.json
        TLS=$(cat "$BATS_FILE_TMPDIR/tls.addr")
        BASIC=$(cat "$BATS_FILE_TMPDIR/basic.addr")
        TOKEN=$(cat "$BATS_FILE_TMPDIR/token.addr")
}
teardown() { image_teardown; }

@test "TLS: verification fails without the CA, works with --cert-dir, is skipped with --tls-verify=false" {
        run b pull "$TLS/test/busybox"
        [ "$status" -eq 125 ]
        [[ "$output" == *"TLS verification of $TLS failed"* ]]
        [ -z "$(ls "$ROOT/blobs/sha256")" ]
        run b pull -q --cert-dir "$BATS_FILE_TMPDIR/tls/certs" "$TLS/test/busybox"
        [ "$status" -eq 0 ]
        b rmi -a >/dev/null
        run b pull -q --tls-verify=false "$TLS/test/busybox"
        [ "$status" -eq 0 ]
        run b pull --cert-dir /nonexistent "$TLS/test/busybox"
        [ "$status" -eq 125 ]
        [[ "$output" == *"/nonexistent"* ]]
}

@test "Basic auth: no credentials, wrong ones, --creds, login and logout" {
        run b pull --tls-verify=false "$BASIC/test/busybox"
        [ "$status" -eq 125 ]
        [[ "$output" == *"requires authentication: no credentials (use \`berth login $BASIC\`)"* ]]
        run b pull --tls-verify=false --creds alice:wrong "$BASIC/test/busybox"
        [ "$status" -eq 125 ]
        [[ "$output" == *"401"* || "$output" == *"unauthorized"* ]]
        b pull -q --tls-verify=false --creds alice:wonderland "$BASIC/test/busybox"
        run berth login --tls-verify=false -u alice -p nope "$BASIC"
        [ "$status" -eq 125 ]
        [[ "$output" == *"logging into \"$BASIC\""* ]]
        [ ! -e "$REGISTRY_AUTH_FILE" ]
        run berth login --tls-verify=false -u alice --password-stdin "$BASIC" <<<"wonderland"
        [ "$status" -eq 0 ]
        [ "$output" = "Login Succeeded!" ]
        [ "$(stat -c %a "$REGISTRY_AUTH_FILE")" = 600 ]
        [ "$(jq -r ".auths[\"$BASIC\"].auth" "$REGISTRY_AUTH_FILE" | base64 -d)" = alice:wonderland ]
        [ "$(berth login --get-login "$BASIC")" = alice ]
        ROOT=$BATS_TEST_TMPDIR/root2
        b pull -q --tls-verify=false "$BASIC/test/busybox"
        run berth logout "$BASIC"
        [ "$output" = "Removed login credentials for $BASIC" ]
        run berth logout "$BASIC"
        [ "$status" -eq 125 ]
        [[ "$output" == *"not logged into $BASIC"* ]]
}

@test "token auth: anonymous is refused, login gets tokens, push and pull with them" {
        run b pull --tls-verify=false "$TOKEN/test/busybox"
        [ "$status" -eq 125 ]
        [[ "$output" == *"authentication failed"* ]]
        run berth login --tls-verify=false -u bob -p builder "$TOKEN"
        [ "$status" -eq 0 ]
        id=$(b pull -q --tls-verify=false "$TOKEN/test/busybox")
        b tag "$id" "$TOKEN/mine/copy:1"
        run b push --tls-verify=false "$TOKEN/mine/copy:1"
        [ "$status" -eq 0 ]
        [[ "$output" == *"mounted from another repository"* ]]
        [ "$(skopeo inspect --tls-verify=false --creds bob:builder --format '{{.Digest}}' "docker://$TOKEN/mine/copy:1")" = \
                "$(b inspect --format '{{.Digest}}' "$TOKEN/mine/copy:1")" ]
        # the token server saw one token request per scope, not one per request
        [ "$(grep -c '^GET /token' "$BATS_FILE_TMPDIR/token/token.log")" -lt 12 ]
}

@test "docker's config.json is read for credentials" {
        unset REGISTRY_AUTH_FILE
        export HOME=$BATS_TEST_TMPDIR/home XDG_RUNTIME_DIR=$BATS_TEST_TMPDIR/run
        mkdir -p "$HOME/.docker"
        printf '{"auths":{"http://%s":{"auth":"%s"}}}' "$BASIC" "$(printf alice:wonderland | base64)" >"$HOME/.docker/config.json"
        b pull -q --tls-verify=false "$BASIC/test/busybox"
}
