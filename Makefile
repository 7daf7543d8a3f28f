# The two commands a newcomer needs (README): `make demo` and `make test`.
SWIFT ?= swift
BIN = .build/debug/patchbay
SITE = Examples/berlin/patchbay.yaml

.PHONY: deps build demo test lint format test-api test-host example-plugin fuzz fuzz-bencode bench bench-deps bench-micro bench-callgrind bench-load bench-latency bench-memory bench-media bench-profile clean

deps:
	./scripts/install-deps.sh

build: deps
	$(SWIFT) build

# Main job on the bundled example: list the plugins, validate the site and run its route tests, then dry-run
# a call from the PBX to a national number with every step shown.
demo: build
	$(BIN) plugins
	$(BIN) check $(SITE)
	$(BIN) route $(SITE) --from pbx --to 0030987654 --caller 2345 --explain
	./scripts/demo.sh

# A plugin built as a separate SwiftPM package, loaded by the tests from a drop-in directory.
example-plugin: deps
	$(SWIFT) build --package-path Examples/HelloPlugin

test-api:
	$(SWIFT) test --package-path Sources/PluginAPI

test-host: build example-plugin
	$(SWIFT) test

test: deps test-api test-host

# swift-format with the checked-in .swift-format (4 spaces, 120 columns) over every tracked Swift file; CI runs
# `make lint` and fails on any warning. `make format` rewrites the files in place.
SWIFT_FILES = $$(git ls-files --cached --others --exclude-standard '*.swift')
lint:
	$(SWIFT) format lint --strict $(SWIFT_FILES)

format:
	$(SWIFT) format format -i $(SWIFT_FILES)

# libFuzzer over the whole per-message path (parser, adapters, routing, SDP) on the example site, with ASan and
# LeakSanitizer, for FUZZ_SECONDS. Seeds: every fixture and torture message; the corpus grows in .build-fuzz.
# A crash leaves .build-fuzz/crash-*: replay it with `.build/debug/PatchbayFuzz FILE`, fix it, and keep it in
# Tests/Fixtures/fuzz/ as NAME.bin (MessagePathTests runs them all).
FUZZ_SECONDS ?= 120
FUZZ_FLAGS = --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING
fuzz: deps
	$(SWIFT) build $(FUZZ_FLAGS) --product PatchbayFuzz
	for p in IPPBX PSTNGateway ITSPTrunk; do $(SWIFT) build $(FUZZ_FLAGS) --product $$p || exit 1; done
	mkdir -p .build-fuzz/corpus
	cp Tests/Fixtures/*.sip Tests/Fixtures/rfc4475/*.dat .build-fuzz/corpus/
	cp Tests/Fixtures/fuzz/*.bin .build-fuzz/corpus/ 2>/dev/null || true
	LSAN_OPTIONS=suppressions=Fuzz/lsan.supp .build-fuzz/debug/PatchbayFuzz .build-fuzz/corpus \
		-max_total_time=$(FUZZ_SECONDS) -max_len=8192 -timeout=10 -artifact_prefix=.build-fuzz/crash- -print_final_stats=1

# The bencode decoder of rtpengine's answers, seeded with real ng messages (Tests/Fixtures/bencode).
fuzz-bencode: deps
	$(SWIFT) build $(FUZZ_FLAGS) --product PatchbayFuzz
	mkdir -p .build-fuzz/corpus-bencode
	cp Tests/Fixtures/bencode/*.bin .build-fuzz/corpus-bencode/
	PATCHBAY_FUZZ_TARGET=bencode LSAN_OPTIONS=suppressions=Fuzz/lsan.supp .build-fuzz/debug/PatchbayFuzz \
		.build-fuzz/corpus-bencode -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -timeout=10 \
		-artifact_prefix=.build-fuzz/crash-bencode- -print_final_stats=1

# Benchmarks (issue 5; figures and commands in BENCHMARKS.md): the per-message hot path beside libosip2
# (Benchmarks/, ordo-one/benchmark), then sipp load through Patchbay and Kamailio in the same run with the harness
# in ../shared/bench, then resident memory per established call. Results land in .build/bench/.
LOAD_OPTS ?= --duration 5 --rates "200 400 800 1200 1600 2400 3200 4800 6400 8000 10000" --refine 2
MEMORY_OPTS ?= --calls 10000 --rate 500
bench: bench-micro bench-load bench-memory

bench-deps: deps
	./scripts/bench-deps.sh

bench-micro: bench-deps
	./scripts/bench-micro.sh

bench-load: bench-deps
	./scripts/bench-load.sh $(LOAD_OPTS)

# Not part of `bench`: Patchbay and Kamailio each with and without media anchored through one rtpengine (issue 22):
# the CPU per call anchoring adds to each, and the anchored routers' calls per second and p99 (MEDIA_OPTS).
bench-media: bench-deps
	./scripts/bench-media.sh $(MEDIA_OPTS)

bench-memory: bench-deps
	@test -x .build/release/patchbay || $(SWIFT) build -c release
	./scripts/bench-memory.sh $(MEMORY_OPTS)

# Not part of `bench`: p50-p99.9 INVITE->200 through Patchbay and Kamailio at the same rates, percentiles over the
# calls of all rounds: interleaved rounds with sipp alone beside them (400-1,600 calls/s), or with
# LATENCY_OPTS="--paired" both routers at once (200-800 calls/s each). Also --rates, --rounds, --duration.
LATENCY_OPTS ?=
bench-latency: bench-deps
	./scripts/bench-latency.sh $(LATENCY_OPTS)

# Not part of `bench`: perf samples of Patchbay under the load of bench-load at one rate (PROFILE_OPTS: --rate N).
bench-profile: bench-deps
	./scripts/bench-profile.sh $(PROFILE_OPTS)

# Instructions per message on the hot path, and per call in the transaction layer, under callgrind (exact, unlike
# time on a shared VM): the yardstick for a change worth a few per cent. Not part of `make bench`.
bench-callgrind: bench-deps
	./scripts/bench-callgrind.sh

clean:
	rm -rf .build .build-fuzz Sources/PluginAPI/.build Examples/HelloPlugin/.build Benchmarks/.build
