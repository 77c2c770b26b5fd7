#pragma once
// The AWS IoT Core provider behind open_aws_hub(): the Registry over things + the "aiot" named
// shadow (see aws_mapping.hpp for the mapping), and the AWS-only steps of enrolment that the
// provider-neutral Registry has no verb for (certificates, policies).
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "aiot/hub/aws/aws_client.hpp"
#include "aiot/hub/hub.hpp"

namespace aiot {
class Env;
namespace config {
class Settings;
}
}  // namespace aiot

namespace aiot::hub::aws {

struct ProviderOptions {
  std::string thing_type;                 // aws.thing_type: things get it (50 attributes instead of 3)
  std::string policy_name = "aiot-device";  // aws.policy
  std::string describe;                   // "aws:eu-west-1" for messages
};

class AwsHub final : public Hub, public Registry {
 public:
  AwsHub(std::unique_ptr<AwsClient> client, ProviderOptions options);

  Registry& registry() override { return *this; }
  std::string describe() const override { return options_.describe; }

  Device create(const Device& d) override;
  std::vector<ImportResult> import(std::span<const Device> devices, ImportMode mode) override;
  Device get(std::string_view id) override;
  std::vector<Device> list(const ListOptions& options) override;
  Device update(const DeviceUpdate& update) override;
  void remove(std::string_view id, std::string_view if_match = {}) override;

  // `device register --auth x509-ca` (after the fleet CA issued the certificate): registers it
  // with RegisterCertificateWithoutCA (an identical re-registration is reused), attaches it to the
  // thing and attaches the device policy (created from AwsClient::device_policy when missing).
  Certificate register_and_attach(const Device& device, std::string_view certificate_pem);
  std::optional<std::string> attach_certificate(const Device& device, std::string_view certificate_pem) override {
    return register_and_attach(device, certificate_pem).arn;
  }
  // `--auth aws-generated`: CreateKeysAndCertificate, attached like above. The private key is in
  // the result only: the caller writes it 0600 (write_generated_credentials does).
  KeysAndCertificate create_generated_certificate(const Device& device);

  AwsClient& client() { return *client_; }
  const ProviderOptions& options() const { return options_; }

 private:
  std::size_t max_attributes() const;
  Device to_device(const Thing& thing, const std::optional<Shadow>& shadow) const;
  // Thing name -> its "aiot" shadow document (null: none) from Fleet Indexing, or nullopt when the
  // account has no thing index that holds the "aiot" shadows (then shadows are read per thing).
  std::optional<std::map<std::string, json>> indexed_shadows();
  void attach_to_thing(const std::string& thing, const std::string& thing_arn, const std::string& certificate_arn);
  void ensure_policy(const std::string& thing_arn);

  std::unique_ptr<AwsClient> client_;
  ProviderOptions options_;
  bool policy_checked_ = false;
  bool thing_type_checked_ = false;
  bool index_unavailable_ = false;  // a search said so: later lists of this hub object skip it
};

// The provider configuration from settings (aws.region, aws.endpoint, aws.profile, aws.data_endpoint,
// aws.thing_type, aws.policy) and the environment (credentials chain,
// AIOT_HTTP_MAX_ATTEMPTS, AIOT_HTTP_RETRY_BUDGET). Throws Error::auth without credentials.
struct ProviderConfig {
  Config client;
  ProviderOptions options;
};
ProviderConfig provider_config(const Env& env, const config::Settings& settings);

// The AwsHub behind a Hub opened with hub: aws, or nullptr for other providers.
AwsHub* aws_hub_of(Hub& hub);

// Writes ID.key.pem (0600) and ID.cert.pem of an aws-generated certificate into `dir`; returns them.
std::vector<std::filesystem::path> write_generated_credentials(const std::filesystem::path& dir,
                                                               const std::string& device_id,
                                                               const KeysAndCertificate& generated);

}  // namespace aiot::hub::aws
