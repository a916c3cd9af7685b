// The `cef` and `leef` formats: each record is parsed back by a small CEF / LEEF parser written from the specs,
// and must give back the header fields and attributes it was made from, whatever the alert contains.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <vector>

#include "format/cef.hpp"
#include "format/leef.hpp"
#include "test_util.hpp"

using namespace saker;
using saker::test::decode_ok;

namespace {

constexpr std::string_view kFffd = "\xEF\xBF\xBD";

struct Record {
  std::vector<std::string> header;  // CEF: version, vendor, product, version, class id, name, severity
  std::vector<std::pair<std::string, std::string>> ext;
  std::map<std::string, std::string> map() const { return {ext.begin(), ext.end()}; }
};

// CEF: '|' splits the seven header fields unless escaped; the extension is `key=value` pairs where a key is the
// word before an unescaped '=' and a value runs to the space before the next key.
Record parse_cef(std::string_view s) {
  Record r;
  EXPECT_TRUE(s.starts_with("CEF:"));
  std::size_t i = 4;
  std::string field;
  while (r.header.size() < 7) {
    if (i >= s.size()) {
      ADD_FAILURE() << "short header";
      return r;
    }
    const char c = s[i++];
    if (c == '\\' && i < s.size() && (s[i] == '\\' || s[i] == '|')) {
      field.push_back(s[i++]);
    } else if (c == '|') {
      r.header.push_back(field), field.clear();
    } else {
      field.push_back(c);
    }
  }
  const std::string_view ext = s.substr(i);
  // Positions of unescaped '='.
  std::vector<std::size_t> eqs;
  for (std::size_t p = 0; p < ext.size(); ++p) {
    if (ext[p] == '\\') {
      ++p;
    } else if (ext[p] == '=') {
      eqs.push_back(p);
    }
  }
  auto key_start = [&](std::size_t eq) {
    std::size_t b = eq;
    while (b > 0 && ext[b - 1] != ' ') --b;
    return b;
  };
  for (std::size_t n = 0; n < eqs.size(); ++n) {
    const std::size_t kb = key_start(eqs[n]);
    const std::size_t ve = n + 1 < eqs.size() ? key_start(eqs[n + 1]) - 1 : ext.size();
    std::string value;
    for (std::size_t p = eqs[n] + 1; p < ve; ++p) {
      if (ext[p] == '\\' && p + 1 < ve) {
        const char e = ext[++p];
        value.push_back(e == 'n' ? '\n' : e == 'r' ? '\r' : e);
      } else {
        value.push_back(ext[p]);
      }
    }
    r.ext.emplace_back(std::string(ext.substr(kb, eqs[n] - kb)), value);
  }
  return r;
}

// LEEF 2.0: six '|'-separated header fields (no escapes), then attributes split on the declared delimiter, each
// at its first '='.
Record parse_leef(std::string_view s) {
  Record r;
  std::size_t i = 0;
  for (int n = 0; n < 6; ++n) {
    const std::size_t e = s.find('|', i);
    if (e == std::string_view::npos) {
      ADD_FAILURE() << "short header";
      return r;
    }
    r.header.emplace_back(s.substr(i, e - i));
    i = e + 1;
  }
  EXPECT_EQ(r.header[0], "LEEF:2.0");
  const std::string& d = r.header[5];
  const char delim =
      d.size() == 1 ? d[0] : static_cast<char>(std::stoi(d.substr(d.starts_with("0x") ? 2 : 1), nullptr, 16));
  for (std::string_view rest = s.substr(i);;) {
    const std::size_t e = rest.find(delim);
    const std::string_view attr = rest.substr(0, e);
    const std::size_t eq = attr.find('=');
    EXPECT_NE(eq, std::string_view::npos) << attr.substr(0, 80);
    r.ext.emplace_back(std::string(attr.substr(0, eq)), std::string(attr.substr(eq + 1)));
    if (e == std::string_view::npos) break;
    rest.remove_prefix(e + 1);
  }
  return r;
}

std::string sample(const std::string& name) { return test::read_file(test::data_path("sample_alerts/" + name)); }

std::string format_with(const Formatter& f, std::string_view json) {
  std::string out;
  f.format(*decode_ok(json), out);
  EXPECT_EQ(out.find_first_of(std::string_view("\n\r\0", 3)), std::string::npos) << "not one clean line";
  return out;
}

std::vector<std::string> keys_of(const Record& r) {
  std::vector<std::string> k;
  for (const auto& [key, v] : r.ext) k.push_back(key);
  return k;
}

void expect_unique_keys(const Record& r) {
  auto k = keys_of(r);
  std::sort(k.begin(), k.end());
  EXPECT_EQ(std::adjacent_find(k.begin(), k.end()), k.end()) << "a key repeats";
}

// Control bytes replaced by U+FFFD, as CEF does in values (keeping TAB, CR and LF, which it carries) or in its
// header (keeping TAB).
std::string replaced(std::string_view s, bool header) {
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 || u == 0x7F) && c != '\t' && (header || (c != '\n' && c != '\r'))) {
      out.append(kFffd);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// A proc.cmdline with every character that could break a record, and 100 KiB of payload.
std::string hostile_alert(std::string* cmdline_json = nullptr) {
  std::string cmd = R"(sh -c 'a|b=c\\d \\= x=y\n\r\u0000\u0001\te \u00e9\u6f22\ud83d\ude00 \"q\" cs1=evil|')";
  cmd.append(100 * 1024, 'x');
  if (cmdline_json) *cmdline_json = cmd;
  return R"({"rule":"Bad|rule=\\x\n\t","priority":"Emergency","time":"2024-01-01T00:00:00.123Z","hostname":"h|=\\",)"
         R"("tags":["T1059","a=b","c,d"],"output":"out\nput=|","output_fields":{"proc.cmdline":")" + cmd +
         R"(","proc.name":"a\tb","user.name":"r=oot","fd.name":"/tmp/x y=z","proc.aname[2]":"p","n":null,)"
         R"("evt.type":"execve","fd.cip":"10.0.0.1","fd.cport":4242,"odd key=|\\":"v","odd key=|/":"w"}})";
}

}  // namespace

