// What saker reports about itself keeps the config's secrets out: URL credentials, Authorization values, values
// placeholders brought in and the credentials written in the config.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "observe/metrics.hpp"
#include "observe/redact.hpp"
#include "pipeline/config.hpp"

using namespace saker;

TEST(Redact, HidesTheUserinfoPasswordOfEveryUrl) {
  EXPECT_EQ(hide_credentials("POST https://siem.example/x via proxy http://soc:pr0xy-pass@10.0.0.1:3128: refused"),
            "POST https://siem.example/x via proxy http://soc:***@10.0.0.1:3128: refused");
  // A userinfo without a password is often a token: hidden whole.
  EXPECT_EQ(hide_credentials("git+https://ghp_abc123@github.com/x"), "git+https://***@github.com/x");
  // The last '@' of the authority ends the userinfo; the path is not part of it.
  EXPECT_EQ(hide_credentials("\"https://u:p@ss@h:1/a@b\" and socks5://x:y@z"),
            "\"https://u:***@h:1/a@b\" and socks5://x:***@z");
  EXPECT_EQ(hide_credentials("https://u:@h/"), "https://u:***@h/");
  for (const char* kept : {"https://siem.example:9200/_bulk", "mail me at soc@example.com", "a://b", "://u:p@h",
                           "https://@h/", "https://h/path@x", ""}) {
    EXPECT_EQ(hide_credentials(kept), kept);
  }
}

TEST(Redact, HidesAuthorizationValuesButKeepsTheirScheme) {
  EXPECT_EQ(hide_credentials("HTTP 400: echo: Authorization: Bearer abc.def\r\nHost: h"),
            "HTTP 400: echo: Authorization: Bearer ***\r\nHost: h");
  EXPECT_EQ(hide_credentials(R"(HTTP 500: {"headers":{"Authorization":"Basic dXNlcjpwYXNz","Host":"h"}})"),
            R"(HTTP 500: {"headers":{"Authorization":"Basic ***","Host":"h"}})");
  EXPECT_EQ(hide_credentials("proxy-authorization: s3cret"), "proxy-authorization: ***");
  // A first word that is no scheme may be the credential itself.
  EXPECT_EQ(hide_credentials("Authorization: s3cret-token Host: h"), "Authorization: ***");
  EXPECT_EQ(hide_credentials("authorization: APIKEY k3y"), "authorization: APIKEY ***");
  EXPECT_EQ(hide_credentials("authorization=Splunk 1234-5678"), "authorization=Splunk ***");
  // A header line whose line breaks became spaces: everything after the scheme goes.
  EXPECT_EQ(hide_credentials("HTTP 401: Authorization: Bearer abc Host: h"), "HTTP 401: Authorization: Bearer ***");
  for (const char* kept : {"authentication or authorization failed, check `auth`", "Authorization:", "authorization"}) {
    EXPECT_EQ(hide_credentials(kept), kept);
  }
}

TEST(Redact, PlaceholderValuesAndConfigCredentialsAreHiddenToo) {
  ::setenv("SAKER_UT_HOOK", "hook-t0ken-from-env", 1);
  ConfigErrors errors("s.yaml");
  auto cfg = parse_config(R"(sources:
  - {type: http, listen: "127.0.0.1:0", token: ingest-t0ken}
sinks:
  - {name: a, type: webhook, url: "http://127.0.0.1:9/hook/${env:SAKER_UT_HOOK}", auth: {bearer: literal-bearer},
     proxy: "http://soc:proxy%2Fpass@127.0.0.1:3128"}
  - {name: b, type: webhook, url: "http://127.0.0.1:9/", auth: {user: u, password: basic-pass}}
  - {name: k, type: kafka, brokers: "127.0.0.1:9", topic: t, librdkafka: {sasl.password: sasl-pass}}
)",
                          errors);
  ASSERT_TRUE(cfg) << errors.to_string();
  SecretRedactor r;
  r.add(cfg->redactions);
  EXPECT_EQ(r.apply("POST http://127.0.0.1:9/hook/hook-t0ken-from-env: refused"),
            "POST http://127.0.0.1:9/hook/${env:SAKER_UT_HOOK}: refused");
  EXPECT_EQ(r.apply("echo literal-bearer basic-pass dTpiYXNpYy1wYXNz sasl-pass ingest-t0ken proxy/pass proxy%2Fpass"),
            "echo *** *** *** *** *** *** ***");
  EXPECT_EQ(r.apply("Authorization: Bearer x"), "Authorization: Bearer ***");  // and hide_credentials()
  SecretRedactor none;
  EXPECT_EQ(none.apply("http://u:p@h literal-bearer"), "http://u:***@h literal-bearer");
}

TEST(Redact, MetricsShowLabelValuesRedactedAndKeepTheirSeries) {
  Redactions secrets;
  secrets.add("hunter2-token", "${env:TOKEN}");
  auto redactor = std::make_shared<SecretRedactor>();
  redactor->add(secrets);
  Metrics m(redactor);
  m.counter("saker_x_total", "x", {{"sink", "hook-hunter2-token"}, {"url", "http://u:pw@h"}}).inc(2);
  m.counter("saker_x_total", "x", {{"sink", "hook-hunter2-token"}, {"url", "http://u:pw@h"}}).inc();
  const std::string text = m.render();
  EXPECT_NE(text.find(R"(saker_x_total{sink="hook-${env:TOKEN}",url="http://u:***@h"} 3)"), std::string::npos) << text;
  EXPECT_EQ(text.find("hunter2"), std::string::npos) << text;
  EXPECT_EQ(m.counter_value("saker_x_total", {{"sink", "hook-hunter2-token"}, {"url", "http://u:pw@h"}}), 3u);
  // A value that is a number keeps its place: only label values are redacted, never a series' value.
  secrets.add("3000", "${env:PORT}");
  redactor->add(secrets);
  m.gauge("saker_y", "y").set(3000);
  EXPECT_NE(m.render().find("saker_y 3000\n"), std::string::npos);
}
