# Outfall survey sync backend. `make run` builds and serves; `make test` runs the whole suite.
#
# Two build trees: build/release (optimised, what `make run` serves) and build/asan (AddressSanitizer
# + UndefinedBehaviorSanitizer, what `make test` runs). Generated code lives in build/gen.

SHELL := /bin/bash
CC ?= cc

# Debian 12 packages the build, the server and the tests need.
DEB_PKGS := gcc make pkg-config libcivetweb-dev libsqlite3-dev libsodium-dev libprotobuf-c-dev \
            protobuf-c-compiler libjansson-dev libcmocka-dev libcurl4-openssl-dev sqlite3 libexif-dev \
            libqrencode-dev libssl-dev

# What `make demo` (tools/demo.sh) needs besides: curl and jq, to call the API and read its answers.
DEMO_DEB_PKGS := curl jq

# The object store's tests start s3rver (MIT), pinned by tests/s3/package-lock.json and installed
# by node-deps beside the browser tests' packages (tests/s3/serve.mjs).
# What the browser tests (tests/browser) need as well, each as "what it provides:package": Debian's
# Chromium, a CJK font for it, Node.js 20+ and npm. A package is installed only when what it
# provides is missing: the machines come with NodeSource's nodejs, which bundles npm and conflicts
# with Debian's npm package.
BROWSER_TOOLS := /usr/bin/chromium:chromium /usr/share/fonts/truetype/wqy/wqy-microhei.ttc:fonts-wqy-microhei \
                 node:nodejs npm:npm

# What `make test` needs besides: clang and its libFuzzer runtime for the fuzz targets (fuzz/), and
# nginx and openssl for the TLS test (tests/tls); gdal-bin (about 140 MB) so the GeoJSON export is
# read back by GDAL's ogrinfo (tests/api/test_programme_reports.c); zbar-tools so a sign board's QR code
# is decoded back by zbarimg (tests/api/test_signboard.c); python3-requests, and OkHttp with a
# JDK to run it, stock HTTP clients tests/api/test_connections.c runs against the server (with
# Node's fetch and libcurl); protobuf-compiler (protoc) to generate the Connect clients of
# tests/browser/connect.test.js and the examples' contract; DEMO_DEB_PKGS for
# tests/api/test_demo.c, which runs tools/demo.sh; EXAMPLE_DEB_PKGS for tests/api/test_examples.c,
# which runs the integrators' examples (examples/).
# Installed like DEB_PKGS, by test-deps.
EXAMPLE_DEB_PKGS := python3-protobuf python3-nacl python3-gdal
TEST_DEB_PKGS := clang-14 libclang-rt-14-dev nginx openssl gdal-bin zbar-tools python3-requests \
                 libokhttp-java default-jdk-headless clang-format protobuf-compiler $(DEMO_DEB_PKGS) \
                 $(EXAMPLE_DEB_PKGS)

PKG_LIBS := sqlite3 libsodium libprotobuf-c jansson libcurl libexif libqrencode libcrypto
PKG_CFLAGS = $(shell pkg-config --cflags $(PKG_LIBS) 2>/dev/null)
PKG_LDLIBS = $(shell pkg-config --libs $(PKG_LIBS) 2>/dev/null)
LDLIBS = -lcivetweb $(PKG_LDLIBS) -lpthread -lm

