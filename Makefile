# SPDX-License-Identifier: GPL-2.0-only
# bpfguard: `make` builds build/bpfguard; `make test`, `make demo`, `make bench`, `make install`.
# Quiet unless V=1. Out of tree: everything goes to build/.

include Kbuild

BUILD ?= build
CLANG ?= clang
BPFTOOL ?= bpftool
CC ?= cc
PREFIX ?= /usr/local
ARCH_INC := /usr/include/$(shell $(CC) -dumpmachine)

ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
# keep the intermediate BPF objects: `bpftool prog loadall build/skel/guard.o` is handy
.SECONDARY:
.SUFFIXES:

BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Wextra -Werror \
	-Wno-unused-parameter -I. -I$(ARCH_INC) -MMD -MP
CFLAGS ?= -O2 -g
USER_CFLAGS := $(CFLAGS) -std=gnu11 -Wall -Wextra -Werror -Wno-missing-field-initializers \
	-D_FORTIFY_SOURCE=2 -fstack-protector-strong -D_GNU_SOURCE -I. -I$(BUILD) -MMD -MP
LDLIBS := -lbpf -lelf -lz -lidn2 -lcurl

BPF_NAMES := $(always-y:.bpf.o=)
SKELS := $(BPF_NAMES:%=$(BUILD)/%.skel.h)
LIB_OBJS := $(libguard-y:%.o=$(BUILD)/user/%.o)
BIN_OBJS := $(bpfguard-y:%.o=$(BUILD)/user/%.o)
LIB := $(BUILD)/libguard.a

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:%.c=$(BUILD)/%)
BPFT_SRCS := $(wildcard tests/bpf/test_*.c)
BPFT_BINS := $(BPFT_SRCS:%.c=$(BUILD)/%)
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(FUZZ_SRCS:%.c=$(BUILD)/%)

.PHONY: all deps test test-unit test-bpf test-e2e test-fuzz demo bench install clean format-check analyze fuzz
all: $(BUILD)/bpfguard

deps:
	$(Q)tools/deps.sh

# --- BPF: clang -> bpftool gen object -> bpftool gen skeleton ---
$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c | $(BUILD)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/skel/%.o: $(BUILD)/bpf/%.bpf.o | $(BUILD)/skel
	$(call msg,GEN-OBJ,$@)
	$(Q)$(BPFTOOL) gen object $@ $<

$(BUILD)/%.skel.h: $(BUILD)/skel/%.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $* > $@

# --- user side ---
$(BUILD)/user/%.o: user/%.c $(SKELS) | $(BUILD)/user
	$(call msg,CC,$@)
	$(Q)$(CC) $(USER_CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/bpfguard: $(BIN_OBJS) $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $(BIN_OBJS) $(LIB) $(LDLIBS)

# --- tests ---
$(BUILD)/tests/unit/%: tests/unit/%.c $(LIB) | $(BUILD)/tests/unit
	$(call msg,CC,$@)
	$(Q)$(CC) $(USER_CFLAGS) -Itests -o $@ $< $(LIB) $(LDLIBS) -lcmocka

$(BUILD)/tests/bpf/%: tests/bpf/%.c $(LIB) | $(BUILD)/tests/bpf
	$(call msg,CC,$@)
	$(Q)$(CC) $(USER_CFLAGS) -Itests -o $@ $< $(LIB) $(LDLIBS) -lcmocka

# The fuzzers: the library compiled once more with the sanitizers and libFuzzer's coverage
# (fuzzer-no-link), each target linked against it (only the objects it uses).
FUZZ_CFLAGS := -g -O1 -fsanitize=address,undefined -D_GNU_SOURCE -I. -I$(BUILD) -Itests
FUZZ_LIB_OBJS := $(LIB_OBJS:$(BUILD)/user/%.o=$(BUILD)/fuzz/user/%.o)
FUZZ_LIB := $(BUILD)/fuzz/libguard.a

$(BUILD)/fuzz/user/%.o: user/%.c $(SKELS) | $(BUILD)/fuzz/user
	$(call msg,CC-FUZZ,$@)
	$(Q)clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(FUZZ_LIB): $(FUZZ_LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/tests/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB) | $(BUILD)/tests/fuzz
	$(call msg,FUZZ,$@)
	$(Q)clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -MMD -MP -o $@ $< $(FUZZ_LIB) $(LDLIBS)

$(BUILD)/bpf $(BUILD)/skel $(BUILD)/user $(BUILD)/fuzz/user \
$(BUILD)/tests/unit $(BUILD)/tests/bpf $(BUILD)/tests/fuzz:
	$(Q)mkdir -p $@

tests: $(UNIT_BINS) $(BPFT_BINS) $(FUZZ_BINS) $(BUILD)/verifier-heat

# A developer's tool: where the verifier spends its work (user/vheat.h)
$(BUILD)/verifier-heat: tools/verifier-heat.c $(LIB)
	$(call msg,CC,$@)
	$(Q)$(CC) $(USER_CFLAGS) -o $@ $< $(LIB) $(LDLIBS)

test: deps all tests
	$(Q)tests/run.sh

test-unit: all $(UNIT_BINS)
	$(Q)tests/run.sh unit

test-bpf: all $(BPFT_BINS)
	$(Q)tests/run.sh bpf

test-e2e: all
	$(Q)tests/run.sh e2e

test-fuzz: $(FUZZ_BINS)
	$(Q)tests/run.sh fuzz

fuzz: $(FUZZ_BINS)

demo: deps all
	$(Q)tools/demo.sh

bench: deps all
	$(Q)$(BUILD)/bpfguard bench
	$(Q)BUILD=$(BUILD) tools/bench-reload.sh

install: all
	install -D -m 0755 $(BUILD)/bpfguard $(DESTDIR)$(PREFIX)/sbin/bpfguard
	install -d -m 0755 $(DESTDIR)/etc/bpfguard/registry
	@# an operator's edited config is never overwritten
	[ -e $(DESTDIR)/etc/bpfguard/bpfguard.conf ] || \
		install -m 0644 -t $(DESTDIR)/etc/bpfguard etc/bpfguard.conf
	install -m 0644 -t $(DESTDIR)/etc/bpfguard/registry etc/registry/*
	install -D -m 0644 etc/bpfguard.service $(DESTDIR)/etc/systemd/system/bpfguard.service
	install -D -m 0644 README.md $(DESTDIR)$(PREFIX)/share/doc/bpfguard/README.md

format-check:
	$(Q)clang-format-14 --dry-run -Werror $$(git ls-files '*.c' '*.h')

analyze: $(SKELS)
	$(Q)for f in user/*.c; do clang --analyze --no-system-header-prefix=bpf/ -Xanalyzer -analyzer-output=text \
		$(filter-out -MMD -MP,$(USER_CFLAGS)) $$f -o /dev/null || exit 1; done

clean:
	rm -rf $(BUILD)

-include $(wildcard $(BUILD)/bpf/*.d $(BUILD)/user/*.d $(BUILD)/fuzz/user/*.d $(BUILD)/tests/*/*.d)