TEST(FormatCef, RealAlert) {
  const std::string out = format_with(CefFormatter(), sample("01_read_sensitive_file_untrusted_warning.json"));
  const Record r = parse_cef(out);
  ASSERT_EQ(r.header.size(), 7u);
  EXPECT_EQ(r.header[0], "0");
  EXPECT_EQ(r.header[1], "Falcosecurity");
  EXPECT_EQ(r.header[2], "Falco");
  EXPECT_EQ(r.header[3], SAKER_VERSION);
  EXPECT_EQ(r.header[4], "Read sensitive file untrusted");
  EXPECT_EQ(r.header[5], "Read sensitive file untrusted");
  EXPECT_EQ(r.header[6], "5");
  const auto m = r.map();
  EXPECT_EQ(m.at("rt"), "1715108059341");
  EXPECT_EQ(m.at("dvchost"), "97ade2b595f0");
  EXPECT_EQ(m.at("suser"), "root");
  EXPECT_EQ(m.at("suid"), "0");
  EXPECT_EQ(m.at("sproc"), "event-generator");
  EXPECT_EQ(m.at("filePath"), "/etc/shadow");
  EXPECT_EQ(m.at("fname"), "shadow");
  EXPECT_EQ(m.at("cs1Label"), "rule");
  EXPECT_EQ(m.at("cs2"), "T1555,container,filesystem,host,maturity_stable,mitre_credential_access");
  EXPECT_EQ(m.at("cs3"), "9656db3bb358");
  EXPECT_EQ(m.at("cs6Label"), "cmdline");
  EXPECT_EQ(m.at("cs6"), "event-generator run --loop");
  EXPECT_EQ(m.at("proc.tty"), "0");
  EXPECT_EQ(m.at("user.loginuid"), "-1");
  EXPECT_FALSE(m.count("proc.cmdline"));  // mapped once, under cs6
  expect_unique_keys(r);
}

