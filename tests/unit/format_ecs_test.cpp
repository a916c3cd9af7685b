// Conformance: the `ecs` format reproduces Elastic's own Falco integration on Elastic's own pipeline fixtures
// (tests/data/ecs_cases). Documents are compared field by field, as Elasticsearch indexes them.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "core/json_text.hpp"
#include "format/ecs.hpp"
#include "format/ecs_added.hpp"
#include "format/ecs_rules.hpp"
#include "test_util.hpp"

using namespace saker;
using saker::test::decode_ok;

namespace {

// Sorted-key, minified JSON: equal text means equal JSON values.
void canon(simdjson::dom::element e, std::string& out) {
  using T = simdjson::dom::element_type;
  switch (e.type()) {
    case T::ARRAY: {
      out.push_back('[');
      bool first = true;
      for (auto v : simdjson::dom::array(e.get_array().value())) {
        if (!first) out.push_back(',');
        first = false;
        canon(v, out);
      }
      out.push_back(']');
      break;
    }
    case T::OBJECT: {
      std::vector<std::pair<std::string, std::string>> kv;
      for (auto [k, v] : simdjson::dom::object(e.get_object().value())) {
        std::string s;
        canon(v, s);
        kv.emplace_back(std::string(k), s);
      }
      std::sort(kv.begin(), kv.end());
      out.push_back('{');
      for (std::size_t i = 0; i < kv.size(); ++i) {
        if (i) out.push_back(',');
        append_json_string(out, kv[i].first);
        out.append(":").append(kv[i].second);
      }
      out.push_back('}');
      break;
    }
    case T::INT64: out.append(std::to_string(e.get_int64().value())); break;
    case T::UINT64: out.append(std::to_string(e.get_uint64().value())); break;
    case T::DOUBLE: out.append(fmt::format("{}", e.get_double().value())); break;
    case T::STRING: append_json_string(out, e.get_string().value()); break;
    case T::BOOL: out.append(e.get_bool().value() ? "true" : "false"); break;
    case T::NULL_VALUE: out.append("null"); break;
  }
}

// Dotted path -> canonical value, the way Elasticsearch sees a document: "a.b":1 and {"a":{"b":1}} are the same
// field; null, [] and {} index nothing.
using Flat = std::map<std::string, std::string>;
void flatten(simdjson::dom::element e, const std::string& path, Flat& out) {
  if (e.is_null()) return;
  if (e.is_object()) {
    for (auto [k, v] : simdjson::dom::object(e.get_object().value())) {
      flatten(v, path.empty() ? std::string(k) : path + "." + std::string(k), out);
    }
    return;
  }
  if (e.is_array() && e.get_array().value().size() == 0) return;
  std::string c;
  canon(e, c);
  EXPECT_TRUE(out.emplace(path, c).second) << "field given twice: " << path;
}

Flat flat_of(std::string_view json) {
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  const auto err = p.parse(json.data(), json.size()).get(doc);
  EXPECT_FALSE(err) << "not JSON: " << json.substr(0, 200);
  Flat f;
  if (!err) flatten(doc, "", f);
  return f;
}

std::string canon_of(std::string_view json) {
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  if (p.parse(json.data(), json.size()).get(doc)) return "<not JSON>";
  std::string c;
  canon(doc, c);
  return c;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) {
    if (!l.empty()) out.push_back(l);
  }
  return out;
}

