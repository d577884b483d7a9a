# Coalition bonus program: the one build file.
#
#   make run     bootstrap, build, start PostgreSQL and the services (deploy/run.sh)
#   make check   bootstrap, build release and ASan+UBSan, run every test (tests/run.sh)
#   make         build the release variant only
#
# BUILD selects the variant: release (default) or asan. Objects go to build/$(BUILD).
# Source lists are explicit on purpose: adding a file is a reviewed change here.

BUILD ?= release
O     ?= build/$(BUILD)
CC    ?= cc

PKGS      := libzmq libpq jansson openssl
TEST_PKGS := cmocka

# Lazy (=) so that pkg-config runs only after bootstrap installed it.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   = $(shell pkg-config --libs $(PKGS))
TEST_LIBS  = $(shell pkg-config --libs $(TEST_PKGS))

# Truncating snprintf into fixed buffers (error paths, log fields) is deliberate.
WARN    := -Wall -Wextra -Wstrict-prototypes -Wshadow -Wpointer-arith -Wformat=2 -Werror \
           -Wno-format-truncation
CFLAGS  := -std=c11 -D_GNU_SOURCE -g -pthread -MMD -MP $(WARN) -Ilibcommon
LDFLAGS := -pthread
ifeq ($(BUILD),asan)
CFLAGS  += -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
else ifeq ($(BUILD),release)
CFLAGS  += -O2
else
$(error BUILD must be release or asan)
endif

LIBCOMMON_SRC := \
	libcommon/lc_err.c \
	libcommon/lc_time.c \
	libcommon/lc_log.c \
	libcommon/lc_config.c \
	libcommon/lc_service.c \
	libcommon/lc_id.c \
	libcommon/lc_crypto.c \
	libcommon/lc_codec.c \
	libcommon/lc_envelope.c \
	libcommon/lc_ledger_msg.c \
	libcommon/lc_settlement_msg.c \
	libcommon/lc_donation_msg.c \
	libcommon/lc_members_msg.c \
	libcommon/lc_api.c \
	libcommon/lc_db.c \
	libcommon/lc_dbparams.c \
	libcommon/lc_curve.c \
	libcommon/lc_bus.c \
	libcommon/lc_period.c \
	libcommon/lc_tiers.c \
	libcommon/lc_journal.c \
	libcommon/lc_jconsumer.c

# Everything of the ledger except main.c, so unit tests can link the state machine.
LEDGER_SRC := \
	services/ledger/ld_table.c \
	services/ledger/ld_undo.c \
	services/ledger/ld_lots.c \
	services/ledger/ld_chain.c \
	services/ledger/ld_state.c \
	services/ledger/ld_transfer.c \
	services/ledger/ld_expire.c \
	services/ledger/ld_store.c \
	services/ledger/ld_verify.c \
	services/ledger/ld_server.c

# Each service below: everything except main.c (so tests can link it), then its
# binary. A service with an empty list is not built yet.
MEMBERS_SRC := \
	services/members/mb_card.c \
	services/members/mb_code.c \
	services/members/mb_store.c \
	services/members/mb_ledger.c \
	services/members/mb_h_util.c \
	services/members/mb_h_enroll.c \
	services/members/mb_h_read.c \
	services/members/mb_h_code.c \
	services/members/mb_h_status.c \
	services/members/mb_history.c \
	services/members/mb_server.c

SETTLEMENT_SRC := \
	services/settlement/st_arith.c \
	services/settlement/st_store.c \
	services/settlement/st_ledger.c \
	services/settlement/st_members.c \
	services/settlement/st_server.c \
	services/settlement/st_threads.c \
	services/settlement/st_partners.c \
	services/settlement/st_earn.c \
	services/settlement/st_mature.c \
	services/settlement/st_expire.c \
	services/settlement/st_redeem.c \
	services/settlement/st_return.c \
	services/settlement/st_grant.c \
	services/settlement/st_coupon.c \
	services/settlement/st_statement_rules.c \
	services/settlement/st_statement_store.c \
	services/settlement/st_statement_feed.c \
	services/settlement/st_statement.c \
	services/settlement/st_period.c \
	services/settlement/st_reconcile.c \
	services/settlement/st_audit.c \
	services/settlement/st_adjust.c \
	services/settlement/st_tier.c