TEST(FormatCef, SeverityTable) {
  const std::pair<const char*, int> cases[] = {{"Debug", 0}, {"Informational", 2}, {"Notice", 3}, {"Warning", 5},
                                               {"Error", 7}, {"Critical", 8}, {"Alert", 9}, {"Emergency", 10}};
  for (auto [p, sev] : cases) {
    const Record r = parse_cef(format_with(CefFormatter(), std::string(R"({"rule":"r","priority":")") + p + "\"}"));
    EXPECT_EQ(r.header[6], std::to_string(sev)) << p;
  }
}

TEST(FormatCef, HostileAlertParsesBackExactly) {
  std::string cmd_json;
  const std::string in = hostile_alert(&cmd_json);
  const auto a = decode_ok(in);
  Value cmd;
  ASSERT_TRUE(a->lookup("proc.cmdline", cmd));
  const std::string out = format_with(CefFormatter(), in);
  EXPECT_EQ(out, format_with(CefFormatter(), in));  // deterministic
  const Record r = parse_cef(out);
  ASSERT_EQ(r.header.size(), 7u);
  EXPECT_EQ(r.header[4], replaced("Bad|rule=\\x\n\t", true));
  EXPECT_EQ(r.header[6], "10");
  const std::vector<std::string> want_keys = {
      "rt", "dvchost", "dhost", "externalId", "msg", "suser", "sproc", "filePath", "fname", "src", "spt",
      "cs1Label", "cs1", "cs2Label", "cs2", "cs6Label", "cs6", "proc.aname_2_", "evt.type", "falco.odd_key___"};
  EXPECT_EQ(keys_of(r), want_keys);
  const auto m = r.map();
  // CR and LF survive as CEF's \r and \n; other control bytes become U+FFFD.
  EXPECT_EQ(m.at("cs6"), replaced(cmd.text, false));
  EXPECT_EQ(m.at("msg"), "out\nput=|");
  EXPECT_EQ(m.at("dvchost"), "h|=\\");
  EXPECT_EQ(m.at("suser"), "r=oot");
  EXPECT_EQ(m.at("sproc"), "a\tb");
  EXPECT_EQ(m.at("filePath"), "/tmp/x y=z");
  EXPECT_EQ(m.at("fname"), "x y=z");
  EXPECT_EQ(m.at("cs1"), "Bad|rule=\\x\n\t");
  EXPECT_EQ(m.at("cs2"), "T1059,a=b,c,d");
  EXPECT_EQ(m.at("falco.odd_key___"), "v");  // the second "odd key" sanitizes to the same key: first wins
  expect_unique_keys(r);
}

TEST(FormatLeef, RealAlert) {
  const std::string out = format_with(LeefFormatter(), sample("04_network_fd_ips_geoip_testnets.json"));
  EXPECT_TRUE(
      out.starts_with("LEEF:2.0|Falcosecurity|Falco|" SAKER_VERSION "|Read sensitive file untrusted|0x09|devTime="));
  const Record r = parse_leef(out);
  ASSERT_EQ(r.header.size(), 6u);
  const auto m = r.map();
  EXPECT_EQ(m.at("devTime"), "2024-05-13T13:23:36.089+0000");
  EXPECT_EQ(m.at("devTimeFormat"), "yyyy-MM-dd'T'HH:mm:ss.SSSZ");
  EXPECT_EQ(m.at("sev"), "5");
  EXPECT_EQ(m.at("cat"), "syscall");
  EXPECT_EQ(m.at("usrName"), "root");
  EXPECT_EQ(m.at("src"), "216.160.83.56");
  EXPECT_EQ(m.at("srcPort"), "5400");
  EXPECT_EQ(m.at("dst"), "89.160.20.112");
  EXPECT_EQ(m.at("dstPort"), "5700");
  EXPECT_EQ(m.at("fd.lip"), "89.160.20.128");
  EXPECT_EQ(m.at("proc.cmdline"), "event-generator run --loop");
  EXPECT_EQ(m.at("evt.failed"), "true");
  expect_unique_keys(r);
}

