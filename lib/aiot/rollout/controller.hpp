#pragma once
// The rollout controller: a state machine whose whole state lives in the hub (Backend record),
// advanced one step at a time by whoever runs `apply --wait`, `reconcile` or a verb, on any
// machine. Every provider action is written ahead into the record with a deterministic id and is
// idempotent, so a driver killed at any point is resumed by the next step without dispatching a
// device twice. Every transition is appended to the hash-chained journal.
//
// Phases: PLANNED -> AWAITING_APPROVAL -> RUNNING <-> PAUSED -> SUCCEEDED
//         RUNNING|PAUSED -> ROLLING_BACK -> ROLLED_BACK ; ABORTED ; DENIED
// Waves:  PENDING -> [DISPATCHING (rate limits) ->] BAKING -> PASSED | FAILED | INCONCLUSIVE
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "aiot/core/time.hpp"
#include "aiot/rollout/backend.hpp"
#include "aiot/rollout/journal.hpp"
#include "aiot/rollout/spec.hpp"

namespace aiot::rollout {

class GateReading;  // gate_inputs.hpp

struct ControllerDeps {
  Backend& backend;
  std::function<TimePoint()> hub_now;        // the hub's clock (simulated on a simulated local hub)
  std::filesystem::path journal_dir;         // <dir>/<rollout>.jsonl
  std::string actor;                         // "user@host (pid N)" for the journal and the lease
  std::chrono::milliseconds lease{std::chrono::minutes(2)};
  // True when the lease holder is known to be dead (a process on this host that no longer runs),
  // so a driver killed with -9 does not block the next one until its lease runs out.
  std::function<bool(const std::string& holder)> holder_gone = [](const std::string&) { return false; };
};

enum class Phase { planned, awaiting_approval, running, paused, succeeded, rolling_back, rolled_back, aborted, denied };
std::string_view to_string(Phase p);
Phase parse_phase(std::string_view s);
bool is_final(Phase p);

// What a finished (or stuck) rollout means for the exit code: 0 succeeded, 3 rolled back / aborted
// by a gate / denied, 6 waiting (approval, pause, not finished).
int exit_code_for(Phase p);

struct StepResult {
  Phase phase;
  bool changed = false;        // something happened in this step
  std::string summary;         // one line for stderr ("wave canary: gates PASS, promoted to early")
};

class Controller {
 public:
  explicit Controller(ControllerDeps deps);

  // Creates the rollout from a spec and its plan: assigns every planned device its wave and role
  // (tags), writes the record and the PLANNED event. With an existing record of the same spec
  // digest it does nothing and returns false (idempotent apply); another digest is Error::usage.
  bool start(const RolloutSpec& spec, const std::string& spec_yaml, const Plan& plan, const json& baseline_model);

  // Advances the rollout by at most one transition (dispatch a wave, evaluate gates, promote,
  // roll back, verify). `steal_lease` takes the lease from another driver (journaled).
  StepResult step(const std::string& rollout, bool steal_lease = false);

  // Human decisions. Each is journaled with the actor and remark; invalid in the current phase -> Error::usage.
  void approve(const std::string& rollout, const std::string& remark);
  void deny(const std::string& rollout, const std::string& remark);
  void pause(const std::string& rollout, const std::string& remark);
  void resume(const std::string& rollout, const std::string& remark);
  void promote(const std::string& rollout, bool full, const std::string& remark);   // skip the current wave's gates
  void abort(const std::string& rollout, bool revert, const std::string& remark);   // keep or roll back
  void rollback(const std::string& rollout, const std::string& remark);

  // The record's state (with a "status" section recomputed from the hub: per-wave device state counts).
  json status(const std::string& rollout);
  std::vector<std::string> list();
  std::filesystem::path journal_path(const std::string& rollout) const;
  std::optional<JournalHead> hub_head(const std::string& rollout);

 private:
  struct Loaded;
  Loaded load(const std::string& rollout);
  void commit(Loaded& l, json event);
  void take_lease(Loaded& l, bool steal);
  void ensure_journal(const Loaded& l);
  StepResult run_wave(Loaded& l);
  StepResult dispatch_wave(Loaded& l, std::size_t wave, bool resumed);
  StepResult dispatch_wave_whole(Loaded& l, std::size_t wave, bool resumed);
  StepResult run_rollback(Loaded& l);
  void begin_rollback(Loaded& l, const std::string& why);
  StepResult promote_next(Loaded& l, std::size_t wave, const std::string& why);
  StepResult act_on_verdict(Loaded& l, std::size_t wave);
  json evaluate_gates(Loaded& l, std::size_t wave);
  struct LookInputs;
  // The gate inputs of a look, from every member (member_inputs) or from counts (counted_inputs,
  // nullopt when the backend cannot count); `readings` has one entry per gate of the spec.
  LookInputs member_inputs(Loaded& l, std::size_t wave, const std::vector<GateReading>& readings,
                           const std::string& target, const std::string& baseline, TimePoint dispatched);
  std::optional<LookInputs> counted_inputs(Loaded& l, std::size_t wave, const std::vector<GateReading>& readings,
                                           const std::string& target, const std::string& baseline,
                                           TimePoint dispatched);

  ControllerDeps deps_;
};

}  // namespace aiot::rollout
