#!/usr/bin/env bats
# berth volume create/ls/inspect/rm/prune/exists as docker users type them.

load image-common

setup() { image_setup; }
teardown() { image_teardown; }

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
        [ "$(jq -r '.[0].Mountpoint' <<<"$output")" = "$ROOT/volumes/scratch/_data" ]
        [[ "$(jq -r '.[0].CreatedAt' <<<"$output")" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$ ]]
        [ -d "$ROOT/volumes/data/_data" ]
        # Creating it recorded no mount: the filesystem comes with the first container.
        ! grep -q " $ROOT/volumes/scratch/_data " /proc/self/mountinfo

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
        [ ! -e "$ROOT/volumes/data" ]
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
        echo data >"$ROOT/volumes/labelled/_data/f"
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
        rm -rf "${ROOT:?}/volumes/gone"
        run b volume rm gone
        [ "$status" -eq 0 ]
        [ -z "$(b volume ls -q)" ]
}
