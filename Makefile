# saker — the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
JOBS ?= $(shell nproc)
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 15

.PHONY: all setup build build-asan run test unit integration fuzz-smoke fuzz bench check-format clean

all: build

setup:
	@./scripts/setup.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release -DSAKER_TESTS=OFF

build: setup $(BUILD)/build.ninja
	ninja -C $(BUILD) -j $(JOBS)

$(ASAN_BUILD)/build.ninja:
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSAKER_SANITIZE=ON

build-asan: setup $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD) -j $(JOBS) saker_unit_tests

run: build
	@echo "saker listens on http://127.0.0.1:2801/ (Falco: http_output.url). Send a sample alert from another shell:"
	@echo "  curl -s -XPOST http://127.0.0.1:2801/ -H 'Content-Type: application/json' -d @examples/alert.json"
	@echo "Metrics: curl -s http://127.0.0.1:2801/metrics   Stop: Ctrl-C"
	./$(BUILD)/saker run

# Unit tests under ASan+UBSan, integration tests against the real binary, a bounded fuzz run.
test: build build-asan
	$(MAKE) --no-print-directory unit integration fuzz-smoke

unit:
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ./saker_unit_tests --gtest_brief=1

integration:
	python3 tests/integration/run.py --binary $(BUILD)/saker --loadgen $(BUILD)/saker_loadgen

$(FUZZ_BUILD)/build.ninja:
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSAKER_FUZZ=ON

fuzz-smoke: $(FUZZ_BUILD)/build.ninja
	ninja -C $(FUZZ_BUILD) -j $(JOBS)
	@for f in $(FUZZ_BUILD)/fuzz_*; do \
	  case $$f in *.log) continue;; esac; \
	  name=$$(basename $$f); mkdir -p $(FUZZ_BUILD)/corpus-$$name; \
	  echo "fuzz: $$name for $(FUZZ_SECONDS)s"; \
	  if ! $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/ \
	       $(FUZZ_BUILD)/corpus-$$name $$(ls -d tests/fuzz/seeds/$$name 2>/dev/null) > $(FUZZ_BUILD)/$$name.log 2>&1; then \
	    tail -50 $(FUZZ_BUILD)/$$name.log; echo "fuzz: $$name FAILED"; exit 1; \
	  fi; \
	  grep -E 'stat::number_of_executed_units|stat::peak_rss' $(FUZZ_BUILD)/$$name.log; \
	done

fuzz:
	$(MAKE) --no-print-directory fuzz-smoke FUZZ_SECONDS=300

bench: build
	./bench/run.sh

check-format:
	clang-format --dry-run -Werror $$(git ls-files 'src/*.cpp' 'src/*.hpp')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
