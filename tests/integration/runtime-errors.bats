#!/usr/bin/env bats
# berth-runtime: bad bundles get a clear error naming the field, exit status 1,
# and leave no state directory, mount or process behind.

load ../lib/runtime

expect_error() { # JQ-EDIT EXPECTED-FRAGMENT (each edit starts from the original config)
        [ -f "$B/config.orig" ] || cp "$B/config.json" "$B/config.orig"
        cp "$B/config.orig" "$B/config.json"
        bundle_set "$B" "$1"
        run rt create -b "$B" bad
        [ "$status" -eq 1 ] || { echo "status $status: $output"; return 1; }
        [[ "$output" == *"$2"* ]] || { echo "want \"$2\" in: $output"; return 1; }
        assert_gone bad
        ! pgrep -f "berth-runtime --root $ROOT" >/dev/null
}

@test "malformed JSON" {
        echo '{"ociVersion": "1.0.2", "root": ' >"$B/config.json"
        run rt create -b "$B" bad
        [ "$status" -eq 1 ]
        [[ "$output" == *"config.json: invalid JSON"* ]]
        assert_gone bad
}

@test "a missing config.json or rootfs" {
        run rt create -b "$T/nowhere" bad
        [ "$status" -eq 1 ]
        [[ "$output" == *"nowhere"* ]]
        expect_error '.root.path = "missing-rootfs"' "root.path: rootfs"
        touch "$B/afile"
        expect_error '.root.path = "afile"' "is not a directory"
}

@test "wrong types name the field" {
        expect_error '.process.args = "sh"' "process.args: expected an array, got a string"
        expect_error '.process.user.uid = "0"' "process.user.uid: expected an integer, got a string"
        expect_error '.mounts[0].options = [1]' "mounts[0].options[0]: expected a string"
        expect_error '.linux.namespaces = {}' "linux.namespaces: expected an array, got an object"
        expect_error '.hostname = 7' "hostname: expected a string"
        expect_error '.process.rlimits[0].soft = -1' "process.rlimits[0].soft: value -1 must not be negative"
}

@test "unknown namespace, duplicate namespace, relative paths" {
        expect_error '.linux.namespaces += [{"type": "bogus"}]' "linux.namespaces[5].type: unknown namespace type \`bogus\`"
        expect_error '.linux.namespaces += [{"type": "pid"}]' "duplicate namespace \`pid\`"
        expect_error '.process.cwd = "relative/dir"' "process.cwd: \`relative/dir\` must be an absolute path"
        expect_error '.linux.maskedPaths = ["proc/x"]' "linux.maskedPaths: \`proc/x\` must be an absolute path"
        expect_error '.hooks = {"prestart": [{"path": "hook"}]}' "hooks.prestart[0].path"
        expect_error '.linux.devices = [{"path": "dev/x", "type": "c", "major": 1, "minor": 1}]' "linux.devices[0].path"
}

@test "no process, no mount namespace, an unknown capability set type" {
        expect_error 'del(.process)' "process is required"
        expect_error 'del(.linux.namespaces[] | select(.type == "mount"))' "mount namespace"
        expect_error '.process.capabilities = []' "process.capabilities: expected an object"
}

@test "settings berth-runtime cannot honour yet are refused, not ignored" {
        expect_error '.linux.intelRdt = {"closID": "x"}' "linux.intelRdt"
        expect_error '.mounts += [{"destination": "/m", "type": "bind", "source": "/tmp", "options": ["bind", "idmap"]}]' "idmapped mounts"
}

@test "a command that does not exist fails create, not start" {
        bundle_set "$B" '.process.args = ["definitely-not-here"]'
        run rt create -b "$B" bad
        [ "$status" -eq 1 ]
        [[ "$output" == *'exec: "definitely-not-here": executable file not found in $PATH'* ]]
        assert_gone bad
        bundle_set "$B" '.process.args = ["/etc/passwd"]'
        run rt create -b "$B" bad
        [ "$status" -eq 1 ]
        [[ "$output" == *"Permission denied"* ]]
        assert_gone bad
}

@test "a huge config.json is refused" {
        head -c 5000000 /dev/zero | tr '\0' ' ' >"$B/config.json"
        run rt create -b "$B" bad
        [ "$status" -eq 1 ]
        [[ "$output" == *"limit"* ]]
        assert_gone bad
}

@test "a failure half-way through create leaves no mount, process or state" {
        bundle_set "$B" '.mounts += [{"destination": "/late", "type": "bind", "source": "/nonexistent", "options": ["bind"]}] | .process.args = ["sleep", "100"]'
        run rt create -b "$B" bad
        [ "$status" -eq 1 ]
        assert_gone bad
        ! pgrep -x sleep -P 1 >/dev/null || ! pgrep -af "sleep 100" | grep -q "$B"
}