DONATION_SRC := \
	services/donation/dn_arith.c \
	services/donation/dn_receipt.c \
	services/donation/dn_store.c \
	services/donation/dn_ledger.c \
	services/donation/dn_server.c \
	services/donation/dn_charities.c \
	services/donation/dn_donate.c \
	services/donation/dn_pledges.c \
	services/donation/dn_payout.c

GATEWAY_SRC := \
	services/gateway/gw_pool.c \
	services/gateway/gw_keys.c \
	services/gateway/gw_idem.c \
	services/gateway/gw_limit.c \
	services/gateway/gw_metrics.c \
	services/gateway/gw_routes.c \
	services/gateway/gw_csv.c \
	services/gateway/gw_admin_log.c \
	services/gateway/gw_local.c \
	services/gateway/gw_dispatch.c \
	services/gateway/gw_http.c

# The admin and finance CLI (an HTTP client: libcurl). It renders --all exports with
# the gateway's CSV layer (gw_csv.c), so there is one CSV renderer.
COALCTL_SRC := \
	services/coalctl/cc_http.c \
	services/coalctl/cc_cmds.c

UNIT_TESTS := \
	test_id \
	test_dbparams \
	test_crypto \
	test_log \
	test_config \
	test_bus \
	test_curve \
	test_codec \
	test_envelope \
	test_proto_contract \
	test_ledger_state \
	test_lots \
	test_chain \
	test_members_card \
	test_members_code \
	test_members_proto \
	test_members_seal \
	test_settlement_arith \
	test_settlement_msg \
	test_statement_rules \
	test_donation_arith \
	test_donation_receipt \
	test_donation_msg \
	test_gateway \
	test_gateway_csv \
	test_period \
	test_tiers \
	test_fuzz_regressions

INTEGRATION_TESTS := \
	test_db \
	test_ledger_guarantees \
	test_ledger_privileges \
	test_ledger_random \
	test_ledger_resident \
	test_ledger_crash \
	test_members \
	test_members_data_protection \
	test_members_history \
	test_journal \
	test_settlement \
	test_settlement_expiry \
	test_settlement_coupons \
	test_settlement_concurrency \
	test_settlement_statements \
	test_settlement_tiers \
	test_donation \
	test_donation_privileges \
	test_privileges

# End-to-end tests: HTTP through the gateway to every service (tests/e2e/).
E2E_TESTS := \
	test_gateway \
	test_gateway_tls \
	test_gateway_hostile \
	test_authz_matrix \
	test_faults \
	test_bus_curve \
	test_faults_pg \
	test_journey \
	test_coupons \
	test_statements \
	test_audit \
	test_coalctl \
	test_tiers_e2e \
	test_fraud_limits \
	test_donation_e2e \
	test_members_privacy


LIBCOMMON_OBJ := $(LIBCOMMON_SRC:%.c=$(O)/%.o)
LEDGER_OBJ    := $(LEDGER_SRC:%.c=$(O)/%.o)
LIBCOMMON_A   := $(O)/libcommon.a
LEDGER_A      := $(O)/libledger.a
MEMBERS_A     := $(if $(MEMBERS_SRC),$(O)/libmembers.a)
SETTLEMENT_A  := $(if $(SETTLEMENT_SRC),$(O)/libsettlement.a)
DONATION_A    := $(if $(DONATION_SRC),$(O)/libdonation.a)
GATEWAY_A     := $(if $(GATEWAY_SRC),$(O)/libgateway.a)
SERVICE_A     := $(SETTLEMENT_A) $(DONATION_A) $(MEMBERS_A) $(GATEWAY_A) $(LEDGER_A)
TESTLIB_OBJ   := $(O)/tests/lib/harness.o $(O)/tests/lib/apicall.o
UNIT_LIB_OBJ  := $(O)/tests/lib/catalogue.o
BINS          := $(O)/bin/ledger $(O)/bin/buscall \
                 $(if $(MEMBERS_SRC),$(O)/bin/members) \
                 $(if $(SETTLEMENT_SRC),$(O)/bin/settlement) \
                 $(if $(DONATION_SRC),$(O)/bin/donation) \
                 $(if $(GATEWAY_SRC),$(O)/bin/gateway) \
                 $(O)/bin/coalctl
