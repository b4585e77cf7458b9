#!/bin/sh
# Every manual page renders cleanly as mdoc and has the sections users look
# for first; every built tool has its page.
. "$(dirname "$0")/lib.sh"
for page in "$PLAYCALL_SRC"/man/*.[17]; do
	name=$(basename "$page")
	warnings=$(groff -mdoc -ww -z "$page" 2>&1)
	is "$warnings" "" "$name renders without warnings"
	for sec in "EXIT STATUS" "EXAMPLES" "SEE ALSO"; do
		grep -q "^\.Sh $sec" "$page"; ok $? "$name has $sec"
	done
done
for tool in "$PLAYCALL_BUILD"/bin/*; do
	[ -x "$tool" ] || continue
	t=$(basename "$tool")
	[ -f "$PLAYCALL_SRC/man/$t.1" ]; ok $? "$t has man/$t.1"
	grep -q "Xr $t 1" "$PLAYCALL_SRC/man/playcall.7"; ok $? "playcall.7 refers to $t"
done
done_testing
