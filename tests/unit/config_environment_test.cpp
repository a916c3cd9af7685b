// Given a config that takes its secrets and paths from the environment, saker substitutes them everywhere a
// string is read, names what is missing at its line and column, never repeats a secret, and checks now what
// `saker run` would only meet later (certificates, output folders, retry bounds, librdkafka properties).
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "config/files.hpp"
#include "core/decode.hpp"
#include "observe/logging.hpp"
#include "pipeline/config.hpp"

using namespace saker;

namespace {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string templ = (std::filesystem::temp_directory_path() / "saker-cfg-XXXXXX").string();
    path = ::mkdtemp(templ.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string write(const std::string& name, const std::string& text) const {
    const auto p = path / name;
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }
};

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST(ConfigEnvironment, EnvAndFilePlaceholdersAreSubstitutedInAnyString) {
  TempDir dir;
  ::setenv("SAKER_UT_DIR", dir.path.c_str(), 1);
  ::setenv("SAKER_UT_SINK", "siem", 1);
  dir.write("proc_name", "nginx\n");
  ConfigErrors errors("s.yaml");
  errors.set_base_dir(dir.path.string());
  auto cfg = parse_config(R"(data_dir: ${env:SAKER_UT_DIR}/data
sources: []
sinks:
  - name: ${env:SAKER_UT_SINK}
    type: stdout
    filter: 'proc.name = "${file:proc_name}" and proc.cmdline contains "$${jndi:"'
)",
                          errors);
  ASSERT_TRUE(cfg) << errors.to_string();
  EXPECT_EQ(cfg->data_dir, dir.path.string() + "/data");
  EXPECT_EQ(cfg->sinks[0].name, "siem");
  auto alert = [](const char* name, const char* cmdline) {
    static Decoder decoder;
    auto r = decoder.decode(fmt::format(R"({{"rule":"r","priority":"Warning","output":"x",)"
                                        R"("output_fields":{{"proc.name":"{}","proc.cmdline":"{}"}}}})",
                                        name, cmdline));
    return std::move(r).value();
  };
  ASSERT_TRUE(cfg->sinks[0].route.filter);
  EXPECT_TRUE(cfg->sinks[0].route.filter->matches(*alert("nginx", "curl ${jndi:ldap://x}")));
  EXPECT_FALSE(cfg->sinks[0].route.filter->matches(*alert("nginx2", "curl ${jndi:ldap://x}")));
}

TEST(ConfigEnvironment, AnUnsetVariableOrUnreadableFileIsAnErrorAtItsPosition) {
  ::unsetenv("SAKER_UT_UNSET");
  ConfigErrors errors("s.yaml");
  EXPECT_FALSE(parse_config(R"(sources: []
sinks:
  - name: out
    type: file
    path: /tmp/${env:SAKER_UT_UNSET}/a.ndjson
  - {name: b, type: stdout, format: "${file:/nonexistent/secret}"}
  - {name: c, type: stdout, format: "${vault:x}"}
)",
                            errors));
  const std::string all = errors.to_string();
  EXPECT_TRUE(contains(all, "s.yaml:5:16: sinks[0].path: environment variable SAKER_UT_UNSET is not set")) << all;
  EXPECT_TRUE(contains(all, "s.yaml:6:38: sinks[1].format: cannot read /nonexistent/secret")) << all;
  EXPECT_TRUE(contains(all, "s.yaml:7:38: sinks[2].format: unknown placeholder ${vault:x}")) << all;
  EXPECT_TRUE(contains(all, "write $${ for a literal ${")) << all;
}

