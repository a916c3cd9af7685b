// Given a user directory (a CSV or JSON file, or an LDAP server behind UserDirectory), the users stage adds who the
// alert's user is; a directory lookup never holds an alert up: the first alert of a user goes on without the fields
// and the ones after it get the answer, remembered for the TTL.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <thread>
#include <fstream>

#include <fmt/format.h>

#include "core/decode.hpp"
#include "enrich/feeds/csv.hpp"
#include "enrich/feeds/user_table.hpp"
#include "enrich/users/ldap_filter.hpp"
#include "enrich/users/stage.hpp"
#include "pipeline/config.hpp"
#include "test_util.hpp"

using namespace saker;
using saker::test::text_of;

namespace {

std::shared_ptr<Alert> fresh(std::string_view json) {
  static thread_local Decoder d;
  d.set_stages(true);
  auto r = d.decode(json);
  if (!r) throw std::runtime_error(r.error().message);
  return std::move(r).value();
}

std::shared_ptr<const UserTable> table(std::string_view text, UserTable::Format f = UserTable::Format::Csv) {
  auto r = UserTable::parse(text, f, "users");
  if (!r) throw std::runtime_error(r.error().message);
  return r.value();
}

std::string table_error(std::string_view text, UserTable::Format f = UserTable::Format::Csv) {
  auto r = UserTable::parse(text, f, "users.csv");
  EXPECT_FALSE(r) << "expected an error for " << text;
  return r ? std::string() : r.error().message;
}

constexpr std::string_view kCsv =
    "uid,name,full_name,role,department,email\n"
    "1000,alice,Alice Liddell,SRE,Platform,alice@example.com\n"
    "1001,bob,\"Builder, Bob\",\"Dev \"\"Lead\"\"\",,bob@example.com\n"
    ",carol,Carol,,,\n"
    "0,root,Superuser,,,\n";

std::string alert_of(std::string_view fields) {
  return fmt::format(R"({{"rule":"r","priority":"Warning","output_fields":{{{}}}}})", fields);
}

}  // namespace

TEST(Csv, QuotedCellsSpanLinesAndTheRowKnowsWhereItBegan) {
  CsvReader r("a,\"b\nc\",\"d\"\"e\"\r\nf,g\n", 100);
  std::vector<std::string> cells;
  ASSERT_TRUE(r.next(cells));
  EXPECT_EQ(cells, (std::vector<std::string>{"a", "b\nc", "d\"e"}));
  EXPECT_EQ(r.row_line(), 1u);
  ASSERT_TRUE(r.next(cells));
  EXPECT_EQ(cells, (std::vector<std::string>{"f", "g"}));
  EXPECT_EQ(r.row_line(), 3u);
  EXPECT_FALSE(r.next(cells));
  EXPECT_TRUE(r.error().empty());
  CsvReader open("\"abc\n", 100);
  EXPECT_FALSE(open.next(cells));
  EXPECT_EQ(open.error(), "a quoted cell is not closed");
  CsvReader big("abcdef\n", 3);
  EXPECT_FALSE(big.next(cells));
  EXPECT_EQ(big.error(), "a cell is over 3 bytes");
}

TEST(UserTable, ACsvFileIsMatchedByUidAndByName) {
  auto t = table(kCsv);
  ASSERT_EQ(t->size(), 4u);
  const UserTable::Entry* a = t->by_uid("1000");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->name, "alice");
  EXPECT_EQ(a->record.attributes[0], "Alice Liddell");
  EXPECT_EQ(a->record.attributes[3], "alice@example.com");
  EXPECT_EQ(t->by_name("bob")->record.attributes[0], "Builder, Bob");
  EXPECT_EQ(t->by_name("bob")->record.attributes[1], "Dev \"Lead\"");
  EXPECT_EQ(t->by_name("bob")->record.attributes[2], "");
  EXPECT_EQ(t->by_name("carol")->uid, "");
  EXPECT_EQ(t->by_uid("01000"), a);  // a uid is a number
  EXPECT_EQ(t->by_uid("0")->name, "root");
  EXPECT_EQ(t->by_uid("1002"), nullptr);
  EXPECT_EQ(t->by_name("mallory"), nullptr);
}

