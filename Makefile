# Outfall survey sync backend. `make run` builds and serves; `make test` runs the whole suite.
#
# Two build trees: build/release (optimised, what `make run` serves) and build/asan (AddressSanitizer
# + UndefinedBehaviorSanitizer, what `make test` runs). Generated code lives in build/gen.

SHELL := /bin/bash
CC ?= cc

# Debian 12 packages the build, the server and the tests need.
DEB_PKGS := gcc make pkg-config libcivetweb-dev libsqlite3-dev libsodium-dev libprotobuf-c-dev \
            protobuf-c-compiler libjansson-dev libcmocka-dev libcurl4-openssl-dev sqlite3

PKG_LIBS := sqlite3 libsodium libprotobuf-c jansson libcurl
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
SYNC_SRC := $(sort $(wildcard sync/*.c))
SERVER_SRC := $(sort $(wildcard server/*.c))
CTL_SRC := $(sort $(wildcard tools/outfallctl/*.c))
TESTLIB_SRC := $(sort $(wildcard tests/lib/*.c))
TEST_SRC := $(sort $(wildcard tests/common/test_*.c tests/sync/test_*.c tests/api/test_*.c))

objs = $(patsubst %.c,$(1)/%.o,$(2))
GEN_OBJ = $(1)/gen/outfall/v1/outfall.pb-c.o $(1)/gen/migrations.o

CORE = $(call objs,$(1),$(COMMON_SRC) $(SYNC_SRC)) $(call GEN_OBJ,$(1))

.PHONY: all run test deps build build-test clean fmt bench
# Keep test objects between builds (they would count as intermediate files).
.SECONDARY:
.DEFAULT_GOAL := all

all: deps build

build: build/release/outfalld build/release/outfallctl

build-test: build/asan/outfalld build/asan/outfallctl $(patsubst %.c,build/asan/%,$(TEST_SRC))

# Installs missing Debian packages when run as root; otherwise names them and stops.
deps:
	@missing=$$(for p in $(DEB_PKGS); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian packages:" $$missing; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing) >/dev/null || exit 1; \
	  else \
	    echo "missing Debian packages: $$missing" >&2; \
	    echo "install them with: sudo apt-get install $$missing" >&2; exit 1; \
	  fi; \
	fi

run: all
	./build/release/outfalld --data ./data $(ARGS)

test: deps build-test
	@tests/run.sh build/asan

bench: deps build
	@echo "benchmarks: see bench/README.md"

fmt:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build

# --- generated code ---
$(PROTO_C) $(PROTO_H): $(PROTO)
	@mkdir -p $(GEN)
	protoc-c --proto_path=proto --c_out=$(GEN) $(PROTO)

$(MIGRATIONS_C): $(MIGRATIONS) tools/embed_migrations.sh
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

$(1)/outfallctl: $$(call objs,$(1),$(CTL_SRC)) $$(call CORE,$(1))
	$$(CC) $(3) -o $$@ $$^ $$(LDLIBS)
endef

$(eval $(call tree,build/release,$(REL_CFLAGS),))
$(eval $(call tree,build/asan,$(ASAN_CFLAGS),$(ASAN_LDFLAGS)))

# Each test file is its own binary: engine tests link the core, API tests link the harness too.
build/asan/tests/%: build/asan/tests/%.o $(call objs,build/asan,$(TESTLIB_SRC)) $(call CORE,build/asan)
	$(CC) $(ASAN_LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

-include $(shell find build -name '*.d' 2>/dev/null)
