#!/usr/bin/env bats
# Layer unpacking and packing cross-checked against GNU tar and umoci, through
# the berth-unpack test driver (build/tests/tools/berth-unpack).

load ../lib/bundle

setup() {
        BUILD=${BERTH_BUILD:-$BATS_TEST_DIRNAME/../../build}
        UNPACK=$BUILD/tests/tools/berth-unpack
        [ -x "$UNPACK" ] || skip "berth-unpack not built"
        T=$(mktemp -d /tmp/berth-unpack-bats.XXXXXX)
}

teardown() {
        [ -n "${T:-}" ] && rm -rf "$T"
}

# One line per entry: path, type, mode, owner, size (files), mtime (non-dirs), link target, content hash.
listing() {
        (cd "$1" && find . -mindepth 1 -printf '%P|%y|%m|%U:%G|%s|%T@|%l|%D\n' | sort |
                while IFS='|' read -r p y m o s t l _; do
                        h=
                        [ "$y" = f ] && h=$(md5sum <"$p" | cut -c1-32)
                        [ "$y" = d ] && { s=0; t=0; }
                        [ "$y" = c ] || [ "$y" = b ] && h=$(stat -c '%t:%T' "$p")
                        echo "$p|$y|$m|$o|$s|${t%%.*}|$l|$h"
                done)
}

# A rootfs with busybox and one of each kind of entry.
make_src() {
        local s=$1 d
        make_rootfs "$s"
        printf 'suid\n' >"$s/bin/suid" && chmod 4755 "$s/bin/suid"
        ln "$s/bin/busybox" "$s/bin/hardlink"
        ln -s /bin/busybox "$s/bin/abs-link"
        mkfifo "$s/fifo"
        mknod "$s/null" c 1 3
        mkdir -m 0700 "$s/private" && printf 'p' >"$s/private/file" && chown -R 1000:1000 "$s/private"
        d=$(printf 'x%.0s' $(seq 1 120))
        mkdir -p "$s/long/$d/$d" && printf 'long' >"$s/long/$d/$d/$d"
        printf 'old' >"$s/etc/motd" && touch -d @1000000000 "$s/etc/motd"
        mkdir -p "$s/var/lib/dpkg/info" && printf 'a' >"$s/var/lib/dpkg/info/a.list"
        printf 'b' >"$s/var/lib/dpkg/info/b.list"
        mkdir -m 0555 "$s/readonly" && touch "$s/readonly/.keep" 2>/dev/null || true
        head -c 200000 /dev/urandom >"$s/random.bin"
}

layer_blobs() { # image dir, tag -> layer blob paths in order
        local m
        m=$(jq -r --arg t "$2" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t) | .digest' "$1/index.json")
        jq -r '.layers[].digest' "$1/blobs/sha256/${m#sha256:}" | sed "s|sha256:|$1/blobs/sha256/|"
}

@test "unpacking a GNU tar layer gives what tar -x gives, and the diff_id of the tar" {
        make_src "$T/src"
        tar --format=pax --numeric-owner -C "$T/src" -cf "$T/layer.tar" .
        gzip -n -c "$T/layer.tar" >"$T/layer.tar.gz"
        mkdir "$T/ours" "$T/ref"
        run "$UNPACK" "$T/layer.tar.gz" "$T/ours"
        [ "$status" -eq 0 ]
        [ "${output%% *}" = "sha256:$(sha256sum <"$T/layer.tar" | cut -c1-64)" ]
        tar --numeric-owner -xpzf "$T/layer.tar.gz" -C "$T/ref"
        diff <(listing "$T/ref") <(listing "$T/ours")
        # The same layer fed in 1000-byte chunks, zstd-compressed.
        zstd -q -c "$T/layer.tar" >"$T/layer.tar.zst"
        mkdir "$T/zstd"
        run "$UNPACK" --chunk 1000 "$T/layer.tar.zst" "$T/zstd"
        [ "$status" -eq 0 ]
        diff <(listing "$T/ref") <(listing "$T/zstd")
}

@test "umoci-built layers with whiteouts unpack like umoci unpack" {
        command -v umoci >/dev/null || skip "umoci not installed"
        make_src "$T/src"
        umoci init --layout "$T/img" >/dev/null
        umoci new --image "$T/img:t" >/dev/null
        umoci unpack --image "$T/img:t" "$T/bundle" >/dev/null
        cp -a "$T/src/." "$T/bundle/rootfs/"
        umoci repack --refresh-bundle --image "$T/img:t" "$T/bundle" >/dev/null
        # Second layer: a deleted file, a deleted directory, a replaced file, a new file.
        rm "$T/bundle/rootfs/bin/suid"
        rm -r "$T/bundle/rootfs/var/lib/dpkg/info"
        mkdir "$T/bundle/rootfs/var/lib/dpkg/info" && printf 'c' >"$T/bundle/rootfs/var/lib/dpkg/info/c.list"
        printf 'new' >"$T/bundle/rootfs/etc/motd"
        printf 'added' >"$T/bundle/rootfs/added"
        umoci repack --image "$T/img:t" "$T/bundle" >/dev/null
        umoci unpack --image "$T/img:t" "$T/ref" >/dev/null

        mkdir "$T/flat"
        n=0
        for blob in $(layer_blobs "$T/img" t); do
                run "$UNPACK" -c gzip "$blob" "$T/flat"
                [ "$status" -eq 0 ]
                n=$((n + 1))
        done
        [ "$n" -eq 2 ]
        diff <(listing "$T/ref/rootfs") <(listing "$T/flat")
        [ -z "$(find "$T/flat" -name '.wh.*')" ]

        # As a snapshot layer, the second one keeps its whiteouts as 0/0 devices.
        mkdir "$T/snap"
        "$UNPACK" --overlay -c gzip "$(layer_blobs "$T/img" t | tail -1)" "$T/snap"
        [ "$(stat -c '%F %t:%T' "$T/snap/bin/suid")" = "character special file 0:0" ]
        [ -z "$(find "$T/snap" -name '.wh.*')" ]
}

