#!/usr/bin/env bats
# berth pull against Debian's docker-registry: formats, platforms, layer reuse,
# overlay composition checked against umoci, concurrency.

load image-common

setup_file() {
        export REGDIR=$BATS_FILE_TMPDIR/registry
        fixture_images "$BATS_FILE_TMPDIR"
        registry_start "$REGDIR"
        push_image "$BATS_FILE_TMPDIR" busybox test/busybox:latest
        push_image "$BATS_FILE_TMPDIR" busybox test/busybox:v2s2 --format v2s2
        push_image "$BATS_FILE_TMPDIR" busybox-zstd test/busybox:zstd
        push_image "$BATS_FILE_TMPDIR" layers test/layers:latest
        push_image "$BATS_FILE_TMPDIR" multi test/multi:latest --all
        push_image "$BATS_FILE_TMPDIR" multi test/multi:v2s2 --all --format v2s2
        push_image "$BATS_FILE_TMPDIR" many test/many:latest
        umoci unpack --image "$BATS_FILE_TMPDIR/oci:layers" "$BATS_FILE_TMPDIR/umoci-layers" >/dev/null
        umoci unpack --image "$BATS_FILE_TMPDIR/oci:many" "$BATS_FILE_TMPDIR/umoci-many" >/dev/null
}

teardown_file() {
        registry_stop "$BATS_FILE_TMPDIR/registry"
}

setup() { image_setup; }
teardown() { image_teardown; }

@test "pull an OCI image: podman's progress lines, the image ID, images and inspect" {
        run b pull --tls-verify=false "$REGISTRY/test/busybox"
        [ "$status" -eq 0 ]
        [[ "$output" == *"Trying to pull $REGISTRY/test/busybox:latest..."* ]]
        [[ "$output" == *"Copying blob sha256:"* ]]
        [[ "$output" == *"Writing manifest to image destination"* ]]
        id=$(b images -q --no-trunc)
        [ "${lines[-1]}" = "${id#sha256:}" ]
        run b images
        [ "${lines[0]}" = "$(printf '%-30s%-12s%-14s%-13s%s' REPOSITORY TAG 'IMAGE ID' CREATED SIZE)" ]
        [[ "${lines[1]}" == "$REGISTRY/test/busybox"*latest*"${id:7:12}"* ]]
        run b inspect "$REGISTRY/test/busybox:latest"
        [ "$status" -eq 0 ]
        [ "$(jq -r '.[0].Id' <<<"$output")" = "$id" ]
        [ "$(jq -r '.[0].RepoTags[0]' <<<"$output")" = "$REGISTRY/test/busybox:latest" ]
        digest=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$REGISTRY/test/busybox:latest")
        [ "$(jq -r '.[0].RepoDigests[0]' <<<"$output")" = "$REGISTRY/test/busybox@$digest" ]
        [ "$(jq -c '.[0].Config.Cmd' <<<"$output")" = '["sh"]' ]
        [ "$(jq -r '.[0].Config.Labels["org.berth.test"]' <<<"$output")" = busybox ]
        [ "$(jq -r '.[0].Architecture + "/" + .[0].Os' <<<"$output")" = amd64/linux ]
        [ "$(jq -r '.[0].RootFS.Layers | length' <<<"$output")" = 1 ]
        [ "$(jq -r '.[0].Size' <<<"$output")" -gt 1000000 ]
        run b inspect --format '{{.Id}} {{json .Config.ExposedPorts}}' "${id:7:12}"
        [ "$output" = "$id {\"8080/tcp\":{}}" ]
}

@test "a second pull reuses everything; -q prints only the ID" {
        id=$(b pull -q --tls-verify=false "$REGISTRY/test/layers")
        [[ "$id" =~ ^[0-9a-f]{64}$ ]]
        run b pull --tls-verify=false "$REGISTRY/test/layers"
        [ "$status" -eq 0 ]
        [ "${lines[-1]}" = "$id" ]
        [ "$(grep -c 'skipped: already exists' <<<"$output")" = 4 ]
        # busybox shares the base layer: only its config is new
        run b pull --tls-verify=false "$REGISTRY/test/busybox"
        [[ "$output" == *"skipped: already exists"* ]]
        [ "$(ls "$ROOT/snapshots" | wc -l)" = 4 ]
}

@test "layers with whiteouts and an opaque dir compose like umoci's unpack" {
        b pull -q --tls-verify=false "$REGISTRY/test/layers"
        mnt=$(b image mount "$REGISTRY/test/layers")
        [ -d "$mnt" ]
        diff <(tree_listing "$BATS_FILE_TMPDIR/umoci-layers/rootfs") <(tree_listing "$mnt")
        [ ! -e "$mnt/data/gone" ] && [ ! -e "$mnt/data/file1" ] && [ ! -e "$mnt/data/keep/a" ]
        [ "$(cat "$mnt/etc/motd")" = second ]
        [ "$(getfattr --only-values -n user.berth "$mnt/data/xattr" 2>/dev/null || echo yes)" = yes ]
        b image unmount "$REGISTRY/test/layers"
        ! grep -q "$ROOT" /proc/self/mountinfo
}

@test "zstd layers and Docker v2 schema 2 manifests give the same image" {
        id=$(b pull -q --tls-verify=false "$REGISTRY/test/busybox:latest")
        [ "$(b pull -q --tls-verify=false "$REGISTRY/test/busybox:zstd")" = "$id" ]
        [ "$(b pull -q --tls-verify=false "$REGISTRY/test/busybox:v2s2")" = "$id" ]
        run b images --digests --format '{{.Tag}} {{.Digest}}'
        zstd=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$REGISTRY/test/busybox:zstd")
        grep -qx "zstd $zstd" <<<"$output"
        # a fresh store pulls the zstd layer itself
        ROOT=$BATS_TEST_TMPDIR/root2
        [ "$(b pull -q --tls-verify=false "$REGISTRY/test/busybox:zstd")" = "$id" ]
        mnt=$(b image mount "$id")
        cmp "$mnt/bin/busybox" /bin/busybox
        b image unmount "$id"
}