TEST(FormatLeef, SeverityTableAndCaretDelimiter) {
  const std::pair<const char*, int> cases[] = {{"Debug", 1}, {"Informational", 2}, {"Notice", 3}, {"Warning", 5},
                                               {"Error", 7}, {"Critical", 8}, {"Alert", 9}, {"Emergency", 10}};
  for (auto [p, sev] : cases) {
    const Record r = parse_leef(format_with(LeefFormatter('^'), std::string(R"({"rule":"r","priority":")") + p +
                                                                   R"(","output":"a^b"})"));
    EXPECT_EQ(r.header[5], "0x5E");
    EXPECT_EQ(r.map().at("sev"), std::to_string(sev)) << p;
    EXPECT_EQ(r.map().at("msg"), std::string("a").append(kFffd).append("b"));
  }
  EXPECT_EQ(parse_leef(format_with(LeefFormatter('='), R"({"rule":"r","priority":"Debug"})")).header[5], "0x09");
}

TEST(FormatLeef, HostileAlertParsesBack) {
  const std::string in = hostile_alert();
  const auto a = decode_ok(in);
  Value cmd;
  ASSERT_TRUE(a->lookup("proc.cmdline", cmd));
  const std::string out = format_with(LeefFormatter(), in);
  EXPECT_EQ(out, format_with(LeefFormatter(), in));
  const Record r = parse_leef(out);
  ASSERT_EQ(r.header.size(), 6u);
  EXPECT_EQ(r.header[4], std::string("Bad").append(kFffd).append("rule=\\x").append(kFffd).append(kFffd));
  const std::vector<std::string> want_keys = {
      "devTime", "devTimeFormat", "sev", "dvchost", "usrName", "src", "srcPort", "msg", "rule", "uuid", "tags",
      "proc.cmdline", "proc.name", "fd.name", "proc.aname_2_", "evt.type", "falco.odd_key___"};
  EXPECT_EQ(keys_of(r), want_keys);
  // LEEF has no escapes: CR, LF and TAB are written as the text \r, \n, \t; other control bytes as U+FFFD.
  std::string want_cmd;
  for (char c : cmd.text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\n') {
      want_cmd += "\\n";
    } else if (c == '\r') {
      want_cmd += "\\r";
    } else if (c == '\t') {
      want_cmd += "\\t";
    } else if (u < 0x20 || u == 0x7F) {
      want_cmd += kFffd;
    } else {
      want_cmd.push_back(c);
    }
  }
  const auto m = r.map();
  EXPECT_EQ(m.at("proc.cmdline"), want_cmd);
  EXPECT_EQ(m.at("sev"), "10");
  EXPECT_EQ(m.at("rule"), "Bad|rule=\\x\\n\\t");
  EXPECT_EQ(m.at("msg"), "out\\nput=|");
  EXPECT_EQ(m.at("usrName"), "r=oot");
  EXPECT_EQ(m.at("proc.name"), "a\\tb");
  EXPECT_EQ(m.at("tags"), "T1059,a=b,c,d");
  EXPECT_EQ(m.at("devTime"), "2024-01-01T00:00:00.123+0000");
  expect_unique_keys(r);
}

