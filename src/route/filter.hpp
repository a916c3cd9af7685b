#pragma once
// The filter language: Falco's condition syntax over alert fields.
//   priority >= warning and k8s.ns.name in (prod, payments) and not proc.name = "sshd"
// Operators: = != < <= > >= contains icontains startswith endswith in exists glob regex (RE2); and or not ( ).
#include <memory>
#include <string_view>

#include "core/alert.hpp"
#include "core/result.hpp"

namespace saker {

class Filter {
 public:
  struct Node;  // the compiled expression tree (filter.cpp)

  // A syntax error's Error::column is the 1-based column in `expression` where it was found.
  static Result<std::shared_ptr<const Filter>> compile(std::string_view expression);

  bool matches(const Alert& alert) const;

  explicit Filter(std::unique_ptr<Node> root);
  ~Filter();
  Filter(const Filter&) = delete;
  Filter& operator=(const Filter&) = delete;

 private:
  std::unique_ptr<Node> root_;
};

}  // namespace saker
