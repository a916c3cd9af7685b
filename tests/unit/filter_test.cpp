// The route filter language, told as the stories of the SOC engineers who write `filter:` in a sink.
#include "route/filter.hpp"

#include <gtest/gtest.h>

#include <string>

#include "core/decode.hpp"

namespace saker {
namespace {

// Falco's own shape (sample 03 of the research set): k8s fields, a label array, evt.num, a 64-bit time field.
constexpr std::string_view kReadShadow = R"~({"hostname":"a2000de987ff","output":"2024-05-13T13:23:31.089890892+0000: Warning Sensitive file opened for reading by non-trusted program (file=/etc/shadow)","priority":"Warning","rule":"Read sensitive file untrusted","source":"syscall","tags":["T1555","container","filesystem","host","maturity_stable","mitre_credential_access"],"time":"2024-05-13T13:23:31.089890892Z","output_fields":{"container.id":"84c0b936c919","evt.time.iso8601":1715606609089890892,"evt.num":4525,"evt.type":"openat","evt.failed":true,"fd.name":"/etc/shadow","k8s.ns.name":"kubernetes-ns","k8s.pod.name":"kubernetes-pod-1","k8s.pod.labels":["key1:value1","key2:value2","key3:value3"],"proc.aname[2]":"runc","proc.cmdline":"event-generator run --loop","proc.name":"event-generator","proc.tty":0,"user.loginuid":-1,"user.name":"root"}})~";

// Sample 06: a shell in a container, with a uuid and evt.arg.flags.
constexpr std::string_view kShell = R"({"uuid":"7466e462-ddde-434d-8dee-390ca5656f83","output":"21:35:04.518808525: Notice A shell was spawned in a container with an attached terminal","priority":"Notice","rule":"Terminal shell in container","time":"2024-08-28T21:35:04.518808525Z","output_fields":{"container.image.repository":"docker.io/library/busybox","evt.arg.flags":"EXE_WRITABLE","k8s.ns.name":"default","proc.cmdline":"sh","proc.name":"sh","proc.tty":34816},"source":"syscall","tags":["T1059.004","container","shell"],"hostname":"cluster-1-default-pool-131bf483-7km9"})";

// The flattened shape with the awkward values: uint64, doubles, null, arrays of numbers, objects, quotes.
constexpr std::string_view kOddValues = R"({"rule":"Odd values","priority":"Critical","time":1715108059341081180,"big.uint":18446744073709551615,"cpu.ratio":0.5,"nothing":null,"ports":[22,80,443],"mixed":[null,"a",7],"empty":[],"obj":{"a":1},"quoted":"say \"hi\" to C:\\temp","path":"/var/lib/x","long.text":"LONGTEXT"})";

AlertPtr decode(std::string_view json) {
  Decoder decoder;
  auto r = decoder.decode(json);
  if (!r) {
    ADD_FAILURE() << "test alert does not decode: " << r.error().message;
    return nullptr;
  }
  return std::move(r).value();
}

const Alert& read_shadow() {
  static const AlertPtr a = decode(kReadShadow);
  return *a;
}
const Alert& shell() {
  static const AlertPtr a = decode(kShell);
  return *a;
}
const Alert& odd() {
  static const AlertPtr a = decode(kOddValues);
  return *a;
}

// True when `expression` compiles and matches; a compile error fails the test.
bool matches(std::string_view expression, const Alert& alert) {
  auto f = Filter::compile(expression);
  if (!f) {
    ADD_FAILURE() << "filter does not compile: " << expression << "\n  " << f.error().message << " (column "
                  << f.error().column << ")";
    return false;
  }
  return f.value()->matches(alert);
}

Error compile_error(std::string_view expression) {
  auto f = Filter::compile(expression);
  if (f) {
    ADD_FAILURE() << "filter compiles but should not: " << expression;
    return {};
  }
  return f.error();
}

TEST(FilterStory, TheSiemSinkTakesWarningsFromProductionButNotSshd) {
  const std::string_view expr =
      R"(priority >= warning and k8s.ns.name in (kubernetes-ns, payments) and not proc.name = "sshd")";
  EXPECT_TRUE(matches(expr, read_shadow()));
  EXPECT_FALSE(matches(expr, shell()));  // Notice, and the wrong namespace
  EXPECT_FALSE(matches(R"(priority >= warning and k8s.ns.name in (prod, payments))", read_shadow()));
}

