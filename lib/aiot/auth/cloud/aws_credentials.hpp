#pragma once
// The AWS credential chain, as the AWS CLI resolves it (botocore's resolver), reading only the
// Env it is given (never getenv):
//   1. AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN), unless a profile was named
//      explicitly by the aws.profile setting (like the CLI's --profile, which skips them too);
//   2. the profile (aws.profile > AWS_PROFILE > AWS_DEFAULT_PROFILE > "default") in the shared
//      credentials file (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials, section [name]),
//      then in the config file (AWS_CONFIG_FILE or ~/.aws/config, section [profile name] or [default]).
// Region: aws.region > AWS_REGION > AWS_DEFAULT_REGION > the profile's `region` in the config
// file > (aiot extension) `region` in the credentials-file section, which is where
// `aiot hub serve --api aws --credentials-out` puts it.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "aiot/auth/cloud/sigv4.hpp"

namespace aiot {
class Env;
}

namespace aiot::aws_auth {

struct ChainSettings {
  std::string profile;  // the aws.profile setting; empty = not set
  std::string region;   // the aws.region setting; empty = not set
};

struct Resolved {
  sigv4::Credentials credentials;
  std::string region;            // empty when nothing gave one
  std::string profile;           // the profile consulted (even when env keys won)
  std::string source;            // "env AWS_ACCESS_KEY_ID", "/home/u/.aws/credentials [dev]"
  std::string region_source;     // "setting aws.region", "env AWS_REGION", "/home/u/.aws/config [profile dev]"
  std::vector<std::string> looked_at;  // every place consulted, in order (for the error message)
};

// Throws Error::auth (exit 4) listing what was looked at when no credentials are found, and when
// the profile needs something aiot cannot do (role_arn, sso_*, credential_process).
Resolved resolve(const Env& env, const ChainSettings& settings);

// A parsed INI file as the AWS CLI reads it: section -> key -> value (keys lower-case; nested
// sub-sections such as "s3 =" followed by indented lines are skipped).
using IniSections = std::map<std::string, std::map<std::string, std::string>>;
IniSections parse_ini(const std::string& text);

// The text of one shared-credentials section, e.g. for the emulator's --credentials-out.
std::string credentials_section(const std::string& profile, const sigv4::Credentials& credentials,
                                const std::string& region);

}  // namespace aiot::aws_auth