TEST(UserTable, AJsonFileMayGiveTheUidAsANumber) {
  auto t = table(R"([{"uid": 1000, "name": "alice", "full_name": "Alice", "role": "SRE"},
                     {"uid": "1001", "email": "bob@example.com", "department": null}])",
                 UserTable::Format::Json);
  EXPECT_EQ(t->by_uid("1000")->record.attributes[1], "SRE");
  EXPECT_EQ(t->by_uid("1001")->record.attributes[3], "bob@example.com");
  EXPECT_EQ(table(R"({"users": [{"name": "x"}]})", UserTable::Format::Json)->size(), 1u);
}

TEST(UserTable, ABadFileIsRefusedWithTheLineAtFault) {
  EXPECT_EQ(table_error("uid,name,nickname\n"), "users.csv:1: unknown column \"nickname\": the columns are uid, name, full_name, role, department, email");
  EXPECT_EQ(table_error("full_name,role\nA,B\n"), "users.csv:1: the header names neither a uid nor a name column, e.g. uid,name,full_name,role,department,email");
  EXPECT_EQ(table_error("uid,name\n1,a\n\"2\nx\",b,c\n"), "users.csv:3: 3 cells, the header has 2");
  EXPECT_EQ(table_error("uid,name\n1,a\nabc,b\n"), "users.csv:3: uid \"abc\" is not a number");
  EXPECT_EQ(table_error("uid,name\n1,a\n,\n"), "users.csv:3: an entry needs a uid or a name");
  EXPECT_EQ(table_error("uid,name\n1,a\n2,b\n01,c\n"), "users.csv:4: uid \"1\" is given twice (also at line 2)");
  EXPECT_EQ(table_error("uid,name\n1,a\n2,\"b\n"), "users.csv:3: a quoted cell is not closed");
  EXPECT_EQ(table_error(""), "users.csv: the header row is missing");
  EXPECT_EQ(table_error(R"([{"uid": 1}, {"uid": true}])", UserTable::Format::Json), "users.csv: entry 2: \"uid\" must be a string or a number");
  EXPECT_EQ(table_error(R"([{"name": "a"}, {"name": "a"}])", UserTable::Format::Json), "users.csv: entry 2: name \"a\" is given twice (also at entry 1)");
  EXPECT_EQ(table_error(R"({"people": []})", UserTable::Format::Json), "users.csv: must be a list of users, or {\"users\": [...]}");
  UserTableLimits small;
  small.max_entries = 1;
  auto r = UserTable::parse("uid\n1\n2\n", UserTable::Format::Csv, "u.csv", small);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "u.csv:3: more than 1 entries");
}

TEST(UsersStage, AFileGivesTheFieldsByTheAlertsUidNumberOrStringOrByName) {
  const std::string path = ::testing::TempDir() + "saker-users-test.csv";
  {
    std::ofstream f(path);
    f << kCsv;
  }
  Metrics metrics;
  const auto chain_of = [&](std::string_view users) {
    ConfigErrors errors("test.yaml");
    auto cfg = parse_config(fmt::format("enrich:\n  users: {}\nsinks: [{{name: out, type: stdout}}]\n", users), errors,
                            ConfigUse::replay);
    if (!cfg) throw std::runtime_error(errors.to_string());
    auto chain = std::make_unique<StageChain>();
    for (const auto& s : cfg->stages) {
      StageContext ctx{s.name, metrics, ::testing::TempDir()};
      chain->add(s.name, s.build(ctx), metrics.timing("t", "t", {{"stage", s.name}}));
    }
    return chain;
  };
  auto by_uid = chain_of(fmt::format("{{path: {}}}", path));
  for (std::string_view uid : {"1000", "\"1000\""}) {
    auto a = fresh(alert_of(fmt::format(R"("user.uid":{},"user.name":"someone")", uid)));
    by_uid->run(*a);
    EXPECT_EQ(text_of(*a, "user.full_name"), "Alice Liddell");
    EXPECT_EQ(text_of(*a, "user.role"), "SRE");
    EXPECT_EQ(text_of(*a, "user.department"), "Platform");
    EXPECT_EQ(text_of(*a, "user.email"), "alice@example.com");
  }
  // Falco's own field stays; the absent attribute is not added.
  auto bob = fresh(alert_of(R"("user.uid":1001,"user.email":"falco@says")"));
  by_uid->run(*bob);
  EXPECT_EQ(text_of(*bob, "user.email"), "falco@says");
  EXPECT_EQ(text_of(*bob, "user.department"), "<missing>");
  EXPECT_EQ(text_of(*bob, "user.full_name"), "Builder, Bob");
  auto nobody = fresh(alert_of(R"("user.uid":4242)"));
  by_uid->run(*nobody);
  EXPECT_FALSE(nobody->has_fields_added());
  EXPECT_EQ(metrics.counter_value("saker_enrich_hits_total", {{"stage", "users"}}), 3u);
  EXPECT_EQ(metrics.counter_value("saker_enrich_lookups_total", {{"stage", "users"}, {"result", "not_found"}}), 1u);

  auto by_name = chain_of(fmt::format("{{path: {}, key: name}}", path));
  auto carol = fresh(alert_of(R"("user.uid":1000,"user.name":"carol")"));
  by_name->run(*carol);
  EXPECT_EQ(text_of(*carol, "user.full_name"), "Carol");
  std::remove(path.c_str());
}

