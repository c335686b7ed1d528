#!/usr/bin/env bats
# linux.seccomp in real containers: a denied syscall (with and without
# noNewPrivileges, in exec'd processes too), errnoRet, the default profile,
# SCMP_ACT_NOTIFY with an agent for the init and for exec, the compiled
# filter cache, and a bad profile that fails `create` cleanly.
# BERTH_RUNTIME=runc runs the same session on runc (but for the berth-only
# checks: error wording, the cache).

load ../lib/runtime

TOOLS=${TOOLS:-$BATS_TEST_DIRNAME/../../build/tests/tools}
AGENT=$TOOLS/berth-test-seccomp-agent
RESOLVE=$TOOLS/berth-test-seccomp-resolve
DEFAULT_PROFILE=$BATS_TEST_DIRNAME/../../data/seccomp/default.json
DENY_MKDIR='{"defaultAction": "SCMP_ACT_ALLOW",
             "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}'

# The shared setup and teardown, wrapped.
eval "runtime_$(declare -f setup)"
eval "runtime_$(declare -f teardown)"

setup() {
        [ "$(id -u)" = 0 ] || skip "needs root"
        [ -x "$RT" ] || skip "berth-runtime is not built"
        [ -x "$AGENT" ] && [ -x "$RESOLVE" ] || skip "the seccomp test tools are not built"
        AGENT_PID=
        runtime_setup
}

teardown() {
        if [ -n "${AGENT_PID:-}" ]; then
                kill "$AGENT_PID" 2>/dev/null || true
                wait "$AGENT_PID" 2>/dev/null || true
        fi
        runtime_teardown
}

is_berth() {
        [[ "$(basename "$RT")" == berth-runtime ]]
}