TEST(FilterOperators, EqualsAndNotEqualsCompareWholeStrings) {
  EXPECT_TRUE(matches("proc.name = event-generator", read_shadow()));
  EXPECT_TRUE(matches(R"(proc.name = "event-generator")", read_shadow()));
  EXPECT_TRUE(matches("proc.name = 'event-generator'", read_shadow()));
  EXPECT_TRUE(matches("proc.name == event-generator", read_shadow()));
  EXPECT_FALSE(matches("proc.name = event", read_shadow()));
  EXPECT_FALSE(matches("proc.name = EVENT-GENERATOR", read_shadow()));
  EXPECT_TRUE(matches("proc.name != sshd", read_shadow()));
  EXPECT_FALSE(matches("proc.name != event-generator", read_shadow()));
}

TEST(FilterOperators, OrderingOnTextIsByteWise) {
  EXPECT_TRUE(matches("proc.name > a", read_shadow()));
  EXPECT_TRUE(matches("proc.name < f", read_shadow()));
  EXPECT_TRUE(matches("proc.name >= event-generator", read_shadow()));
  EXPECT_TRUE(matches("proc.name <= event-generator", read_shadow()));
  EXPECT_FALSE(matches("proc.name < event", read_shadow()));
}

TEST(FilterOperators, SubstringOperatorsFindTextInsideAValue) {
  EXPECT_TRUE(matches(R"(proc.cmdline contains "run --loop")", read_shadow()));
  EXPECT_FALSE(matches(R"(proc.cmdline contains "RUN")", read_shadow()));
  EXPECT_TRUE(matches(R"(output icontains "SENSITIVE file")", read_shadow()));
  EXPECT_FALSE(matches(R"(output icontains "insensitive")", read_shadow()));
  EXPECT_TRUE(matches("fd.name startswith /etc/", read_shadow()));
  EXPECT_FALSE(matches("fd.name startswith /var/", read_shadow()));
  EXPECT_TRUE(matches("fd.name endswith shadow", read_shadow()));
  EXPECT_FALSE(matches("fd.name endswith /etc", read_shadow()));
  EXPECT_TRUE(matches("container.image.repository contains library/", shell()));
}

TEST(FilterOperators, InMatchesAnyListedValueIncludingQuotedOnes) {
  EXPECT_TRUE(matches(R"(proc.cmdline in ("event-generator run --loop", sh))", read_shadow()));
  EXPECT_TRUE(matches(R"(proc.cmdline in ("event-generator run --loop", sh))", shell()));
  EXPECT_FALSE(matches("proc.name in (sshd, bash)", read_shadow()));
  EXPECT_FALSE(matches("proc.name in ()", read_shadow()));
  EXPECT_TRUE(matches("proc.name intersects (sh, bash)", shell()));
}

