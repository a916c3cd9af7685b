// Given an alert, the syslog sink writes exactly the RFC 5424 / RFC 3164 bytes a receiver can parse,
// whatever hostile text the alert carries, and its config names every mistake.
#include <gtest/gtest.h>

#include <yaml-cpp/yaml.h>

#include "format/json.hpp"
#include "pipeline/registry.hpp"
#include "sinks/syslog/config.hpp"
#include "sinks/syslog/message.hpp"
#include "sinks/syslog/rfc3164.hpp"
#include "sinks/syslog/rfc5424.hpp"
#include "sinks/syslog/sink.hpp"
#include "test_util.hpp"

using namespace saker;

namespace {

const JsonFormatter kJson;

constexpr std::string_view kShell =
    R"({"rule":"Terminal shell in container","priority":"Notice","time":"2024-05-07T18:54:19.341081180Z",)"
    R"("hostname":"node-1","source":"syscall","uuid":"3f1c2a9e-0000-4000-8000-000000000001",)"
    R"("tags":["container","shell"],"output":"shell","output_fields":{"proc.name":"bash"}})";

std::string rfc5424(const Alert& a, const SyslogMessageOptions& o = {}) {
  std::string out;
  format_rfc5424(a, o, kJson, out);
  return out;
}

std::string rfc3164(const Alert& a, SyslogMessageOptions o = {}) {
  o.protocol = SyslogProtocol::Rfc3164;
  std::string out;
  format_rfc3164(a, o, kJson, out);
  return out;
}

struct Parsed {
  SyslogConfig cfg;
  std::string errors;
};

Parsed parse(const std::string& yaml) {
  YAML::Node node = YAML::Load(yaml);
  ConfigErrors errors("t.yaml");
  ConfigReader r{node, "sinks[0]", errors};
  Parsed p{read_syslog_config(r), errors.to_string()};
  return p;
}

}  // namespace

TEST(SyslogFormat, Rfc5424ExactMessageWithStructuredData) {
  auto a = test::decode_ok(kShell);
  // local0 (16) * 8 + Notice (severity 5) = 133
  EXPECT_EQ(rfc5424(*a),
            "<133>1 2024-05-07T18:54:19.341081Z node-1 falco - - [falco@32473 rule=\"Terminal shell in container\" "
            "priority=\"Notice\" source=\"syscall\" uuid=\"3f1c2a9e-0000-4000-8000-000000000001\" "
            "tags=\"container,shell\"] " +
                std::string(a->json()));
}

TEST(SyslogFormat, Rfc5424OptionsMsgIdFixedHostnameNoSdBom) {
  auto a = test::decode_ok(kShell);
  SyslogMessageOptions o;
  o.facility = 4;  // auth
  o.app_name = "saker-relay";
  o.hostname_from_alert = false;
  o.hostname = "relay.example";
  o.msg_id = SyslogMsgId::Rule;
  o.sd_id.clear();
  o.bom = true;
  EXPECT_EQ(rfc5424(*a, o), "<37>1 2024-05-07T18:54:19.341081Z relay.example saker-relay - Terminal_shell_in_container - "
                            "\xEF\xBB\xBF" + std::string(a->json()));
  o.msg_id = SyslogMsgId::Fixed;
  o.msg_id_text = "FALCO";
  o.bom = false;
  EXPECT_EQ(rfc5424(*a, o), "<37>1 2024-05-07T18:54:19.341081Z relay.example saker-relay - FALCO - " + std::string(a->json()));
}

TEST(SyslogFormat, PriIsFacilityTimesEightPlusSeverity) {
  EXPECT_EQ(syslog_pri(0, Priority::Emergency), 0);
  EXPECT_EQ(syslog_pri(23, Priority::Debug), 191);
  EXPECT_EQ(syslog_pri(4, Priority::Error), 35);
  EXPECT_EQ(syslog_pri(16, Priority::Critical), 130);
  EXPECT_EQ(syslog_pri(16, Priority::Warning), 132);
  EXPECT_EQ(syslog_pri(16, Priority::Informational), 134);
  auto a = test::decode_ok(R"({"rule":"r","priority":"Critical","uuid":"u","time":"2024-01-01T00:00:00Z"})");
  EXPECT_EQ(rfc5424(*a).substr(0, 7), "<130>1 ");
}

