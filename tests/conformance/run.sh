#!/bin/bash
# Runs the OCI runtime-tools validation suite against berth-runtime and its
# peers and prints, per runtime, the pass/fail/skip counts and the failing
# checks, then the checks berth-runtime fails that a peer passes.
#
#   tests/conformance/run.sh [-r RUNTIME]... [-t TEST]... [-o OUTDIR] RUNTIME_TOOLS_DIR
#
# RUNTIME_TOOLS_DIR is an unpacked runtime-tools tree (not part of this
# project).  Its runtimetest and validation/*/*.t are built there with the
# Go toolchain if missing (offline: vendored modules only).  RUNTIME is
# berth-runtime (default: the one in $BERTH_BUILD or build/), crun or runc, or
# a path; without -r all three run.  -t limits the run to the named tests
# (e.g. -t default -t linux_devices).  Results go to OUTDIR (default
# /var/tmp/berth-conformance): OUTDIR/<runtime>/<test>.tap and
# OUTDIR/<runtime>/results.tsv (PASS|FAIL|SKIP, test, TAP number,
# description).
#
# Each runtime runs in a private mount namespace of its own: runc and crun
# mount on the host when a test has no mount namespace (linux_ns_itype), and
# those mounts must not outlive the run.  For crun /sys/fs/cgroup/unified is
# unmounted there (crun refuses hybrid hosts whose cgroup2 mount has
# controllers).  Every runtime keeps its state under OUTDIR/<runtime>/root
# (through a wrapper that adds --root) and the tests their bundles under
# OUTDIR/<runtime>/tmp (TMPDIR): containers left behind are force-deleted,
# bundles removed, and the empty parent cgroups the cgroup tests leave
# (testdir/cgrouptest) removed at the end.  See docs/CONFORMANCE.md.
set -u

usage() {
	sed -n '2,/^set -u/p' "$0" | sed -e '/^set -u/d' -e 's/^# \{0,1\}//' >&2
	exit 2
}

top=$(cd "$(dirname "$0")/../.." && pwd)
outdir=/var/tmp/berth-conformance
runtimes=()
tests=()
while getopts "r:t:o:h" opt; do
	case $opt in
	r) runtimes+=("$OPTARG") ;;
	t) tests+=("$OPTARG") ;;
	o) outdir=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# = 1 ] || usage
rtools=$(cd "$1" && pwd) || exit 2
[ ${#runtimes[@]} -gt 0 ] || runtimes=(berth-runtime crun runc)
[ "$(id -u)" = 0 ] || { echo "run.sh: must run as root" >&2; exit 2; }
# Everything below OUTDIR is removed and recreated: never let it be / or empty.
case $outdir in
/?*/?*) outdir=${outdir%/} ;;
*) echo "run.sh: OUTDIR must be an absolute path at least two levels deep" >&2; exit 2 ;;
esac

resolve_runtime() { # name -> absolute path
	case $1 in
	berth-runtime)
		local b=${BERTH_BUILD:-$top/build}/src/cmd/berth-runtime/berth-runtime
		[ -x "$b" ] || b=$(command -v berth-runtime) || return 1
		echo "$b"
		;;
	/*) [ -x "$1" ] && echo "$1" ;;
	*) command -v "$1" ;;
	esac
}

build_suite() {
	local missing=0 t
	[ -x "$rtools/runtimetest" ] || missing=1
	for t in "$rtools"/validation/*/*.go; do
		case $t in */util/*) continue ;; esac
		[ -x "${t%.go}.t" ] || missing=1
	done
	[ $missing = 1 ] || return 0
	command -v go >/dev/null || { echo "run.sh: go not found (apt-get install golang-go)" >&2; return 1; }
	echo "building runtimetest and validation executables in $rtools" >&2
	(cd "$rtools" && GOFLAGS=-mod=vendor GOPROXY=off GOTOOLCHAIN=local \
		make runtimetest validation-executables >"$outdir/build.log" 2>&1) || {
		tail -20 "$outdir/build.log" >&2
		echo "run.sh: building runtime-tools failed (log: $outdir/build.log)" >&2
		return 1
	}
}

# TAP of one test binary -> results.tsv rows.  A binary that dies without a
# TAP failure (e.g. "failed to create the container") counts as one failure.
tap_rows() { # tapfile testname exitstatus
	awk -v t="$2" -v rc="$3" '
	/^ok [0-9]+ # [Ss][Kk][Ii][Pp]/ { d = $0; sub(/^ok [0-9]+ # [Ss][Kk][Ii][Pp] ?/, "", d); print "SKIP\t" t "\t" $2 "\t" d; next }
	/^ok [0-9]+/ { d = $0; sub(/^ok [0-9]+ (- )?/, "", d); print "PASS\t" t "\t" $2 "\t" d; next }
	/^not ok [0-9]+/ { d = $0; sub(/^not ok [0-9]+ (- )?/, "", d); print "FAIL\t" t "\t" $3 "\t" d; f++; next }
	END { if (rc != 0 && f == 0) print "FAIL\t" t "\t-\texited with status " rc " without a TAP failure" }
	' "$1"
}

# Runs in the runtime's private mount namespace (see the end of this file).
run_one_runtime() { # name path
	local path=$2 dir t n rc id
	dir=$outdir/$(basename "$1")
	mkdir -p "$dir/root" "$dir/tmp"
	printf '#!/bin/sh\nexec %q --root %q "$@"\n' "$path" "$dir/root" >"$dir/runtime"
	chmod +x "$dir/runtime"
	: >"$dir/results.tsv"
	for t in "${test_bins[@]}"; do
		n=$(basename "$t" .t)
		(cd "$rtools" && TMPDIR=$dir/tmp RUNTIME=$dir/runtime timeout -k 10 600 "$t" >"$dir/$n.tap" 2>"$dir/$n.err")
		rc=$?
		tap_rows "$dir/$n.tap" "$n" "$rc" >>"$dir/results.tsv"
		if [ $rc != 0 ]; then
			sed "s/^/# $n: /" "$dir/$n.err" | head -5 >>"$dir/stderr.txt"
		fi
	done
	for id in $("$dir/runtime" list -q 2>/dev/null); do
		echo "# leftover container $id: force-deleting" >>"$dir/stderr.txt"
		"$dir/runtime" delete -f "$id" >/dev/null 2>&1
	done
}

mkdir -p "$outdir" || exit 1
if [ -n "${CONFORMANCE_INNER:-}" ]; then
	if [ "$(basename "$(resolve_runtime "${runtimes[0]}")")" = crun ] && mountpoint -q /sys/fs/cgroup/unified; then
		umount /sys/fs/cgroup/unified
	fi
	mapfile -t test_bins < <(printf '%s\n' "${CONFORMANCE_TESTS[@]:-}" | tr ' ' '\n' | grep .)
	run_one_runtime "${runtimes[0]}" "$(resolve_runtime "${runtimes[0]}")"
	exit
fi

build_suite || exit 1
test_bins=()
if [ ${#tests[@]} -gt 0 ]; then
	for t in "${tests[@]}"; do
		[ -x "$rtools/validation/$t/$t.t" ] || { echo "run.sh: no test $t" >&2; exit 2; }
		test_bins+=("$rtools/validation/$t/$t.t")
	done
else
	mapfile -t test_bins < <(ls "$rtools"/validation/*/*.t | sort)