TEST(UsersStage, ConfigErrorsNameTheKey) {
  const auto error_of = [](std::string_view users) {
    ConfigErrors errors("test.yaml");
    auto cfg = parse_config(fmt::format("enrich:\n  users: {}\nsinks: [{{name: out, type: stdout}}]\n", users), errors,
                            ConfigUse::replay);
    EXPECT_FALSE(cfg) << users;
    return errors.to_string();
  };
  EXPECT_NE(error_of("{path: /nonexistent/users.csv}").find("test.yaml:2:"), std::string::npos);
  EXPECT_NE(error_of("{path: u.csv, key: email}").find("must be uid"), std::string::npos);
  EXPECT_NE(error_of("{path: u.csv, ldap: {url: ldap://x}}").find("not both"), std::string::npos);
  EXPECT_NE(error_of("{ldap: {url: http://x, base_dn: dc=x}}").find("ldap:// or ldaps://"), std::string::npos);
  EXPECT_NE(error_of("{ldap: {url: ldap://x, base_dn: dc=x, filter: \"uid={user.name}\"}}").find("in parentheses"), std::string::npos);
  EXPECT_NE(error_of("{ldap: {url: ldap://x, base_dn: dc=x, attributes: {nickname: cn}}}").find("unknown attribute"), std::string::npos);
  // The password never shows in an error.
  const std::string e = error_of("{ldap: {url: ldap://x, base_dn: dc=x, password: hunter2-secret, timeout: 0s}}");
  EXPECT_EQ(e.find("hunter2-secret"), std::string::npos) << e;
  EXPECT_NE(e.find("needs bind_dn"), std::string::npos) << e;
}

TEST(LdapFilter, ValuesAreEscapedAsRfc4515Says) {
  EXPECT_EQ(ldap_escape("alice"), "alice");
  EXPECT_EQ(ldap_escape("*)(uid=*"), "\\2a\\29\\28uid=\\2a");
  EXPECT_EQ(ldap_escape(std::string_view("a\\b\0c", 5)), "a\\5cb\\00c");
  auto t = LdapFilterTemplate::parse("(&(objectClass=person)(|(uid={user.name})(cn={user.name}))(x={{y}}))");
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->fields(), std::vector<std::string>{"user.name"});
  EXPECT_EQ(t->render({"*)(uid=*"}), "(&(objectClass=person)(|(uid=\\2a\\29\\28uid=\\2a)(cn=\\2a\\29\\28uid=\\2a))(x={y}))");
  auto two = LdapFilterTemplate::parse("(&(uidNumber={user.uid})(uid={user.name}))");
  ASSERT_TRUE(two);
  EXPECT_EQ(two->render({"1000", "alice"}), "(&(uidNumber=1000)(uid=alice))");
  for (std::string_view bad : {"uid={user.name}", "(uid={user.name}", "(uid={user.name}))", "(uid=x)", "(uid={})",
                               "(uid={user.name)", "(a={user.uid})(b=1)"}) {
    EXPECT_FALSE(LdapFilterTemplate::parse(bad)) << bad;
  }
}

