// The `ocsf` format: an OCSF Detection Finding per alert, checked against the Falco OCSF example in
// tests/data/ocsf_cases and against hostile input.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <filesystem>
#include <set>

#include "format/ocsf.hpp"
#include "test_util.hpp"

using namespace saker;
using saker::test::decode_ok;

namespace {

// Fails the test on a repeated key anywhere in the document.
void expect_unique_keys(simdjson::dom::element e) {
  if (e.is_array()) {
    for (auto v : simdjson::dom::array(e.get_array().value())) expect_unique_keys(v);
  } else if (e.is_object()) {
    std::set<std::string_view> seen;
    for (auto [k, v] : simdjson::dom::object(e.get_object().value())) {
      EXPECT_TRUE(seen.insert(k).second) << "repeated key " << k;
      expect_unique_keys(v);
    }
  }
}

struct Doc {
  std::string text;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
};

std::unique_ptr<Doc> ocsf(std::string_view json) {
  auto d = std::make_unique<Doc>();
  OcsfFormatter().format(*decode_ok(json), d->text);
  EXPECT_EQ(d->text.find('\n'), std::string::npos);
  const auto err = d->parser.parse(d->text).get(d->root);
  EXPECT_FALSE(err) << d->text.substr(0, 300);
  if (!err) expect_unique_keys(d->root);
  return d;
}

std::string_view str(simdjson::dom::element e, std::string_view pointer) {
  std::string_view s;
  EXPECT_FALSE(e.at_pointer(pointer).get(s)) << pointer;
  return s;
}
std::int64_t num(simdjson::dom::element e, std::string_view pointer) {
  std::int64_t n = 0;
  EXPECT_FALSE(e.at_pointer(pointer).get(n)) << pointer;
  return n;
}
std::string json_of(simdjson::dom::element e) { return simdjson::minify(e); }

}  // namespace

TEST(FormatOcsf, MatchesTheFalcoExampleWhereTheSchemaAgrees) {
  const auto d = ocsf(test::read_file(test::data_path("ocsf_cases/falco.event")));
  simdjson::dom::parser ep;
  const std::string ex_text = test::read_file(test::data_path("ocsf_cases/falco.json"));
  simdjson::dom::element ex;
  ASSERT_FALSE(ep.parse(ex_text).get(ex));
  const auto& r = d->root;
  // Equal where the example's schema (Security Finding, OCSF 0.1.0) and Detection Finding agree.
  for (auto p : {"/activity_id", "/category_uid", "/time", "/severity_id"}) EXPECT_EQ(num(r, p), num(ex, p)) << p;
  for (auto p :
       {"/category_name", "/severity", "/message", "/metadata/product/name", "/metadata/product/vendor_name"}) {
    EXPECT_EQ(str(r, p), str(ex, p)) << p;
  }
  EXPECT_EQ(json_of(r["metadata"]["labels"]), json_of(ex["metadata"]["labels"]));
  // The example's `finding` object is Detection Finding's `finding_info`.
  for (std::string k : {"uid", "title", "desc"}) EXPECT_EQ(str(r, "/finding_info/" + k), str(ex, "/finding/" + k));
  EXPECT_EQ(num(r, "/finding_info/created_time"), num(ex, "/finding/created_time"));
  EXPECT_EQ(json_of(r["finding_info"]["types"]), json_of(ex["finding"]["types"]));
  // Deliberate differences (docs/formats/ocsf.md): the current class and schema, its activity and status names.
  EXPECT_EQ(num(r, "/class_uid"), 2004);
  EXPECT_EQ(str(r, "/class_name"), "Detection Finding");
  EXPECT_EQ(num(r, "/type_uid"), 200401);
  EXPECT_EQ(str(r, "/type_name"), "Detection Finding: Create");
  EXPECT_EQ(str(r, "/activity_name"), "Create");
  EXPECT_EQ(num(r, "/status_id"), 1);
  EXPECT_EQ(str(r, "/status"), "New");
  EXPECT_EQ(str(r, "/metadata/version"), kOcsfVersion);
  // Each of the example's observables (a Falco field name as "Other") is here as a typed observable with the same
  // value, or under `unmapped` by its Falco name.
  std::set<std::string> values;
  for (auto o : simdjson::dom::array(r["observables"].get_array().value())) {
    values.insert(std::string(str(o, "/value")));
  }
  for (auto o : simdjson::dom::array(ex["observables"].get_array().value())) {
    const std::string_view name = str(o, "/name"), value = str(o, "/value");
    std::string_view un;
    const bool in_unmapped = !r["unmapped"][name].get(un) && un == value;
    EXPECT_TRUE(values.count(std::string(value)) || in_unmapped) << name;
  }
  EXPECT_EQ(str(r, "/observables/0/name"), "device.hostname");
  EXPECT_EQ(num(r, "/observables/0/type_id"), 1);
  EXPECT_EQ(str(r, "/evidences/0/process/user/name"), "user.name");
  EXPECT_EQ(str(r, "/evidences/0/process/parent_process/name"), "proc.pname");
  // raw_data: the alert as received (the example's raw_data is of another event).
  EXPECT_EQ(str(r, "/raw_data"), decode_ok(test::read_file(test::data_path("ocsf_cases/falco.event")))->json());
}