fi

# The linux_cgroups_* tests use cgroupsPath /cgrouptest and
# testdir/cgrouptest/container; runtimes remove only the leaf.  The empty
# parents are removed after each runtime, unless they were there before.
new_cgroups=()
for h in /sys/fs/cgroup/*/; do
	h=${h%/}
	[ -e "$h/cgroup.procs" ] || continue
	[ -e "$h/testdir" ] || new_cgroups+=("$h/testdir/cgrouptest" "$h/testdir")
	[ -e "$h/cgrouptest" ] || new_cgroups+=("$h/cgrouptest")
done

for r in "${runtimes[@]}"; do
	path=$(resolve_runtime "$r") || { echo "run.sh: runtime $r not found" >&2; exit 2; }
	dir=$outdir/$(basename "$r")
	# The previous results, and bundles the tests could not remove: only once
	# no mount of this namespace is below them.
	if grep -qF " $dir/" /proc/self/mountinfo; then
		echo "run.sh: mounts below $dir: not removing it" >&2
		exit 1
	fi
	rm -rf -- "$dir"
	echo "running ${#test_bins[@]} validation tests against $r ($path)" >&2
	CONFORMANCE_INNER=1 CONFORMANCE_TESTS="${test_bins[*]}" \
		unshare --mount --propagation private -- "$0" -r "$r" -o "$outdir" "$rtools"
	if ! grep -qF " $dir/tmp/" /proc/self/mountinfo; then
		rm -rf -- "$dir/tmp"
	fi
	for c in "${new_cgroups[@]}"; do
		[ -d "$c" ] && rmdir "$c" 2>/dev/null
	done
done

echo
printf '%-16s %6s %6s %6s\n' runtime pass fail skip
for r in "${runtimes[@]}"; do
	f=$outdir/$(basename "$r")/results.tsv
	printf '%-16s %6d %6d %6d\n' "$r" "$(grep -c '^PASS' "$f")" "$(grep -c '^FAIL' "$f")" "$(grep -c '^SKIP' "$f")"
done
for r in "${runtimes[@]}"; do
	echo
	echo "== $r: failing checks"
	awk -F'\t' '$1 == "FAIL" { print "  " $2 " #" $3 ": " $4 }' "$outdir/$(basename "$r")/results.tsv"
done

# A check is its test, TAP number and description, the latter with digits
# masked (descriptions may hold temp dirs and ids).
keys() { awk -F'\t' -v s="$2" '$1 == s { d = $4; gsub(/[0-9]+/, "N", d); print $2 " #" $3 ": " d }' "$1" | sort -u; }
counts() { awk -F'\t' '{ n[$2]++ } END { for (t in n) print t " " n[t] }' "$1" | sort; }
b=$outdir/berth-runtime/results.tsv
if [ -f "$b" ]; then
	for r in "${runtimes[@]}"; do
		[ "$r" = berth-runtime ] && continue
		p=$outdir/$(basename "$r")/results.tsv
		echo
		echo "== failed by berth-runtime, passed by $r"
		comm -12 <(keys "$b" FAIL) <(keys "$p" PASS) | sed 's/^/  /'
		echo "== tests with fewer checks for berth-runtime than for $r (ended early)"
		join -t' ' <(counts "$b") <(counts "$p") | awk '$2 < $3 { printf "  %s: %d checks vs %d\n", $1, $2, $3 }'
	done
fi
