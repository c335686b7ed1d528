#!/usr/bin/env bats
# Images made and moved without a registry: import, tag, rmi, save/load (checked
# with skopeo and umoci), history, df, prune and system check.

load image-common
load ../lib/bundle

setup() {
        image_setup
        make_rootfs "$BATS_TEST_TMPDIR/rootfs"
        echo hello >"$BATS_TEST_TMPDIR/rootfs/etc/motd"
}
teardown() { image_teardown; }

import_demo() { # import_demo NAME [COMPRESS]
        tar -C "$BATS_TEST_TMPDIR/rootfs" --numeric-owner -c . | ${2:-cat} | b import -q -c 'CMD ["/bin/sh"]' - "$1"
}

@test "the README's first command: an image from Debian's busybox-static, offline" {
        run import_demo demo
        [ "$status" -eq 0 ]
        [[ "$output" =~ ^[0-9a-f]{64}$ ]]
        run b images --format '{{.Repository}}:{{.Tag}}'
        [ "$output" = localhost/demo:latest ]
        [ "$(b inspect --format '{{json .Config.Cmd}}' demo)" = '["/bin/sh"]' ]
        mnt=$(b image mount demo)
        cmp "$mnt/bin/busybox" /bin/busybox
        [ "$(readlink "$mnt/bin/sh")" = busybox ]
        [ "$(stat -c %a "$mnt/tmp")" = 1777 ]
        b image unmount demo
}

@test "import takes gzip and zstd tarballs, --change and --message" {
        id1=$(import_demo a gzip)
        id2=$(import_demo b "zstd -c")
        run b inspect --format '{{.RootFS.Layers}}' a
        layers=$output
        [ "$(b inspect --format '{{.RootFS.Layers}}' b)" = "$layers" ]
        tar -C "$BATS_TEST_TMPDIR/rootfs" -c . >"$BATS_TEST_TMPDIR/r.tar"
        b import -q -m "from a file" -c 'ENV A=1 B="two words"' -c 'ENTRYPOINT echo hi' -c 'EXPOSE 80 53/udp' \
                -c 'LABEL k=v' -c 'USER 1000' -c 'WORKDIR /tmp' -c 'VOLUME /data' -c 'STOPSIGNAL SIGINT' \
                "$BATS_TEST_TMPDIR/r.tar" c
        run b inspect --format '{{json .Config}}' c
        [ "$(jq -c .Env <<<"$output")" = '["A=1","B=two words"]' ]
        [ "$(jq -c .Entrypoint <<<"$output")" = '["/bin/sh","-c","echo hi"]' ]
        [ "$(jq -c '.ExposedPorts | keys' <<<"$output")" = '["53/udp","80/tcp"]' ]
        [ "$(jq -r '.User + " " + .WorkingDir + " " + .StopSignal + " " + .Labels.k' <<<"$output")" = "1000 /tmp SIGINT v" ]
        [ "$(b history --format '{{.CreatedBy}}' c)" = "berth import" ]
        run b import -c 'FROM x' "$BATS_TEST_TMPDIR/r.tar"
        [ "$status" -eq 125 ]
        [[ "$output" == *"invalid change"* ]]
}

@test "tag, untag and rmi like podman" {
        id=$(import_demo demo)
        b tag demo extra:1 127.0.0.1:5999/team/demo:v2
        run b images --format '{{.Repository}}:{{.Tag}}'
        [ "$(sort <<<"$output" | tr '\n' ' ')" = "127.0.0.1:5999/team/demo:v2 localhost/demo:latest localhost/extra:1 " ]
        run b rmi extra:1
        [ "$output" = "Untagged: localhost/extra:1" ]
        run b rmi nothere
        [ "$status" -eq 1 ]
        [[ "$output" == *"nothere: image not known"* ]]
        # a mounted image is in use (a container's layer) until it is unmounted
        b image mount demo
        run b rmi "${id:0:12}"
        [ "$status" -eq 2 ]
        [[ "$output" == *"in use"* ]]
        b image unmount demo
        # by ID: every name goes, as podman does
        run b rmi "${id:0:12}"
        [ "$status" -eq 0 ]
        [[ "$output" == *"Untagged: localhost/demo:latest"*"Deleted: $id"* ]]
        [ -z "$(b images -q)" ]
        # rmi collected the layer and blobs
        [ -z "$(ls "$ROOT/snapshots")" ]
        [ -z "$(ls "$ROOT/blobs/sha256")" ]
}