TEST(FormatOcsf, ProcessContainerKubernetesAndAttacks) {
  const auto d = ocsf(test::read_file(test::data_path("sample_alerts/06_terminal_shell_in_container_k8s_uuid.json")));
  const auto& r = d->root;
  EXPECT_EQ(str(r, "/finding_info/uid"), "7466e462-ddde-434d-8dee-390ca5656f83");
  EXPECT_EQ(num(r, "/severity_id"), 2);  // Notice
  EXPECT_EQ(str(r, "/evidences/0/process/name"), "sh");
  EXPECT_EQ(str(r, "/evidences/0/process/cmd_line"), "sh");
  EXPECT_EQ(str(r, "/evidences/0/process/path"), "/bin/sh");
  EXPECT_EQ(str(r, "/evidences/0/process/user/uid"), "0");
  EXPECT_EQ(str(r, "/evidences/0/container/uid"), "8645a7a530c3");
  EXPECT_EQ(str(r, "/evidences/0/container/image/name"), "docker.io/library/busybox");
  EXPECT_EQ(str(r, "/evidences/0/container/image/tag"), "latest");
  EXPECT_EQ(str(r, "/evidences/0/container/orchestrator"), "Kubernetes");
  EXPECT_EQ(str(r, "/resources/0/name"), "debug");
  EXPECT_EQ(str(r, "/resources/0/namespace"), "default");
  EXPECT_EQ(str(r, "/finding_info/attacks/0/technique/uid"), "T1059");
  EXPECT_EQ(str(r, "/finding_info/attacks/0/tactic/uid"), "TA0002");
  EXPECT_EQ(num(r, "/unmapped/proc.tty"), 34816);
  std::string_view s;
  EXPECT_TRUE(r.at_pointer("/unmapped/proc.cmdline").get(s));  // mapped fields are not repeated
}

TEST(FormatOcsf, NetworkEndpointsAndFile) {
  const auto d = ocsf(test::read_file(test::data_path("sample_alerts/04_network_fd_ips_geoip_testnets.json")));
  const auto& r = d->root;
  EXPECT_EQ(str(r, "/evidences/0/src_endpoint/ip"), "216.160.83.56");
  EXPECT_EQ(num(r, "/evidences/0/src_endpoint/port"), 5400);
  EXPECT_EQ(str(r, "/evidences/0/dst_endpoint/ip"), "89.160.20.112");
  EXPECT_EQ(num(r, "/evidences/0/dst_endpoint/port"), 5700);
  EXPECT_EQ(str(r, "/evidences/0/file/path"), "/etc/shadow");
  EXPECT_EQ(str(r, "/evidences/0/file/name"), "example.tar.gz");
  EXPECT_EQ(str(r, "/evidences/0/file/parent_folder"), "var/log/example");
  EXPECT_EQ(str(r, "/unmapped/fd.lip"), "89.160.20.128");  // local/remote are kept when client/server are known
}