TEST(ConfigEnvironment, ErrorMessagesShowThePlaceholderNeverTheSecret) {
  ::setenv("SAKER_UT_SECRET", "hunter2-do-not-print", 1);
  TempDir dir;
  dir.write("secret", "file-secret-9f8e\n");
  ConfigErrors errors("s.yaml");
  errors.set_base_dir(dir.path.string());
  EXPECT_FALSE(parse_config(R"(sources:
  - {type: http, listen: "${env:SAKER_UT_SECRET}"}
  - {type: tcp, name: t2, listen: "x-${file:secret}"}
sinks:
  - {name: out, type: stdout}
)",
                            errors));
  const std::string all = errors.to_string();
  EXPECT_FALSE(contains(all, "hunter2")) << all;
  EXPECT_FALSE(contains(all, "file-secret")) << all;
  EXPECT_TRUE(contains(all, "got \"${env:SAKER_UT_SECRET}\"")) << all;
  EXPECT_TRUE(contains(all, "x-${file:secret}")) << all;
}

TEST(ConfigEnvironment, RedactionReplacesWholeWordsOnly) {
  ConfigErrors errors;
  errors.add_substitution("5", "${env:N}");
  errors.add_substitution("s3cret", "${env:S}");
  EXPECT_EQ(errors.redact("must be between 1 and 65535, got 5"), "must be between 1 and 65535, got ${env:N}");
  EXPECT_EQ(errors.redact("Bearer s3cret."), "Bearer ${env:S}.");
}

TEST(ConfigEnvironment, RelativePathsResolveAgainstTheConfigFolder) {
  TempDir dir;
  const std::string file =
      dir.write("saker.yaml", "data_dir: state\nsources: []\nsinks:\n  - {name: o, type: stdout}\n");
  ConfigErrors errors(file);
  auto cfg = load_config_file(file, errors);
  ASSERT_TRUE(cfg) << errors.to_string();
  EXPECT_EQ(cfg->data_dir, (dir.path / "state").string());
  // The embedded default and text parsed without a file: relative to the current directory.
  ConfigErrors plain("<embedded default>");
  auto cwd = parse_config("data_dir: state\nsources: []\nsinks:\n  - {name: o, type: stdout}\n", plain);
  ASSERT_TRUE(cwd) << plain.to_string();
  EXPECT_EQ(cwd->data_dir, "state");
}

TEST(ConfigEnvironment, OutputFoldersThatCannotBeCreatedAreErrors) {
  TempDir dir;
  const std::string blocker = dir.write("a_file", "x");
  EXPECT_EQ(directory_problem((dir.path / "new" / "deeper").string()), "");
  EXPECT_NE(directory_problem(blocker + "/sub"), "");
  ConfigErrors errors("s.yaml");
  EXPECT_FALSE(parse_config(fmt::format("data_dir: {0}/data\nsources: []\nsinks:\n"
                                        "  - {{name: o, type: file, path: {0}/out/a.ndjson}}\n",
                                        blocker),
                            errors));
  const std::string all = errors.to_string();
  EXPECT_TRUE(contains(all, "s.yaml:1:11: data_dir: cannot create the folder " + blocker + "/data: " + blocker +
                                " is not a folder"))
      << all;
  EXPECT_TRUE(contains(all, "sinks[0].path: cannot create the folder " + blocker + "/out")) << all;
}

TEST(ConfigEnvironment, TlsFilesMustParse) {
  TempDir dir;
  const std::string junk = dir.write("junk.pem", "not a certificate\n");
  EXPECT_TRUE(contains(tls_file_problem(junk, TlsFile::certificate), "is not a PEM certificate")) << junk;
  EXPECT_TRUE(contains(tls_file_problem(junk, TlsFile::private_key), "is not an unencrypted PEM private key"));
  EXPECT_TRUE(contains(tls_file_problem(junk, TlsFile::ca_bundle), "holds no PEM CA certificate"));
  EXPECT_TRUE(contains(tls_file_problem((dir.path / "missing.pem").string(), TlsFile::certificate), "cannot read"));
  ConfigErrors errors("s.yaml");
  errors.set_base_dir(dir.path.string());
  EXPECT_FALSE(parse_config(R"(sources:
  - {type: http, listen: "127.0.0.1:0", tls: {cert: junk.pem, key: junk.pem}}
sinks:
  - {name: s, type: syslog, address: "tls://127.0.0.1:6514", tls: {ca: junk.pem}}
)",
                            errors));
  const std::string all = errors.to_string();
  EXPECT_TRUE(contains(all, "sources[0].tls.cert: " + junk + " is not a PEM certificate")) << all;
  EXPECT_TRUE(contains(all, "sources[0].tls.key: " + junk + " is not an unencrypted PEM private key")) << all;
  EXPECT_TRUE(contains(all, "sinks[0].tls.ca: " + junk + " holds no PEM CA certificate")) << all;
}