namespace {

// A directory that answers from a map and counts what it is asked; `down` makes it fail.
struct FakeDirectory : UserDirectory {
  struct State {
    std::map<std::string, UserRecord> users;
    std::atomic<int> asked{0};
    std::atomic<bool> down{false};
    std::vector<std::vector<std::string>> seen;
  };
  explicit FakeDirectory(std::shared_ptr<State> s) : s_(std::move(s)) {}
  Status find(const std::vector<std::string>& values, UserRecord& out, std::string& error) override {
    ++s_->asked;
    s_->seen.push_back(values);
    if (s_->down) {
      error = "down";
      return Status::Error;
    }
    auto it = s_->users.find(values.at(0));
    if (it == s_->users.end()) return Status::NotFound;
    out = it->second;
    return Status::Found;
  }
  std::shared_ptr<State> s_;
};

UserRecord record(std::string full_name, std::string role = {}) {
  UserRecord r;
  r.attributes[0] = std::move(full_name);
  r.attributes[1] = std::move(role);
  return r;
}

}  // namespace

TEST(UserLookups, AMissQueuesOneLookupAndTheAnswerIsRememberedForTheTtl) {
  auto state = std::make_shared<FakeDirectory::State>();
  state->users["1000"] = record("Alice", "SRE");
  auto now = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  Metrics metrics;
  UserLookupOptions o;
  o.ttl = std::chrono::minutes(10);
  UserLookups l(std::make_unique<FakeDirectory>(state), o, metrics, "users", 0, [&] { return now; });
  // Three alerts of one user before the lookup ran: one lookup.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(l.get("1000", {"1000"}).state, UserLookups::State::Miss);
  EXPECT_EQ(l.get("7", {"7"}).state, UserLookups::State::Miss);
  EXPECT_EQ(state->asked, 0);
  EXPECT_EQ(l.run_queued(), 2u);
  EXPECT_EQ(state->asked, 2);
  auto a = l.get("1000", {"1000"});
  ASSERT_EQ(a.state, UserLookups::State::Found);
  ASSERT_TRUE(a.block.get());
  EXPECT_EQ(a.block.get()->fields().size(), 2u);
  EXPECT_EQ(l.get("7", {"7"}).state, UserLookups::State::NotFound);  // "nobody" is remembered too
  EXPECT_EQ(l.run_queued(), 0u);
  EXPECT_EQ(l.size(), 2u);
  EXPECT_EQ(metrics.gauge("saker_enrich_cache_entries", "Answers a stage remembers", {{"stage", "users"}}).value(), 2);
  // Past the TTL the directory is asked again; until it answered, the alert goes on without the fields.
  now += std::chrono::minutes(10);
  state->users["1000"] = record("Alice L.");
  EXPECT_EQ(l.get("1000", {"1000"}).state, UserLookups::State::Miss);
  EXPECT_EQ(l.run_queued(), 1u);
  auto b = l.get("1000", {"1000"});
  ASSERT_EQ(b.state, UserLookups::State::Found);
  EXPECT_EQ(b.block.get()->fields()[0].value.text, "Alice L.");
  EXPECT_EQ(metrics.counter_value("saker_enrich_lookups_total", {{"stage", "users"}, {"result", "found"}}), 2u);
  EXPECT_EQ(metrics.counter_value("saker_enrich_lookups_total", {{"stage", "users"}, {"result", "not_found"}}), 1u);
}

TEST(UserLookups, AFailingDirectoryIsNotRememberedAndAFullQueueDrops) {
  auto state = std::make_shared<FakeDirectory::State>();
  state->users["1"] = record("One");
  state->down = true;
  auto now = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  Metrics metrics;
  UserLookupOptions o;
  o.queue = 2;
  o.max_entries = 2;
  UserLookups l(std::make_unique<FakeDirectory>(state), o, metrics, "users", 0, [&] { return now; });
  EXPECT_EQ(l.get("1", {"1"}).state, UserLookups::State::Miss);
  EXPECT_EQ(l.get("2", {"2"}).state, UserLookups::State::Miss);
  EXPECT_EQ(l.get("3", {"3"}).state, UserLookups::State::Miss);  // the queue holds two: dropped
  EXPECT_EQ(metrics.counter_value("saker_enrich_lookups_total", {{"stage", "users"}, {"result", "dropped"}}), 1u);
  EXPECT_EQ(l.run_queued(), 2u);
  EXPECT_EQ(metrics.counter_value("saker_enrich_lookups_total", {{"stage", "users"}, {"result", "error"}}), 2u);
  EXPECT_EQ(l.size(), 0u);
  // Back up: the next alert asks again.
  state->down = false;
  EXPECT_EQ(l.get("1", {"1"}).state, UserLookups::State::Miss);
  EXPECT_EQ(l.run_queued(), 1u);
  EXPECT_EQ(l.get("1", {"1"}).state, UserLookups::State::Found);
  // The cache is bounded: a third user pushes one answer out.
  for (std::string k : {"2", "3"}) {
    l.get(k, {k});
    l.run_queued();
  }
  EXPECT_EQ(l.size(), 2u);
}

