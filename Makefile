# hopdump: the two commands of the README are `make demo` and `make test`.
# Both do all of their own set-up, idempotently, as root on Debian.
SHELL := /bin/bash
APT_PACKAGES := tcpdump iproute2 iptables nftables ebtables iputils-ping arping netcat-openbsd \
                tshark ethtool procps util-linux openvswitch-switch
HOPDUMP := bin/hopdump

.PHONY: all setup deps build demo test bench bench-faults clean lab-clean schema

all: build

# Debian packages that are missing, then node modules, then the build.
setup: deps node_modules/.installed build

deps:
	@scripts/apt-deps.sh $(APT_PACKAGES)

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

build: node_modules/.installed
	npx tsc -p tsconfig.json

demo: setup
	@scripts/demo.sh

test: setup
	node scripts/run-tests.mjs

bench: setup
	node dist/bench/run.js

# Every lab fault diagnosed several times: localized? right cause first? time to verdict.
bench-faults: setup
	node dist/bench/faults.js --runs=3

# Regenerates the published JSON Schemas from the zod schemas (a test checks they match).
schema: build
	node scripts/gen-schema.mjs

lab-clean: build
	$(HOPDUMP) lab down

clean:
	rm -rf dist
