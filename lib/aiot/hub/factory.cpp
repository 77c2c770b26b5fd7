#include "aiot/hub/factory.hpp"

#include <fmt/format.h>

#include "aiot/context.hpp"
#include "aiot/core/error.hpp"
#include "aiot/hub/aws/aws_hub.hpp"
#include "aiot/hub/azure/azure_hub.hpp"
#include "aiot/hub/local/local_hub.hpp"

namespace aiot::hub {

std::filesystem::path default_local_path(const Context& ctx) {
  return std::filesystem::path(ctx.settings().paths().data_dir) / "hub.db";
}

std::unique_ptr<Hub> open_hub(Context& ctx) {
  const auto& value = ctx.settings().get_with_origin("hub");
  const std::string& hub = value.value;
  if (hub == "local") return std::make_unique<local::LocalHub>(default_local_path(ctx), ctx.now);
  if (hub.rfind("local:", 0) == 0) {
    std::filesystem::path p = hub.substr(6);
    if (p.is_relative()) p = ctx.cwd / p;
    return std::make_unique<local::LocalHub>(p, ctx.now);
  }
  if (hub == "azure") return azure::open_azure_hub(ctx);
  if (hub == "aws") return aws::open_aws_hub(ctx);
  throw Error::usage(fmt::format("unknown hub '{}' (from {})", hub, value.origin),
                     "Valid values: local, local:PATH, azure, aws.");
}

}  // namespace aiot::hub
