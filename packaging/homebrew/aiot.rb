# Homebrew formula for aiot (tap it from a repository of your own: `brew tap ORG/aiot URL`).
# Update url and sha256 for each release: `shasum -a 256 aiot-VERSION.tar.gz`.
class Aiot < Formula
  desc "Operate AIoT fleets: devices, canary rollouts, lineage audits, governance reports"
  homepage "https://example.invalid/aiot"
  url "https://example.invalid/aiot/releases/download/v0.1.0/aiot-0.1.0.tar.gz"
  sha256 "0000000000000000000000000000000000000000000000000000000000000000"
  license "Apache-2.0"
  head "https://example.invalid/aiot.git", branch: "main"

  depends_on "cmake" => :build
  depends_on "ninja" => :build
  depends_on "pkg-config" => :build
  depends_on "cli11" => :build
  depends_on "nlohmann-json" => :build
  depends_on "cpp-httplib" => :build
  depends_on "boost"
  depends_on "curl"
  depends_on "fmt"
  depends_on "yaml-cpp"
  depends_on "openssl@3"
  depends_on "sqlite"
  depends_on "simdjson"
  depends_on "avro-c"
  depends_on "onnx"
  depends_on "protobuf"

  def install
    system "cmake", "-S", ".", "-B", "build", "-G", "Ninja", "-DAIOT_BUILD_TESTS=OFF",
           "-DAIOT_ZSH_COMPLETION_DIR=share/zsh/site-functions", *std_cmake_args
    system "cmake", "--build", "build"
    system "cmake", "--install", "build"
  end

  test do
    assert_match version.to_s, shell_output("#{bin}/aiot --version")
    # The embedded local hub works offline: a device round trip in a fresh hub file.
    system bin/"aiot", "--hub", "local:#{testpath}/hub.db", "device", "register", "brew-test"
    assert_match "brew-test", shell_output("#{bin}/aiot --hub local:#{testpath}/hub.db device list")
  end
end