UNIT_BINS     := $(UNIT_TESTS:%=$(O)/tests/unit/%)
INTEG_BINS    := $(INTEGRATION_TESTS:%=$(O)/tests/integration/%)
E2E_BINS      := $(E2E_TESTS:%=$(O)/tests/e2e/%)
BENCH_BINS    := $(O)/bin/bench_ledger $(O)/bin/bench_sql $(O)/bin/bench_http

.PHONY: all tests check run bootstrap clean format bench
.SECONDARY:
.DEFAULT_GOAL := all

all: $(BINS)
tests: $(BINS) $(UNIT_BINS) $(INTEG_BINS) $(E2E_BINS) $(BENCH_BINS)

bootstrap:
	@deploy/bootstrap.sh

check: bootstrap
	@$(MAKE) --no-print-directory BUILD=release tests
	@$(MAKE) --no-print-directory BUILD=asan tests
	@tests/run.sh build/release build/asan

run: bootstrap
	@$(MAKE) --no-print-directory BUILD=release all
	@deploy/run.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build

# Tests reach into the services' internals and the shared harness.
$(O)/tests/%.o: CFLAGS += -Iservices/ledger -Iservices/members -Iservices/settlement \
                          -Iservices/donation -Iservices/gateway -Itests/lib
# Only the gateway speaks HTTP (libmicrohttpd); only tests and tools are HTTP clients.
$(O)/services/gateway/%.o: PKG_CFLAGS += $(shell pkg-config --cflags libmicrohttpd)
$(O)/tests/e2e/%.o: PKG_CFLAGS += $(shell pkg-config --cflags libcurl)
$(O)/tests/bench/%.o: PKG_CFLAGS += $(shell pkg-config --cflags libcurl)

$(O)/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC    $(BUILD) $<"
	@$(CC) $(CFLAGS) $(PKG_CFLAGS) -c $< -o $@

$(LIBCOMMON_A): $(LIBCOMMON_OBJ)
	@mkdir -p $(@D)
	ar rcs $@ $^

$(LEDGER_A): $(LEDGER_OBJ)
	@mkdir -p $(@D)
	ar rcs $@ $^

$(O)/bin/ledger: $(O)/services/ledger/main.o $(LEDGER_A) $(LIBCOMMON_A)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $^ $(PKG_LIBS) -o $@

$(O)/libmembers.a: $(MEMBERS_SRC:%.c=$(O)/%.o)
	@mkdir -p $(@D)
	ar rcs $@ $^

$(O)/libsettlement.a: $(SETTLEMENT_SRC:%.c=$(O)/%.o)
	@mkdir -p $(@D)
	ar rcs $@ $^

$(O)/libdonation.a: $(DONATION_SRC:%.c=$(O)/%.o)
	@mkdir -p $(@D)
	ar rcs $@ $^

$(O)/libgateway.a: $(GATEWAY_SRC:%.c=$(O)/%.o)
	@mkdir -p $(@D)
	ar rcs $@ $^

$(O)/bin/members: $(O)/services/members/main.o $(MEMBERS_A) $(LIBCOMMON_A)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $^ $(PKG_LIBS) -o $@

$(O)/bin/settlement: $(O)/services/settlement/main.o $(SETTLEMENT_A) $(LIBCOMMON_A)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $^ $(PKG_LIBS) -o $@