TEST(SyslogFormat, SdValuesEscapeQuoteBackslashBracketAndBlankControls) {
  std::string out;
  append_sd_value(out, R"(a"b\c]d)");
  EXPECT_EQ(out, R"(a\"b\\c\]d)");
  out.clear();
  append_sd_value(out, std::string("x\ny\rz\t\x7f\0w", 9));
  EXPECT_EQ(out, "x y z   w");
  out.clear();
  append_sd_value(out, "héllo [ok] =");  // UTF-8 and '[' '=' pass through
  EXPECT_EQ(out, "héllo [ok\\] =");

  auto a = test::decode_ok(
      R"({"rule":"x\"] [evil@1 a=\"b","priority":"Error","uuid":"u\\","source":"s]","tags":["a\"b"],"time":"2024-01-01T00:00:00Z"})");
  const std::string m = rfc5424(*a);
  EXPECT_NE(m.find(R"([falco@32473 rule="x\"\] [evil@1 a=\"b" priority="Error" source="s\]" uuid="u\\" tags="a\"b"] )"),
            std::string::npos)
      << m;
}

TEST(SyslogFormat, HeaderFieldsAreSanitizedAndCut) {
  std::string out;
  append_header_field(out, "my host\tname", 255);
  EXPECT_EQ(out, "my_host_name");
  out.clear();
  append_header_field(out, "", 255);
  EXPECT_EQ(out, "-");
  out.clear();
  append_header_field(out, "h\xC3\xB4te", 255);  // "hôte": each non-ASCII byte becomes '_'
  EXPECT_EQ(out, "h__te");
  out.clear();
  append_header_field(out, std::string(300, 'a'), kSyslogHostnameMax);
  EXPECT_EQ(out, std::string(255, 'a'));

  auto a = test::decode_ok(R"({"rule":")" + std::string(40, 'R') +
                           R"(","priority":"Warning","uuid":"u","hostname":"evil\n<13>1 host","time":"2024-01-01T00:00:00Z"})");
  SyslogMessageOptions o;
  o.msg_id = SyslogMsgId::Rule;
  const std::string m = rfc5424(*a, o);
  EXPECT_EQ(m.substr(0, m.find(" [")), "<132>1 2024-01-01T00:00:00.000000Z evil_<13>1_host falco - " + std::string(32, 'R'));

  auto nohost = test::decode_ok(R"({"rule":"r","priority":"Warning","uuid":"u","time":"2024-01-01T00:00:00Z"})");
  EXPECT_EQ(rfc5424(*nohost).substr(0, 47), "<132>1 2024-01-01T00:00:00.000000Z - falco - - ");
}

TEST(SyslogFormat, TimestampHasMicroseconds) {
  std::string out;
  append_rfc5424_timestamp(out, 0);
  EXPECT_EQ(out, "1970-01-01T00:00:00.000000Z");
  out.clear();
  append_rfc5424_timestamp(out, 1715108059341081180);
  EXPECT_EQ(out, "2024-05-07T18:54:19.341081Z");
  out.clear();
  append_rfc5424_timestamp(out, -1);  // before the epoch
  EXPECT_EQ(out, "1969-12-31T23:59:59.999999Z");
  out.clear();
  append_rfc3164_timestamp(out, 1715108059341081180);
  EXPECT_EQ(out, "May  7 18:54:19");
  out.clear();
  append_rfc3164_timestamp(out, 1734567890000000000);  // 2024-12-19T00:24:50Z
  EXPECT_EQ(out, "Dec 19 00:24:50");
}

TEST(SyslogFormat, Rfc3164ExactMessage) {
  auto a = test::decode_ok(kShell);
  EXPECT_EQ(rfc3164(*a), "<133>May  7 18:54:19 node-1 falco: " + std::string(a->json()));
  auto nohost = test::decode_ok(R"({"rule":"r","priority":"Error","uuid":"u","time":"2024-01-01T00:00:00Z"})");
  SyslogMessageOptions o;
  o.local_hostname = "relay";
  o.facility = 1;
  EXPECT_EQ(rfc3164(*nohost, o), "<11>Jan  1 00:00:00 relay falco: " + std::string(nohost->json()));
}