// Runs one fixture pair: every line formatted, then compared with its expected document.
void check_fixture(const std::string& log, EcsOptions opt) {
  const auto lines = lines_of(test::read_file(test::data_path("ecs_cases/" + log)));
  const std::string expected_text = test::read_file(test::data_path("ecs_cases/" + log + "-expected.json"));
  simdjson::dom::parser ep;
  simdjson::dom::element expected_doc;
  ASSERT_FALSE(ep.parse(expected_text).get(expected_doc));
  auto docs = expected_doc["expected"].get_array().value();
  ASSERT_EQ(docs.size(), lines.size());

  // Not made by the pipeline: event.ingested is dynamic (-config.yml); log.file.path and tags are the test's
  // input `fields` (agent-side metadata).
  const std::set<std::string> kSkip = {"event.ingested", "log.file.path", "tags"};
  // Deliberate additions (docs/formats/ecs.md): the uuid saker generates, orchestrator.type with a pod.
  const std::set<std::string> kExtra = {"falco.uuid", "orchestrator.type"};
  EcsFormatter f(opt);
  std::size_t i = 0, compared = 0;
  for (auto exp : docs) {
    SCOPED_TRACE(fmt::format("{} line {}", log, i + 1));
    const auto alert = decode_ok(lines[i++]);
    std::string out;
    f.format(*alert, out);
    ASSERT_EQ(out.find('\n'), std::string::npos);
    const Flat got = flat_of(out);
    Flat want;
    flatten(exp, "", want);
    for (const auto& [k, v] : want) {
      if (kSkip.count(k)) continue;
      auto it = got.find(k);
      if (it == got.end()) {
        ADD_FAILURE() << "missing " << k << " = " << v;
        continue;
      }
      if (k == "event.original") {
        // The alert as received, but minified (whitespace differs) and, when it had none, with saker's uuid.
        std::string mine = std::string(alert->json());
        if (alert->uuid_generated) {
          const std::string tail = ",\"uuid\":\"" + std::string(alert->uuid) + "\"}";
          ASSERT_TRUE(mine.ends_with(tail));
          mine = mine.substr(0, mine.size() - tail.size()) + "}";
        }
        simdjson::dom::parser sp;
        std::string_view theirs;
        ASSERT_FALSE(sp.parse(v).get_string().get(theirs));
        EXPECT_EQ(canon_of(mine), canon_of(theirs));
        continue;
      }
      EXPECT_EQ(it->second, v) << k;
      ++compared;
    }
    for (const auto& [k, v] : got) {
      if (want.count(k) || kSkip.count(k)) continue;
      if (k == "falco.uuid" && alert->uuid_generated) continue;
      EXPECT_TRUE(kExtra.count(k)) << "unexpected " << k << " = " << v;
    }
  }
  EXPECT_GE(compared, 30 * lines.size());  // the documents are really compared, not vacuously
}

EcsOptions preserve_all() {
  EcsOptions o;
  o.preserve_original = true;
  o.preserve_falco_fields = true;
  return o;
}

std::string sample(const std::string& name) { return test::read_file(test::data_path("sample_alerts/" + name)); }

std::string ecs(std::string_view json, EcsOptions opt = {}) {
  std::string out;
  EcsFormatter(opt).format(*decode_ok(json), out);
  return out;
}

}  // namespace

// test-falco.log-config.yml: tags [preserve_original_event, preserve_falco_fields].
TEST(FormatEcs, ElasticFixturePreserve) { check_fixture("test-falco.log", preserve_all()); }

// test-nopreserve.log-config.yml: no tags, the integration's defaults and the `ecs` format's.
TEST(FormatEcs, ElasticFixtureNoPreserve) { check_fixture("test-nopreserve.log", {}); }

TEST(FormatEcs, RegisteredWithElasticDefaults) {
  auto f = make_formatter("ecs");
  ASSERT_TRUE(f.ok());
  std::string out;
  const auto a = decode_ok(sample("01_read_sensitive_file_untrusted_warning.json"));
  f.value()->format(*a, out);
  const Flat got = flat_of(out);
  EXPECT_FALSE(got.count("event.original"));
  EXPECT_FALSE(got.count("falco.output_fields.proc.cmdline"));
  EXPECT_EQ(got.at("process.command_line"), "\"event-generator run --loop\"");
}

TEST(FormatEcs, TimestampFallsBackToAlertTime) {
  // 2025 Falco: no evt.time.* in output_fields (sample 07), so the alert's time is used.
  const auto got = flat_of(ecs(sample("07_drop_and_execute_2025_evt_time_only.json")));
  EXPECT_EQ(got.at("@timestamp"), "\"2025-12-05T13:12:32.137Z\"");
  EXPECT_EQ(got.at("event.severity"), "99");
  EXPECT_FALSE(got.count("threat.technique.id"));  // "TA0003" is a tactic, not T\d{4}
}

TEST(FormatEcs, EverySampleIsValidJson) {
  for (const auto& entry : std::filesystem::directory_iterator(test::data_path("sample_alerts"))) {
    if (entry.path().extension() != ".json") continue;
    SCOPED_TRACE(entry.path().filename().string());
    for (EcsOptions o : {EcsOptions{}, preserve_all()}) {
      EXPECT_FALSE(flat_of(ecs(test::read_file(entry.path().string()), o)).empty());
    }
  }
}

