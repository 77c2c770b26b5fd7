// The XML answers of List Blobs and ListObjectsV2, and the error bodies of both services, read
// with Boost.PropertyTree (header-only; entities such as &amp; and &quot; are decoded).
#include <boost/property_tree/ptree.hpp>
#include <boost/property_tree/xml_parser.hpp>

#include <fmt/format.h>

#include <sstream>

#include "aiot/core/error.hpp"
#include "aiot/storage/remote.hpp"

namespace aiot::storage {

namespace pt = boost::property_tree;

namespace {

pt::ptree parse_xml(std::string_view xml, std::string_view what) {
  pt::ptree tree;
  std::istringstream in{std::string(xml)};
  try {
    pt::read_xml(in, tree);
  } catch (const pt::xml_parser_error& e) {
    throw Error::failure(fmt::format("malformed {} response: {}", what, e.message()));
  }
  return tree;
}

std::uint64_t to_size(const std::string& text) {
  try {
    return std::stoull(text);
  } catch (const std::exception&) {
    return 0;
  }
}

}  // namespace

namespace azure {

Page parse_list_blobs(std::string_view xml) {
  const auto tree = parse_xml(xml, "List Blobs");
  const auto root = tree.get_child_optional("EnumerationResults");
  if (!root) {
    throw Error::failure("malformed List Blobs response: no EnumerationResults");
  }
  Page page;
  if (const auto blobs = root->get_child_optional("Blobs")) {
    for (const auto& [tag, node] : *blobs) {
      if (tag == "Blob") {
        ObjectInfo o;
        o.name = node.get<std::string>("Name", "");
        o.etag = node.get<std::string>("Properties.Etag", "");
        o.version_id = node.get<std::string>("VersionId", "");
        o.size = to_size(node.get<std::string>("Properties.Content-Length", "0"));
        page.objects.push_back(std::move(o));
      } else if (tag == "BlobPrefix") {
        page.prefixes.push_back(node.get<std::string>("Name", ""));
      }
    }
  }
  page.next = root->get<std::string>("NextMarker", "");
  return page;
}

}  // namespace azure

namespace s3 {

Page parse_list_objects_v2(std::string_view xml) {
  const auto tree = parse_xml(xml, "ListObjectsV2");
  const auto root = tree.get_child_optional("ListBucketResult");
  if (!root) {
    throw Error::failure("malformed ListObjectsV2 response: no ListBucketResult");
  }
  Page page;
  for (const auto& [tag, node] : *root) {
    if (tag == "Contents") {
      ObjectInfo o;
      o.name = node.get<std::string>("Key", "");
      o.etag = node.get<std::string>("ETag", "");
      o.size = to_size(node.get<std::string>("Size", "0"));
      page.objects.push_back(std::move(o));
    } else if (tag == "CommonPrefixes") {
      page.prefixes.push_back(node.get<std::string>("Prefix", ""));
    }
  }
  if (root->get<std::string>("IsTruncated", "false") == "true") {
    page.next = root->get<std::string>("NextContinuationToken", "");
  }
  return page;
}

}  // namespace s3

std::string error_summary(std::string_view body) {
  if (body.find("<Error") != std::string_view::npos) {
    try {
      pt::ptree tree;
      std::istringstream in{std::string(body)};
      pt::read_xml(in, tree);
      const auto code = tree.get<std::string>("Error.Code", "");
      auto message = tree.get<std::string>("Error.Message", "");
      if (const auto nl = message.find('\n'); nl != std::string::npos) {
        message.resize(nl);  // Azure appends RequestId and Time lines
      }
      if (!code.empty()) {
        return message.empty() ? code : fmt::format("{}: {}", code, message);
      }
    } catch (const pt::ptree_error&) {
      // fall through to the raw text
    }
  }
  std::string text(body.substr(0, 200));
  for (char& c : text) {
    if (c == '\n' || c == '\r') {
      c = ' ';
    }
  }
  return text;
}

}  // namespace aiot::storage