@test "save and load a docker-archive; skopeo and umoci read it the same" {
        id=$(import_demo demo)
        b tag demo docker.io/library/demo:1
        b save -o "$BATS_TEST_TMPDIR/d.tar" demo:1
        tar -tf "$BATS_TEST_TMPDIR/d.tar" | grep -qx manifest.json
        [ "$(tar -xOf "$BATS_TEST_TMPDIR/d.tar" manifest.json | jq -r '.[0].RepoTags[0]')" = docker.io/library/demo:1 ]
        skopeo copy -q "docker-archive:$BATS_TEST_TMPDIR/d.tar" "oci:$BATS_TEST_TMPDIR/oci:x"
        umoci unpack --image "$BATS_TEST_TMPDIR/oci:x" "$BATS_TEST_TMPDIR/bundle" >/dev/null
        ROOT=$BATS_TEST_TMPDIR/root2
        run b load -i "$BATS_TEST_TMPDIR/d.tar"
        [ "$status" -eq 0 ]
        [ "$output" = "Loaded image: docker.io/library/demo:1" ]
        [ "$(b images -q --no-trunc)" = "sha256:$id" ]
        mnt=$(b image mount demo:1)
        diff <(tree_listing "$BATS_TEST_TMPDIR/bundle/rootfs") <(tree_listing "$mnt")
        b image unmount demo:1
}

@test "save and load oci-archive (gzipped) and oci-dir; skopeo reads them" {
        id=$(import_demo demo)
        b save --format oci-archive -o "$BATS_TEST_TMPDIR/o.tar.gz" demo
        gzip -t "$BATS_TEST_TMPDIR/o.tar.gz"
        b save --format oci-dir -o "$BATS_TEST_TMPDIR/odir" demo
        [ "$(skopeo inspect --format '{{.Digest}}' "oci:$BATS_TEST_TMPDIR/odir")" = "$(b inspect --format '{{.Digest}}' demo)" ]
        gunzip -c "$BATS_TEST_TMPDIR/o.tar.gz" >"$BATS_TEST_TMPDIR/o.tar"
        skopeo inspect -n "oci-archive:$BATS_TEST_TMPDIR/o.tar" >/dev/null
        ROOT=$BATS_TEST_TMPDIR/r2
        [ "$(b load -i "$BATS_TEST_TMPDIR/o.tar.gz")" = "Loaded image: localhost/demo:latest" ]
        ROOT=$BATS_TEST_TMPDIR/r3
        [ "$(b load -i "$BATS_TEST_TMPDIR/odir")" = "Loaded image: localhost/demo:latest" ]
        [ "$(b images -q --no-trunc)" = "sha256:$id" ]
        # a layout written by skopeo loads too (unnamed: no repository in ref.name)
        skopeo copy -q "oci:$BATS_TEST_TMPDIR/odir" "oci-archive:$BATS_TEST_TMPDIR/sk.tar:v1"
        ROOT=$BATS_TEST_TMPDIR/r4
        [ "$(b load -q -i "$BATS_TEST_TMPDIR/sk.tar"; b images -q --no-trunc)" = "sha256:$id" ]
}

