#pragma once
// AWS IoT Core provider (hub: aws): control plane (iot) and shadows (iot-data).
// See ../shared/reference/aws-iot.md.
#include <memory>

namespace aiot {
class Context;
}

namespace aiot::hub {
class Hub;
}

namespace aiot::hub::aws {

// Credentials from the AWS chain, region and endpoint overrides from the Context's settings and
// environment; Error::auth (with what was looked at) when no credentials are found.
std::unique_ptr<Hub> open_aws_hub(Context& ctx);

}  // namespace aiot::hub::aws