# The bundle runs `sh -c SCRIPT` (one line: make_bundle splits arguments at
# newlines) with a writable /tmp.
script() {
        bundle_set "$B" ".process.args = [\"sh\", \"-c\", $(jq -Rn --arg s "$1" '$s')] |
                         .mounts += [{\"destination\": \"/tmp\", \"type\": \"tmpfs\", \"source\": \"tmpfs\",
                                      \"options\": [\"nosuid\", \"nodev\"]}]"
}

set_seccomp() {
        bundle_set "$B" ".linux.seccomp = $1"
}

start_agent() { # start_agent [COUNT]
        "$AGENT" "$T/agent.sock" "$T/agent.states" "$T/agent.ready" "${1:-1}" &
        AGENT_PID=$!
        local i
        for i in $(seq 100); do
                [ -e "$T/agent.ready" ] && return 0
                sleep 0.1
        done
        return 1
}

@test "a denied syscall fails with EPERM, everything else runs" {
        script 'mkdir /tmp/d; echo "mkdir=$?"; touch /tmp/f && echo touched'
        run rt run -b "$B" c1
        [ "$status" -eq 0 ]
        [[ "$output" == *"mkdir=0"* ]]

        set_seccomp "$DENY_MKDIR"
        run rt run -b "$B" c1
        [ "$status" -eq 0 ]
        [[ "$output" == *"Operation not permitted"* ]]
        [[ "$output" == *"mkdir=1"* ]]
        [[ "$output" == *"touched"* ]]

        # Without no_new_privs the filter is loaded before the capabilities go.
        bundle_set "$B" '.process.noNewPrivileges = false'
        run rt run -b "$B" c1
        [ "$status" -eq 0 ]
        [[ "$output" == *"mkdir=1"* ]]
        [[ "$output" == *"touched"* ]]
}

@test "exec'd processes run under the container's filter" {
        script 'sleep 1000'
        set_seccomp "$DENY_MKDIR"
        rt run -d -b "$B" c1
        run rt exec c1 mkdir /tmp/x
        [ "$status" -ne 0 ]
        [[ "$output" == *"Operation not permitted"* ]]
        run rt exec c1 touch /tmp/y
        [ "$status" -eq 0 ]
}

@test "errnoRet chooses the error" {
        script 'mkdir /tmp/d'
        set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW",
                      "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 122}]}'
        run rt run -b "$B" c1
        [ "$status" -ne 0 ]
        [[ "$output" == *"Disk quota exceeded"* ]]
}

@test "a shell works under the default profile, which refuses new namespaces" {
        script 'echo hello; ls / >/dev/null && echo ls-ok; mkdir /tmp/a && rmdir /tmp/a && echo fs-ok; (echo subshell-ok); unshare -U true; echo "unshare=$?"'
        run rt run -b "$B" c1
        [ "$status" -eq 0 ]
        [[ "$output" == *"unshare=0"* ]] # an unprivileged user namespace, without seccomp

        "$RESOLVE" "$DEFAULT_PROFILE" native "$(jq -r '.process.capabilities.bounding | join(",")' "$B/config.json")" \
                >"$T/default.json"
        set_seccomp "$(cat "$T/default.json")"
        run rt run -b "$B" c1
        [ "$status" -eq 0 ]
        [[ "$output" == *"hello"* ]]
        [[ "$output" == *"ls-ok"* ]]
        [[ "$output" == *"fs-ok"* ]]
        [[ "$output" == *"subshell-ok"* ]]
        [[ "$output" == *"unshare=1"* ]]
}

@test "SCMP_ACT_NOTIFY hands the init's and exec's syscalls to the agent at listenerPath" {
        start_agent 2
        # The agent answers success without creating anything.
        script 'mkdir /tmp/d; echo "mkdir=$?"; if [ -d /tmp/d ]; then echo exists; else echo absent; fi; sleep 1000'
        set_seccomp "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"$T/agent.sock\",
                      \"listenerMetadata\": \"berth-test\",
                      \"syscalls\": [{\"names\": [\"mkdir\", \"mkdirat\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}"
        rt run -d -b "$B" c1
        # A lost notify fd would leave the exec'd mkdir waiting forever.
        run timeout 120 "$RT" --root "$ROOT" exec c1 sh -c 'mkdir /tmp/e; echo "mkdir=$?"; if [ -d /tmp/e ]; then echo exists; else echo absent; fi'
        [ "$status" -eq 0 ]
        [[ "$output" == *"mkdir=0"* ]]
        [[ "$output" == *"absent"* ]]

        local init_pid
        init_pid=$(rt state c1 | jq .pid)
        [ "$(wc -l <"$T/agent.states")" -eq 2 ]
        run jq -s -c '[.[] | {metadata, fds, id: .state.id, bundle: .state.bundle}] | unique' "$T/agent.states"
        [ "$output" = "[{\"metadata\":\"berth-test\",\"fds\":[\"seccompFd\"],\"id\":\"c1\",\"bundle\":\"$B\"}]" ]
        # The init first, then the exec'd process, each with its own pid.
        [ "$(jq -s '.[0].pid' "$T/agent.states")" = "$init_pid" ]
        [ "$(jq -s '.[1].pid' "$T/agent.states")" != "$init_pid" ]
        [ "$(jq -s '.[1].state.pid' "$T/agent.states")" = "$init_pid" ]
        [ -n "$(jq -s -r '.[0].ociVersion' "$T/agent.states")" ]

        # The agent ends when no process is left under either filter.
        rt delete -f c1
        wait "$AGENT_PID"
        AGENT_PID=
}

@test "compiled filters are cached in the state root" {
        is_berth || skip "berth's cache"
        script 'true'
        set_seccomp "$DENY_MKDIR"
        rt run -b "$B" c1
        rt run -b "$B" c1
        [ "$(ls "$ROOT/.seccomp-cache" | wc -l)" -eq 1 ]
        set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_LOG"}]}'
        rt run -b "$B" c1
        [ "$(ls "$ROOT/.seccomp-cache" | wc -l)" -eq 2 ]
        run rt list -q
        [ "$output" = "" ]
}

@test "a bad profile fails create with the field named and leaves nothing behind" {
        set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW",
                      "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO",
                                    "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_BOGUS"}]}]}'
        run rt create -b "$B" c1
        [ "$status" -ne 0 ]
        [[ "$output" == *"SCMP_CMP_BOGUS"* ]]
        if is_berth; then
                [[ "$output" == *"linux.seccomp.syscalls[0].args[0].op: unknown operator"* ]]
        fi
        run rt state c1
        [ "$status" -ne 0 ]
        assert_gone c1
        run rt list -q
        [ "$output" = "" ]
}

@test "features describe seccomp" {
        run rt features
        [ "$status" -eq 0 ]
        [ "$(jq -r .linux.seccomp.enabled <<<"$output")" = true ]
        jq -e '.linux.seccomp.actions | index("SCMP_ACT_NOTIFY")' <<<"$output"
        jq -e '.linux.seccomp.operators | index("SCMP_CMP_MASKED_EQ")' <<<"$output"
        jq -e '.linux.seccomp.archs | index("SCMP_ARCH_X86_64")' <<<"$output"
        if is_berth; then
                jq -e '.linux.seccomp.supportedFlags | index("SECCOMP_FILTER_FLAG_SPEC_ALLOW")' <<<"$output"
        fi
}
