// Storage wire formats: spec parsing, Azure connection strings and the Shared Key string-to-sign
// (checked against the layout documented in "Authorize with Shared Key" and HMACs computed
// independently with Python's hmac module), and the List Blobs / ListObjectsV2 parsers.
#include <doctest/doctest.h>

#include "aiot/core/error.hpp"
#include "aiot/http/stream.hpp"
#include "aiot/storage/inputs.hpp"
#include "aiot/storage/remote.hpp"

using namespace aiot;
using namespace aiot::storage;

namespace {
constexpr const char* k_dev_key =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
}

TEST_CASE("storage specs: which are remote, and where they point") {
  CHECK(is_remote("az://acct/exports/hub/0/"));
  CHECK(is_remote("s3://bucket"));
  CHECK(is_remote("S3://bucket/prefix"));
  CHECK(is_remote("https://acct.blob.core.windows.net/exports"));
  CHECK(is_remote("http://127.0.0.1:10000/devstoreaccount1/exports?sv=1&sig=x"));
  CHECK_FALSE(is_remote("http://127.0.0.1:10000/devstoreaccount1"));  // no container
  CHECK_FALSE(is_remote("exports/**/*.json"));
  CHECK_FALSE(is_remote("/data/az/file.json"));

  auto az = parse_spec("az://acct/exports/hub/0/2026/");
  CHECK(az.service == Location::Service::azure);
  CHECK(az.account == "acct");
  CHECK(az.container == "exports");
  CHECK(az.prefix == "hub/0/2026/");
  CHECK(az.endpoint.empty());

  auto url = parse_spec("https://acct.blob.core.windows.net/exports/hub%201/x.json?sv=2021-08-06&sig=abc%3D");
  CHECK(url.account == "acct");
  CHECK(url.endpoint == "https://acct.blob.core.windows.net");
  CHECK(url.prefix == "hub 1/x.json");
  CHECK(url.sas == "sv=2021-08-06&sig=abc%3D");

  auto azurite = parse_spec("http://127.0.0.1:10000/devstoreaccount1/exports");
  CHECK(azurite.account == "devstoreaccount1");
  CHECK(azurite.container == "exports");
  CHECK(azurite.prefix.empty());
  CHECK(azurite.endpoint == "http://127.0.0.1:10000/devstoreaccount1");

  auto s3 = parse_spec("s3://telemetry/iot/2026/11/");
  CHECK(s3.service == Location::Service::s3);
  CHECK(s3.container == "telemetry");
  CHECK(s3.prefix == "iot/2026/11/");

  CHECK_THROWS_AS(parse_spec("az://acct"), Error);
  CHECK_THROWS_AS(parse_spec("s3://"), Error);
  CHECK_THROWS_AS(parse_spec("ftp://x/y/z"), Error);
}

TEST_CASE("Azure connection strings") {
  auto cs = azure::parse_connection_string(
      "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=abc==;"
      "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1/;");
  CHECK(cs.account == "devstoreaccount1");
  CHECK(cs.key == "abc==");  // '=' inside a value survives
  CHECK(cs.blob_endpoint == "http://127.0.0.1:10000/devstoreaccount1");
  CHECK(cs.protocol == "http");

  auto dev = azure::parse_connection_string("UseDevelopmentStorage=true");
  CHECK(dev.account == "devstoreaccount1");
  CHECK(dev.key == k_dev_key);
  CHECK(dev.blob_endpoint == "http://127.0.0.1:10000/devstoreaccount1");

  auto sas = azure::parse_connection_string(
      "BlobEndpoint=https://acct.blob.core.windows.net;SharedAccessSignature=?sv=2021-08-06&sig=x");
  CHECK(sas.sas == "sv=2021-08-06&sig=x");
  CHECK(sas.key.empty());

  CHECK_THROWS_AS(azure::parse_connection_string("AccountName=a"), Error);  // no key, no SAS
  CHECK_THROWS_AS(azure::parse_connection_string("garbage"), Error);
}

TEST_CASE("Shared Key: the documented string-to-sign and its signature") {
  const auto t = *parse_rfc3339("2026-11-26T04:43:32Z");

  SUBCASE("Get Blob with a Range on a path-style (emulator) endpoint: the account appears twice") {
    http::Request r;
    r.url = "http://127.0.0.1:10000/devstoreaccount1/exports/hub%201/0/2026/11/26/04/43.json";
    r.headers = {{"Range", "bytes=100-"}};
    azure::sign_shared_key(r, "devstoreaccount1", k_dev_key, t);
    CHECK(azure::shared_key_string_to_sign(r, "devstoreaccount1") ==
          "GET\n"                    // VERB
          "\n\n\n\n\n\n\n\n\n\n"     // Content-Encoding .. If-Unmodified-Since (Date empty with x-ms-date)
          "bytes=100-\n"             // Range
          "x-ms-date:Thu, 26 Nov 2026 04:43:32 GMT\n"
          "x-ms-version:2021-08-06\n"
          "/devstoreaccount1/devstoreaccount1/exports/hub%201/0/2026/11/26/04/43.json");
    CHECK(*http::find_header(r.headers, "Authorization") ==
          "SharedKey devstoreaccount1:SAEDXxJBWrEhvAyKHFnR0EZaiASJSR6nMvS7pg+ImEs=");
  }

  SUBCASE("List Blobs: query parameters decoded, lower-cased and sorted into the resource") {
    http::Request r;
    r.url = "http://127.0.0.1:10000/devstoreaccount1/exports?restype=container&comp=list&prefix=hub%2F0%2F"
            "&marker=2%2184%21x&maxresults=2";
    r.headers = {{"Content-Length", "0"}};  // zero is signed as an empty line
    azure::sign_shared_key(r, "devstoreaccount1", k_dev_key, t);
    const auto sts = azure::shared_key_string_to_sign(r, "devstoreaccount1");
    CHECK(sts ==
          "GET\n\n\n\n\n\n\n\n\n\n\n\n"
          "x-ms-date:Thu, 26 Nov 2026 04:43:32 GMT\nx-ms-version:2021-08-06\n"
          "/devstoreaccount1/devstoreaccount1/exports\ncomp:list\nmarker:2!84!x\nmaxresults:2\nprefix:hub/0/\n"
          "restype:container");
    CHECK(*http::find_header(r.headers, "Authorization") ==
          "SharedKey devstoreaccount1:BuVKVeGQDCEttRzkGwQOMNZvwcw2ojDsBG4DstT1YIg=");
  }

  SUBCASE("x-ms-* headers are sorted and trimmed; other headers stay out") {
    http::Request r;
    r.method = "PUT";
    r.url = "https://acct.blob.core.windows.net/c/b";
    r.headers = {{"X-Ms-Version", "2021-08-06"}, {"x-ms-blob-type", " BlockBlob "}, {"x-ms-date", "D"},
                 {"Content-Length", "11"}, {"Content-Type", "application/json"}, {"User-Agent", "aiot"}};
    CHECK(azure::shared_key_string_to_sign(r, "acct") ==
          "PUT\n\n\n11\n\napplication/json\n\n\n\n\n\n\n"
          "x-ms-blob-type:BlockBlob\nx-ms-date:D\nx-ms-version:2021-08-06\n/acct/c/b");
  }
}

