# playcall — GNU make.  `make`, `make check`, `make install`, `make bench`.
# User CFLAGS/LDFLAGS are kept; warnings are always errors.

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share/playcall
DESTDIR ?=
O       ?= build

CC      ?= cc
CFLAGS  ?= -O2 -g
PKGS     = json-c libcurl libcrypto
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS))
ALL_CFLAGS  = -std=c11 -pthread -Wall -Wextra -Werror -Icommon $(PKG_CFLAGS) \
              -DPLAYCALL_DATADIR='"$(DATADIR)"' $(CFLAGS)
LIBS        = $(PKG_LIBS) -lm -pthread   # sse-serve writes a fan-out with two threads

# A tool is built once its folder has sources, so each lands on its own.
ALL_TOOLS = detect narrate speak splice sse-serve
TOOLS    := $(foreach t,$(ALL_TOOLS),$(if $(wildcard $(t)/*.c),$(t)))
BINS      = $(addprefix $(O)/bin/,$(TOOLS))

COMMON_SRC := $(wildcard common/*.c)
COMMON_OBJ := $(patsubst %.c,$(O)/%.o,$(COMMON_SRC))
COMMON_LIB  = $(O)/libplaycall.a

UNIT_SRC  := $(wildcard tests/unit/*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(O)/tests/%.t,$(UNIT_SRC))
FUZZ_SRC  := $(filter-out tests/fuzz/driver.c,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_RUNS := $(patsubst tests/fuzz/%.c,$(O)/fuzz/%,$(FUZZ_SRC))

.SECONDARY:
.PHONY: all check check-unit check-sanitize fuzz install uninstall clean bench
all: $(BINS)

# The data folder is compiled in: objects are rebuilt when it changes
# (make PREFIX=/opt/x install after a plain make).
DATADIR_STAMP := $(O)/datadir.stamp
$(shell mkdir -p $(O) && (echo '$(DATADIR)' | cmp -s - $(DATADIR_STAMP) || echo '$(DATADIR)' > $(DATADIR_STAMP)))

$(O)/%.o: %.c $(wildcard common/*.h) $(wildcard */*.h) $(DATADIR_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(COMMON_LIB): $(COMMON_OBJ)
	$(AR) rcs $@ $^

# Each tool: main.o plus an archive of its other objects, which unit tests
# and fuzz targets link too (an archive pulls only what is used, so tools may
# reuse names without clashing).
TOOL_LIBS = $(foreach t,$(TOOLS),$(O)/$(t)/lib$(t).a)
define tool_rule
$(O)/$(1)/lib$(1).a: $$(patsubst %.c,$(O)/%.o,$$(filter-out $(1)/main.c,$$(wildcard $(1)/*.c)))
	@mkdir -p $$(dir $$@)
	rm -f $$@ && $$(AR) rcs $$@ $$^
$(O)/bin/$(1): $(O)/$(1)/main.o $(O)/$(1)/lib$(1).a $(COMMON_LIB)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) $$(CFLAGS) -o $$@ $$^ $$(LIBS)
endef
$(foreach t,$(TOOLS),$(eval $(call tool_rule,$(t))))

$(O)/tests/%.t: $(O)/tests/unit/%.o $(TOOL_LIBS) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $(CFLAGS) -o $@ $^ $(LIBS)

# Fuzz targets: built with a plain driver for `make check` (it replays
# tests/fuzz/corpus), with libFuzzer for `make fuzz`.
$(O)/fuzz/%: $(O)/tests/fuzz/%.o $(O)/tests/fuzz/driver.o $(TOOL_LIBS) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $(CFLAGS) -o $@ $^ $(LIBS)

TEST_ENV = PATH="$(CURDIR)/$(O)/bin:$$PATH" PLAYCALL_SRC="$(CURDIR)" PLAYCALL_BUILD="$(CURDIR)/$(O)" \
           PLAYCALL_DATA="$(CURDIR)/data"
PROVE_JOBS ?= 2

check: all $(UNIT_BINS) $(FUZZ_RUNS)
	@$(TEST_ENV) tests/run-tests $(UNIT_BINS) tests/*.t

check-unit: $(UNIT_BINS)
	@$(TEST_ENV) tests/run-tests $(UNIT_BINS)

# The whole suite again under AddressSanitizer and UBSan, in its own build dir.
SAN_FLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
check-sanitize:
	$(MAKE) O=build-san CFLAGS="$(SAN_FLAGS)" LDFLAGS="$(SAN_FLAGS)" check

fuzz: $(COMMON_LIB)
	@mkdir -p $(O)/libfuzzer
	for f in $(FUZZ_SRC); do \
	  clang -g -O1 -fsanitize=fuzzer,address,undefined -std=c11 -Icommon $(PKG_CFLAGS) -DPLAYCALL_DATADIR='"$(DATADIR)"' \
	    -o $(O)/libfuzzer/$$(basename $$f .c) $$f $(filter-out %/main.c,$(foreach t,$(TOOLS),$(wildcard $(t)/*.c))) $(COMMON_SRC) $(LIBS) || exit 1; \
	done
	@echo "fuzzers in $(O)/libfuzzer; run e.g. $(O)/libfuzzer/fuzz_record tests/fuzz/corpus/fuzz_record"

bench: all
	bench/run

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(DATADIR)
	install -m 755 $(BINS) $(DESTDIR)$(BINDIR)/
	for t in $(TOOLS); do [ ! -f man/$$t.1 ] || install -m 644 man/$$t.1 $(DESTDIR)$(MANDIR)/man1/; done
	install -m 644 man/playcall.7 $(DESTDIR)$(MANDIR)/man7/
	if [ -d data ]; then cp -R data/. $(DESTDIR)$(DATADIR)/; fi

uninstall:
	for t in $(ALL_TOOLS); do rm -f $(DESTDIR)$(BINDIR)/$$t $(DESTDIR)$(MANDIR)/man1/$$t.1; done
	rm -f $(DESTDIR)$(MANDIR)/man7/playcall.7
	rm -rf $(DESTDIR)$(DATADIR)

clean:
	rm -rf build build-san