TEST(SyslogFormat, OctetCountingAndNewlineFraming) {
  std::string out;
  append_frame(out, "<13>1 - - - - - h\xC3\xA9", SyslogFraming::OctetCounting);
  EXPECT_EQ(out, "19 <13>1 - - - - - h\xC3\xA9");  // LEN counts bytes, not characters
  out.clear();
  append_frame(out, "a\nb\r\nc", SyslogFraming::Newline);
  EXPECT_EQ(out, "a\\nb\\r\\nc\n");
  out.clear();
  append_frame(out, "a\nb", SyslogFraming::None);
  EXPECT_EQ(out, "a\nb");
}

TEST(SyslogFormat, HostileCmdlineStaysOneRecord) {
  auto a = test::decode_ok(
      R"({"rule":"Run shell","priority":"Warning","uuid":"u","hostname":"h","time":"2024-01-01T00:00:00Z",)"
      R"("output_fields":{"proc.cmdline":"bash -c \"echo ]\"\n<13>1 2024-01-01T00:00:00Z evil x - - - injected\r\n"}})");
  auto tcp = parse("{address: \"tcp://127.0.0.1:601\"}").cfg;
  std::string scratch, out;
  EXPECT_FALSE(append_syslog_record(*a, tcp, kJson, scratch, out));
  const std::string msg = rfc5424(*a);
  EXPECT_EQ(out, std::to_string(msg.size()) + " " + msg);
  EXPECT_EQ(msg.find('\n'), std::string::npos);  // the json record escapes the newline

  auto nl = parse("{address: \"tcp://127.0.0.1:601\", framing: newline}").cfg;
  out.clear();
  append_syslog_record(*a, nl, kJson, scratch, out);
  EXPECT_EQ(out, msg + "\n");

  // A formatter that writes raw newlines still gives one line per record.
  struct Raw final : Formatter {
    void format(const Alert& alert, std::string& o) const override { o.append(alert.output).append("\nsecond line"); }
  };
  auto b = test::decode_ok(R"({"rule":"r","priority":"Warning","uuid":"u","output":"one\ntwo","time":"2024-01-01T00:00:00Z"})");
  out.clear();
  append_syslog_record(*b, nl, Raw{}, scratch, out);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1);
  EXPECT_TRUE(out.ends_with(" one\\ntwo\\nsecond line\n")) << out;
}

TEST(SyslogFormat, UdpMessagesAreCutToMaxUdpSizeOnACharacterBoundary) {
  std::string big = "é";
  for (int i = 0; i < 400; ++i) big += "é";
  auto a = test::decode_ok(R"({"rule":"r","priority":"Warning","uuid":"u","output":")" + big +
                           R"(","time":"2024-01-01T00:00:00Z"})");
  auto udp = parse("{address: \"udp://127.0.0.1:514\", max_udp_size: 480}").cfg;
  std::string scratch, out;
  EXPECT_TRUE(append_syslog_record(*a, udp, kJson, scratch, out));
  EXPECT_LE(out.size(), 480u);
  EXPECT_GE(out.size(), 479u);
  EXPECT_EQ(out, rfc5424(*a).substr(0, out.size()));
  // No torn UTF-8 sequence at the end: the output is ASCII and "é" (C3 A9), so it must not end in C3.
  EXPECT_NE(static_cast<unsigned char>(out.back()), 0xC3);
  EXPECT_EQ(utf8_prefix("a\xC3\xA9", 2), 1u);
  EXPECT_EQ(utf8_prefix("a\xC3\xA9", 3), 3u);
  EXPECT_EQ(utf8_prefix("ab", 5), 2u);
  auto small = test::decode_ok(kShell);
  out.clear();
  EXPECT_FALSE(append_syslog_record(*small, udp, kJson, scratch, out));
  EXPECT_EQ(out, rfc5424(*small));  // UDP: one message per datagram, no framing
}

