# Build, install and test the patch-day tools.
#   make install                 # to /usr/local (PREFIX), staged under DESTDIR
#   make install PREFIX=$HOME/.local
#   make test                    # every unit and end-to-end test
#   make bench                   # benchmarks against ps, ss, diff, tar (needs hyperfine)
#   make deb                     # one .deb with every tool in target/debian/ (debian/)
#
# A new tool is its name in TOOLS (binary, man page, completions, package) and
# its line in src/bin/patchday-completions.rs.
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
ZSHCOMPDIR ?= $(DATADIR)/zsh/vendor-completions
FISHCOMPDIR ?= $(DATADIR)/fish/vendor_completions.d
CARGO ?= cargo
TOOLS = ps-snap net-snap snap-diff cfg-backup boot-check svc-snap pkg-snap sec-snap pkg-verify
# Written by the internal patchday-completions binary (never installed).
COMPLETIONS = target/completions

.PHONY: all build completions install uninstall test lint bench deb clean

all: build

build:
	$(CARGO) build --release --locked --bins
	$(MAKE) completions

completions:
	rm -rf $(COMPLETIONS)
	target/release/patchday-completions $(COMPLETIONS) $(TOOLS)

install: build
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	for t in $(TOOLS); do \
		install -m 0755 target/release/$$t $(DESTDIR)$(BINDIR)/$$t && \
		install -m 0644 man/$$t.1 $(DESTDIR)$(MANDIR)/man1/$$t.1 && \
		install -m 0644 $(COMPLETIONS)/bash/$$t $(DESTDIR)$(BASHCOMPDIR)/$$t && \
		install -m 0644 $(COMPLETIONS)/zsh/_$$t $(DESTDIR)$(ZSHCOMPDIR)/_$$t && \
		install -m 0644 $(COMPLETIONS)/fish/$$t.fish $(DESTDIR)$(FISHCOMPDIR)/$$t.fish || exit 1; \
	done
	install -m 0644 man/*.5 $(DESTDIR)$(MANDIR)/man5/

uninstall:
	for t in $(TOOLS); do rm -f $(DESTDIR)$(BINDIR)/$$t $(DESTDIR)$(MANDIR)/man1/$$t.1 \
		$(DESTDIR)$(BASHCOMPDIR)/$$t $(DESTDIR)$(ZSHCOMPDIR)/_$$t $(DESTDIR)$(FISHCOMPDIR)/$$t.fish; done
	rm -f $(DESTDIR)$(MANDIR)/man5/snap-records.5

# Tests that need root are #[ignore]d; as root they run too.
ROOT_TESTS = $(if $(filter 0,$(shell id -u)),--include-ignored)

# One .deb with every tool, its man page and completions, built by the
# debian/ directory's rules (which run `make install`), into target/debian/.
# It installs the Debian tools it needs when missing (as root), so it works on
# a fresh machine with the Rust toolchain.
DEB_PKGS = dpkg-dev debhelper fakeroot build-essential lintian
deb:
	@missing=; for p in $(DEB_PKGS); do \
		dpkg-query -W -f '$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" != 0 ]; then echo "make deb: install$$missing first (apt-get install$$missing)" >&2; exit 2; fi; \
		echo "make deb: installing$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing || exit 2; \
	fi
	debian/build-deb target/debian
	lintian --fail-on error target/debian/*.changes || { echo 'make deb: lintian found errors (above)' >&2; exit 1; }

test:
	$(CARGO) test --workspace --locked -- $(ROOT_TESTS)

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

bench: build
	bench/run-all

clean:
	$(CARGO) clean
