#include "enrich/feeds/user_table.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

#include <fmt/format.h>

#include "core/json_text.hpp"
#include "enrich/feeds/csv.hpp"
#include "enrich/feeds/table_file.hpp"

namespace saker {

namespace {

// The column or key of each entry attribute: uid, name, then kUserAttributes (-1: not one of them).
int column_of(std::string_view key) {
  if (key == "uid") return 0;
  if (key == "name") return 1;
  for (std::size_t i = 0; i < kUserAttributeCount; ++i) {
    if (kUserAttributes[i] == key) return static_cast<int>(i) + 2;
  }
  return -1;
}

constexpr std::string_view kColumns = "uid, name, full_name, role, department, email";

// A uid as the table keys it: decimal digits, without leading zeros ("0" stays).
std::optional<std::string> canonical_uid(std::string_view s) {
  if (s.empty() || s.size() > 20 || s.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  const std::size_t nz = s.find_first_not_of('0');
  return std::string(nz == std::string_view::npos ? std::string_view("0") : s.substr(nz));
}

}  // namespace

struct UserTableBuilder {
  const UserTable::Limits& limits;
  std::string_view file;
  bool by_index = false;
  std::vector<UserTable::Entry> entries;

  Error fail(std::size_t line, std::string_view what) const {
    if (!line) return make_error("bad_user_table", fmt::format("{}: {}", file, what));
    return make_error("bad_user_table", by_index ? fmt::format("{}: entry {}: {}", file, line, what)
                                                 : fmt::format("{}:{}: {}", file, line, what));
  }
  std::string where(std::size_t line) const {
    return by_index ? fmt::format("entry {}", line) : fmt::format("line {}", line);
  }

  // Sets column `col` of `e` to `value`; an error message, or "".
  std::string set(UserTable::Entry& e, int col, std::string_view value) const {
    if (value.size() > limits.max_text) return fmt::format("a value is over {} bytes", limits.max_text);
    if (!valid_utf8(value)) return "a value is not valid UTF-8";
    if (col == 0) {
      auto uid = canonical_uid(value);
      if (!uid) return fmt::format("uid \"{}\" is not a number", value);
      e.uid = std::move(*uid);
    } else if (col == 1) {
      e.name = std::string(value);
    } else {
      e.record.attributes[col - 2] = std::string(value);
    }
    return {};
  }

  Result<bool> finish(UserTable::Entry&& e, std::size_t line) {
    if (e.uid.empty() && e.name.empty()) return fail(line, "an entry needs a uid or a name");
    if (entries.size() >= limits.max_entries) return fail(line, fmt::format("more than {} entries", limits.max_entries));
    e.line = line;
    entries.push_back(std::move(e));
    return true;
  }

  Result<bool> csv(std::string_view text) {
    CsvReader reader(text, limits.max_text);
    std::vector<std::string> header, cells;
    if (!reader.next(header)) return fail(reader.line(), reader.error().empty() ? "the header row is missing" : reader.error());
    std::vector<int> cols;
    bool key = false;
    for (const std::string& h : header) {
      const int c = column_of(h);
      if (c < 0) return fail(1, fmt::format("unknown column \"{}\": the columns are {}", h, kColumns));
      if (std::find(cols.begin(), cols.end(), c) != cols.end()) return fail(1, fmt::format("column \"{}\" is given twice", h));
      key |= c < 2;
      cols.push_back(c);
    }
    if (!key) return fail(1, "the header names neither a uid nor a name column, e.g. uid,name,full_name,role,department,email");
    while (true) {
      if (!reader.next(cells)) {
        // An unclosed quote runs to the end: the line its row began on is the one to fix.
        if (!reader.error().empty()) return fail(reader.row_line(), reader.error());
        break;
      }
      const std::size_t first = reader.row_line();
      if (cells.size() == 1 && cells[0].empty()) continue;  // a blank line
      if (cells.size() != header.size()) return fail(first, fmt::format("{} cells, the header has {}", cells.size(), header.size()));
      UserTable::Entry e;
      for (std::size_t i = 0; i < cells.size(); ++i) {
        if (cells[i].empty()) continue;
        if (auto why = set(e, cols[i], cells[i]); !why.empty()) return fail(first, why);
      }
      if (auto r = finish(std::move(e), first); !r) return r;
    }
    return true;
  }