TEST(SyslogConfig, DefaultsAndAddresses) {
  auto p = parse("{type: syslog, address: \"tcp://siem.example\"}");
  EXPECT_EQ(p.errors, "");
  EXPECT_EQ(p.cfg.address.kind, SyslogTransportKind::Tcp);
  EXPECT_EQ(p.cfg.address.host, "siem.example");
  EXPECT_EQ(p.cfg.address.port, 601);
  EXPECT_EQ(p.cfg.message.protocol, SyslogProtocol::Rfc5424);
  EXPECT_EQ(p.cfg.message.framing, SyslogFraming::OctetCounting);
  EXPECT_EQ(p.cfg.message.facility, 16);
  EXPECT_EQ(p.cfg.message.app_name, "falco");
  EXPECT_TRUE(p.cfg.message.hostname_from_alert);
  EXPECT_EQ(p.cfg.message.msg_id, SyslogMsgId::None);
  EXPECT_EQ(p.cfg.message.sd_id, "falco@32473");
  EXPECT_FALSE(p.cfg.message.bom);
  EXPECT_EQ(p.cfg.max_udp_size, 2048u);
  EXPECT_EQ(p.cfg.connect_timeout.count(), 5000);
  EXPECT_EQ(p.cfg.write_timeout.count(), 10000);
  EXPECT_FALSE(p.cfg.tls.enabled);

  auto tls = parse("{address: \"tls://[::1]:7000\", tls: {server_name: siem.example}}");
  EXPECT_EQ(tls.errors, "");
  EXPECT_EQ(tls.cfg.address.host, "::1");
  EXPECT_EQ(tls.cfg.address.port, 7000);
  EXPECT_TRUE(tls.cfg.tls.enabled);
  EXPECT_EQ(tls.cfg.tls.server_name, "siem.example");
  EXPECT_EQ(parse("{address: \"tls://logs.example\"}").cfg.tls.server_name, "logs.example");

  auto udp = parse("{address: \"udp://10.0.0.1\", facility: 3, protocol: rfc3164, msg_id: rule, hostname: relay}");
  EXPECT_EQ(udp.errors, "");
  EXPECT_EQ(udp.cfg.address.port, 514);
  EXPECT_EQ(udp.cfg.message.framing, SyslogFraming::None);
  EXPECT_EQ(udp.cfg.message.facility, 3);
  EXPECT_EQ(udp.cfg.message.protocol, SyslogProtocol::Rfc3164);
  EXPECT_EQ(udp.cfg.message.msg_id, SyslogMsgId::Rule);
  EXPECT_FALSE(udp.cfg.message.hostname_from_alert);
  EXPECT_EQ(udp.cfg.message.hostname, "relay");

  EXPECT_EQ(parse_syslog_facility("local7"), 23);
  EXPECT_EQ(parse_syslog_facility("auth"), 4);
  EXPECT_EQ(parse_syslog_facility("0"), 0);
  EXPECT_FALSE(parse_syslog_facility("24"));
  EXPECT_FALSE(parse_syslog_facility("local8"));
  for (const char* bad : {"syslog://h:1", "tcp://", "tcp://h:", "tcp://h:0", "tcp://h:70000", "tcp://::1:514",
                          "tcp://[::1", "h:514", "tcp://user@h:1"}) {
    EXPECT_FALSE(parse_syslog_address(bad)) << bad;
  }
  EXPECT_NE(find_sink_parser("syslog"), nullptr);
}

TEST(SyslogConfig, EveryMistakeIsNamed) {
  auto p = parse(R"({address: "udp://h:514", framing: newline, facility: kernel, app_name: "has space",
    sd_id: "falco", protocol: rfc9999, max_udp_size: 100, tls: {verify: false}, connect_timeout: 0, colour: red})");
  for (const char* want : {"unknown key", "sinks[0].framing: applies to tcp:// and tls:// only",
                           "sinks[0].facility: must be a facility name", "sinks[0].app_name: must be 1 to 48",
                           "sinks[0].sd_id: must be name@<enterprise number>", "sinks[0].protocol: must be rfc5424",
                           "sinks[0].max_udp_size: must be between 480 and 65507", "sinks[0].tls: needs a tls:// address",
                           "sinks[0].connect_timeout: must be greater than 0"}) {
    EXPECT_NE(p.errors.find(want), std::string::npos) << want << "\n" << p.errors;
  }
  EXPECT_NE(parse("{}").errors.find("sinks[0].address: is required"), std::string::npos);
  EXPECT_NE(parse("{address: \"tls://h\", tls: {enabled: false}}").errors.find("cannot be disabled"), std::string::npos);
  EXPECT_NE(parse("{address: \"tcp://h\", protocol: rfc3164, app_name: \"a:b\"}").errors.find("TAG"), std::string::npos);
  EXPECT_NE(parse("{address: \"tcp://h\", msg_id: \"" + std::string(33, 'm') + "\"}").errors.find("1 to 32"),
            std::string::npos);
  EXPECT_EQ(parse("{address: \"tcp://h\", sd_id: \"-\"}").cfg.message.sd_id, "");
  EXPECT_EQ(parse("{address: \"tcp://h\", sd_id: \"saker@99999\"}").errors, "");
}