TEST(FormatEcs, ClashingDottedFieldsStayValidJson) {
  // "evt.time" is both a value and the parent of "evt.time.iso8601"; keys are odd. (Names that repeat are refused
  // by decode, so no format sees them.)
  const std::string in = R"({"rule":"r","priority":"Notice","time":"2024-01-01T00:00:00Z","output_fields":{)"
                         R"("evt.time":1704067200000000000,"evt.time.iso8601":1704067201000000000,"a":1,"a.b":2,)"
                         R"("a.b.c":3,"x":1,".":0,"":5,"q.value":7,"q":8,"container.mounts":"/a:/b:ro /c"},)"
                         R"("extra":true})";
  for (EcsOptions o : {EcsOptions{}, preserve_all()}) {
    const std::string out = ecs(in, o);
    const Flat got = flat_of(out);  // fails on a repeated key
    EXPECT_EQ(got.at("@timestamp"), "\"2024-01-01T00:00:01.000Z\"");
    EXPECT_EQ(got.at("falco.output_fields.a.value"), "1");
    EXPECT_EQ(got.at("falco.output_fields.a.b.value"), "2");
    EXPECT_EQ(got.at("falco.output_fields.a.b.c"), "3");
    EXPECT_EQ(got.at("falco.output_fields.x"), "1");
    EXPECT_EQ(got.at("falco.output_fields.q.value"), "7");  // the real q.value wins over q's own value
    EXPECT_EQ(got.at("falco.extra"), "true");
    EXPECT_EQ(got.at("falco.container.mounts"),
              R"([{"dest":"/b","mode":"ro","propagation":null,"rdrw":null,"source":"/a"},)"
              R"({"dest":null,"mode":null,"propagation":null,"rdrw":null,"source":"/c"}])");
  }
}

TEST(FormatEcs, HostileCommandLineRoundTrips) {
  std::string cmd = "sh -c 'a|b=c\\\\d\\n\\r\\u0000\\te \u00e9\u6f22\U0001F600 \\\"q\\\"' ";
  cmd.append(100 * 1024, 'x');
  const std::string in = R"({"rule":"r|=\\x","priority":"Critical","time":"2024-01-01T00:00:00Z",)"
                         R"("output_fields":{"proc.cmdline":")" + cmd + R"(","proc.name":"a\tb"}})";
  const auto a = decode_ok(in);
  Value want;
  ASSERT_TRUE(a->lookup("proc.cmdline", want));
  for (EcsOptions o : {EcsOptions{}, preserve_all()}) {
    std::string out;
    EcsFormatter(o).format(*a, out);
    EXPECT_EQ(out.find('\n'), std::string::npos);
    EXPECT_EQ(out.find('\r'), std::string::npos);
    simdjson::dom::parser p;
    auto doc = p.parse(out);
    ASSERT_FALSE(doc.error());
    EXPECT_EQ(doc["process"]["command_line"].get_string().value(), want.text);
    EXPECT_EQ(doc["rule"]["name"].get_string().value(), "r|=\\x");
  }
}