TEST(FormatOcsf, SeverityAndTimeOfEveryPriority) {
  const std::pair<const char*, int> cases[] = {{"Debug", 1}, {"Informational", 1}, {"Notice", 2}, {"Warning", 3},
                                               {"Error", 4}, {"Critical", 5}, {"Alert", 5}, {"Emergency", 6}};
  for (auto [p, id] : cases) {
    const auto d =
        ocsf(std::string(R"({"rule":"r","priority":")") + p + R"(","time":"2024-05-07T18:54:19.341081180Z"})");
    EXPECT_EQ(num(d->root, "/severity_id"), id) << p;
    EXPECT_EQ(num(d->root, "/time"), 1715108059341);
  }
}

TEST(FormatOcsf, EverySampleIsValid) {
  for (const auto& entry : std::filesystem::directory_iterator(test::data_path("sample_alerts"))) {
    if (entry.path().extension() != ".json") continue;
    SCOPED_TRACE(entry.path().filename().string());
    const auto d = ocsf(test::read_file(entry.path().string()));
    EXPECT_EQ(num(d->root, "/class_uid"), 2004);
  }
}

TEST(FormatOcsf, HostileInputStaysOneValidDocument) {
  std::string cmd = "sh -c 'a|b=c\\\\d\\n\\r\\u0000\\te \u00e9\u6f22\U0001F600'";
  cmd.append(100 * 1024, 'x');
  const std::string in = R"({"rule":"r\n|=","priority":"Critical","time":"2024-01-01T00:00:00Z","output_fields":{)"
                         R"("proc.cmdline":")" + cmd + R"(","proc.pid":"12","fd.cip":"not-an-ip","fd.cport":70000,)"
                         R"("x":1,"container.id":"host"},"tags":["T1059.004","mitre_execution"]})";
  const auto a = decode_ok(in);
  Value want;
  ASSERT_TRUE(a->lookup("proc.cmdline", want));
  const auto d = ocsf(in);
  const auto& r = d->root;
  EXPECT_EQ(str(r, "/evidences/0/process/cmd_line"), want.text);
  EXPECT_EQ(str(r, "/message"), "r\n|=");
  EXPECT_EQ(str(r, "/unmapped/proc.pid"), "12");  // not an integer: unmapped, not mistyped
  EXPECT_EQ(str(r, "/unmapped/fd.cip"), "not-an-ip");
  EXPECT_EQ(num(r, "/unmapped/fd.cport"), 70000);
  EXPECT_EQ(str(r, "/unmapped/container.id"), "host");
  EXPECT_EQ(num(r, "/unmapped/x"), 1);
  EXPECT_EQ(str(r, "/finding_info/attacks/0/sub_technique/uid"), "T1059.004");
}

// The example in docs/formats/ocsf.md is this alert's record, member for member and in the same order.
TEST(FormatOcsf, WritesTheDocumentedExample) {
  const std::string doc = test::read_file(std::string(SAKER_SOURCE_DIR) + "/docs/formats/ocsf.md");
  const std::size_t section = doc.find("\n## Example");
  ASSERT_NE(section, std::string::npos);
  const std::size_t from = doc.find("```json\n", section);
  ASSERT_NE(from, std::string::npos);
  const std::size_t to = doc.find("\n```", from + 8);
  ASSERT_NE(to, std::string::npos);
  simdjson::dom::parser parser;
  simdjson::dom::element example;
  ASSERT_FALSE(parser.parse(doc.substr(from + 8, to - from - 8)).get(example));
  const auto d = ocsf(test::read_file(test::data_path("sample_alerts/06_terminal_shell_in_container_k8s_uuid.json")));
  EXPECT_EQ(json_of(d->root), json_of(example));
}

// unmapped keeps each field once without checking: decode refuses an alert that names a field twice, also
// once in output_fields and once at the top level.
TEST(FormatOcsf, FieldNamesAreUniqueBeforeTheFormat) {
  static thread_local Decoder decoder;
  EXPECT_FALSE(decoder.decode(R"({"rule":"r","priority":"Notice","time":"2024-01-01T00:00:00Z",)"
                              R"("output_fields":{"evt.type":"open","evt.type":"openat"}})"));
  EXPECT_FALSE(decoder.decode(R"({"rule":"r","priority":"Notice","time":"2024-01-01T00:00:00Z",)"
                              R"("output_fields":{"evt.type":"open"},"evt.type":"openat"})"));
  const auto d = ocsf(R"({"rule":"r","priority":"Notice","time":"2024-01-01T00:00:00Z",)"
                      R"("output_fields":{"evt.type":"open","proc.name":"sh","proc.tty":0},"ext":1})");
  EXPECT_EQ(json_of(d->root["unmapped"]), R"({"evt.type":"open","proc.tty":0,"ext":1})");
}

TEST(FormatOcsf, Registered) {
  auto f = make_formatter("ocsf");
  ASSERT_TRUE(f.ok());
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

std::unique_ptr<Doc> ocsf(const Alert& a) {
  auto d = std::make_unique<Doc>();
  OcsfFormatter().format(a, d->text);
  EXPECT_EQ(d->text.find('\n'), std::string::npos);
  const auto err = d->parser.parse(d->text).get(d->root);
  EXPECT_FALSE(err) << d->text.substr(0, 300);
  if (!err) expect_unique_keys(d->root);
  return d;
}

constexpr std::string_view kShellAlert =
    R"({"rule":"Terminal shell in container","priority":"Notice","time":"2024-05-07T18:54:19.341081180Z",)"
    R"("hostname":"node-1","source":"syscall","uuid":"3f1c2a9e-0000-4000-8000-000000000001",)"
    R"("tags":["T1059","container","mitre_execution"],"output":"shell","output_fields":{"proc.name":"bash","x":1}})";

}  // namespace

TEST(FormatOcsf, AddedFieldsAreEnrichmentsAndMitreIsAttacks) {
  auto a = decode_mutable(kShellAlert);
  const std::string_view techniques[] = {"T1059", "T1610"}, subs[] = {"T1610.001"};
  const std::string_view tactic_ids[] = {"TA0002", "TA0004"}, tactic_names[] = {"Execution", "Privilege Escalation"};
  a->add_field("env", Value::string("prod"));
  a->add_field("note", Value::string("a\"b\\c]d=e|f\ng \xC3\xA9"));
  a->add_field("asset.criticality", Value::integer(3));
  Value yes;
  yes.kind = Value::Kind::Bool;
  yes.boolean = true;
  a->add_field("vip", yes);
  a->add_list("threat.technique.id", techniques);
  a->add_list("threat.technique.subtechnique.id", subs);
  a->add_list("threat.tactic.id", tactic_ids);
  a->add_list("threat.tactic.name", tactic_names);
  a->add_tag("pci");
  const auto d = ocsf(*a);
  const std::string& t = d->text;
  EXPECT_NE(t.find(R"("enrichments":[)"
                   R"({"name":"env","value":"prod","data":{"env":"prod"}},)"
                   R"({"name":"note","value":"a\"b\\c]d=e|f\ng )"
                   "\xC3\xA9"
                   R"(","data":{"note":"a\"b\\c]d=e|f\ng )"
                   "\xC3\xA9"
                   R"("}},)"
                   R"({"name":"asset.criticality","value":"3","data":{"asset.criticality":3}},)"
                   R"({"name":"vip","value":"true","data":{"vip":true}},)"
                   R"({"name":"threat.technique.id","value":"[\"T1059\",\"T1610\"]",)"
                   R"("data":{"threat.technique.id":["T1059","T1610"]}},)"
                   R"({"name":"threat.technique.subtechnique.id","value":"[\"T1610.001\"]",)"
                   R"("data":{"threat.technique.subtechnique.id":["T1610.001"]}},)"
                   R"({"name":"threat.tactic.id","value":"[\"TA0002\",\"TA0004\"]",)"
                   R"("data":{"threat.tactic.id":["TA0002","TA0004"]}},)"
                   R"({"name":"threat.tactic.name","value":"[\"Execution\",\"Privilege Escalation\"]",)"
                   R"("data":{"threat.tactic.name":["Execution","Privilege Escalation"]}}],)"),
            std::string::npos)
      << t;
  // T1059 from the tag once; the added sub-technique, which names T1610 already; the second tactic on its own.
  EXPECT_NE(t.find(R"("attacks":[)"
                   R"({"technique":{"uid":"T1059"},"tactic":{"name":"Execution","uid":"TA0002"}},)"
                   R"({"technique":{"uid":"T1610"},"sub_technique":{"uid":"T1610.001"},)"
                   R"("tactic":{"name":"Execution","uid":"TA0002"}},)"
                   R"({"tactic":{"name":"Privilege Escalation","uid":"TA0004"}}]})"),
            std::string::npos)
      << t;
  EXPECT_EQ(json_of(d->root["metadata"]["labels"]), R"(["T1059","container","mitre_execution","pci"])");
  EXPECT_EQ(json_of(d->root["unmapped"]), R"({"x":1})");  // added fields are not repeated there
}

