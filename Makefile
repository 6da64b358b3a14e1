# The two commands: `make run` and `make test`. Both install what they need.
SHELL := /bin/bash
PORT ?= 8080
CARGO ?= cargo

.PHONY: run test deps deps-test build sample lint bench fuzz clean-test-dbs

deps:
	@scripts/deps.sh build

deps-test:
	@scripts/deps.sh test
	@command -v cargo-nextest >/dev/null || $(CARGO) install --locked cargo-nextest
	@command -v cargo-fuzz >/dev/null || $(CARGO) install --locked cargo-fuzz --version 0.13.1

build: deps
	$(CARGO) build --release

## Serve the bundled sample at http://localhost:$(PORT). It serves a copy
## (target/run/sample.gpkg, refreshed when data/sample.gpkg changes): edits
## and issued planning sheets are written into the served file, and the
## committed sample stays as it is.
run: build target/run/sample.gpkg
	./target/release/geoplan serve --gpkg target/run/sample.gpkg --listen 0.0.0.0:$(PORT)

target/run/sample.gpkg: data/sample.gpkg
	mkdir -p target/run
	cp data/sample.gpkg $@

## Regenerate the committed sample (deterministic)
sample: build
	./target/release/geoplan sample --seed 42 --parcels 20000 --out data/sample.gpkg

## Everything CI runs: formatting, lints, all tests against real PostGIS,
## then the fuzz smoke (every fuzz target a few seconds on its corpus).
test: deps-test
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings
	GEOPLAN_TEST_PYTHON=$(CURDIR)/.venv/bin/python GEOPLAN_TEST_PG=$$(scripts/test-postgres.sh) $(CARGO) nextest run --no-fail-fast
	$(CARGO) test --doc
	scripts/fuzz-smoke.sh

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings

## Long fuzz runs: every target 10,000,000 executions (see README "Fuzzing")
fuzz: deps-test
	benches/fuzz.sh

## Benchmarks on the 1,000,000-parcel set (see benches/README.md)
bench: build
	benches/run.sh