TEST(FilterOperators, GlobMatchesTheWholeValueWithWildcardsAndClasses) {
  EXPECT_TRUE(matches(R"(fd.name glob "/etc/*")", read_shadow()));
  EXPECT_TRUE(matches("fd.name glob /etc/sha?ow", read_shadow()));
  EXPECT_TRUE(matches("fd.name glob /etc/[rst]hadow", read_shadow()));
  EXPECT_TRUE(matches("fd.name glob /etc/[a-z]hadow", read_shadow()));
  EXPECT_TRUE(matches("fd.name glob /etc/[!x]hadow", read_shadow()));
  EXPECT_FALSE(matches("fd.name glob /etc/[!s]hadow", read_shadow()));
  EXPECT_TRUE(matches("fd.name glob *shadow", read_shadow()));  // * crosses "/"
  EXPECT_FALSE(matches("fd.name glob shadow", read_shadow()));  // whole value, not a search
  EXPECT_FALSE(matches("fd.name glob /etc/sha", read_shadow()));
  EXPECT_FALSE(matches(R"(fd.name glob "/etc/\*")", read_shadow()));  // \* is a literal star
  EXPECT_TRUE(matches(R"(quoted glob 'say "hi" to C:\\\\temp')", odd()));  // \\\\ in the filter is \\ in the glob
  EXPECT_TRUE(matches("k8s.pod.name glob kubernetes-pod-[0-9]", read_shadow()));
}

TEST(FilterOperators, GlobStaysFastOnPatternsThatDefeatBacktrackers) {
  const std::string text(200000, 'a');
  const AlertPtr a = decode(R"({"rule":"r","priority":"Debug","output_fields":{"blob":")" + text + R"("}})");
  // Exponential matchers never finish this; ours backtracks only to the last star.
  EXPECT_FALSE(matches("blob glob *a*a*a*a*a*a*a*a*a*a*b", *a));
  EXPECT_TRUE(matches("blob glob *a*a*a*a*a*a*a*a*a*a", *a));
}

TEST(FilterOperators, RegexSearchesAnywhereInTheValue) {
  EXPECT_TRUE(matches(R"(proc.cmdline regex "run\s+--loop")", read_shadow()));
  EXPECT_TRUE(matches(R"(proc.cmdline regex "^event-")", read_shadow()));
  EXPECT_FALSE(matches(R"(proc.cmdline regex "^run")", read_shadow()));
  EXPECT_TRUE(matches(R"(evt.num regex "^45\d\d$")", read_shadow()));  // numbers as their decimal text
  EXPECT_TRUE(matches(R"(container.id regex '^[0-9a-f]{12}$')", read_shadow()));
}

TEST(FilterOperators, ExistsAsksWhetherTheAlertHasTheField) {
  EXPECT_TRUE(matches("k8s.ns.name exists", read_shadow()));
  EXPECT_FALSE(matches("fd.sip exists", read_shadow()));
  EXPECT_TRUE(matches("not fd.sip exists", read_shadow()));
  EXPECT_TRUE(matches("uuid exists and rule exists and time exists", shell()));
}

TEST(FilterFields, FalcoFieldNamesAndTheAlertsOwnKeys) {
  EXPECT_TRUE(matches("proc.aname[2] = runc", read_shadow()));
  EXPECT_TRUE(matches("evt.arg.flags = EXE_WRITABLE", shell()));
  EXPECT_TRUE(matches(R"(rule = "Read sensitive file untrusted")", read_shadow()));
  EXPECT_TRUE(matches("source = syscall and hostname startswith a2000", read_shadow()));
  EXPECT_TRUE(matches("uuid = 7466e462-ddde-434d-8dee-390ca5656f83", shell()));
  EXPECT_TRUE(matches("output contains /etc/shadow", read_shadow()));
  EXPECT_TRUE(matches("tags = T1059.004", shell()));
  EXPECT_TRUE(matches("k8s.pod.labels = key1:value1", read_shadow()));
}

TEST(FilterMissingFields, EveryTestOnAnAbsentFieldIsFalseAndNotFlipsIt) {
  for (std::string_view expr :
       {"fd.sip = 1.2.3.4", "fd.sip != 1.2.3.4", "fd.sip < 5", "fd.sip <= 5", "fd.sip > 5", "fd.sip >= 5",
        "fd.sip contains 1", "fd.sip icontains a", "fd.sip startswith 1", "fd.sip endswith 4", "fd.sip glob *",
        "fd.sip regex .", "fd.sip in (a, b)", "fd.sip intersects (a)", "fd.sip exists"}) {
    EXPECT_FALSE(matches(expr, read_shadow())) << expr;
    EXPECT_TRUE(matches("not " + std::string(expr), read_shadow())) << expr;
  }
}

TEST(FilterMissingFields, ANullValueCountsAsMissing) {
  EXPECT_FALSE(matches("nothing exists", odd()));
  EXPECT_FALSE(matches(R"(nothing = "")", odd()));
  EXPECT_FALSE(matches("nothing != x", odd()));
}

TEST(FilterNumbers, NumericFieldsCompareAsNumbers) {
  EXPECT_TRUE(matches("evt.num = 4525", read_shadow()));
  EXPECT_TRUE(matches("evt.num = 4525.0", read_shadow()));
  EXPECT_TRUE(matches("evt.num = 04525", read_shadow()));
  EXPECT_TRUE(matches("evt.num > 4524 and evt.num <= 4525 and evt.num < 4525.5", read_shadow()));
  EXPECT_TRUE(matches("evt.num > 900", read_shadow()));  // as text "4525" < "900"; numbers win
  EXPECT_TRUE(matches("user.loginuid = -1 and user.loginuid < 0", read_shadow()));
  EXPECT_TRUE(matches("proc.tty = 0", read_shadow()));
  EXPECT_TRUE(matches("proc.tty > 0", shell()));
}

TEST(FilterNumbers, ANonNumericOperandComparesWithTheNumbersText) {
  EXPECT_FALSE(matches("evt.num = abc", read_shadow()));
  EXPECT_TRUE(matches("evt.num != abc", read_shadow()));
  EXPECT_TRUE(matches("evt.num startswith 45 and evt.num contains 52 and evt.num endswith 25", read_shadow()));
  EXPECT_FALSE(matches("evt.num = nan or evt.num = inf or evt.num = 0x11AD", read_shadow()));
}

TEST(FilterNumbers, SixtyFourBitValuesCompareExactly) {
  // 1715606609089890892 and ...893 are the same double; they must not be the same number here.
  EXPECT_TRUE(matches("evt.time.iso8601 = 1715606609089890892", read_shadow()));
  EXPECT_FALSE(matches("evt.time.iso8601 = 1715606609089890893", read_shadow()));
  EXPECT_TRUE(matches("evt.time.iso8601 > 1715606609089890891", read_shadow()));
  EXPECT_FALSE(matches("evt.time.iso8601 > 1715606609089890892", read_shadow()));
  EXPECT_TRUE(matches("big.uint = 18446744073709551615", odd()));
  EXPECT_FALSE(matches("big.uint = 18446744073709551614", odd()));
  EXPECT_TRUE(matches("big.uint > 9223372036854775807 and big.uint > -1", odd()));
  EXPECT_TRUE(matches("big.uint < 18446744073709551616", odd()));  // 2^64 as a double
  EXPECT_TRUE(matches("time = 1715108059341081180", odd()));
  EXPECT_FALSE(matches("time = 1715108059341081181", odd()));
}

TEST(FilterNumbers, DoublesAndBooleans) {
  EXPECT_TRUE(matches("cpu.ratio = 0.5 and cpu.ratio = 5e-1 and cpu.ratio = \"0.5\"", odd()));
  EXPECT_TRUE(matches("cpu.ratio > 0 and cpu.ratio < 1 and cpu.ratio != 0.25", odd()));
  EXPECT_TRUE(matches("evt.failed = true and evt.failed != false", read_shadow()));
}

TEST(FilterNumbers, TimeAcceptsNanosecondsOrRfc3339) {
  EXPECT_TRUE(matches("time > 2024-01-01T00:00:00Z and time < 2024-06-01T00:00:00Z", read_shadow()));
  EXPECT_TRUE(matches(R"(time = "2024-05-13T13:23:31.089890892Z")", read_shadow()));
  EXPECT_FALSE(matches("time > 2024-05-13T13:23:31.089890892Z", read_shadow()));
}

TEST(FilterArrays, AnElementThatPassesIsEnough) {
  EXPECT_TRUE(matches("tags = T1555", read_shadow()));
  EXPECT_TRUE(matches("tags contains mitre_", read_shadow()));
  EXPECT_TRUE(matches("tags icontains CREDENTIAL", read_shadow()));
  EXPECT_TRUE(matches("tags startswith maturity_ and tags endswith _access", read_shadow()));
  EXPECT_TRUE(matches(R"(tags glob "T1*" and tags regex "^T[0-9]+$")", read_shadow()));
  EXPECT_TRUE(matches("tags in (shell, filesystem) and tags intersects (network, host)", read_shadow()));
  EXPECT_FALSE(matches("tags in (shell, network)", read_shadow()));
  EXPECT_TRUE(matches("k8s.pod.labels contains key2: and k8s.pod.labels = key3:value3", read_shadow()));
}

TEST(FilterArrays, NotEqualsHoldsWhenNoElementEquals) {
  EXPECT_FALSE(matches("tags != T1555", read_shadow()));
  EXPECT_TRUE(matches("tags != T9999", read_shadow()));
  EXPECT_TRUE(matches("empty != x", odd()));
}

TEST(FilterArrays, NumbersNullsAndEmptyArrays) {
  EXPECT_TRUE(matches("ports = 443 and ports > 400 and ports in (8080, 443.0)", odd()));
  EXPECT_FALSE(matches("ports > 443 or ports = 8080", odd()));
  EXPECT_TRUE(matches("mixed = a and mixed = 7 and mixed > 6", odd()));  // the null element is skipped
  EXPECT_TRUE(matches("empty exists", odd()));
  EXPECT_FALSE(matches("empty = x or empty contains x or empty glob *", odd()));
  EXPECT_TRUE(matches(R"(obj = '{"a":1}' and obj contains '"a"')", odd()));
}

TEST(FilterPriority, SeverityOrderNotAlphabeticalOrder) {
  const char* names[] = {"Debug", "Informational", "Notice", "Warning", "Error", "Critical", "Alert", "Emergency"};
  for (int i = 0; i < 8; ++i) {
    const AlertPtr a = decode(std::string(R"({"rule":"r","priority":")") + names[i] + "\"}");
    for (int j = 0; j < 8; ++j) {
      const std::string p = names[j];
      EXPECT_EQ(matches("priority >= " + p, *a), i >= j) << names[i] << " >= " << p;
      EXPECT_EQ(matches("priority < " + p, *a), i < j) << names[i] << " < " << p;
      EXPECT_EQ(matches("priority = " + p, *a), i == j) << names[i] << " = " << p;
      EXPECT_EQ(matches("priority != " + p, *a), i != j) << names[i] << " != " << p;
    }
  }
}

TEST(FilterPriority, NamesAreCaseInsensitiveAndShortFormsWork) {
  EXPECT_TRUE(matches("priority >= WARNING and priority <= warn and priority = 'Warning'", read_shadow()));
  EXPECT_TRUE(matches("priority > info and priority < err", read_shadow()));
  EXPECT_TRUE(matches("priority in (notice, warning) and priority intersects (WARNING)", read_shadow()));
  EXPECT_FALSE(matches("priority in (error, critical)", read_shadow()));
  EXPECT_TRUE(matches("priority exists and priority startswith Warn", read_shadow()));
}

TEST(FilterPrecedence, NotBindsTighterThanAndWhichBindsTighterThanOr) {
  // or is lowest: sh OR (x AND y)
  EXPECT_TRUE(matches("proc.name = sh or proc.name = x and proc.name = y", shell()));
  EXPECT_FALSE(matches("(proc.name = sh or proc.name = x) and proc.name = y", shell()));
  // not applies to the test right after it only
  EXPECT_TRUE(matches("not proc.name = x and proc.name = sh", shell()));
  EXPECT_FALSE(matches("not (proc.name = x or proc.name = sh)", shell()));
  EXPECT_TRUE(matches("not not proc.name = sh", shell()));
  EXPECT_TRUE(matches("((((proc.name = sh))))", shell()));
}

TEST(FilterQuoting, EscapesSpacesAndBareWords) {
  EXPECT_TRUE(matches(R"(quoted = "say \"hi\" to C:\\temp")", odd()));
  EXPECT_TRUE(matches(R"(quoted = 'say "hi" to C:\\temp')", odd()));
  EXPECT_TRUE(matches(R"(quoted contains 'hi" to')", odd()));
  EXPECT_TRUE(matches("path = /var/lib/x and long.text = LONGTEXT", odd()));
  EXPECT_FALSE(matches(R"(proc.name = "and" or proc.name = 'not')", read_shadow()));  // quoted keywords are values
}

TEST(FilterQuoting, WhitespaceIsOptionalAroundSymbols) {
  EXPECT_TRUE(matches(R"(proc.name="sh"and(proc.tty>0)and not(proc.name=bash))", shell()));
  EXPECT_TRUE(matches("proc.name in(sh,bash)", shell()));
  EXPECT_TRUE(matches("\tproc.name =\n sh \r\n", shell()));
}

TEST(FilterLimits, LongListsCompileAndMatchQuickly) {
  std::string expr = "k8s.pod.name in (";
  for (int i = 0; i < 6000; ++i) expr += "pod-" + std::to_string(i) + ",";
  expr += "kubernetes-pod-1)";
  ASSERT_LE(expr.size(), 64U * 1024);
  EXPECT_TRUE(matches(expr, read_shadow()));
  EXPECT_FALSE(matches(expr, shell()));
}

TEST(FilterLimits, OversizedExpressionIsRejected) {
  const std::string expr = "proc.name = " + std::string(64 * 1024, 'x');
  const Error e = compile_error(expr);
  EXPECT_EQ(e.code, "filter_limit");
  EXPECT_EQ(e.column, 1U);
}

TEST(FilterLimits, NestingDepthIsCapped) {
  std::string ok = std::string(100, '(') + "proc.name = sh" + std::string(100, ')');
  EXPECT_TRUE(matches(ok, shell()));
  const Error parens = compile_error(std::string(101, '(') + "proc.name = sh" + std::string(101, ')'));
  EXPECT_EQ(parens.code, "filter_limit");
  EXPECT_EQ(parens.column, 101U);
  std::string nots;
  for (int i = 0; i < 1000; ++i) nots += "not ";
  const Error deep = compile_error(nots + "proc.name = sh");
  EXPECT_EQ(deep.code, "filter_limit");
  EXPECT_EQ(deep.column, 401U);
}

struct BadFilter {
  std::string_view expression;
  std::string_view code;
  std::size_t column;
  std::string_view message;
};

TEST(FilterErrors, SayWhatWasExpectedAndWhereItWasFound) {
  const BadFilter cases[] = {
      {"proc.name =", "filter_syntax", 12, R"(expected a value after "=" but found end of expression)"},
      {"", "filter_syntax", 1, R"(expected a field name, "not" or "(" but found end of expression)"},
      {"= sh", "filter_syntax", 1, R"(expected a field name, "not" or "(" but found "=")"},
      {"proc.name = sh and", "filter_syntax", 19,
       R"(expected a field name, "not" or "(" after "and" but found end of expression)"},
      {"proc.name is sh", "filter_syntax", 11,
       R"(expected an operator (=, !=, <, <=, >, >=, contains, icontains, startswith, endswith, glob, regex, in, )"
       R"(intersects or exists) after "proc.name" but found "is")"},
      {"proc.name containsx y", "filter_syntax", 11, ""},
      {"(proc.name = sh", "filter_syntax", 16,
       R"~(expected "and", "or" or ")" to close the "(" at column 1 after "sh" but found end of expression)~"},
      {"proc.name = sh)", "filter_syntax", 15,
       R"~(expected "and", "or" or end of expression after "sh" but found ")")~"},
      {"proc.name = sh bash", "filter_syntax", 16,
       R"(expected "and", "or" or end of expression after "sh" but found "bash")"},
      {R"(proc.name = "sh)", "filter_syntax", 13,
       R"(expected a closing " for the string that starts here but found end of expression)"},
      {"proc.name in (a, b", "filter_syntax", 19, R"~(expected "," or ")" after "b" but found end of expression)~"},
      {"proc.name in (a,)", "filter_syntax", 17, R"~(expected a value after "," but found ")")~"},
      {"proc.name in a", "filter_syntax", 14, R"(expected "(" and a list of values after "in" but found "a")"},
      {"proc.name = and", "filter_syntax", 13,
       R"(expected a value after "=" but found "and" (write "and" in quotes to compare with the word))"},
      {"proc.name = sh AND proc.tty = 1", "filter_syntax", 16,
       R"(expected "and", "or" or end of expression after "sh" but found "AND" (keywords are lower-case))"},
      {"priority >= warnin", "filter_priority", 13,
       R"(expected a priority (debug, informational, notice, warning, error, critical, alert or emergency) after )"
       R"(">=" but found "warnin")"},
      {"priority in (warning, bogus)", "filter_priority", 23, ""},
      {R"(proc.cmdline regex "(unclosed")", "filter_regex", 20, ""},
      {R"(fd.name glob "[abc")", "filter_syntax", 14, ""},
      {"fd.name glob [z-a]", "filter_syntax", 14, ""},
      {R"(proc.name = "é" and ?)", "filter_syntax", 21, ""},  // columns count characters, not bytes
  };
  for (const auto& c : cases) {
    const Error e = compile_error(c.expression);
    EXPECT_EQ(e.code, c.code) << c.expression;
    EXPECT_EQ(e.column, c.column) << c.expression << ": " << e.message;
    if (!c.message.empty()) {
      EXPECT_EQ(e.message, c.message) << c.expression;
    }
    EXPECT_FALSE(e.message.empty()) << c.expression;
  }
}

TEST(FilterErrors, RegexErrorsCarryRe2sReason) {
  const Error e = compile_error(R"(proc.cmdline regex "(unclosed")");
  EXPECT_NE(e.message.find(R"(after "regex")"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("missing )"), std::string::npos) << e.message;
}

TEST(FilterErrors, HostileInputIsAnErrorNeverACrash) {
  for (std::string_view expr : {"(", ")", "((", "not", "not not", "a", "a.b", "a = ", "a in (", "a in ((",
                                "a = (b)", "\"", "'", "a = \"\\", "a glob [", "a regex \\", "a exists exists",
                                "and", "a = b or", "a = b and or c = d", ",", "a[ = 1", "a = b,c"}) {
    auto f = Filter::compile(expr);
    EXPECT_FALSE(f.ok()) << expr;
    if (!f) {
      EXPECT_GE(f.error().column, 1U) << expr;
    }
  }
}

}  // namespace
}  // namespace saker