TEST(FormatOcsf, AddedTacticsWithoutTechniquesAndOddValues) {
  auto a = decode_mutable(R"({"rule":"r","priority":"Notice","time":"2024-01-01T00:00:00Z"})");
  const std::string_view ids[] = {"TA0003", "TA9999"}, not_ids[] = {"T10", "x"};
  a->add_list("threat.tactic.id", ids);  // no names: ATT&CK's own for the ids saker knows
  a->add_list("threat.technique.id", not_ids);  // not ATT&CK ids: only in enrichments
  a->add_field("empty", Value{});
  const auto d = ocsf(*a);
  EXPECT_NE(d->text.find(R"("attacks":[{"tactic":{"name":"Persistence","uid":"TA0003"}},{"tactic":{"uid":"TA9999"}}])"),
            std::string::npos)
      << d->text;
  EXPECT_NE(d->text.find(R"({"name":"empty","value":"","data":{"empty":null}})"), std::string::npos) << d->text;

  // Only tags added: no enrichments.
  auto b = decode_mutable(kShellAlert);
  b->add_tag("pci");
  EXPECT_EQ(ocsf(*b)->text.find("enrichments"), std::string::npos);
}

// The threat_intel stage's matches are observables with the feed's verdict as their reputation, beside the
// observables the format gives anyway; an alert without matches has no reputation anywhere.
TEST(FormatOcsf, ThreatMatchesAreObservablesWithAReputation) {
  auto a = decode_mutable(R"({"rule":"r","priority":"Warning","time":"2024-05-07T18:54:19.341081180Z","output_fields":{"fd.sip":"203.0.113.9","proc.cmdline":"curl http://a.evil.com/x"}})");
  Value list;
  list.kind = Value::Kind::Array;
  const std::string json = R"([{"type":"ipv4-addr","value":"203.0.113.0/24","field":"fd.sip","feed":"abuse"},)"
                           R"({"type":"domain-name","value":"evil.com","field":"proc.cmdline","feed":"misp"}])";
  list.text = json;
  ASSERT_EQ(a->add_field("threat.indicators", list), Alert::AddResult::Added);
  const auto d = ocsf(*a);
  simdjson::dom::array obs;
  ASSERT_FALSE(d->root["observables"].get(obs)) << d->text;
  std::vector<std::string> with_reputation;
  for (auto o : obs) {
    simdjson::dom::element rep;
    if (o["reputation"].get(rep)) continue;
    with_reputation.push_back(json_of(o));
  }
  ASSERT_EQ(with_reputation.size(), 2u) << d->text;
  EXPECT_EQ(with_reputation[0], R"({"name":"fd.sip","type_id":2,"type":"IP Address","value":"203.0.113.9","reputation":{"base_score":100.0,"score_id":10,"score":"Malicious","provider":"abuse"}})");
  EXPECT_EQ(with_reputation[1], R"({"name":"proc.cmdline","type_id":1,"type":"Hostname","value":"evil.com","reputation":{"base_score":100.0,"score_id":10,"score":"Malicious","provider":"misp"}})");
  const auto plain = ocsf(R"({"rule":"r","priority":"Warning","output_fields":{"fd.sip":"203.0.113.9"}})");
  EXPECT_EQ(plain->text.find("reputation"), std::string::npos);
}
