#pragma once
// A stage runs between decode and the router, on the decoding thread, on an alert nobody else sees yet: it may add
// fields and tags (Alert::add_field, add_tag), never change or remove what Falco sent. Enrichers (src/enrich/) and
// base-rule matching (src/detect/) are stages; they are stateless per alert, so many decoding threads run one
// stage object at once (process() is const and must be thread-safe).
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "config/node.hpp"
#include "core/alert.hpp"
#include "observe/metrics.hpp"

namespace saker {

class Stage {
 public:
  virtual ~Stage() = default;
  virtual void process(Alert& alert) const = 0;
};

// What a stage gets when it is built (after the whole config parsed).
struct StageContext {
  std::string name;  // its key under `enrich:`
  Metrics& metrics;
  std::string data_dir;
};

// Names the stages configured so far will add: a later stage's template may use them.
struct StageFields {
  std::set<std::string, std::less<>> names;
  bool known(std::string_view name) const;  // an alert key, a Falco field or a name in `names`
  // Records a name a stage adds, and has decode pick it (core/field_picks.hpp), so whether Falco's alert has it too
  // is known without the alert's field table (a stage never overwrites). A name with a wildcard (asset.*) is not
  // picked: it is looked up in the table.
  void add(const std::string& name);
};

// The configured stages in config order. Shared by every decoding thread; replaced as a whole on reload.
//
// A stage may add blocks (Alert::add_block) it interned (FieldBlock::intern): they outlive the chain, so an alert
// needs nothing of the chain once run() returned and a reload may drop the chain while its alerts are queued.
//
// The chain tells the alert which stage it is running before calling it, so every field a stage adds records that
// stage (Field::stage, by its `name`: the `enrich:` key, core/stage_origin.hpp); a stage neither sets nor can set it.
class StageChain {
 public:
  // `name`: the stage's key under `enrich:`, which names the stage of the fields it adds (a name without a row in
  // core/stage_origin.hpp adds fields of no known stage).
  void add(std::string name, std::unique_ptr<Stage> stage, Timing& time);
  // Runs every stage on the alert; one alert in kTimingSample is timed per stage (saker_stage_seconds). Run by a
  // stage on the alert it is given (a chain of its own), it adds as that stage: the outer chain's stamp stays.
  void run(Alert& alert) const;
  bool empty() const noexcept { return stages_.empty(); }
  std::size_t size() const noexcept { return stages_.size(); }

 private:
  struct Entry {
    std::string name;
    std::unique_ptr<Stage> stage;
    Timing* time;
    StageId id;  // stage_id(name)
  };
  static constexpr std::uint32_t kTimingSample = 64;
  std::vector<Entry> stages_;
};

using StageBuilder = std::function<std::unique_ptr<Stage>(StageContext&)>;
// Parses a stage's config (reporting errors with their positions), records the fields it adds, returns its builder.
using StageParser = StageBuilder (*)(const ConfigReader&, StageFields&);

}  // namespace saker