TEST(FormatEcs, PipelineRules) {
  using namespace ecs_rules;
  EXPECT_EQ(event_type("openat"), "access");
  EXPECT_EQ(event_type("execve"), "start");
  EXPECT_EQ(event_type("rt_sigqueueinfo"), "change");  // in two of the pipeline's lists: the first wins
  EXPECT_EQ(event_type("connect"), "connection");
  EXPECT_EQ(event_type("Deletion"), "Deletion");      // already an ECS type: kept as given
  EXPECT_EQ(event_type("fstat"), "info");
  EXPECT_EQ(event_type("no_such_call"), "info");
  EXPECT_EQ(event_category("Network"), "Network");
  EXPECT_EQ(event_category("net"), "network");
  EXPECT_EQ(event_category("user"), "session");
  EXPECT_EQ(event_category("NET"), "process");  // the pipeline compares these exactly
  EXPECT_EQ(severity(Priority::Error), 73);
  EXPECT_EQ(severity(Priority::Debug), 21);
  EXPECT_EQ(mitre_match("xT1234y", false), "T1234");
  EXPECT_EQ(mitre_match("T12", false), "");
  EXPECT_EQ(mitre_match("T1059.004", true), "T1059.004");
  EXPECT_EQ(mitre_match("T1059\u00e9" "004", true), "T1059\u00e9" "004");  // '.' is one code point
  EXPECT_EQ(mitre_match("T1059\n004", true), "");
  auto split = [](std::string_view s, bool java) {
    std::string out;
    append_split(out, s, java);
    return out;
  };
  EXPECT_EQ(split("run  --loop ", false), R"("run","","--loop","")");
  EXPECT_EQ(split(" A=1\tB=2  ", true), R"("","A=1","B=2")");
  EXPECT_EQ(split("   ", true), "");
  EXPECT_EQ(split("", true), R"("")");
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

constexpr std::string_view kShellAlert =
    R"({"rule":"Terminal shell in container","priority":"Notice","time":"2024-05-07T18:54:19.341081180Z",)"
    R"("hostname":"node-1","source":"syscall","uuid":"3f1c2a9e-0000-4000-8000-000000000001",)"
    R"("tags":["T1059","container","mitre_execution"],"output":"shell","output_fields":{"proc.name":"bash"}})";

// What hostile text a templated field can carry: JSON's specials, CEF's, LEEF's, syslog's, a line break, UTF-8.
const std::string kHostile = "a\"b\\c]d=e|f\ng\r\th\x01 \xC3\xA9\xE6\xBC\xA2";

Value number(double d) {
  Value v;
  v.kind = Value::Kind::Double;
  v.d = d;
  return v;
}
Value boolean(bool b) {
  Value v;
  v.kind = Value::Kind::Bool;
  v.boolean = b;
  return v;
}
Value object(std::string_view json) {
  Value v;
  v.kind = Value::Kind::Object;
  v.text = json;
  return v;
}

// The enrichment the docs show: `fields` (static, templated, tags), `mitre`, and a few typed and hostile fields.
std::shared_ptr<Alert> enriched() {
  auto a = decode_mutable(kShellAlert);
  const std::string_view techniques[] = {"T1059", "T1610"}, tactic_ids[] = {"TA0002"}, tactic_names[] = {"Execution"};
  const std::string_view owners[] = {"sec", "ops\"x"};
  EXPECT_EQ(a->add_field("env", Value::string("prod")), Alert::AddResult::Added);
  a->add_field("summary", Value::string("Terminal shell in container on node-1"));
  a->add_list("threat.technique.id", techniques);
  a->add_list("threat.tactic.id", tactic_ids);
  a->add_list("threat.tactic.name", tactic_names);
  a->add_field("asset.criticality", Value::integer(3));
  a->add_field("k8s.node.geo.location.lat", number(52.5));
  a->add_field("vip", boolean(true));
  a->add_list("asset.owners", owners);
  a->add_field("note", Value::string(kHostile));
  a->add_field("ctx", object(R"({"a":[1,2]})"));
  a->add_tag("pci");
  a->add_tag("container");  // Falco's already: not repeated
  return a;
}

}  // namespace

TEST(FormatEcs, AddedFieldsGoToLabelsTagsAndThreat) {
  const auto a = enriched();
  std::string out;
  EcsFormatter().format(*a, out);
  EXPECT_NE(out.find(R"("labels":{"env":"prod","summary":"Terminal shell in container on node-1",)"
                     R"("asset_criticality":"3","k8s_node_geo_location_lat":"52.5","vip":"true",)"
                     R"("asset_owners":["sec","ops\"x"],"note":"a\"b\\c]d=e|f\ng\r\th\u0001 )"
                     "\xC3\xA9\xE6\xBC\xA2"
                     R"(","ctx":"{\"a\":[1,2]}"})"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find(R"("tags":["pci"])"), std::string::npos) << out;
  // The mitre stage's lists are ECS's threat fields, merged with what the pipeline finds in the tags (T1059 once).
  EXPECT_NE(out.find(R"("threat":{"framework":"MITRE ATT&CK","tactic":{"id":["TA0002"],"name":["Execution"]},)"
                     R"("technique":{"id":["T1059","T1610"]}})"),
            std::string::npos)
      << out;

  // Everything else is what the alert without additions gives, but for falco.tags, which has the added tag too.
  Flat got = flat_of(out);
  Flat plain = flat_of(ecs(kShellAlert));
  EXPECT_EQ(got.at("falco.tags"), R"(["T1059","container","mitre_execution","pci"])");
  for (auto* m : {&got, &plain}) {
    std::erase_if(*m, [](const auto& kv) {
      return kv.first.starts_with("labels.") || kv.first.starts_with("threat.") || kv.first == "tags" ||
             kv.first == "falco.tags";
    });
  }
  EXPECT_EQ(got, plain);
}