$(O)/bin/donation: $(O)/services/donation/main.o $(DONATION_A) $(LIBCOMMON_A)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $^ $(PKG_LIBS) -o $@

$(O)/bin/gateway: $(O)/services/gateway/main.o $(GATEWAY_A) $(LIBCOMMON_A)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $^ $(PKG_LIBS) $(shell pkg-config --libs libmicrohttpd) -o $@

$(O)/services/coalctl/%.o: PKG_CFLAGS += $(shell pkg-config --cflags libcurl)
$(O)/services/coalctl/%.o: CFLAGS += -Iservices/gateway
$(O)/bin/coalctl: $(O)/services/coalctl/main.o $(COALCTL_SRC:%.c=$(O)/%.o) \
                  $(O)/services/gateway/gw_csv.o $(LIBCOMMON_A)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $^ $(PKG_LIBS) $(shell pkg-config --libs libcurl) -o $@

$(O)/bin/buscall: $(O)/services/buscall/main.o $(LIBCOMMON_A)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $^ $(PKG_LIBS) -o $@

# ---- benchmark (issue 7) ------------------------------------------------------------
#
#   make bench   build release, then run every scenario of tests/bench/bench.sh against
#                one local PostgreSQL (fsync=on, synchronous_commit=on); prints the
#                table and writes var/bench/results.json (docs/PERFORMANCE.md)
#
# The load clients are built with the tests so they keep compiling; `make check`
# runs a 10-second smoke run of the same script (tests/run.sh).
bench: bootstrap
	@$(MAKE) --no-print-directory BUILD=release all $(BENCH_BINS)
	@tests/bench/bench.sh $(O)

$(O)/bin/bench_%: $(O)/tests/bench/bench_%.o $(O)/tests/bench/bench_common.o $(LIBCOMMON_A)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $^ $(PKG_LIBS) -o $@

$(O)/bin/bench_http: $(O)/tests/bench/bench_http.o $(O)/tests/bench/bench_common.o $(LIBCOMMON_A)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $^ $(PKG_LIBS) $(shell pkg-config --libs libcurl) -o $@

$(O)/tests/unit/%: $(O)/tests/unit/%.o $(UNIT_LIB_OBJ) $(SERVICE_A) $(LIBCOMMON_A)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $^ $(PKG_LIBS) $(if $(GATEWAY_A),$(shell pkg-config --libs libmicrohttpd)) \
	    $(TEST_LIBS) -o $@

$(O)/tests/integration/%: $(O)/tests/integration/%.o $(TESTLIB_OBJ) $(SERVICE_A) $(LIBCOMMON_A)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $^ $(PKG_LIBS) $(TEST_LIBS) -o $@

# The authorization matrix walks the gateway's own route table.
$(O)/tests/e2e/test_authz_matrix: $(O)/tests/e2e/test_authz_matrix.o $(O)/tests/lib/e2e.o \
                                  $(TESTLIB_OBJ) $(GATEWAY_A) $(LIBCOMMON_A)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $^ $(PKG_LIBS) $(shell pkg-config --libs libcurl) $(TEST_LIBS) -o $@

$(O)/tests/e2e/%: $(O)/tests/e2e/%.o $(O)/tests/lib/e2e.o $(O)/tests/lib/faultload.o $(TESTLIB_OBJ) $(LIBCOMMON_A)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $^ $(PKG_LIBS) $(shell pkg-config --libs libcurl) $(TEST_LIBS) -o $@

