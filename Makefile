# Switchboard: the PostgreSQL extension (PGXS) and the developer commands.
#   make run    install what is missing, build, start the embedded cluster and the shim
#   make test   the same set-up, then every test suite; ends with "N passed, N failed"
#   make fuzz   build the libFuzzer targets (clang) and run each [FUZZ_SECONDS=60 FUZZ_RUNS= FUZZ_TARGETS=]

EXTENSION_VERSION = 0.1.0

MODULE_big = switchboard
# One folder per capability below src/core (pure C++17) and src/pg (PostgreSQL glue); core/http is
# what only the shim and the tests link (OpenSSL, JSON): it is not part of the extension.
CORE_OBJS = $(patsubst %.cpp,%.o,$(wildcard extension/src/core/*/*.cpp))
PG_OBJS = $(patsubst %.cpp,%.o,$(wildcard extension/src/pg/*/*.cpp))
SHIM_ONLY_OBJS = $(patsubst %.cpp,%.o,$(wildcard extension/src/core/http/*.cpp))
# Outbound webhooks sign with the one Standard Webhooks implementation (core/http) and send with
# libcurl, so the extension links those two files, OpenSSL and libcurl too.
OUTBOUND_SHARED_OBJS = extension/src/core/http/http_crypto.o extension/src/core/http/http_webhook_verify.o
OBJS = $(PG_OBJS) $(filter-out $(SHIM_ONLY_OBJS),$(CORE_OBJS)) $(OUTBOUND_SHARED_OBJS)

MODULEDIR = extension
DATA = extension/switchboard.control $(wildcard extension/switchboard--*--*.sql) \
  extension/data/switchboard_phone_timezones.txt
DATA_built = extension/switchboard--$(EXTENSION_VERSION).sql
EXTRA_CLEAN = build build-fuzz results regression.diffs regression.out tests/isolation/output

REGRESS = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --inputdir=. --load-extension=btree_gist --load-extension=switchboard
# Lock orders, with PostgreSQL's isolation tester: tests/isolation/{specs,expected}.
ISOLATION = $(patsubst tests/isolation/specs/%.spec,%,$(sort $(wildcard tests/isolation/specs/*.spec)))
ISOLATION_OPTS = --inputdir=tests/isolation --outputdir=tests/isolation/output \
  --load-extension=btree_gist --load-extension=switchboard

PG_CONFIG ?= $(firstword $(wildcard /usr/lib/postgresql/15/bin/pg_config) pg_config)
PG_CXXFLAGS = -std=c++17 -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers
PG_CPPFLAGS = -Iextension/src
# libphonenumber (core/telephony) is linked into the extension only, not into the shim; OpenSSL's
# libcrypto for the caller-ID codes' HMAC, the random source and the outbound signatures; libcurl for
# outbound webhooks.
SHLIB_LINK = -lstdc++ -lphonenumber -lcurl -lcrypto
# Bitcode for the JIT would need clang with our C++ flags; the extension does not need it.
override with_llvm = no

PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifneq ($(wildcard $(PGXS)),)
include $(PGXS)
# PostgreSQL's own headers are not ours to fix: treat them as system headers.
override CPPFLAGS := -isystem $(includedir_server) $(CPPFLAGS)
else
all install installcheck:
	@echo "PostgreSQL 15 server headers are missing: run 'make deps' (as root) first." >&2; exit 1
endif

# The install script is assembled from one folder per capability (extension/sql/<nn>_<capability>/),
# folders in name order, and inside each its parts in this order.
SQL_PARTS = header roles tables functions grants routes
SQL_SOURCES = $(foreach d,$(sort $(dir $(wildcard extension/sql/*/*.sql))),\
  $(wildcard $(addprefix $(d),$(addsuffix .sql,$(SQL_PARTS)))))
SQL_STRAYS = $(filter-out $(SQL_SOURCES),$(wildcard extension/sql/*.sql extension/sql/*/*.sql))
ifneq ($(SQL_STRAYS),)
$(error not part of the install script (parts: $(SQL_PARTS)): $(SQL_STRAYS))
endif
extension/switchboard--$(EXTENSION_VERSION).sql: $(SQL_SOURCES)
	cat $^ > $@

# Core sources are pure C++17: they are compiled without PostgreSQL's include path.
CORE_CXXFLAGS = -std=c++17 -O2 -g -fPIC -Wall -Wextra -Werror -Iextension/src
extension/src/core/%.o: extension/src/core/%.cpp
	$(CXX) $(CORE_CXXFLAGS) -c -o $@ $<

$(OBJS): $(wildcard extension/src/core/*/*.hpp extension/src/pg/*/*.hpp)

TOOL = extension/tools/switchboard.sh

.PHONY: run test deps build stop reset psql bench format format-check shim fuzz
run:
	@$(TOOL) run
test:
	@$(TOOL) test
deps:
	@$(TOOL) deps
build:
	@$(TOOL) build
stop:
	@$(TOOL) stop
reset:
	@$(TOOL) reset
# make psql ARGS='-c "select 1"' passes ARGS to psql (make itself would take -- and flags).
psql:
	@$(TOOL) psql $(ARGS)
bench:
	@$(TOOL) bench
fuzz:
	@tests/fuzz/run.sh
shim:
	cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null && cmake --build build -j2

FORMAT_SOURCES = $(shell git ls-files '*.cpp' '*.hpp' 2>/dev/null)
format:
	clang-format -i $(FORMAT_SOURCES)
format-check:
	clang-format --dry-run --Werror $(FORMAT_SOURCES)
