#!/bin/sh
# make install honours PREFIX, DESTDIR and MANDIR (in a build folder of its
# own: the data folder is compiled in, so another PREFIX rebuilds).
. "$(dirname "$0")/lib.sh"
command -v make >/dev/null || skip_all "no make"
O_DIR="$T/build"
root="$T/root"
make -s -j2 -C "$PLAYCALL_SRC" O="$O_DIR" install DESTDIR="$root" PREFIX=/opt/pc MANDIR=/opt/pc/man >"$T/install.out" 2>&1
ok $? "make install exits 0"
for t in detect narrate speak splice sse-serve; do
	[ -x "$root/opt/pc/bin/$t" ]; ok $? "$t installed under DESTDIR/PREFIX/bin"
	[ -f "$root/opt/pc/man/man1/$t.1" ]; ok $? "$t.1 installed under MANDIR/man1"
done
[ -f "$root/opt/pc/man/man7/playcall.7" ]; ok $? "playcall.7 installed under MANDIR/man7"
[ -f "$root/opt/pc/share/playcall/narrate/en.phrases" ]; ok $? "phrase tables installed under PREFIX/share/playcall"
[ ! -e "$root/usr/local" ]; ok $? "nothing went to the default prefix"
strings "$root/opt/pc/bin/narrate" | grep -qx '/opt/pc/share/playcall'; ok $? "narrate looks for its tables under PREFIX"
make -s -C "$PLAYCALL_SRC" O="$O_DIR" uninstall DESTDIR="$root" PREFIX=/opt/pc MANDIR=/opt/pc/man >/dev/null 2>&1
ok $? "make uninstall exits 0"
is "$(find "$root" -type f | wc -l | tr -d ' ')" 0 "uninstall removes every installed file"
done_testing