TEST(ConfigEnvironment, RetryInitialAboveMaxIsAnError) {
  ConfigErrors errors("s.yaml");
  EXPECT_FALSE(parse_config("sources: []\nsinks:\n  - {name: o, type: stdout, retry: {initial: 10s, max: 1s}}\n"
                            "  - {name: p, type: stdout, retry: {initial: 1m}}\n",
                            errors));
  const std::string all = errors.to_string();
  EXPECT_TRUE(contains(all, "s.yaml:3:46: sinks[0].retry.initial: 10000ms is larger than retry.max (1000ms)")) << all;
  EXPECT_TRUE(contains(all, "sinks[1].retry.initial: 60000ms is larger than retry.max (30000ms), the default")) << all;
}

TEST(ConfigEnvironment, EveryBadLibrdkafkaPropertyIsReported) {
  ConfigErrors errors("s.yaml");
  EXPECT_FALSE(parse_config(R"(sources: []
sinks:
  - type: kafka
    brokers: "127.0.0.1:9092"
    topic: falco
    librdkafka:
      linger.ms: "soon"
      no.such.property: "1"
)",
                            errors));
  const std::string all = errors.to_string();
  EXPECT_TRUE(contains(all, "sinks[0].librdkafka.linger.ms:")) << all;
  EXPECT_TRUE(contains(all, "sinks[0].librdkafka.no.such.property:")) << all;
}

TEST(ConfigEnvironment, ReplayNeedsNoSourcesButRunDoes) {
  const std::string text = "sinks:\n  - {name: o, type: stdout}\n";
  ConfigErrors run("s.yaml");
  EXPECT_FALSE(parse_config(text, run, ConfigUse::run));
  EXPECT_TRUE(contains(run.to_string(), "sources: is required")) << run.to_string();
  ConfigErrors replay("s.yaml");
  auto cfg = parse_config(text, replay, ConfigUse::replay);
  ASSERT_TRUE(cfg) << replay.to_string();
  EXPECT_TRUE(cfg->sources.empty());
}

TEST(ConfigEnvironment, LogFormatIsTextOrJson) {
  ConfigErrors ok("s.yaml");
  auto cfg = parse_config("log_format: json\nsources: []\nsinks:\n  - {name: o, type: stdout}\n", ok);
  ASSERT_TRUE(cfg) << ok.to_string();
  EXPECT_EQ(cfg->log_format, "json");
  ConfigErrors bad("s.yaml");
  EXPECT_FALSE(parse_config("log_format: xml\nsources: []\nsinks:\n  - {name: o, type: stdout}\n", bad));
  EXPECT_TRUE(contains(bad.to_string(), "s.yaml:1:13: log_format: must be text or json")) << bad.to_string();
}

TEST(ConfigEnvironment, LogsKeepSecretsOutButNotShortValues) {
  ::setenv("SAKER_UT_TOKEN", "s3cret-token", 1);
  ::setenv("SAKER_UT_THREADS", "2", 1);
  ConfigErrors errors("s.yaml");
  auto cfg = parse_config(R"(sources:
  - {type: http, listen: "127.0.0.1:0", token: "${env:SAKER_UT_TOKEN}", threads: "${env:SAKER_UT_THREADS}"}
sinks:
  - {name: o, type: stdout}
)",
                          errors);
  ASSERT_TRUE(cfg) << errors.to_string();
  SecretRedactor redactor;
  redactor.add(cfg->redactions);
  EXPECT_EQ(redactor.apply("bearer s3cret-token refused by 2 threads"),
            "bearer ${env:SAKER_UT_TOKEN} refused by 2 threads");
}
