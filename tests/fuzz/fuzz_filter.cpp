// Fuzz target: any bytes as a filter expression; whatever compiles is evaluated against fixed alerts.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/decode.hpp"
#include "route/filter.hpp"

namespace {

constexpr std::string_view kAlerts[] = {
    R"~({"hostname":"a2000de987ff","output":"Warning Sensitive file opened for reading (file=/etc/shadow)","priority":"Warning","rule":"Read sensitive file untrusted","source":"syscall","tags":["T1555","container","mitre_credential_access"],"time":"2024-05-13T13:23:31.089890892Z","output_fields":{"evt.time.iso8601":1715606609089890892,"evt.num":4525,"evt.failed":true,"fd.name":"/etc/shadow","k8s.ns.name":"kubernetes-ns","k8s.pod.labels":["key1:value1","key2:value2"],"proc.aname[2]":"runc","proc.cmdline":"event-generator run --loop","proc.name":"event-generator","user.loginuid":-1}})~",
    R"~({"uuid":"7466e462-ddde-434d-8dee-390ca5656f83","output":"Notice A shell was spawned","priority":"Notice","rule":"Terminal shell in container","time":"2024-08-28T21:35:04.518808525Z","output_fields":{"evt.arg.flags":"EXE_WRITABLE","k8s.ns.name":"default","proc.name":"sh","proc.tty":34816},"source":"syscall","tags":["T1059.004","shell"],"hostname":"cluster-1"})~",
    R"~({"rule":"Odd values","priority":"Critical","time":1715108059341081180,"big.uint":18446744073709551615,"cpu.ratio":0.5,"nothing":null,"ports":[22,80,443],"mixed":[null,"a",7,[1,2],{"k":"v"}],"empty":[],"obj":{"a":1},"quoted":"say \"hi\" to C:\\temp \u00e9"})~",
};

const std::vector<saker::AlertPtr>& alerts() {
  static const std::vector<saker::AlertPtr> all = [] {
    std::vector<saker::AlertPtr> v;
    saker::Decoder decoder;
    for (auto json : kAlerts) {
      auto r = decoder.decode(json);
      if (!r) __builtin_trap();
      v.push_back(std::move(r).value());
    }
    return v;
  }();
  return all;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view expr(reinterpret_cast<const char*>(data), size);
  auto f = saker::Filter::compile(expr);
  if (!f) {
    // Every error points into the expression (or just past its end) and says something.
    const auto& e = f.error();
    if (e.column < 1 || e.column > size + 1 || e.message.empty()) __builtin_trap();
    if (e.code != "filter_syntax" && e.code != "filter_regex" && e.code != "filter_priority" &&
        e.code != "filter_limit") {
      __builtin_trap();
    }
    return 0;
  }
  // Wrapping a valid filter in not ( ... ) must compile (depth permitting) and invert every verdict.
  auto negated = saker::Filter::compile("not (" + std::string(expr) + ")");
  for (const auto& a : alerts()) {
    const bool m = f.value()->matches(*a);
    if (negated && negated.value()->matches(*a) == m) __builtin_trap();
  }
  return 0;
}