@test "manifest lists and OCI indexes: the host platform, --platform, and a clear error" {
        run b pull --tls-verify=false "$REGISTRY/test/multi"
        [ "$status" -eq 0 ]
        [ "$(b inspect --format '{{.Architecture}}' "$REGISTRY/test/multi")" = amd64 ]
        b pull -q --tls-verify=false --platform linux/arm64 "$REGISTRY/test/multi:v2s2"
        [ "$(b inspect --format '{{.Architecture}}/{{.Variant}}' "$REGISTRY/test/multi:v2s2")" = arm64/v8 ]
        # RepoDigests name the index as well as the platform manifest
        run b inspect --format '{{json .RepoDigests}}' "$REGISTRY/test/multi:v2s2"
        [ "$(jq length <<<"$output")" = 2 ]
        run b pull --tls-verify=false --platform linux/s390x "$REGISTRY/test/multi"
        [ "$status" -eq 125 ]
        [[ "$output" == *"no image for platform linux/s390x"*"linux/amd64, linux/arm64/v8"* ]]
}

@test "pull by digest records the repo digest and no tag" {
        digest=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$REGISTRY/test/busybox:latest")
        run b pull --tls-verify=false "$REGISTRY/test/busybox@$digest"
        [ "$status" -eq 0 ]
        run b images --format '{{.Repository}} {{.Tag}}'
        [ "$output" = "<none> <none>" ]
        run b inspect --format '{{json .RepoDigests}}' "$REGISTRY/test/busybox@$digest"
        [ "$output" = "[\"$REGISTRY/test/busybox@$digest\"]" ]
}

@test "41 layers under a long store path: relative lowerdirs through short links" {
        ROOT=$BATS_TEST_TMPDIR/$(printf 'long-store-path-%.0s' {1..6})/root
        b pull -q --tls-verify=false --max-concurrent-downloads 5 "$REGISTRY/test/many"
        mnt=$(b image mount "$REGISTRY/test/many")
        grep " $mnt " /proc/self/mountinfo | grep -q 'lowerdir=l/'
        diff <(tree_listing "$BATS_FILE_TMPDIR/umoci-many/rootfs") <(tree_listing "$mnt")
        b image unmount "$REGISTRY/test/many"
}

@test "two concurrent pulls of the same image both succeed and leave a consistent store" {
        b pull -q --tls-verify=false "$REGISTRY/test/layers" >"$BATS_TEST_TMPDIR/a" 2>&1 &
        p1=$!
        b pull -q --tls-verify=false "$REGISTRY/test/layers" >"$BATS_TEST_TMPDIR/b" 2>&1 &
        p2=$!
        wait $p1 || { cat "$BATS_TEST_TMPDIR/a"; false; }
        wait $p2 || { cat "$BATS_TEST_TMPDIR/b"; false; }
        [ "$(cat "$BATS_TEST_TMPDIR/a")" = "$(cat "$BATS_TEST_TMPDIR/b")" ]
        run b system check
        [ "$status" -eq 0 ]
        [[ "$output" == *": OK" ]]
        [ "$(b images -q | wc -l)" = 1 ]
}

@test "missing tags, repositories and registries fail with podman's exit code and a clear message" {
        run b pull --tls-verify=false "$REGISTRY/test/busybox:nope"
        [ "$status" -eq 125 ]
        [[ "$output" == *"Error: pulling $REGISTRY/test/busybox:nope: reading manifest nope in $REGISTRY/test/busybox: HTTP 404: MANIFEST_UNKNOWN"* ]]
        port=$(free_port)
        run b pull --tls-verify=false "127.0.0.1:$port/x"
        [ "$status" -eq 125 ]
        [[ "$output" == *"127.0.0.1:$port"*"onnect"* ]]
        run b pull "Bad/Name"
        [ "$status" -eq 125 ]
        [[ "$output" == *"invalid reference format"* ]]
        [ -z "$(ls "$ROOT/blobs/sha256")" ]
}

@test "a plain-http registry needs --tls-verify=false or an insecure entry in registries.conf" {
        run b pull "$REGISTRY/test/busybox"
        [ "$status" -eq 125 ]
        printf '[[registry]]\nlocation = "%s"\ninsecure = true\n' "$REGISTRY" >"$BERTH_REGISTRIES_CONF"
        b pull -q "$REGISTRY/test/busybox"
}

@test "a mirror from registries.conf serves the pull" {
        printf '[[registry]]\nprefix = "mirrored.example/test"\nlocation = "mirrored.example/test"\n[[registry.mirror]]\nlocation = "%s/test"\ninsecure = true\n' \
                "$REGISTRY" >"$BERTH_REGISTRIES_CONF"
        run b pull mirrored.example/test/busybox
        [ "$status" -eq 0 ]
        [[ "$output" == *"Trying to pull $REGISTRY/test/busybox:latest..."* ]]
        [ "$(b images --format '{{.Repository}}')" = mirrored.example/test/busybox ]
}

@test "progress bars on a terminal" {
        run script -qfec "berth --root $ROOT pull --tls-verify=false $REGISTRY/test/layers" /dev/null
        [ "$status" -eq 0 ]
        [[ "$output" == *"Pull complete"* ]]
        [[ "$output" == *$'\033['* ]]
}