@test "packed layers are read by tar, zstd and umoci" {
        command -v umoci >/dev/null || skip "umoci not installed"
        make_src "$T/src"
        run "$UNPACK" --pack -c none "$T/src" "$T/layer.tar"
        [ "$status" -eq 0 ]
        read -r digest diff_id size entries <<<"$output"
        [ "$digest" = "$diff_id" ]
        [ "$digest" = "sha256:$(sha256sum <"$T/layer.tar" | cut -c1-64)" ]
        [ "$size" -eq "$(stat -c %s "$T/layer.tar")" ]
        [ "$(tar -tf "$T/layer.tar" | wc -l)" -eq "$entries" ]
        mkdir "$T/tarx"
        tar --numeric-owner -xpf "$T/layer.tar" -C "$T/tarx"
        diff <(listing "$T/src") <(listing "$T/tarx")

        "$UNPACK" --pack -c gzip "$T/src" "$T/layer.tar.gz" >/dev/null
        gzip -t "$T/layer.tar.gz"
        [ "$(gzip -dc "$T/layer.tar.gz" | sha256sum | cut -c1-64)" = "${diff_id#sha256:}" ]
        "$UNPACK" --pack -c zstd "$T/src" "$T/layer.tar.zst" >/dev/null
        [ "$(zstd -dc "$T/layer.tar.zst" | sha256sum | cut -c1-64)" = "${diff_id#sha256:}" ]

        umoci init --layout "$T/img" >/dev/null
        umoci new --image "$T/img:t" >/dev/null
        umoci raw add-layer --image "$T/img:t" "$T/layer.tar" >/dev/null
        umoci unpack --image "$T/img:t" "$T/ref" >/dev/null
        diff <(listing "$T/src") <(listing "$T/ref/rootfs")
}

@test "a hostile layer cannot write outside its destination" {
        mkdir "$T/dest" "$T/outside"
        python3 - "$T/evil.tar" "$T/outside" <<'PY'
import io, sys, tarfile
out, outside = sys.argv[1], sys.argv[2]
with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
    def add(name, data=b"pwned", **kw):
        i = tarfile.TarInfo(name)
        for k, v in kw.items():
            setattr(i, k, v)
        if i.type == tarfile.REGTYPE:
            i.size = len(data)
            t.addfile(i, io.BytesIO(data))
        else:
            t.addfile(i)
    add("../../../../" + outside.lstrip("/") + "/dotdot")
    add(outside + "/absolute")
    add("link", type=tarfile.SYMTYPE, linkname=outside)
    add("link/through-symlink")
    add("rel", type=tarfile.SYMTYPE, linkname="../../../../../../..")
    add("rel/" + outside.lstrip("/") + "/through-relative")
PY
        run "$UNPACK" "$T/evil.tar" "$T/dest"
        [ "$status" -eq 0 ]
        [ -z "$(ls -A "$T/outside")" ]
        [ -f "$T/dest$T/outside/dotdot" ]
        [ -f "$T/dest$T/outside/absolute" ]
        [ -f "$T/dest$T/outside/through-symlink" ]
        [ -f "$T/dest$T/outside/through-relative" ]

        python3 - "$T/hl.tar" <<'PY'
import sys, tarfile
with tarfile.open(sys.argv[1], "w") as t:
    i = tarfile.TarInfo("passwd-link")
    i.type = tarfile.LNKTYPE
    i.linkname = "/etc/passwd"
    t.addfile(i)
PY
        mkdir "$T/dest2"
        run "$UNPACK" "$T/hl.tar" "$T/dest2"
        [ "$status" -eq 1 ]
        [[ "$output" == *"layer entry \`passwd-link\`: hardlink target \`/etc/passwd\` is not in the layer"* ]]
}

@test "truncated or corrupt layers fail and say why" {
        make_rootfs "$T/src"
        tar -C "$T/src" -czf "$T/layer.tar.gz" .
        size=$(stat -c %s "$T/layer.tar.gz")
        head -c $((size / 2)) "$T/layer.tar.gz" >"$T/half.tar.gz"
        mkdir "$T/d1" "$T/d2" "$T/d3"
        run "$UNPACK" -c gzip "$T/half.tar.gz" "$T/d1"
        [ "$status" -eq 1 ]
        [[ "$output" == *"gzip: stream truncated"* ]]
        printf 'not a tar' >"$T/junk"
        run "$UNPACK" -c none "$T/junk" "$T/d2"
        [ "$status" -eq 1 ]
        [[ "$output" == *"truncated"* ]]
        head -c 1536 /dev/urandom >"$T/random"
        run "$UNPACK" -c none "$T/random" "$T/d3"
        [ "$status" -eq 1 ]
        [[ "$output" == *"tar header at offset 0"* ]]
}