  Result<bool> json(std::string_view text) {
    by_index = true;
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    if (auto err = parser.parse(text.data(), text.size()).get(root); err) {
      return fail(0, fmt::format("invalid JSON: {}", simdjson::error_message(err)));
    }
    simdjson::dom::array list;
    if (root.is_object()) {
      if (root["users"].get(list)) return fail(0, "must be a list of users, or {\"users\": [...]}");
    } else if (root.get(list)) {
      return fail(0, "must be a list of users, or {\"users\": [...]}");
    }
    std::size_t index = 0;
    for (simdjson::dom::element node : list) {
      ++index;
      simdjson::dom::object obj;
      if (node.get(obj)) return fail(index, "a user must be an object: {\"uid\": 1000, \"name\": \"alice\", ...}");
      UserTable::Entry e;
      for (auto [key, v] : obj) {
        const int c = column_of(key);
        if (c < 0) return fail(index, fmt::format("unknown key \"{}\": the keys are {}", std::string(key), kColumns));
        std::string text_value;
        if (v.is_null()) continue;
        if (v.is_string()) {
          text_value = std::string(v.get_string().value_unsafe());
        } else if (c == 0 && v.is_uint64()) {
          text_value = std::to_string(v.get_uint64().value_unsafe());
        } else {
          return fail(index, fmt::format("\"{}\" must be a string{}", std::string(key), c == 0 ? " or a number" : ""));
        }
        if (text_value.empty()) continue;
        if (auto why = set(e, c, text_value); !why.empty()) return fail(index, why);
      }
      if (auto r = finish(std::move(e), index); !r) return r;
    }
    return true;
  }

  // Indexes the entries; a uid or name given twice is an error.
  Result<bool> index(UserTable& t) {
    t.entries_ = std::move(entries);
    for (std::uint32_t i = 0; i < t.entries_.size(); ++i) {
      const UserTable::Entry& e = t.entries_[i];
      const auto put = [&](auto& map, const std::string& key, std::string_view what) -> std::string {
        if (key.empty()) return {};
        auto [it, fresh] = map.emplace(std::string_view(key), i);
        if (fresh) return {};
        return fmt::format("{} \"{}\" is given twice (also at {})", what, key, where(t.entries_[it->second].line));
      };
      if (auto why = put(t.uids_, e.uid, "uid"); !why.empty()) return fail(e.line, why);
      if (auto why = put(t.names_, e.name, "name"); !why.empty()) return fail(e.line, why);
    }
    return true;
  }
};

Result<std::shared_ptr<const UserTable>> UserTable::load(const std::string& path, Format format, const Limits& limits) {
  auto read = read_table_file(path, limits.max_bytes);
  if (!read) return read.error();
  const std::string& text = read.value();
  if (format == Format::Auto) format = path.ends_with(".json") ? Format::Json : Format::Csv;
  return parse(text, format, path, limits);
}

Result<std::shared_ptr<const UserTable>> UserTable::parse(std::string_view text, Format format, std::string_view name,
                                                           const Limits& limits) {
  if (text.size() > limits.max_bytes) return make_error("bad_user_table", fmt::format("{} is over {} bytes", name, limits.max_bytes));
  UserTableBuilder b{limits, name, false, {}};
  Result<bool> r = format == Format::Json ? b.json(text) : b.csv(text);
  if (!r) return r.error();
  auto t = std::shared_ptr<UserTable>(new UserTable());
  if (auto ix = b.index(*t); !ix) return ix.error();
  return std::shared_ptr<const UserTable>(std::move(t));
}

const UserTable::Entry* UserTable::by_uid(std::string_view uid) const {
  if (uid.size() > 1 && uid.front() == '0') {
    auto c = canonical_uid(uid);
    if (!c) return nullptr;
    auto it = uids_.find(*c);
    return it == uids_.end() ? nullptr : &entries_[it->second];
  }
  auto it = uids_.find(uid);
  return it == uids_.end() ? nullptr : &entries_[it->second];
}

const UserTable::Entry* UserTable::by_name(std::string_view name) const {
  auto it = names_.find(name);
  return it == names_.end() ? nullptr : &entries_[it->second];
}

}  // namespace saker
