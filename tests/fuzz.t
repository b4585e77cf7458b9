#!/bin/sh
# Every fuzz target replays its corpus without a crash (and, in
# `make check-sanitize`, without an ASan/UBSan report).
. "$(dirname "$0")/lib.sh"
for target in "$PLAYCALL_BUILD"/fuzz/fuzz_*; do
	[ -x "$target" ] || continue
	name=$(basename "$target")
	corpus="$PLAYCALL_SRC/tests/fuzz/corpus/$name"
	if [ ! -d "$corpus" ]; then fail "$name has a corpus folder"; continue; fi
	out=$("$target" "$corpus" 2>&1); rc=$?
	ok $rc "$name replays its corpus ($(echo "$out" | tail -n1))"
done
[ "$_tap_n" -gt 0 ] || fail "at least one fuzz target was built"
done_testing