// The geoip stage's fields of the four endpoints fill ECS's own geo and as fields, next to the endpoint's ip.
TEST(FormatEcs, AddedGeoFieldsFillTheEndpointsGeoAndAs) {
  auto a = decode_mutable(R"({"rule":"r","priority":"Warning","time":"2024-05-07T18:54:19.341081180Z","output_fields":{"fd.sip":"81.2.69.142","fd.rip":"216.160.83.56","fd.cip":"10.0.0.1"}})");
  a->add_field("fd.sip.geo.city_name", Value::string("London"));
  a->add_field("fd.sip.geo.country_iso_code", Value::string("GB"));
  a->add_field("fd.rip.geo.location.lat", number(47.2513));
  a->add_field("fd.rip.geo.location.lon", number(-122.3149));
  a->add_field("fd.rip.as.number", Value::integer(209));
  a->add_field("fd.rip.as.organization", Value::string("Qwest"));
  a->add_field("fd.lip.geo.region_name", Value::string("England"));
  a->add_field("fd.cip.geo.network", Value::string("private"));  // not an ECS field: a label
  a->add_field("fd.name.geo.city_name", Value::string("x"));     // not an endpoint the format maps: a label
  std::string out;
  EcsFormatter().format(*a, out);
  const Flat got = flat_of(out);
  EXPECT_EQ(got.at("server.ip"), R"("81.2.69.142")");
  EXPECT_EQ(got.at("server.geo.city_name"), R"("London")");
  EXPECT_EQ(got.at("server.geo.country_iso_code"), R"("GB")");
  EXPECT_EQ(got.at("destination.geo.location.lat"), "47.2513");
  EXPECT_EQ(got.at("destination.geo.location.lon"), "-122.3149");
  EXPECT_EQ(got.at("destination.as.number"), "209");
  EXPECT_EQ(got.at("destination.as.organization.name"), R"("Qwest")");
  EXPECT_EQ(got.at("source.geo.region_name"), R"("England")");
  EXPECT_EQ(got.at("labels.fd_cip_geo_network"), R"("private")");
  EXPECT_EQ(got.at("labels.fd_name_geo_city_name"), R"("x")");
  EXPECT_EQ(got.count("labels.fd_sip_geo_city_name"), 0u);
  EXPECT_EQ(ecs_added::ecs_path("fd.sip.as.organization"), "server.as.organization.name");
  EXPECT_EQ(ecs_added::ecs_path("fd.sip"), "");
  EXPECT_EQ(ecs_added::ecs_path("proc.name.geo.city_name"), "");
}

