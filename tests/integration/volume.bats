#!/usr/bin/env bats
# Volumes as docker users type them: berth volume create/ls/inspect/rm/prune/
# exists, and -v/--mount named and anonymous volumes in containers (copy-up,
# use records, rm -v, driver options).

load engine-common

setup_file() {
        engine_setup_file
        # An image with content at its volume path, a VOLUME, and a symlink that
        # points out of the container's root.
        local r=$ENGINE_T/rootfs-vol
        make_rootfs "$r"
        mkdir -p "$r/srv/data/sub" "$r/etc/inside"
        echo from-image >"$r/srv/data/hello"
        echo deep >"$r/srv/data/sub/deep"
        chown -R 1234:2345 "$r/srv/data"
        chmod 0750 "$r/srv/data"
        chmod 4755 "$r/srv/data/hello"
        ln -s /etc/inside "$r/escape"
        ln -s ../../../../etc "$r/escape-rel"
        echo inside-the-image >"$r/etc/inside/marker"
        mkdir -p "$r/image-vol"
        echo anon >"$r/image-vol/f"
        tar -C "$r" --numeric-owner -c . | b import -q -c 'CMD ["/bin/sh"]' -c 'VOLUME /image-vol' - volimg >/dev/null
}
teardown_file() { engine_teardown_file; }
setup() { engine_setup; }
teardown() {
        engine_teardown
        engine_t_ok || return 0
        local v
        for v in $(b volume ls -q 2>/dev/null); do b volume rm -f "$v" >/dev/null 2>&1 || true; done
}


