# hardline — one non-recursive Makefile. Source lists live in mk/*.mk, one fragment per area,
# so that each area names its own files explicitly; everything builds into $(BUILD)/.
#
#   make            build/hardline, build/hardline-static, build/hardline-webhook
#   make test       unit (cmocka) + integration tests; ends with "N passed, N failed"
#   make test SAN=1 the same under AddressSanitizer + UndefinedBehaviorSanitizer, in build-san/ (CI does this)
#   make deps       install the Debian packages the build and the tests need (idempotent)
#   make demo       the end-to-end demo of README.md
#   make lint       clang-format check, cppcheck, banned calls
#   make bench      benchmarks (tests/bench)

# A sanitizer build lives in its own directory, so that switching SAN never mixes objects built with other flags.
ifeq ($(SAN),1)
BUILD    ?= build-san
else
BUILD    ?= build
endif
CC       ?= cc
PKGS     := libmicrohttpd jansson libcrypto libssl libarchive libcurl
WARN     := -Wall -Wextra -Wformat=2 -Wshadow -Wno-unused-parameter
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 $(WARN) -fno-strict-aliasing -D_FILE_OFFSET_BITS=64 -I. \
            $(shell pkg-config --cflags $(PKGS))
LDLIBS   += $(shell pkg-config --libs $(PKGS)) -lpthread
ifeq ($(WERROR),1)
CFLAGS   += -Werror
endif
ifeq ($(SAN),1)
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
CFLAGS   += $(SANFLAGS)
LDFLAGS  += $(SANFLAGS)
endif

LIB_SRCS      :=
HARDENER_SRCS :=
WEBHOOK_SRCS  :=
UNIT_TESTS    :=
FUZZ_TARGETS  :=
BENCH_PROGS   :=
include mk/lib.mk mk/hardener.mk mk/image.mk mk/attest.mk mk/webhook.mk mk/tests.mk

LIB_OBJS      := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
HARDENER_OBJS := $(HARDENER_SRCS:%.c=$(BUILD)/obj/%.o)
WEBHOOK_OBJS  := $(WEBHOOK_SRCS:%.c=$(BUILD)/obj/%.o)
UNIT_BINS     := $(UNIT_TESTS:tests/unit/%.c=$(BUILD)/tests/%)
BENCH_BINS    := $(BENCH_PROGS:tests/bench/%.c=$(BUILD)/bench/%)

all: $(BUILD)/hardline $(BUILD)/hardline-webhook $(BUILD)/hardline-static

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/libhardline.a: $(LIB_OBJS)
	@rm -f $@; $(AR) rcs $@ $^
HARDENER_MAINS := %/hardener/main.o %/hardener/cmd_table.o %/hardener/cmd_table_static.o
$(BUILD)/libhardener.a: $(filter-out $(HARDENER_MAINS),$(HARDENER_OBJS))
	@rm -f $@; $(AR) rcs $@ $^
$(BUILD)/libwebhook.a: $(filter-out %/webhook/main.o,$(WEBHOOK_OBJS))
	@rm -f $@; $(AR) rcs $@ $^

$(BUILD)/hardline: $(BUILD)/obj/hardener/main.o $(BUILD)/obj/hardener/cmd_table.o $(BUILD)/libhardener.a \
		$(BUILD)/libhardline.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/hardline-webhook: $(BUILD)/obj/webhook/main.o $(BUILD)/libwebhook.a $(BUILD)/libhardline.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The in-build hardener: fully static, no sanitizers, so that it runs in any base image (even one with no libc).
# Its command table (cmd_table_static.c) names only the commands that need no network libraries, so that
# the linker pulls just those objects out of the static archives.
STATIC_OBJS := $(patsubst %.c,$(BUILD)/static/%.o,$(filter-out hardener/main.c hardener/cmd_table.c,$(HARDENER_SRCS)) $(LIB_SRCS))
STATIC_LINK := $(shell pkg-config --static --libs jansson libcrypto 2>/dev/null) -lpthread
$(BUILD)/static/%.o: %.c
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -O2 $(WARN) -D_FILE_OFFSET_BITS=64 -DHARDLINE_STATIC=1 -I. \
	    $(shell pkg-config --cflags $(PKGS)) -MMD -MP -c -o $@ $<
$(BUILD)/static/libhardline-all.a: $(STATIC_OBJS)
	@rm -f $@; $(AR) rcs $@ $^
$(BUILD)/hardline-static: $(BUILD)/static/hardener/main.o $(BUILD)/static/hardener/cmd_table_static.o \
		$(BUILD)/static/libhardline-all.a
	$(CC) -static -o $@ $^ $(STATIC_LINK)
	@strip $@

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(BUILD)/libhardener.a $(BUILD)/libwebhook.a $(BUILD)/libhardline.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

$(BUILD)/bench/%: $(BUILD)/obj/tests/bench/%.o $(BUILD)/libhardener.a $(BUILD)/libwebhook.a $(BUILD)/libhardline.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

unit: $(UNIT_BINS)

# TESTS=unit|integration|all, FILTER=substring of a test file name.
test: deps
	@$(MAKE) --no-print-directory all unit
	@BUILD=$(BUILD) ./tests/run.sh $(if $(TESTS),--only $(TESTS)) $(if $(FILTER),--filter $(FILTER))

deps:
	@./tests/deps.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@./tests/demo.sh

bench: all $(BENCH_BINS)
	@BUILD=$(BUILD) ./tests/bench/run.sh

lint:
	@./tests/lint.sh

clean:
	rm -rf $(BUILD)

.PHONY: all unit test deps demo bench lint clean
.DELETE_ON_ERROR:
# Keep the objects of test and bench programs (make would delete them as intermediates and rebuild them next time).
.SECONDARY:
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# Fuzzing (libFuzzer, clang): one binary per tests/fuzz/fuzz_<name>.c, run for FUZZ_SECONDS each by `make fuzz`.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 30
FUZZ_FLAGS   := -std=gnu11 -g -O1 -I. -fsanitize=fuzzer,address,undefined -D_FILE_OFFSET_BITS=64 \
                $(shell pkg-config --cflags $(PKGS))
FUZZ_BINS    := $(FUZZ_TARGETS:tests/fuzz/%.c=$(BUILD)/fuzz/%)
$(BUILD)/fuzz/%: tests/fuzz/%.c $(LIB_SRCS) $(filter-out hardener/main.c hardener/cmd_%.c,$(HARDENER_SRCS)) \
		$(filter-out webhook/main.c,$(WEBHOOK_SRCS))
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $(filter %.c,$^) $(LDLIBS)
fuzz: $(FUZZ_BINS)
	@for f in $(FUZZ_BINS); do echo "== $$f"; mkdir -p $(BUILD)/fuzz/corpus-$$(basename $$f); \
	    $$f -max_total_time=$(FUZZ_SECONDS) -max_len=65536 $(BUILD)/fuzz/corpus-$$(basename $$f) || exit 1; done
.PHONY: fuzz
