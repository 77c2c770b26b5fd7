#pragma once
// Azure IoT Hub service REST provider (hub: azure). See ../shared/reference/azure-iothub.md.
#include <filesystem>
#include <memory>

namespace aiot {
class Context;
class Env;
namespace config {
class Settings;
}
}  // namespace aiot

namespace aiot::hub {
class Hub;
}

namespace aiot::hub::azure {

class AzureClient;
struct ClientSettings;

// Reads the service connection string (IOTHUB_CONNECTION_STRING, the azure.connection_string_file
// setting) and the azure.endpoint override from the Context; Error::auth when none is found.
std::unique_ptr<Hub> open_azure_hub(Context& ctx);

// What open_azure_hub reads, apart from the transport and tracer (tests call it directly):
// - the connection string: IOTHUB_CONNECTION_STRING if set, else the file named by
//   azure.connection_string_file (relative paths from `cwd`); never echoed;
// - the base URL: azure.endpoint (AIOT_AZURE_ENDPOINT) if set, else https://<HostName>;
// - pacing: AIOT_AZURE_TIER (F1|S1|S2|S3) and AIOT_AZURE_UNITS; when neither is set, S1 x 1 for a
//   real hub and no client-side pacing for a loopback endpoint (the emulator);
// - AIOT_HTTP_MAX_ATTEMPTS: attempts per request, first included (default 6);
//   AIOT_HTTP_RETRY_BUDGET: retries for the whole command (default 200).
ClientSettings client_settings(const Env& env, const config::Settings& settings, const std::filesystem::path& cwd);

// The provider over a ready client (tests hand in one built on a fake transport).
std::unique_ptr<Hub> make_azure_hub(std::unique_ptr<AzureClient> client);

// The REST client behind an Azure hub (configurations for rollouts), or nullptr for other hubs.
AzureClient* azure_client_of(Hub& hub);

}  // namespace aiot::hub::azure