@test "volume create, ls, inspect and rm with docker's output" {
        run b volume create data
        [ "$status" -eq 0 ]
        [ "$output" = data ]
        # docker answers an existing name with the volume itself.
        run b volume create data
        [ "$status" -eq 0 ]
        [ "$output" = data ]
        run b volume create --label team=a --label tier -o type=tmpfs -o device=tmpfs -o o=size=1m,uid=1000 scratch
        [ "$status" -eq 0 ]
        gen=$(b volume create)
        [[ "$gen" =~ ^[0-9a-f]{64}$ ]]

        run b volume ls
        [ "${lines[0]}" = "DRIVER      VOLUME NAME" ]
        [ "${#lines[@]}" -eq 4 ]
        [[ "$output" == *"
local       data
"* ]]
        # Sorted by name.
        [ "$(b volume ls -q | tr '\n' ' ')" = "$(printf '%s\n' "$gen" data scratch | LC_ALL=C sort | tr '\n' ' ')" ]

        run b volume inspect scratch
        [ "$status" -eq 0 ]
        [ "$(jq -r '.[0] | keys | join(",")' <<<"$output")" = "CreatedAt,Driver,Labels,Mountpoint,Name,Options,Scope" ]
        [ "$(jq -r '.[0].Name + " " + .[0].Driver + " " + .[0].Scope' <<<"$output")" = "scratch local local" ]
        [ "$(jq -c '.[0].Labels' <<<"$output")" = '{"team":"a","tier":""}' ]
        [ "$(jq -c '.[0].Options' <<<"$output")" = '{"type":"tmpfs","device":"tmpfs","o":"size=1m,uid=1000"}' ]
        [ "$(jq -r '.[0].Mountpoint' <<<"$output")" = "$ENGINE_T/root/volumes/scratch/_data" ]
        [[ "$(jq -r '.[0].CreatedAt' <<<"$output")" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$ ]]
        [ -d "$ENGINE_T/root/volumes/data/_data" ]
        # Creating it recorded no mount: the filesystem comes with the first container.
        ! grep -q " $ENGINE_T/root/volumes/scratch/_data " /proc/self/mountinfo

        [ "$(b volume inspect --format '{{.Name}}:{{.Labels.team}}' scratch)" = "scratch:a" ]
        [ "$(b volume inspect --format '{{.Name}}' scratch data)" = "scratch
data" ]
        [ "$(b volume inspect --all | jq length)" = 3 ]
        b volume exists data
        run b volume exists nope
        [ "$status" -eq 1 ]
        [ -z "$output" ]

        run b volume rm data "$gen"
        [ "$status" -eq 0 ]
        [ "$output" = "data
$gen" ]
        [ ! -e "$ENGINE_T/root/volumes/data" ]
        [ "$(b volume ls -q)" = scratch ]
}

@test "volume ls filters: name, label, dangling, driver; --format" {
        b volume create --label env=prod web-data >/dev/null
        b volume create --label env=dev web-logs >/dev/null
        b volume create db >/dev/null
        [ "$(b volume ls -q -f name=web | tr '\n' ' ')" = "web-data web-logs " ]
        [ "$(b volume ls -q -f name='^d' -f name=logs | tr '\n' ' ')" = "db web-logs " ]
        [ "$(b volume ls -q -f label=env | tr '\n' ' ')" = "web-data web-logs " ]
        [ "$(b volume ls -q -f label=env=prod)" = web-data ]
        [ "$(b volume ls -q -f dangling=true | wc -l)" = 3 ]
        [ -z "$(b volume ls -q -f dangling=false)" ]
        [ "$(b volume ls -q -f driver=local | wc -l)" = 3 ]
        [ "$(b volume ls --format '{{.Name}}={{.Driver}}' -f name=db)" = db=local ]
        run b volume ls --format 'table {{.Name}}\t{{.Driver}}' -f name=db
        [ "${lines[0]}" = "NAME	DRIVER" ]
        [ "$(b volume ls --format json | jq -r '.[].Name' | tr '\n' ' ')" = "db web-data web-logs " ]
        run b volume ls -f bogus=1
        [ "$status" -eq 125 ]
        [[ "$output" == *"invalid filter"* ]]
        run b volume ls -f 'name=('
        [ "$status" -eq 125 ]
        [[ "$output" == *"invalid name filter"* ]]
}

@test "volume prune removes unused volumes, named ones only with --all" {
        b volume create keep >/dev/null
        b volume create --label tmp=1 labelled >/dev/null
        echo data >"$ENGINE_T/root/volumes/labelled/_data/f"
        # Named volumes are not anonymous: docker's prune leaves them without --all.
        run b volume prune -f
        [ "$status" -eq 0 ]
        [ "$output" = "Total reclaimed space: 0 B" ]
        run b volume prune -f -a --filter label=tmp
        [ "$status" -eq 0 ]
        [ "${lines[0]}" = "Deleted Volumes:" ]
        [ "${lines[1]}" = labelled ]
        [[ "${lines[2]}" == "Total reclaimed space: "[1-9]* ]]
        [ "$(b volume ls -q)" = keep ]
        # Without -f it asks; anything but y keeps the volumes.
        run b volume prune -a <<<"n"
        [ "$status" -eq 0 ]
        [[ "$output" == *"WARNING! This will remove all local volumes not used by at least one container."* ]]
        [ "$(b volume ls -q)" = keep ]
        b volume prune -a <<<"y"
        [ -z "$(b volume ls -q)" ]
}

@test "volume errors: bad names, drivers and options; missing volumes" {
        run b volume create 'bad/name'
        [ "$status" -eq 125 ]
        [[ "$output" == *"invalid volume name"* ]]
        run b volume create -d nfs x
        [ "$status" -eq 125 ]
        [[ "$output" == *"volume driver \`nfs\` is not supported"* ]]
        run b volume create -o size=1g x
        [ "$status" -eq 125 ]
        [[ "$output" == *"invalid option key \`size\`"* ]]
        run b volume create -o type=tmpfs x
        [ "$status" -eq 125 ]
        [[ "$output" == *"needs both"* ]]
        run b volume create --name a b
        [ "$status" -eq 125 ]
        [[ "$output" == *"conflicting options"* ]]
        [ -z "$(b volume ls -q)" ]
        run b volume rm nope
        [ "$status" -eq 1 ]
        [ "$output" = "Error: no such volume: nope" ]
        run b volume rm -f nope
        [ "$status" -eq 0 ]
        [ -z "$output" ]
        run b volume inspect nope
        [ "$status" -eq 125 ]
        [[ "$output" == *"no such volume: nope"* ]]
        run b volume frobnicate
        [ "$status" -eq 125 ]
        [[ "$output" == *"unrecognized command"* ]]
        run b volume create --bogus
        [ "$status" -eq 125 ]
        [[ "$output" == *"unknown flag: --bogus"* ]]
}

@test "a volume directory removed by hand: rm still drops the record" {
        b volume create gone >/dev/null
        engine_t_ok && rm -rf "$ENGINE_T/root/volumes/gone"
        run b volume rm gone
        [ "$status" -eq 0 ]
        [ -z "$(b volume ls -q)" ]
}

# ---- volumes in containers ----

@test "a named volume is created on first use, filled from the image, and outlives its container" {
        run b run --rm --network none -v data:/srv/data volimg sh -c 'cat /srv/data/hello /srv/data/sub/deep; stat -c "%u:%g %a" /srv/data /srv/data/hello; echo new >/srv/data/added'
        [ "$status" -eq 0 ]
        [ "${lines[0]}" = from-image ]
        [ "${lines[1]}" = deep ]
        # Owner and mode of the directory and its files come along (docker's copy-up).
        [ "${lines[2]}" = "1234:2345 750" ]
        [ "${lines[3]}" = "1234:2345 4755" ]
        [ "$(b volume ls -q)" = data ]
        mp=$(b volume inspect -f '{{.Mountpoint}}' data)
        [ "$(cat "$mp/added")" = new ]
        # Only the first use copies: what a container removed stays removed.
        b run --rm --network none -v data:/srv/data volimg rm /srv/data/hello
        run b run --rm --network none -v data:/srv/data:ro volimg sh -c 'ls /srv/data; touch /srv/data/x'
        [ "$status" -ne 0 ]
        [ "$(echo "${lines[*]}" | tr ' ' '\n' | grep -c hello)" = 0 ]
        [[ "$output" == *"Read-only file system"* ]]
        # nocopy: a new volume stays empty.
        run b run --rm --network none -v empty:/srv/data:nocopy volimg ls -A /srv/data
        [ "$status" -eq 0 ]
        [ -z "$output" ]
        assert_no_leftovers
}

@test "--mount type=volume, anonymous volumes and the image's VOLUME; rm -v removes the anonymous ones" {
        b create --name c1 --network none --mount type=volume,source=named,target=/m -v /anon volimg true >/dev/null
        vols=$(b volume ls -q)
        [ "$(wc -l <<<"$vols")" = 3 ]
        grep -qx named <<<"$vols"
        run b inspect -f '{{json .Mounts}}' c1
        [ "$(jq -r 'map(.Destination) | sort | join(" ")' <<<"$output")" = "/anon /image-vol /m" ]
        [ "$(jq -r '.[] | select(.Destination == "/m") | .Name + " " + .Type' <<<"$output")" = "named volume" ]
        anon=$(jq -r '.[] | select(.Destination == "/image-vol") | .Name' <<<"$output")
        [[ "$anon" =~ ^[0-9a-f]{64}$ ]]
        [ "$(jq -r '.[] | select(.Destination == "/image-vol") | .Source' <<<"$output")" = "$ENGINE_T/root/volumes/$anon/_data" ]
        b start c1 >/dev/null
        b wait c1 >/dev/null
        # The image's content at its VOLUME was copied up at the first start.
        [ "$(cat "$ENGINE_T/root/volumes/$anon/_data/f")" = anon ]
        # In use: refused with docker's words, also by prune.
        run b volume rm named
        [ "$status" -eq 2 ]
        [[ "$output" == *"remove named: volume is in use - [$(b inspect -f '{{.Id}}' c1)]"* ]]
        b volume prune -f -a >/dev/null
        [ "$(b volume ls -q | wc -l)" = 3 ]
        b rm -v c1
        # The named volume stays; the anonymous ones went with the container.
        [ "$(b volume ls -q)" = named ]
        [ ! -e "$ENGINE_T/root/volumes/$anon" ]
        b volume rm named
        assert_no_leftovers
}

@test "rm without -v keeps anonymous volumes; run --rm removes them" {
        b run --name keep --network none volimg true
        b rm keep >/dev/null
        [ "$(b volume ls -q | wc -l)" = 1 ]
        # Unused anonymous volumes are what a plain prune takes.
        run b volume prune -f
        [ "${lines[0]}" = "Deleted Volumes:" ]
        [ -z "$(b volume ls -q)" ]
        b run --rm --network none volimg true
        [ -z "$(b volume ls -q)" ]
        assert_no_leftovers
}

@test "copy-up resolves the destination inside the container: a symlink in the image cannot reach the host" {
        # /escape -> /etc/inside in the image: the host's /etc/inside must not matter.
        run b run --rm --network none -v esc:/escape volimg cat /escape/marker
        [ "$status" -eq 0 ]
        [ "$output" = inside-the-image ]
        mp=$(b volume inspect -f '{{.Mountpoint}}' esc)
        [ "$(ls "$mp")" = marker ]
        # A relative one climbing past the root stops at the container's /etc, not the host's.
        b run --rm --network none -v esc2:/escape-rel volimg true
        mp=$(b volume inspect -f '{{.Mountpoint}}' esc2)
        [ -e /etc/os-release ] && [ ! -e "$mp/os-release" ]
        [ "$(head -1 "$mp/passwd")" = "root:x:0:0:root:/root:/bin/sh" ]
        assert_no_leftovers
}

@test "a tmpfs volume is mounted while a container uses it and gone with the last one" {
        b volume create -o type=tmpfs -o device=tmpfs -o o=size=2m scratch >/dev/null
        mp=$ENGINE_T/root/volumes/scratch/_data
        b run -d --name t1 --network none -v scratch:/s volimg sh -c 'echo hi >/s/f; sleep 100' >/dev/null
        b run -d --name t2 --network none -v scratch:/s volimg sleep 100 >/dev/null
        retry grep -q " $mp " /proc/self/mountinfo
        [ "$(b exec t2 cat /s/f)" = hi ]
        [ "$(b exec t2 df -k /s | awk 'NR == 2 {print $2}')" = 2048 ]
        b stop -t 0 t1 >/dev/null
        retry test ! -d "$ENGINE_T/run/containers/$(b inspect -f '{{.Id}}' t1)"
        grep -q " $mp " /proc/self/mountinfo
        b stop -t 0 t2 >/dev/null
        retry test ! -d "$ENGINE_T/run/containers/$(b inspect -f '{{.Id}}' t2)"
        ! grep -q " $mp " /proc/self/mountinfo
        b rm t1 t2 >/dev/null
        b volume rm scratch
        assert_no_leftovers
}

@test "a bind-style volume (type=none, o=bind) shows a host directory" {
        mkdir "$BATS_TEST_TMPDIR/host"
        echo on-host >"$BATS_TEST_TMPDIR/host/f"
        b volume create -o type=none -o o=bind -o device="$BATS_TEST_TMPDIR/host" hostdir >/dev/null
        run b run --rm --network none -v hostdir:/h volimg sh -c 'cat /h/f; echo back >/h/g'
        [ "$status" -eq 0 ]
        [ "$output" = on-host ]
        [ "$(cat "$BATS_TEST_TMPDIR/host/g")" = back ]
        ! grep -q " $ENGINE_T/root/volumes/hostdir/_data " /proc/self/mountinfo
        b volume rm hostdir
        # Removing the volume leaves the host's directory alone.
        [ -f "$BATS_TEST_TMPDIR/host/f" ]
        assert_no_leftovers
}

@test "a volume whose filesystem cannot be mounted: start fails clearly and nothing stays mounted" {
        b volume create -o type=nosuchfs -o device=none broken >/dev/null
        run b run --rm --network none -v broken:/b volimg true
        [ "$status" -eq 125 ]
        [[ "$output" == *"volume \`broken\`: mount \`none\` (type nosuchfs"* ]]
        b volume rm broken
        assert_no_leftovers
}

@test "volume rm -f removes the containers using the volume first (podman)" {
        b run -d --name user1 --network none -v shared:/s volimg sleep 100 >/dev/null
        b create --name user2 --network none -v shared:/s volimg true >/dev/null
        run b volume rm shared
        [ "$status" -eq 2 ]
        run b volume rm -f shared
        [ "$status" -eq 0 ]
        [ "$output" = shared ]
        [ -z "$(b ps -aq)" ]
        ! b volume exists shared
        # Their anonymous volumes (the image's VOLUME) stay, as with rm without -v.
        [ "$(b volume ls -q | wc -l)" = 2 ]
        assert_no_leftovers
}
