#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Run one libFuzzer target of tests/fuzz/ (mk/fuzz.mk calls this for `make fuzz` and
# `make fuzz-regress`).
#
#   tests/fuzz/fuzz.sh run TARGET BUILD_DIR       fuzz FUZZ_SECONDS (default 5) on a scratch copy
#                                                 of tests/fuzz/corpus/TARGET; FUZZ_MERGE=1 merges
#                                                 the new coverage back into that corpus. One line,
#                                                 `PASS: fuzz/TARGET/run (figures)` or `FAIL: ...`
#                                                 on a crash, whose input is kept as
#                                                 BUILD_DIR/crashes/TARGET-*; exit 1 then.
#   tests/fuzz/fuzz.sh regress TARGET BUILD_DIR   run every corpus input (one case) and every
#                                                 tests/fuzz/regress/TARGET/ input (one case
#                                                 each) once; `PASS: fuzz/TARGET/...` lines.
#
# Per-target libFuzzer options: tests/fuzz/TARGET.options (one option per line, # comments) and
# the dictionary tests/fuzz/TARGET.dict, if present.
set -uo pipefail

[ $# -eq 3 ] || { echo "usage: $0 run|regress TARGET BUILD_DIR" >&2; exit 2; }
mode=$1 target=$2 build=$3
here=$(dirname "$0")
bin=$build/fuzz_$target
corpus=$here/corpus/$target
regress=$here/regress/$target
opts=()
[ -f "$here/$target.options" ] &&
	mapfile -t opts < <(grep -v '^\s*\(#\|$\)' "$here/$target.options")
[ -f "$here/$target.dict" ] && opts+=("-dict=$here/$target.dict")
# ASan: the mm simulation maps memory it never frees; leaks are checked by the targets' own
# invariants. allow_user_segv_handler: as the host tests.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:allow_user_segv_handler=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

files_in() { [ -d "$1" ] && find "$1" -maxdepth 1 -type f | sort; }

case $mode in
run)
	seconds=${FUZZ_SECONDS:-5}
	scratch=$build/run/$target
	log=$build/run/$target.log
	rm -rf "$scratch" && mkdir -p "$scratch" "$build/crashes"
	[ -d "$corpus" ] && cp "$corpus"/* "$scratch"/ 2>/dev/null
	seeds=$(files_in "$scratch" | wc -l)
	"$bin" "${opts[@]}" -max_total_time="$seconds" -print_final_stats=1 -timeout=20 \
		-artifact_prefix="$build/crashes/$target-" "$scratch" >"$log" 2>&1
	rc=$?
	stat() { sed -n "s/^stat::$1: *//p" "$log" | tail -1; }
	execs=$(stat number_of_executed_units) per_s=$(stat average_exec_per_sec)
	new=$(stat new_units_added) rss=$(stat peak_rss_mb)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
	figures=$(printf '%s s, %s execs (%s/s), coverage %s, corpus %s + %s new, peak RSS %s MB' \
		"$seconds" "${execs:-?}" "${per_s:-?}" "${cov:-?}" "$seeds" "${new:-?}" "${rss:-?}")
	if [ $rc -ne 0 ]; then
		crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
		why=$(grep -E '^(==[0-9]+==ERROR|fuzz: invariant|SUMMARY)|runtime error' "$log" | head -1)
		echo "FAIL: fuzz/$target/run: crash after $figures; input ${crash:-not written}; ${why:-see $log}"
		exit 1
	fi
	echo "PASS: fuzz/$target/run ($figures)"
	if [ "${FUZZ_MERGE:-0}" = 1 ]; then
		mkdir -p "$corpus"
		before=$(files_in "$corpus" | wc -l)
		"$bin" "${opts[@]}" -merge=1 "$corpus" "$scratch" >"$log.merge" 2>&1 ||
			{ echo "fuzz/$target: merge failed, see $log.merge"; exit 1; }
		echo "fuzz/$target: merged $(( $(files_in "$corpus" | wc -l) - before )) inputs into $corpus"
	fi
	;;
regress)
	rc=0
	mapfile -t seeds < <(files_in "$corpus")
	mapfile -t crashes < <(files_in "$regress")
	log=$build/regress-$target.log
	if [ ${#seeds[@]} -gt 0 ]; then
		if "$bin" "${opts[@]}" -runs=1 "${seeds[@]}" >"$log" 2>&1; then
			echo "PASS: fuzz/$target/corpus (${#seeds[@]} inputs)"
		else
			bad=$(sed -n 's/^Running: //p' "$log" | tail -1)
			why=$(grep -E 'ERROR: |fuzz: invariant|runtime error' "$log" | head -1)
			echo "FAIL: fuzz/$target/corpus: ${bad:-?}: ${why:-see $log}"
			rc=1
		fi
	else
		echo "FAIL: fuzz/$target/corpus: no seed inputs in $corpus"
		rc=1
	fi
	for f in "${crashes[@]}"; do
		if "$bin" "${opts[@]}" "$f" >"$log" 2>&1; then
			echo "PASS: fuzz/$target/regress/$(basename "$f")"
		else
			why=$(grep -E 'ERROR: |fuzz: invariant|runtime error' "$log" | head -1)
			echo "FAIL: fuzz/$target/regress/$(basename "$f"): ${why:-see $log}"
			rc=1
		fi
	done
	exit $rc
	;;
*)
	echo "usage: $0 run|regress TARGET BUILD_DIR" >&2
	exit 2
	;;
esac