TEST_CASE("List Blobs and ListObjectsV2 responses") {
  const auto blobs = azure::parse_list_blobs(
      R"(<?xml version="1.0" encoding="utf-8"?><EnumerationResults ServiceEndpoint="http://x/" ContainerName="c">)"
      R"(<Prefix>hub/</Prefix><MaxResults>2</MaxResults><Blobs>)"
      R"(<Blob><Name>hub/0/a&amp;b.json</Name><Properties><Last-Modified>Thu, 26 Nov 2026 04:43:32 GMT</Last-Modified>)"
      R"(<Etag>0x8DB1</Etag><Content-Length>42</Content-Length></Properties></Blob>)"
      R"(<BlobPrefix><Name>hub/1/</Name></BlobPrefix></Blobs><NextMarker>2!8!bWFy</NextMarker></EnumerationResults>)");
  REQUIRE(blobs.objects.size() == 1);
  CHECK(blobs.objects[0].name == "hub/0/a&b.json");
  CHECK(blobs.objects[0].etag == "0x8DB1");
  CHECK(blobs.objects[0].size == 42);
  CHECK(blobs.prefixes == std::vector<std::string>{"hub/1/"});
  CHECK(blobs.next == "2!8!bWFy");

  const auto last = azure::parse_list_blobs(R"(<EnumerationResults><Blobs/><NextMarker/></EnumerationResults>)");
  CHECK(last.objects.empty());
  CHECK(last.next.empty());

  const auto s3 = s3::parse_list_objects_v2(
      R"(<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">)"
      R"(<Name>b</Name><IsTruncated>true</IsTruncated><Contents><Key>iot/2026/x.json</Key>)"
      R"(<ETag>&quot;9a0364b9e99bb480dd25e1f0284c8555&quot;</ETag><Size>7</Size></Contents>)"
      R"(<CommonPrefixes><Prefix>iot/2027/</Prefix></CommonPrefixes>)"
      R"(<NextContinuationToken>tok+1/=</NextContinuationToken></ListBucketResult>)");
  REQUIRE(s3.objects.size() == 1);
  CHECK(s3.objects[0].etag == "\"9a0364b9e99bb480dd25e1f0284c8555\"");
  CHECK(s3.objects[0].size == 7);
  CHECK(s3.prefixes == std::vector<std::string>{"iot/2027/"});
  CHECK(s3.next == "tok+1/=");
  // Not truncated: a stray token is ignored.
  CHECK(s3::parse_list_objects_v2("<ListBucketResult><IsTruncated>false</IsTruncated>"
                                  "<NextContinuationToken>t</NextContinuationToken></ListBucketResult>")
            .next.empty());

  CHECK_THROWS_AS(azure::parse_list_blobs("<oops"), Error);
  CHECK(error_summary("<?xml version=\"1.0\"?><Error><Code>AuthenticationFailed</Code><Message>Server failed.\n"
                      "RequestId:1</Message></Error>") == "AuthenticationFailed: Server failed.");
}

TEST_CASE("time spans of path components") {
  auto year = time_span({2026});
  REQUIRE(year);
  CHECK(format_rfc3339(year->begin) == "2026-01-01T00:00:00Z");
  CHECK(format_rfc3339(year->end) == "2027-01-01T00:00:00Z");
  auto month = time_span({2026, 12});
  CHECK(format_rfc3339(month->end) == "2027-01-01T00:00:00Z");
  auto minute = time_span({2026, 11, 26, 4, 43});
  CHECK(format_rfc3339(minute->begin) == "2026-11-26T04:43:00Z");
  CHECK(format_rfc3339(minute->end) == "2026-11-26T04:44:00Z");
  CHECK_FALSE(time_span({2026, 2, 30}));
  CHECK_FALSE(time_span({}));
}

TEST_CASE("the streaming transport refuses plain HTTP off loopback before anything is sent") {
  auto stream = http::make_curl_stream_transport({}, 64 * 1024);
  http::Request r;
  r.url = "http://example.com/c/blob.json";
  CHECK_THROWS_AS(stream->start(r), Error);
  r.url = "ftp://127.0.0.1/x";
  CHECK_THROWS_AS(stream->start(r), Error);
}