// The threat_intel stage's matches are ECS's threat.enrichments: one per indicator, with what matched in the alert.
TEST(FormatEcs, ThreatIndicatorsBecomeThreatEnrichments) {
  auto a = decode_mutable(R"({"rule":"r","priority":"Warning","time":"2024-05-07T18:54:19.341081180Z","output_fields":{"fd.sip":"203.0.113.9","proc.cmdline":"curl http://a.evil.com/x","proc.hash.sha256":"ABCD"}})");
  Value yes;
  yes.kind = Value::Kind::Bool;
  yes.boolean = true;
  a->add_field("threat.matched", yes);
  Value list;
  list.kind = Value::Kind::Array;
  const std::string hash(64, 'a');
  const std::string json = R"([{"type":"ipv4-addr","value":"203.0.113.0/24","field":"fd.sip","feed":"abuse"},)"
                           R"({"type":"domain-name","value":"evil.com","field":"proc.cmdline","feed":"misp"},)"
                           R"({"type":"file","value":")" + hash + R"(","field":"proc.hash.sha256","feed":"stix"}])";
  list.text = json;
  ASSERT_EQ(a->add_field("threat.indicators", list), Alert::AddResult::Added);
  std::string out;
  EcsFormatter().format(*a, out);
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  ASSERT_FALSE(p.parse(out).get(doc)) << out;
  simdjson::dom::array en;
  ASSERT_FALSE(doc["threat"]["enrichments"].get(en)) << out;
  ASSERT_EQ(en.size(), 3u);
  EXPECT_EQ(std::string_view(en.at(0)["indicator"]["ip"].get_string().value()), "203.0.113.0/24");
  EXPECT_EQ(std::string_view(en.at(0)["indicator"]["provider"].get_string().value()), "abuse");
  EXPECT_EQ(std::string_view(en.at(0)["matched"]["atomic"].get_string().value()), "203.0.113.9");
  EXPECT_EQ(std::string_view(en.at(0)["matched"]["field"].get_string().value()), "fd.sip");
  EXPECT_EQ(std::string_view(en.at(0)["matched"]["type"].get_string().value()), "indicator_match_rule");
  EXPECT_EQ(std::string_view(en.at(1)["indicator"]["url"]["domain"].get_string().value()), "evil.com");
  EXPECT_EQ(std::string_view(en.at(1)["matched"]["atomic"].get_string().value()), "evil.com");  // inside a command line
  EXPECT_EQ(std::string_view(en.at(2)["indicator"]["file"]["hash"]["sha256"].get_string().value()), hash);
  EXPECT_EQ(out.find("labels\":{\"threat_indicators"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("labels":{"threat_matched":"true"})"), std::string::npos) << out;
}

TEST(FormatEcs, AddedFieldsEdgeCases) {
  auto a = decode_mutable(kShellAlert);
  a->add_field("a.b", Value::string("first"));
  a->add_field("a_b", Value::string("second"));  // the same label key: the first one wins
  a->add_field("threat.tactic.id", Value::integer(7));  // not a keyword list: a label, not a threat field
  a->add_field("nothing", Value{});                     // null: left out
  std::string out;
  EcsFormatter().format(*a, out);
  EXPECT_NE(out.find(R"("labels":{"a_b":"first","threat_tactic_id":"7"})"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("threat":{"technique":{"id":["T1059"]}})"), std::string::npos) << out;  // no framework
  EXPECT_FALSE(flat_of(out).count("tags")) << out;  // valid, with unique keys, and no added tags

  // Only a tag added: no labels.
  auto b = decode_mutable(kShellAlert);
  b->add_tag("pci");
  out.clear();
  EcsFormatter().format(*b, out);
  EXPECT_EQ(out.find(R"("labels")"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("tags":["pci"])"), std::string::npos) << out;
  // A sub-technique list without a tag for it, and a string as a one-element list.
  auto c = decode_mutable(R"({"rule":"r","priority":"Notice","time":"2024-01-01T00:00:00Z"})");
  const std::string_view subs[] = {"T1059.004"};
  c->add_list("threat.technique.subtechnique.id", subs);
  c->add_field("threat.tactic.name", Value::string("Execution"));
  out.clear();
  EcsFormatter().format(*c, out);
  EXPECT_NE(out.find(R"("threat":{"framework":"MITRE ATT&CK","tactic":{"name":["Execution"]},)"
                     R"("technique":{"subtechnique":{"id":["T1059.004"]}}})"),
            std::string::npos)
      << out;
}

TEST(FormatEcs, AddedUserFieldsFillEcsUser) {
  auto a = decode_mutable(R"({"rule":"r","priority":"Warning","time":"2024-05-07T18:54:19.341081180Z","output_fields":{"user.uid":1000,"user.name":"alice"}})");
  a->add_field("user.full_name", Value::string("Alice Liddell"));
  a->add_field("user.email", Value::string("alice@example.com"));
  a->add_field("user.role", Value::string("SRE"));
  a->add_field("user.department", Value::string("Platform"));  // ECS has no department: a label
  std::string out;
  EcsFormatter().format(*a, out);
  const Flat got = flat_of(out);
  EXPECT_EQ(got.at("user.full_name"), R"("Alice Liddell")");
  EXPECT_EQ(got.at("user.email"), R"("alice@example.com")");
  EXPECT_EQ(got.at("user.roles"), R"(["SRE"])");
  EXPECT_EQ(got.at("labels.user_department"), R"("Platform")");
  EXPECT_EQ(got.count("labels.user_full_name"), 0u);
  EXPECT_EQ(got.at("process.user.name"), R"("alice")");
  EXPECT_EQ(ecs_added::ecs_path("user.role"), "user.roles");
  EXPECT_EQ(ecs_added::ecs_path("user.name"), "");
}
