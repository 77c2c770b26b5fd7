#pragma once
namespace CLI {
class App;
}
namespace aiot::cli {
class Dispatch;
}

namespace aiot::cli::rollout {

void add_plan(CLI::App& group, Dispatch& d);
void add_apply(CLI::App& group, Dispatch& d);
void add_status(CLI::App& group, Dispatch& d);
void add_list(CLI::App& group, Dispatch& d);
void add_approve(CLI::App& group, Dispatch& d);
void add_deny(CLI::App& group, Dispatch& d);
void add_pause(CLI::App& group, Dispatch& d);
void add_resume(CLI::App& group, Dispatch& d);
void add_promote(CLI::App& group, Dispatch& d);
void add_abort(CLI::App& group, Dispatch& d);
void add_rollback(CLI::App& group, Dispatch& d);
void add_reconcile(CLI::App& group, Dispatch& d);
void add_history(CLI::App& group, Dispatch& d);
void add_audit(CLI::App& group, Dispatch& d);

}  // namespace aiot::cli::rollout