GEN := build/gen
PROTO := proto/outfall/v1/outfall.proto
PROTO_C := $(GEN)/outfall/v1/outfall.pb-c.c
PROTO_H := $(GEN)/outfall/v1/outfall.pb-c.h
MIGRATIONS := $(sort $(wildcard migrations/*.sql))
MIGRATIONS_C := $(GEN)/migrations.c

WARN := -Wall -Wextra -Werror -Wshadow -Wno-missing-field-initializers
BASE_CFLAGS = -std=c11 -D_GNU_SOURCE -I. -I$(GEN) $(PKG_CFLAGS) -MMD -MP
REL_CFLAGS := -O2 -g
ASAN_CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
ASAN_LDFLAGS := -fsanitize=address,undefined

COMMON_SRC := $(sort $(wildcard common/*.c))
OBJSTORE_SRC := $(sort $(wildcard objstore/*.c))
SYNC_SRC := $(sort $(wildcard sync/*.c))
PROGRAMME_SRC := $(sort $(wildcard programme/*.c))
RENDER_SRC := $(sort $(wildcard render/*.c))
SERVER_SRC := $(sort $(wildcard server/*.c))
CLIENT_SRC := $(sort $(wildcard client/*.c))
CTL_SRC := $(sort $(wildcard tools/outfallctl/*.c))
TESTLIB_SRC := $(sort $(wildcard tests/lib/*.c))
TEST_SRC := $(sort $(wildcard tests/common/test_*.c tests/objstore/test_*.c tests/sync/test_*.c tests/programme/test_*.c tests/render/test_*.c tests/api/test_*.c \
                               tests/fuzz/test_*.c tests/tls/test_*.c \
                               tests/reliability/test_*.c tests/bench/test_*.c))

objs = $(patsubst %.c,$(1)/%.o,$(2))
GEN_OBJ = $(1)/gen/outfall/v1/outfall.pb-c.o $(1)/gen/migrations.o

CORE = $(call objs,$(1),$(COMMON_SRC) $(OBJSTORE_SRC) $(SYNC_SRC) $(PROGRAMME_SRC) $(RENDER_SRC)) $(call GEN_OBJ,$(1))
# The client library (client/): what outfallctl, the tests and the benchmark link beside CORE.
CLIENT = $(call objs,$(1),$(CLIENT_SRC))

.PHONY: all run demo test check deps test-deps fuzz fuzz-seeds browser-deps build build-test clean fmt format-check bench field-figures vendor-check layout-check contract-check node-deps \
        crash-long soak-long FORCE
# Keep test objects between builds (they would count as intermediate files).
.SECONDARY:
.DEFAULT_GOAL := all

all: deps build

build: build/release/outfalld build/release/outfallctl

build-test: build/asan/outfalld build/asan/outfallctl $(patsubst %.c,build/asan/%,$(TEST_SRC))

# Installs missing Debian packages when run as root; otherwise names them and stops
# (tools/install_missing.sh). missing_debs lists those of $(1) dpkg does not have installed.
missing_debs = $$(for p in $(1); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done)

deps:
	@tools/install_missing.sh "" $(call missing_debs,$(DEB_PKGS))

# What the browser tests need (BROWSER_TOOLS, installed as root like deps), then their npm
# packages as pinned by tests/browser/package-lock.json (npm ci, again only when the lock changed).
browser-deps: node-deps
	@tools/install_missing.sh "for the browser tests" \
	  $$(for t in $(BROWSER_TOOLS); do c=$${t%%:*}; [ -e "$$c" ] || command -v "$$c" >/dev/null 2>&1 || echo $${t#*:}; done)

# Node.js and the npm packages alone (no Chromium): what make contract-check needs for buf, and
# tests/s3's s3rver for the object store's tests and the JavaScript example's (examples/js, run by
# tests/api/test_examples.c).
NODE_TOOLS := node:nodejs npm:npm
node-deps:
	@tools/install_missing.sh "for the npm packages" \
	  $$(for t in $(NODE_TOOLS); do c=$${t%%:*}; command -v "$$c" >/dev/null 2>&1 || echo $${t#*:}; done)
	@cd tests/browser && if ! cmp -s package-lock.json node_modules/.package-lock.stamp; then \
	  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error && \
	  cp package-lock.json node_modules/.package-lock.stamp; fi
	@for d in tests/s3 examples/js; do (cd $$d && if ! cmp -s package-lock.json node_modules/.package-lock.stamp; then \
	  npm ci --no-audit --no-fund --loglevel=error && \
	  cp package-lock.json node_modules/.package-lock.stamp; fi) || exit 1; done

# TEST_DEB_PKGS, as deps does for DEB_PKGS.
test-deps:
	@tools/install_missing.sh "for the tests" $(call missing_debs,$(TEST_DEB_PKGS))

run: all
	./build/release/outfalld --data ./data $(ARGS)

# A first look: the server on a fresh ./demo-data (DEMO_DATA=DIR for another) seeded through the
# API with a small campaign, its URLs and accounts printed, served until Ctrl-C (tools/demo.sh;
# ARGS='--listen HOST:PORT'). A finished demo folder is served again as it is.
demo: all
	@tools/install_missing.sh "for the demo" $(call missing_debs,$(DEMO_DEB_PKGS))
	@tools/demo.sh $(ARGS)

# The packages first, then the checks and the build on every core, then the tests, TEST_JOBS at
# once (default: three times the cores, a browser file counting as two; tests/run.sh).
NPROC := $(shell nproc 2>/dev/null || echo 2)
test: deps browser-deps test-deps
	@$(MAKE) --no-print-directory -j$(NPROC) format-check layout-check contract-check build-test
	@tests/run.sh build/asan

# A quick subset for while you work (under half a minute once built): the codecs' and the engine's
# unit tests that need no server.
CHECK_TESTS := tests/common/test_credit_code tests/common/test_pbjson_decode tests/common/test_hash_hex \
               tests/common/test_pbjson_encode tests/common/test_pbjson_bounds \
               tests/sync/test_record tests/sync/test_exif tests/programme/test_draws \
               tests/render/test_csv tests/render/test_tar tests/render/test_annual_report \
               tests/render/test_outfalls_export tests/render/test_photo_manifest tests/sync/test_geo \
               tests/sync/test_store tests/render/test_annual_differences
check: deps layout-check contract-check build/asan/outfalld $(addprefix build/asan/,$(CHECK_TESTS))
	@tests/run.sh build/asan $(CHECK_TESTS)

# The long forms of the reliability tests (tests/reliability): 100 kill -9s under load, and a
# 10-minute soak at 50 signed batches per second. `make test` runs the short forms.
RELIABILITY_ENV = OUTFALLD=$(CURDIR)/build/asan/outfalld OUTFALLCTL=$(CURDIR)/build/asan/outfallctl \
  OUTFALL_FIXTURES=$${OUTFALL_FIXTURES:-$(CURDIR)/tests/fixtures} \
  ASAN_OPTIONS=$${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0} \
  UBSAN_OPTIONS=$${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

crash-long: deps build-test
	$(RELIABILITY_ENV) OUTFALL_CRASH_KILLS=100 build/asan/tests/reliability/test_crash

soak-long: deps build-test
	$(RELIABILITY_ENV) OUTFALL_SOAK_SECONDS=600 build/asan/tests/reliability/test_soak

# The field-day benchmark (bench/README.md): optimised server, temporary data folder, one table.
# Flags go through ARGS, e.g. make bench ARGS='--phones 500' or ARGS=--quick.
BENCH_SRC := $(sort $(wildcard bench/*.c))

bench: deps build build/release/bench/fieldday
	@bench/run.sh $(ARGS)

build/release/bench/fieldday: $(call objs,build/release,$(BENCH_SRC) tests/lib/child.c) \
                              $(call CLIENT,build/release) $(call CORE,build/release)
	$(CC) -o $@ $^ $(LDLIBS)

# The benchmark with the sanitizers as well: tests/bench runs it at a tiny size so it cannot rot.
build/asan/bench/fieldday: $(call objs,build/asan,$(BENCH_SRC) tests/lib/child.c) \
                           $(call CLIENT,build/asan) $(call CORE,build/asan)
	$(CC) $(ASAN_LDFLAGS) -o $@ $^ $(LDLIBS)
build-test: build/asan/bench/fieldday

# The field app's figures (docs/field-app.md): first-load bytes, pulling N outfalls into a phone in
# headless Chromium, hashing a 12 MP photo. ARGS: N (default 10000).
field-figures: deps browser-deps build
	@OUTFALLD=$(CURDIR)/build/release/outfalld node tests/browser/field_figures.mjs $(ARGS)

# The field app's pinned libraries (web/field/vendor/VENDOR.md): fetched again from the npm
# registry, checked against their pinned integrity, and compared byte for byte with the copies.
vendor-check:
	@tools/vendor_check.sh

fmt:
	clang-format -i $$(git ls-files '*.c' '*.h')

# Every C file as clang-format (the repository's .clang-format) writes it; `make fmt` fixes them.
format-check: test-deps
	@clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h') 2>&1 | \
	  sed -n 's/^\([^ :]*\.[ch]\):[0-9]*:[0-9]*: .*clang-format-violations.*/\1/p' | sort -u | tr '\n' ' ' | \
	  { read -r bad; [ -z "$$bad" ] || { echo "format-check: not as clang-format writes them (make fmt): $$bad" >&2; exit 1; }; }

# The public contract (buf.yaml): buf lint, and buf breaking against the released contract in
# proto-released/; buf comes pinned from npm with the browser tests' packages.
BUF := tests/browser/node_modules/.bin/buf
contract-check: node-deps
	@$(BUF) lint && $(BUF) breaking --against proto-released && echo "contract-check: buf lint and buf breaking passed"

# The engine (sync/) never includes the programme (programme/): where it calls a feature, it goes
# through its hooks (sync/hooks.h), which programme/hooks.c registers. The object store client
# (objstore/) knows nothing of the project: it includes none of its folders. Renderers (render/) take
# plain data and include none of the engine, the programme or the server. The programme keeps the
# queries and rules and writes no bytes format itself: no HTML markup or CSV byte-order mark in its
# strings, no tab-separated header, none of render's low-level writers (text, csv, html, tar
# headers); LAYOUT_BYTES_LEFT names the files not moved yet (none).
LAYOUT_BYTES_LEFT :=
layout-check:
	@bad=$$(grep -lE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"programme/' sync/*.c sync/*.h); \
	  [ -z "$$bad" ] || { echo "layout-check: the engine includes the programme (use sync/hooks.h):" $$bad >&2; exit 1; }
	@bad=$$(grep -lE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"(common|sync|programme|render|server)/' objstore/*.c objstore/*.h); \
	  [ -z "$$bad" ] || { echo "layout-check: the object store client reaches into the project:" $$bad >&2; exit 1; }
	@bad=$$(grep -lE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"(sync|programme|server)/' render/*.c render/*.h); \
	  [ -z "$$bad" ] || { echo "layout-check: a renderer reaches into the engine, the programme or the server:" $$bad >&2; exit 1; }
	@bad=$$(grep -lE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"render/(text|csv|html)\.h"|"[^"]*(<(/?(html|head|body|table|tr|td|th|h[1-6]|p|style|title|meta)[ >]|!DOCTYPE)|\\xEF\\xBB\\xBF)|"[a-z0-9_]+\\t[a-z0-9_]+\\t|\btar_header\(' \
	  $(filter-out $(LAYOUT_BYTES_LEFT),$(wildcard programme/*.c))); \
	  [ -z "$$bad" ] || { echo "layout-check: the programme writes a bytes format (HTML, CSV, TSV, tar): move it to render/:" $$bad >&2; exit 1; }

clean:
	rm -rf build

# --- generated code ---
$(PROTO_C) $(PROTO_H): $(PROTO)
	@mkdir -p $(GEN)
	protoc-c --proto_path=proto --c_out=$(GEN) $(PROTO)

# The migrations' file names, the file rewritten only when they change: make sees only the
# migrations that exist, so without it a removed or renamed one would stay embedded.
MIGRATIONS_LIST := $(GEN)/migrations.list
$(MIGRATIONS_LIST): FORCE
	@mkdir -p $(GEN)
	@echo '$(MIGRATIONS)' | cmp -s - $@ || echo '$(MIGRATIONS)' > $@
FORCE:

$(MIGRATIONS_C): $(MIGRATIONS) $(MIGRATIONS_LIST) tools/embed_migrations.sh
	@mkdir -p $(GEN)
	tools/embed_migrations.sh $(MIGRATIONS) > $@.tmp && mv $@.tmp $@

# Every object depends on the generated header, so it exists before anything includes it.
GEN_DEP := $(PROTO_H)

# --- per-tree rules ---
define tree
$(1)/%.o: %.c $(GEN_DEP)
	@mkdir -p $$(@D)
	$$(CC) $$(BASE_CFLAGS) $(2) $$(WARN) -c $$< -o $$@

# Generated code gets its own flags: it trips -Wmissing-braces and friends.
$(1)/gen/%.o: $(GEN)/%.c $(GEN_DEP)
	@mkdir -p $$(@D)
	$$(CC) $$(BASE_CFLAGS) $(2) -w -c $$< -o $$@

$(1)/outfalld: $$(call objs,$(1),$(SERVER_SRC)) $$(call CORE,$(1))
	$$(CC) $(3) -o $$@ $$^ $$(LDLIBS)

$(1)/outfallctl: $$(call objs,$(1),$(CTL_SRC)) $$(call CLIENT,$(1)) $$(call CORE,$(1))
	$$(CC) $(3) -o $$@ $$^ $$(LDLIBS)
endef

$(eval $(call tree,build/release,$(REL_CFLAGS),))
$(eval $(call tree,build/asan,$(ASAN_CFLAGS),$(ASAN_LDFLAGS)))

# Each test file is its own binary: engine tests link the core, API tests link the harness too.
build/asan/tests/%: build/asan/tests/%.o $(call objs,build/asan,$(TESTLIB_SRC)) $(call CLIENT,build/asan) \
                    $(call CORE,build/asan)
	$(CC) $(ASAN_LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

# test_group_commit refuses to start threads in one test (its __wrap_pthread_create).
build/asan/tests/sync/test_group_commit: LDLIBS += -Wl,--wrap=pthread_create

# --- fuzzing (fuzz/README.md): libFuzzer targets fuzz/fuzz_NAME.c, built with clang, ASan and
# UBSan into build/fuzz/fuzz_NAME. `make fuzz` runs each for FUZZ_SECONDS; `make test` replays the
# corpora and regressions and runs each briefly (tests/fuzz/test_fuzz.c).
FUZZ_CC ?= clang-14
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := $(patsubst fuzz/fuzz_%.c,%,$(sort $(wildcard fuzz/fuzz_*.c)))
FUZZ_BINS := $(patsubst %,build/fuzz/fuzz_%,$(FUZZ_TARGETS))
FUZZ_CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
               -fno-sanitize-recover=undefined
FUZZ_LIB = $(call objs,build/fuzz,$(sort $(wildcard fuzz/lib/*.c)) client/sign.c client/hash.c \
             $(filter-out server/main.c,$(SERVER_SRC))) $(call CORE,build/fuzz)
# The connection calls fuzz/lib/fake_conn.c stands in for, and CivetWeb's pure helpers.
FUZZ_MG_OK := mg_get_request_info mg_get_header mg_read mg_write mg_printf \
              mg_get_response_code_text mg_get_thread_pointer mg_get_var mg_get_var2 \
              mg_url_decode mg_url_encode mg_get_cookie

build-test: $(FUZZ_BINS)

fuzz: deps test-deps $(FUZZ_BINS)
	@fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

build/fuzz/%.o: %.c $(GEN_DEP)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(BASE_CFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(WARN) -c $< -o $@

build/fuzz/gen/%.o: $(GEN)/%.c $(GEN_DEP)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(BASE_CFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -w -c $< -o $@

# Every message type of the contract, for the JSON-mapping target.
$(GEN)/pb_descriptors.inc: $(PROTO_H)
	grep 'extern const ProtobufCMessageDescriptor' $< | grep -oE 'outfall__v1__[a-z0-9_]+__descriptor' \
	  | sort -u | sed 's/.*/\&&,/' > $@.tmp && mv $@.tmp $@
build/fuzz/fuzz/fuzz_pbjson.o: $(GEN)/pb_descriptors.inc

# The seed corpora (fuzz/tools/seeds.c writes them; the result is committed).
build/fuzz/seeds: build/fuzz/fuzz/tools/seeds.o $(call CORE,build/fuzz)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -o $@ $^ $(LDLIBS)

fuzz-seeds: build/fuzz/seeds
	build/fuzz/seeds fuzz/corpus tests/fixtures/photos

# Refuses to link when the server calls a CivetWeb connection function the fake lacks.
build/fuzz/fuzz_%: build/fuzz/fuzz/fuzz_%.o $(FUZZ_LIB)
	@bad=$$(nm -u $(filter build/fuzz/server/%,$^) | awk '$$2 ~ /^mg_/ {print $$2}' | sort -u | \
	  grep -vxF $(addprefix -e ,$(FUZZ_MG_OK))); \
	if [ -n "$$bad" ]; then echo "fuzz: fake these in fuzz/lib/fake_conn.c:" $$bad >&2; exit 1; fi
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

-include $(shell find build -name '*.d' 2>/dev/null)