@test "load rejects a corrupted archive and keeps the store as it was" {
        import_demo demo
        b save --format oci-dir -o "$BATS_TEST_TMPDIR/odir" demo
        layer=$(jq -r '.layers[0].digest' "$BATS_TEST_TMPDIR/odir/blobs/sha256/$(jq -r '.manifests[0].digest' "$BATS_TEST_TMPDIR/odir/index.json" | cut -d: -f2)" | cut -d: -f2)
        printf 'X' | dd of="$BATS_TEST_TMPDIR/odir/blobs/sha256/$layer" bs=1 seek=100 conv=notrunc 2>/dev/null
        ROOT=$BATS_TEST_TMPDIR/r2
        run b load -i "$BATS_TEST_TMPDIR/odir"
        [ "$status" -eq 125 ]
        [[ "$output" == *"blobs/sha256/$layer"*"hashes to"* ]]
        [ -z "$(b images -q)" ]
        [ -z "$(ls "$ROOT/snapshots")" ]
        run b load -i /etc/passwd
        [ "$status" -eq 125 ]
}

@test "history lists the config's history newest first" {
        import_demo demo
        run b history demo
        [ "$status" -eq 0 ]
        [[ "${lines[0]}" == "ID "*"CREATED"*"CREATED BY"*"SIZE"*"COMMENT"* ]]
        [[ "${lines[1]}" == *"berth import"*"MB"* ]]
        run b history --format json demo
        [ "$(jq length <<<"$output")" = 1 ]
}

@test "system df, image prune of dangling images, system prune" {
        import_demo demo
        import_demo other
        b tag other demo   # demo's first image becomes dangling
        run b images --format '{{.Repository}}:{{.Tag}}'
        [[ "$output" == *"<none>:<none>"* ]]
        run b system df
        [ "$status" -eq 0 ]
        [[ "${lines[1]}" == Images*2*0* ]]
        run b image prune -f
        [ "${#lines[@]}" -eq 1 ]
        [ "$(b images -q | wc -l)" = 1 ]
        run b system prune -a -f
        [ "$status" -eq 0 ]
        [[ "$output" == *"Total reclaimed space"* ]]
        [ -z "$(b images -q)" ]
}

@test "system check finds a corrupt blob and a missing layer; --repair fixes or removes" {
        import_demo demo
        id=$(b images -q --no-trunc)
        run b system check
        [ "$status" -eq 0 ]
        # a missing layer is unpacked again from its blob
        rm -rf "${ROOT:?}"/snapshots/*
        run b system check
        [ "$status" -eq 125 ]
        [[ "$output" == *"layer sha256:"*"is missing"* ]]
        run b system check --repair
        [ "$status" -eq 0 ]
        [[ "$output" == *"unpacked layer"*"again"* ]]
        mnt=$(b image mount demo)
        cmp "$mnt/bin/busybox" /bin/busybox
        b image unmount demo
        # a corrupt blob takes its image with it
        for f in "${ROOT:?}"/blobs/sha256/*; do
                [ "$(stat -c %s "$f")" -gt 100000 ] && printf 'X' | dd of="$f" bs=1 seek=10 conv=notrunc 2>/dev/null
        done
        run b system check
        [ "$status" -eq 125 ]
        [[ "$output" == *"is corrupt"* ]]
        run b system check --repair
        [ "$status" -eq 0 ]
        [[ "$output" == *"removed damaged image $id"* ]]
        [ -z "$(b images -q)" ]
        run b system check
        [ "$status" -eq 0 ]
}

@test "help, version and usage errors" {
        run berth --help
        [ "$status" -eq 0 ]
        [[ "$output" == *"pull"*"Pull an image from a registry"* ]]
        run berth image --help
        [[ "$output" == *"prune"* ]]
        run berth pull --help
        [[ "$output" == *"--platform"* ]]
        run berth version
        [[ "$output" == *"Version:"* ]]
        run berth nosuch
        [ "$status" -eq 125 ]
        run berth pull
        [ "$status" -eq 125 ]
        [[ "$output" == *"requires exactly 1 argument"* ]]
        run berth images --bogus
        [ "$status" -eq 125 ]
}
