// switchboard-shim's command line: --help prints and exits 0, an unknown flag exits 2 without
// serving, a start without any JWT key says so, and `token` signs only uuid subjects.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <algorithm>
#include <cstdio>

#include "shim_fixtures.hpp"

namespace {

using sbtest::Env;
using sbtest::Shim;

struct Outcome {
  int status = -1;  // the exit status
  std::string output;
};

// Runs the shim binary with `args` (a shell word list, at most 10 s) and returns its exit
// status and output (stdout and stderr).
Outcome run_shim(const std::string& args) {
  std::string cmd = "SWITCHBOARD_DATABASE_URL= SWITCHBOARD_JWT_SECRET=cli-test-secret timeout 10 " +
                    sbtest::build_dir() + "/switchboard-shim " + args + " 2>&1";
  Outcome run;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return run;
  char buf[4096];
  for (std::size_t n; (n = fread(buf, 1, sizeof buf, pipe)) > 0;) run.output.append(buf, n);
  int status = pclose(pipe);
  run.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

TEST(ShimCli, HelpPrintsEveryFlagAndExitsZero) {
  for (const char* args : {"--help", "-h", "--listen 127.0.0.1:1 --help"}) {
    Outcome run = run_shim(args);
    EXPECT_EQ(run.status, 0) << args << ": " << run.output;
    EXPECT_NE(run.output.find("usage: switchboard-shim"), std::string::npos) << args;
    for (const char* flag : {"--database-url", "--jwt-secret", "--jwks-url", "--pool-size"})
      EXPECT_NE(run.output.find(flag), std::string::npos) << flag;
    EXPECT_NE(run.output.find("SWITCHBOARD_JWKS_URL"), std::string::npos);
    EXPECT_EQ(run.output.find("listening"), std::string::npos) << "--help must not serve";
  }
  Outcome token = run_shim("token --help");
  EXPECT_EQ(token.status, 0) << token.output;
  EXPECT_NE(token.output.find("--sub"), std::string::npos) << token.output;
}

TEST(ShimCli, UnknownFlagsAndStrayArgumentsExitTwo) {
  struct Case {
    const char* args;
    const char* says;
  };
  for (const Case& c : {Case{"--pool-sise 4", "unknown flag --pool-sise"},
                        Case{"--listen=127.0.0.1:1 --verbose yes", "unknown flag --verbose"},
                        Case{"serve", "unexpected argument serve"},
                        Case{"--pool-size", "flag --pool-size needs a value"},
                        Case{"token --sub 00000000-0000-4000-8000-000000000001 --expires 60",
                             "unknown flag --expires"}}) {
    Outcome run = run_shim(c.args);
    EXPECT_EQ(run.status, 2) << c.args << ": " << run.output;
    EXPECT_NE(run.output.find(c.says), std::string::npos) << c.args << ": " << run.output;
    EXPECT_NE(run.output.find("--help lists the flags"), std::string::npos) << run.output;
    EXPECT_EQ(run.output.find("listening"), std::string::npos) << c.args;
  }
}

TEST(ShimCli, TokenSubjectAndOrganisationMustBeUuids) {
  Outcome bob = run_shim("token --sub bob");
  EXPECT_EQ(bob.status, 2) << bob.output;
  EXPECT_NE(bob.output.find("--sub must be a uuid"), std::string::npos) << bob.output;
  Outcome org = run_shim("token --sub 00000000-0000-4000-8000-000000000001 --org acme");
  EXPECT_EQ(org.status, 2) << org.output;
  EXPECT_NE(org.output.find("--org must be a uuid"), std::string::npos) << org.output;
  Outcome ok = run_shim("token --sub 00000000-0000-4000-8000-000000000001 --ttl=600");
  EXPECT_EQ(ok.status, 0) << ok.output;
  EXPECT_EQ(std::count(ok.output.begin(), ok.output.end(), '.'), 2) << ok.output;
  Outcome ttl = run_shim("token --sub 00000000-0000-4000-8000-000000000001 --ttl soon");
  EXPECT_EQ(ttl.status, 1) << ttl.output;
  EXPECT_NE(ttl.output.find("SWITCHBOARD_TTL (--ttl) must be an integer"), std::string::npos)
      << ttl.output;
}

TEST(ShimCli, StartingWithoutAnyJwtKeyWarns) {
  sbtest::ensure_shim_fixtures();
  Shim keyless(Env{{"SWITCHBOARD_JWT_SECRET", ""}});
  EXPECT_NE(keyless.output().find("warning: no JWT secret or JWKS is configured"),
            std::string::npos)
      << keyless.output();
  auto res = keyless.client().Get("/rpc/shimtest_whoami", sbtest::bearer(sbtest::token("")));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  Shim keyed;
  EXPECT_EQ(keyed.output().find("warning: no JWT secret"), std::string::npos) << keyed.output();
}

}  // namespace