-include $(wildcard $(O)/*/*.d $(O)/*/*/*.d $(O)/*/*/*/*.d)

# ---- fuzzing (issue 8): libFuzzer targets, built with clang into build/fuzz -------
#
#   make fuzz FUZZ_SECONDS=N   build every target, run each N seconds (default 30) on
#                              a copy of its seed corpus (tests/fuzz/run.sh); fails
#                              on any crash, leak or UB; one line per target
#
# Separate from the release and asan variants: its own compiler, flags and
# directory. Library objects get coverage instrumentation (fuzzer-no-link); the
# targets link libFuzzer's main. No -Werror: clang warns differently from the
# compiler the release build holds to -Werror.
FUZZ_CC      ?= clang
FUZZ_O       := build/fuzz
FUZZ_SECONDS ?= 30
FUZZ_TARGETS := fuzz_api_body fuzz_envelope fuzz_codec_ledger fuzz_amount_period fuzz_routes
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS   = -std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer -MMD -MP \
                -Wall -Wextra -Wstrict-prototypes -Ilibcommon -Iservices/settlement \
                -Iservices/members -Iservices/gateway -Itests/fuzz $(FUZZ_SAN) \
                -fsanitize=fuzzer-no-link
FUZZ_LIB_SRC  = $(LIBCOMMON_SRC) services/settlement/st_arith.c services/members/mb_card.c \
                tests/fuzz/fuzz_roundtrip.c
FUZZ_BINS    := $(FUZZ_TARGETS:%=$(FUZZ_O)/%)

.PHONY: fuzz fuzz-build
fuzz: fuzz-build
	@tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_O) $(FUZZ_TARGETS)

fuzz-build: bootstrap
	@command -v $(FUZZ_CC) >/dev/null || { echo "make fuzz: $(FUZZ_CC) not found (deploy/bootstrap.sh installs clang)" >&2; exit 1; }
	@$(MAKE) --no-print-directory $(FUZZ_BINS)

$(FUZZ_O)/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC    fuzz $<"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) $(PKG_CFLAGS) -c $< -o $@

$(FUZZ_O)/libfuzzlib.a: $(FUZZ_LIB_SRC:%.c=$(FUZZ_O)/%.o)
	@mkdir -p $(@D)
	ar rcs $@ $^

$(FUZZ_O)/fuzz_%: $(FUZZ_O)/tests/fuzz/fuzz_%.o $(FUZZ_O)/libfuzzlib.a
	$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) $^ $(PKG_LIBS) -o $@

# The route matcher lives in the gateway, which speaks HTTP (libmicrohttpd).
$(FUZZ_O)/services/gateway/%.o: PKG_CFLAGS += $(shell pkg-config --cflags libmicrohttpd)
$(FUZZ_O)/libfuzzgw.a: $(GATEWAY_SRC:%.c=$(FUZZ_O)/%.o)
	@mkdir -p $(@D)
	ar rcs $@ $^

$(FUZZ_O)/fuzz_routes: $(FUZZ_O)/tests/fuzz/fuzz_routes.o $(FUZZ_O)/libfuzzgw.a \
                       $(FUZZ_O)/libfuzzlib.a
	$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) $^ $(PKG_LIBS) \
	    $(shell pkg-config --libs libmicrohttpd) -o $@

# make check replays tests/fuzz/regressions/ through the same checks, built without
# libFuzzer's entry point by the normal rules of each variant (the fuzz objects go
# before the archives, hence a rule of its own).
$(O)/tests/fuzz/%.o: CFLAGS += -DFUZZ_NO_ENTRY -Itests/fuzz
$(O)/tests/unit/test_fuzz_regressions.o: CFLAGS += -Itests/fuzz
$(O)/tests/unit/test_fuzz_regressions: $(O)/tests/unit/test_fuzz_regressions.o \
        $(FUZZ_TARGETS:%=$(O)/tests/fuzz/%.o) $(O)/tests/fuzz/fuzz_roundtrip.o \
        $(UNIT_LIB_OBJ) $(SERVICE_A) $(LIBCOMMON_A)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $^ $(PKG_LIBS) $(if $(GATEWAY_A),$(shell pkg-config --libs libmicrohttpd)) \
	    $(TEST_LIBS) -o $@

-include $(wildcard $(FUZZ_O)/*/*.d $(FUZZ_O)/*/*/*.d)
