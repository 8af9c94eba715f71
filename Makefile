# Thin front door: everything real lives in scripts/, CMake and the launcher.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: deps build test unit demo down validate sanitize bench clean deb

deps:
	scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

# Every test: unit suites on fixtures, then integration suites against real daemons.
test: build
	scripts/run-tests.sh $(BUILD)

unit: build
	ctest --test-dir $(BUILD) -L unit --output-on-failure

demo: build
	scripts/demo.sh $(BUILD)

# The fault matrix, all twelve scenarios (about 20 minutes), against the stack it brings up;
# the measured table replaces the ones in docs/validation.md and README.md. make test runs the fast six.
validate: build
	XMPPWATCH_BUILD_DIR=$(abspath $(BUILD)) server/stack up
	XMPPWATCH_BUILD_DIR=$(abspath $(BUILD)) server/stack validate --json $(BUILD)/validation.json --markdown docs/validation.md --markdown README.md

down:
	@if [ -x server/stack ]; then server/stack down; fi

sanitize:
	$(MAKE) test BUILD=build-asan CMAKE_FLAGS="-DXMPPWATCH_SANITIZE=ON -DXMPPWATCH_BENCHMARKS=OFF"

bench: build
	bench/compare_exporters.sh $(BUILD)

# Debian packages of the exporter, the probe and the relay into $(BUILD)/deb, checked by
# lintian (docs/packaging.md).
deb: build
	scripts/build-deb.sh $(BUILD)

clean:
	rm -rf $(BUILD) build-asan
