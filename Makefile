# pyshare — build, install, test.
#
#   make                 build ./pyshare
#   make install         install under $(DESTDIR)$(PREFIX) (PREFIX=/usr/local by default)
#   make check           the whole suite: unit, system, sanitizers, fuzz, packages, e2e
#   make unit | system | asan | fuzz | lint | e2e | deb | rpm | bench | bench-model

VERSION     := 0.1.0
PREFIX      ?= /usr/local
SBINDIR     ?= $(PREFIX)/sbin
MANDIR      ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
PKGLIBDIR   ?= $(PREFIX)/lib/pyshare
UNITDIR     ?= $(shell pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null || echo /lib/systemd/system)
TMPFILESDIR ?= $(shell pkg-config --variable=tmpfilesdir systemd 2>/dev/null || echo /usr/lib/tmpfiles.d)
# The Ansible collection pyshare.pyshare goes where the distribution's Ansible looks for system
# collections, whatever PREFIX is (/usr/local/share/ansible is not on its path).
ANSIBLE_COLLECTIONS ?= /usr/share/ansible/collections
ANSIBLE_COLLECTION  := $(ANSIBLE_COLLECTIONS)/ansible_collections/pyshare/pyshare
ANSIBLE_FILES := galaxy.yml README.md meta/runtime.yml plugins/modules/app.py plugins/modules/app_info.py \
                 plugins/module_utils/pyshare.py

CC      ?= cc
PKGS    := libsystemd libacl python3-embed
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS))

WARN    := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -Wmissing-prototypes \
           -Wstrict-prototypes -Wformat=2 -Wvla
HARDEN  := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
CFLAGS  ?= -O2 -g
PY_PROGRAM := $(shell pkg-config --variable=prefix python3-embed)/bin/python$(shell pkg-config --modversion python3-embed)
ALL_CFLAGS  = -std=gnu11 -D_GNU_SOURCE $(WARN) $(HARDEN) $(PKG_CFLAGS) -DPYSHARE_VERSION='"$(VERSION)"' \
              -DPYSHARE_PYTHON_PROGRAM='"$(PY_PROGRAM)"' \
              -Isrc $(CFLAGS) $(EXTRA_CFLAGS)
LDFLAGS ?=
ALL_LDFLAGS = -pie -pthread -Wl,-z,relro,-z,now $(LDFLAGS) $(EXTRA_LDFLAGS)

# Every module but main.c, so that unit tests and fuzzers link the real code.
LIB_SRCS := $(filter-out src/main.c,$(sort $(wildcard src/*.c)))
SRCS     := $(LIB_SRCS) src/main.c

BUILD   ?= build
OBJS     = $(patsubst src/%.c,$(BUILD)/%.o,$(SRCS))
LIB_OBJS = $(patsubst src/%.c,$(BUILD)/%.o,$(LIB_SRCS))

UNIT_TESTS := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test-*.c))

.PHONY: all install uninstall clean check unit system asan fuzz fuzz-build lint e2e deb rpm bench bench-model \
        format demo

all: pyshare

pyshare: $(OBJS)
	$(CC) $(ALL_CFLAGS) -o $@ $(OBJS) $(ALL_LDFLAGS) $(PKG_LIBS)

$(BUILD)/%.o: src/%.c $(wildcard src/*.h) | $(BUILD)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD):
	mkdir -p $@

# ---- install -----------------------------------------------------------------------------
install: pyshare
	install -D -m 0755 pyshare $(DESTDIR)$(SBINDIR)/pyshare
	install -D -m 0644 man/pyshare.8 $(DESTDIR)$(MANDIR)/man8/pyshare.8
	install -D -m 0644 scripts/pyshare.bash-completion $(DESTDIR)$(BASHCOMPDIR)/pyshare
	install -d -m 0755 $(DESTDIR)$(PKGLIBDIR)
	for f in units/*; do [ -f "$$f" ] && install -D -m 0644 "$$f" $(DESTDIR)$(UNITDIR)/$${f#units/}; done; true
	install -D -m 0644 tmpfiles.d/pyshare.conf $(DESTDIR)$(TMPFILESDIR)/pyshare.conf
	install -D -m 0755 scripts/pyshare-app-hook $(DESTDIR)$(PREFIX)/share/pyshare/pyshare-app-hook
	for f in $(ANSIBLE_FILES); do install -D -m 0644 ansible/$$f $(DESTDIR)$(ANSIBLE_COLLECTION)/$$f || exit 1; done

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/pyshare $(DESTDIR)$(MANDIR)/man8/pyshare.8 \
	      $(DESTDIR)$(BASHCOMPDIR)/pyshare $(DESTDIR)$(TMPFILESDIR)/pyshare.conf \
	      $(DESTDIR)$(PREFIX)/share/pyshare/pyshare-app-hook
	rm -rf $(DESTDIR)$(ANSIBLE_COLLECTION)
	for f in units/*; do rm -f $(DESTDIR)$(UNITDIR)/$${f#units/}; done

clean:
	rm -rf $(BUILD) build-asan build-fuzz pyshare pyshare-asan tests/unit/bin tests/fuzz/bin

# ---- tests -------------------------------------------------------------------------------
# The closing line "N passed, N failed" of each runner is what CI reads.
check: all
	tests/run-check

# Under $(BUILD), so that the sanitizer build never runs the plain test binaries or the reverse.
unit: $(addprefix $(BUILD)/unit/,$(UNIT_TESTS))
	tests/unit/run $(BUILD)/unit $(UNIT_TESTS)

$(BUILD)/unit/%: tests/unit/%.c $(LIB_OBJS) tests/unit/helpers.h
	@mkdir -p $(BUILD)/unit
	$(CC) $(ALL_CFLAGS) -DFIXTURES_DIR='"$(CURDIR)/tests/unit/fixtures"' -o $@ $< $(LIB_OBJS) $(ALL_LDFLAGS) \
	      $(PKG_LIBS) -lcmocka

system: pyshare
	tests/system/run

# AddressSanitizer + UBSan: the unit tests and the system tests against an instrumented binary.
ASAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all \
              -DPYSHARE_SANITIZER=1
asan:
	$(MAKE) BUILD=build-asan CFLAGS="$(ASAN_FLAGS)" LDFLAGS="-fsanitize=address,undefined" \
	        pyshare unit
	mv pyshare pyshare-asan
	$(MAKE) pyshare
	PYSHARE=$(CURDIR)/pyshare-asan tests/system/run

fuzz-build:
	tests/fuzz/build

fuzz: fuzz-build
	tests/fuzz/run $${FUZZ_SECONDS:-60}

lint:
	tests/lint

e2e: pyshare
	tests/e2e/run

deb:
	scripts/build-deb

rpm:
	scripts/build-rpm

bench: pyshare
	bench/run

# The service model's cost (issue 12), in a booted e2e container: bench/model-results.md.
bench-model: pyshare
	bench/model

format:
	clang-format -i src/*.c src/*.h tests/unit/*.c

demo: pyshare
	scripts/demo