TEST(UsersStage, TheDirectoryPathNeverWaitsAndLaterAlertsGetTheAnswer) {
  auto state = std::make_shared<FakeDirectory::State>();
  state->users["1000"] = record("Alice", "SRE");
  ConfigErrors errors("test.yaml");
  auto cfg = parse_config(
      "enrich:\n  users: {ldap: {url: \"ldap://127.0.0.1:1\", base_dn: \"dc=example,dc=test\"}}\n"
      "sinks: [{name: out, type: stdout}]\n",
      errors, ConfigUse::replay);
  ASSERT_TRUE(cfg) << errors.to_string();
  // The parsed config, with the fake directory in place of LDAP and no lookup thread.
  const YAML::Node node = YAML::Load("{ldap: {url: \"ldap://127.0.0.1:1\", base_dn: \"dc=example,dc=test\"}}");
  ConfigReader r{node, "users", errors};
  StageFields fields;
  ASSERT_TRUE(parse_users_stage(r, fields));
  EXPECT_TRUE(fields.names.contains("user.full_name"));
  auto users = std::make_shared<UsersConfig>();
  users->ldap = true;
  users->ldap_options.filter = LdapFilterTemplate::parse("(uidNumber={user.uid})").value();
  users->directory = [state] { return std::make_unique<FakeDirectory>(state); };
  users->threads = 0;
  Metrics metrics;
  StageContext ctx{"users", metrics, ::testing::TempDir()};
  UsersStage stage(users, ctx);
  auto first = fresh(alert_of(R"("user.uid":1000)"));
  stage.process(*first);
  EXPECT_FALSE(first->has_fields_added());
  EXPECT_EQ(metrics.counter_value("saker_enrich_misses_total", {{"stage", "users"}}), 1u);
  stage.lookups()->run_queued();
  EXPECT_EQ(state->seen.back(), std::vector<std::string>{"1000"});  // the number, as text
  auto second = fresh(alert_of(R"("user.uid":"1000","user.role":"falco's")"));
  stage.process(*second);
  EXPECT_EQ(text_of(*second, "user.full_name"), "Alice");
  EXPECT_EQ(text_of(*second, "user.role"), "falco's");
  EXPECT_EQ(metrics.counter_value("saker_enrich_hits_total", {{"stage", "users"}}), 1u);
  auto without = fresh(alert_of(R"("proc.name":"bash")"));
  stage.process(*without);  // no user.uid: nothing to ask
  EXPECT_EQ(stage.lookups()->run_queued(), 0u);
}

TEST(UsersStage, TheLookupThreadAnswersWhileAlertsGoOn) {
  auto state = std::make_shared<FakeDirectory::State>();
  state->users["42"] = record("Forty Two");
  auto users = std::make_shared<UsersConfig>();
  users->ldap = true;
  users->ldap_options.filter = LdapFilterTemplate::parse("(uidNumber={user.uid})").value();
  users->directory = [state] { return std::make_unique<FakeDirectory>(state); };
  Metrics metrics;
  StageContext ctx{"users", metrics, ::testing::TempDir()};
  UsersStage stage(users, ctx);
  std::string got;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (got.empty() && std::chrono::steady_clock::now() < deadline) {  // a condition, not a sleep
    auto a = fresh(alert_of(R"("user.uid":42)"));
    stage.process(*a);
    if (a->has_fields_added()) got = text_of(*a, "user.full_name");
    if (got.empty()) std::this_thread::yield();
  }
  EXPECT_EQ(got, "Forty Two");
  EXPECT_EQ(state->asked, 1);
}
