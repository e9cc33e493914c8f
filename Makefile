# Build, install and test the patch-day tools.
#   make install                 # to /usr/local (PREFIX), staged under DESTDIR
#   make install PREFIX=$HOME/.local
#   make test                    # every unit and end-to-end test
#   make bench                   # benchmarks against ps, ss, diff, tar (needs hyperfine)
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
CARGO ?= cargo
TOOLS = ps-snap net-snap snap-diff cfg-backup boot-check pkg-verify

.PHONY: all build install uninstall test lint bench clean

all: build

build:
	$(CARGO) build --release --locked --bins

install: build
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5
	for t in $(TOOLS); do install -m 0755 target/release/$$t $(DESTDIR)$(BINDIR)/$$t || exit 1; done
	install -m 0644 man/*.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 man/*.5 $(DESTDIR)$(MANDIR)/man5/

uninstall:
	for t in $(TOOLS); do rm -f $(DESTDIR)$(BINDIR)/$$t $(DESTDIR)$(MANDIR)/man1/$$t.1; done
	rm -f $(DESTDIR)$(MANDIR)/man5/snap-records.5

test:
	$(CARGO) test --workspace --locked

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

bench: build
	bench/run-all

clean:
	$(CARGO) clean
