# hopdump: the two commands of the README are `make demo` and `make test`.
# Both do all of their own set-up, idempotently, as root on Debian.
SHELL := /bin/bash
APT_PACKAGES := tcpdump iproute2 iptables nftables ebtables iputils-ping arping netcat-openbsd \
                tshark ethtool procps util-linux openvswitch-switch \
                qemu-system-x86 libvirt-daemon-system libvirt-clients cpio busybox-static ovn-central ovn-host docker.io curl \
                podman netavark fping prometheus chromium groff-base zsh fish
# Only the benchmarks need these: tcpreplay drives the live runs, time measures peak RSS, fincore
# (util-linux) checks what is in the page cache.
BENCH_PACKAGES := tcpreplay time util-linux
# Only the Debian package needs these: lintian checks it, dpkg-shlibdeps (dpkg-dev) computes its
# library dependencies, and test/install/deb.test.ts installs it into a Debian 12 root made by
# debootstrap (cached as a zstd tarball).
DEB_PACKAGES := lintian dpkg-dev binutils debootstrap zstd
HOPDUMP := bin/hopdump

.PHONY: all setup deps bench-deps deb-deps build exe deb guest-image demo test unit fixtures bench bench-pcap bench-faults bench-watch fuzz clean lab-clean schema lint format man

all: build

# Debian packages that are missing, then node modules, then the build.
setup: deps node_modules/.installed build

deps:
	@scripts/apt-deps.sh $(APT_PACKAGES)

bench-deps:
	@scripts/apt-deps.sh $(BENCH_PACKAGES)

deb-deps:
	@scripts/apt-deps.sh $(DEB_PACKAGES)

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

# tsc, then dist/bundle: the same code in a few files, which bin/hopdump loads faster (scripts/bundle.mjs).
build: node_modules/.installed
	npx tsc -p tsconfig.json
	node scripts/bundle.mjs

# The single executable: release/hopdump-linux-x64 and -arm64 (Node from the npm registry, cached in
# /var/cache/hopdump/node; docs/install.md). ARCH="x64" builds one.
exe: build
	node scripts/build-exe.mjs $(foreach a,$(or $(ARCH),x64 arm64),--arch $(a))

# The Debian package, release/hopdump_VERSION_amd64.deb, checked by lintian (no errors allowed;
# docs/install.md "Debian package").
deb: deb-deps exe
	scripts/build-deb.sh

# The vm lab's guest (kernel + initramfs), cached in /var/cache/hopdump/guest-image/ by a hash of
# the script and the package versions: a no-op when nothing changed.
guest-image: deps
	@scripts/guest-image/build.sh

demo: setup guest-image
	@scripts/demo.sh

test: setup guest-image deb
	node scripts/run-tests.mjs

# The type-check and the root-free tests (scripts/run-tests.mjs --unit): no root, no namespaces,
# nothing but Node and the node modules (npm ci, as any user); under a minute. make test runs it
# as nobody too (test/unit-as-user.test.ts).
unit:
	scripts/unit.sh

# Root: every lab topology with every fault (and healthy), and a few variants, diagnosed and
# written as fixtures to test/fixtures/diagnose/ (scripts/record-fixtures.ts), that make unit replays.
fixtures: setup
	node dist/scripts/record-fixtures.js

bench: setup bench-deps exe
	node dist/bench/run.js

# The pcap engine alone: reads of 1M-10M files against tcpdump and the 4×10M correlation against
# mergecap, each with the page cache warm and cold; start-up; four hops captured live into one
# hopdump at 100k packets/s total and a ramp; 100k fuzz inputs; the fingerprint collision rate.
# Ends with the targets (PASS/FAIL) and writes bench/out/pcap.json. RUNS=N (medians of N, default
# 3), PART=startup,reads,match,live,fuzz (some only), COND=warm|cold, QUICK=1 (small files).
bench-pcap: setup bench-deps exe
	node dist/bench/run.js --only=pcap $(if $(QUICK),--quick) $(if $(RUNS),--runs=$(RUNS)) \
	  $(if $(PART),--part=$(PART)) $(if $(COND),--cond=$(COND))

# The reader's mutation fuzz run on its own (FUZZ_INPUTS, default 100000).
fuzz: setup
	node dist/bench/pcap/fuzz-main.js $(or $(FUZZ_INPUTS),100000)

# Every lab fault diagnosed several times: localized? right cause first? time to verdict.
# VARIANTS=N: instead, every fault of the variant topologies on N randomized variants (seeds 1..N).
# hopdump watch with 200 guests (namespaces) probed every 10 s for an hour: CPU share and memory.
# TARGETS=N, INTERVAL=S, DURATION=S (seconds; default 3600). Not part of `make bench` (an hour).
bench-watch: setup
	node dist/bench/watch.js $(if $(TARGETS),--targets=$(TARGETS)) $(if $(INTERVAL),--interval=$(INTERVAL)) \
	  $(if $(DURATION),--duration=$(DURATION))

bench-faults: setup
	node dist/bench/faults.js --runs=3 $(if $(VARIANTS),--variants=$(VARIANTS))

# Prettier (print width 120) and ESLint (typescript-eslint's recommended type-checked rules), both in
# check mode; part of `make unit` and so of `make test`. `make format` rewrites the tree.
lint: node_modules/.installed
	node_modules/.bin/eslint src test bench scripts eslint.config.js
	node_modules/.bin/prettier --check .

format: node_modules/.installed
	node_modules/.bin/prettier --write .

# Regenerates the published JSON Schemas from the zod schemas (a test checks they match).
schema: build
	node scripts/gen-schema.mjs

# The man pages (hopdump.1, hopdump-COMMAND.1), made from the commands' --help texts, in release/man.
man: build
	node scripts/gen-man.mjs release/man

lab-clean: build
	$(HOPDUMP) lab down

clean:
	rm -rf dist release