// --- Added fields (enrichment) ---

namespace {

// An alert a stage may still add to (decode_ok's is shared already).
std::shared_ptr<Alert> decode_mutable(std::string_view json) {
  static thread_local Decoder decoder;
  auto r = decoder.decode(json);
  if (!r) throw std::runtime_error("decode failed: " + r.error().code);
  return std::move(r).value();
}

// MSG as a fixed text: these tests are about the header and structured data.
struct FixedMsg final : Formatter {
  void format(const Alert&, std::string& o) const override { o.append("MSG"); }
};

}  // namespace

TEST(SyslogFormat, Rfc5424AddedFieldsInSakersOwnElement) {
  auto a = decode_mutable(kShell);
  const std::string_view tactics[] = {"TA0002", "TA]0004"};
  a->add_field("env", Value::string("prod"));
  a->add_field("note", Value::string("a\"b\\c]d=e|f\ng \xC3\xA9"));
  a->add_field("asset.criticality", Value::integer(3));
  a->add_list("threat.tactic.id", tactics);
  a->add_field("bad name=\"x\"]\xC3\xA9", Value::string("v"));
  a->add_field(std::string(40, 'n'), Value::string("long"));
  a->add_field("none", Value{});
  a->add_tag("pci");
  a->add_tag("p\"c]i");
  const std::string prefix =
      "<133>1 2024-05-07T18:54:19.341081Z node-1 falco - - [falco@32473 rule=\"Terminal shell in container\" "
      "priority=\"Notice\" source=\"syscall\" uuid=\"3f1c2a9e-0000-4000-8000-000000000001\" "
      "tags=\"container,shell,pci,p\\\"c\\]i\"]";
  const std::string added =
      " env=\"prod\" note=\"a\\\"b\\\\c\\]d=e|f g \xC3\xA9\" asset.criticality=\"3\" "
      "threat.tactic.id=\"TA0002,TA\\]0004\" bad_name__x____=\"v\" " +
      std::string(32, 'n') + "=\"long\"";
  std::string out;
  format_rfc5424(*a, {}, FixedMsg{}, out);
  EXPECT_EQ(out, prefix + " [saker@32473" + added + " tags=\"pci,p\\\"c\\]i\"] MSG");

  // The enterprise number is the configured one's; an SD-ID of saker's own takes the added fields itself.
  SyslogMessageOptions o;
  o.sd_id = "falco@1.2.3";
  out.clear();
  format_rfc5424(*a, o, FixedMsg{}, out);
  EXPECT_NE(out.find("\"] [saker@1.2.3 env=\"prod\""), std::string::npos) << out;
  o.sd_id = "saker@99";
  out.clear();
  format_rfc5424(*a, o, FixedMsg{}, out);
  EXPECT_EQ(out.substr(out.find(" [")), " [saker@99 rule=\"Terminal shell in container\" priority=\"Notice\" "
                                        "source=\"syscall\" uuid=\"3f1c2a9e-0000-4000-8000-000000000001\" "
                                        "tags=\"container,shell,pci,p\\\"c\\]i\"" + added + "] MSG");
  // No structured data: none for added fields either (MSG still has them, as its format places them).
  o.sd_id.clear();
  out.clear();
  format_rfc5424(*a, o, FixedMsg{}, out);
  EXPECT_TRUE(out.ends_with(" - - - MSG")) << out;

  // Only a tag added.
  auto b = decode_mutable(kShell);
  b->add_tag("pci");
  out.clear();
  format_rfc5424(*b, {}, FixedMsg{}, out);
  EXPECT_NE(out.find("tags=\"container,shell,pci\"] [saker@32473 tags=\"pci\"] MSG"), std::string::npos) << out;

  std::string name;
  append_sd_name(name, "");
  EXPECT_EQ(name, "_");
}