TEST(FormatCefLeef, EverySampleParsesBack) {
  for (const auto& entry : std::filesystem::directory_iterator(test::data_path("sample_alerts"))) {
    if (entry.path().extension() != ".json") continue;
    SCOPED_TRACE(entry.path().filename().string());
    const std::string in = test::read_file(entry.path().string());
    const Record c = parse_cef(format_with(CefFormatter(), in));
    EXPECT_EQ(c.header.size(), 7u);
    expect_unique_keys(c);
    const Record l = parse_leef(format_with(LeefFormatter(), in));
    EXPECT_EQ(l.header.size(), 6u);
    expect_unique_keys(l);
    EXPECT_EQ(c.map().at("cs1"), decode_ok(in)->rule);
  }
  EXPECT_TRUE(make_formatter("cef").ok());
  EXPECT_TRUE(make_formatter("leef").ok());
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

// Falco's fields, then what `fields` and `mitre` stages add, hostile text and colliding names included.
std::shared_ptr<Alert> enriched() {
  auto a = decode_mutable(
      R"({"rule":"Terminal shell in container","priority":"Notice","time":"2024-05-07T18:54:19.341081180Z",)"
      R"("hostname":"node-1","source":"syscall","uuid":"3f1c2a9e-0000-4000-8000-000000000001",)"
      R"("tags":["T1059","container"],"output":"shell","output_fields":{"proc.name":"bash","proc.tty":0,)"
      R"("proc.aname[2]":"p"}})");
  const std::string_view tactics[] = {"Execution", "Privilege Escalation"};
  a->add_field("env", Value::string("prod"));
  a->add_field("note", Value::string("a\"b\\c]d=e|f\ng\r\th\x01 \xC3\xA9\xE6\xBC\xA2"));
  a->add_field("asset.criticality", Value::integer(3));
  a->add_list("threat.tactic.name", tactics);
  a->add_field("fd.sip.geo.country_iso_code", Value::string("SE"));
  a->add_field("a.b", Value::string("first"));
  a->add_field("a_b", Value::string("second"));
  a->add_field("x=y|z", Value::string("v"));
  a->add_field("proc.aname_2_", Value::string("q"));  // LEEF writes Falco's proc.aname[2] under this key already
  a->add_field("none", Value{});                      // null: left out, like Falco's nulls
  a->add_tag("pci");
  return a;
}

}  // namespace

TEST(FormatCef, AddedFieldsTakeSakerCustomKeys) {
  const auto a = enriched();
  std::string out;
  CefFormatter().format(*a, out);
  EXPECT_EQ(out,
            "CEF:0|Falcosecurity|Falco|" SAKER_VERSION
            "|Terminal shell in container|Terminal shell in container|3|rt=1715108059341 dvchost=node-1 "
            "dhost=node-1 externalId=3f1c2a9e-0000-4000-8000-000000000001 cat=syscall msg=shell sproc=bash "
            "cs1Label=rule cs1=Terminal shell in container cs2Label=tags cs2=T1059,container,pci proc.tty=0 "
            "proc.aname_2_=p sakerEnv=prod sakerNote=a\"b\\\\c]d\\=e|f\\ng\\r\th\xEF\xBF\xBD \xC3\xA9\xE6\xBC\xA2 "
            "sakerAssetCriticality=3 sakerThreatTacticName=Execution,Privilege Escalation "
            "sakerFdSipGeoCountryIsoCode=SE sakerAB=first sakerXYZ=v sakerProcAname2=q");
  const Record r = parse_cef(out);
  expect_unique_keys(r);  // a_b is sakerAB too: the first one wins
  EXPECT_EQ(r.map().at("sakerNote"), "a\"b\\c]d=e|f\ng\r\th\xEF\xBF\xBD \xC3\xA9\xE6\xBC\xA2");
}

TEST(FormatLeef, AddedFieldsAreAttributesUnderTheirNames) {
  const auto a = enriched();
  std::string out;
  LeefFormatter().format(*a, out);
  EXPECT_EQ(out,
            "LEEF:2.0|Falcosecurity|Falco|" SAKER_VERSION
            "|Terminal shell in container|0x09|devTime=2024-05-07T18:54:19.341+0000\t"
            "devTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSSZ\tsev=3\tcat=syscall\tdvchost=node-1\tmsg=shell\t"
            "rule=Terminal shell in container\tuuid=3f1c2a9e-0000-4000-8000-000000000001\ttags=T1059,container,pci\t"
            "proc.name=bash\tproc.tty=0\tproc.aname_2_=p\tsaker.env=prod\t"
            "saker.note=a\"b\\c]d=e|f\\ng\\r\\th\xEF\xBF\xBD \xC3\xA9\xE6\xBC\xA2\tasset.criticality=3\t"
            "threat.tactic.name=Execution,Privilege Escalation\tfd.sip.geo.country_iso_code=SE\ta.b=first\t"
            "saker.a_b=second\tsaker.x_y_z=v");  // added proc.aname_2_: Falco's field has that key, and wins
  const Record r = parse_leef(out);
  expect_unique_keys(r);
  std::string caret;
  LeefFormatter('^').format(*a, caret);
  EXPECT_NE(caret.find("^saker.env=prod^"), std::string::npos) << caret;
}
