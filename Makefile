# The two commands a newcomer needs (README): `make demo` and `make test`.
SWIFT ?= swift
BIN = .build/debug/patchbay
SITE = examples/berlin/patchbay.yaml

.PHONY: deps build demo test test-api test-host example-plugin clean

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

clean:
	rm -rf .build Sources/PluginAPI/.build Examples/HelloPlugin/.build
