#include "core/field_picks.hpp"

#include <algorithm>
#include <atomic>
#include <bit>
#include <memory>
#include <mutex>

#include "core/unique_keys.hpp"

namespace saker {

namespace {

std::mutex g_mu;
std::vector<std::unique_ptr<const FieldPicks>> g_versions;  // every version, never freed (alerts point at them)
std::atomic<const FieldPicks*> g_current{nullptr};

bool decoded_into_alert(std::string_view name) {
  return name == "rule" || name == "priority" || name == "source" || name == "hostname" || name == "output" ||
         name == "uuid" || name == "time" || name == "tags";
}

}  // namespace

void FieldPicks::want(std::string_view name) {
  if (decoded_into_alert(name)) return;
  if (const FieldPicks* now = current(); now && now->find(name) >= 0) return;
  std::lock_guard lock(g_mu);
  const FieldPicks* now = g_current.load(std::memory_order_relaxed);
  if (now && (now->find(name) >= 0 || now->size() >= kMaxNames)) return;
  auto next = std::make_unique<FieldPicks>();
  if (now) next->names_ = now->names_;
  next->names_.emplace_back(name);
  next->index();
  g_current.store(next.get(), std::memory_order_release);
  g_versions.push_back(std::move(next));
}

const FieldPicks* FieldPicks::current() noexcept { return g_current.load(std::memory_order_acquire); }

void FieldPicks::index() {
  table_.assign(std::bit_ceil(std::max<std::size_t>(names_.size() * 2, 8)), Slot{});
  bits_ = 0;
  const std::size_t mask = table_.size() - 1;
  for (std::size_t n = 0; n < names_.size(); ++n) {
    const std::uint64_t h = UniqueKeys::hash(names_[n]);
    std::size_t i = h & mask;
    while (table_[i].index >= 0) i = (i + 1) & mask;
    table_[i] = Slot{h, static_cast<int>(n)};
    bits_ |= std::uint64_t{1} << (h >> 58);
  }
}

int FieldPicks::find(std::string_view name) const noexcept { return find(name, UniqueKeys::hash(name)); }

}  // namespace saker
