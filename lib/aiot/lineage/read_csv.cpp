// CSV (RFC 4180) telemetry: a header row naming the NDJSON keys, one record per row.
#include <string>
#include <vector>

#include "aiot/lineage/read_internal.hpp"

namespace aiot::lineage::detail {

namespace {

enum class Split { ok, open_quote, bad_quote };

// Splits one row into cells. Quoted cells are unescaped into `unquoted`, which is reserved to the
// row's size first so the views into it stay valid.
Split split_row(std::string_view text, std::vector<std::string_view>& cells, std::string& unquoted) {
  cells.clear();
  unquoted.clear();
  unquoted.reserve(text.size());
  std::size_t i = 0;
  const std::size_t n = text.size();
  for (;;) {
    if (i < n && text[i] == '"') {
      ++i;
      const std::size_t start = unquoted.size();
      for (;;) {
        const std::size_t q = text.find('"', i);
        if (q == std::string_view::npos) {
          return Split::open_quote;  // the cell goes on on the next line
        }
        unquoted.append(text.substr(i, q - i));
        if (q + 1 < n && text[q + 1] == '"') {
          unquoted.push_back('"');
          i = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      if (i < n && text[i] != ',') {
        return Split::bad_quote;
      }
      cells.emplace_back(unquoted.data() + start, unquoted.size() - start);
    } else {
      const std::size_t comma = text.find(',', i);
      const std::size_t end = comma == std::string_view::npos ? n : comma;
      const std::string_view cell = text.substr(i, end - i);
      if (cell.find('"') != std::string_view::npos) {
        return Split::bad_quote;  // a quote inside an unquoted cell
      }
      cells.push_back(cell);
      i = end;
    }
    if (i >= n) {
      return Split::ok;
    }
    ++i;  // the comma
    if (i == n) {
      cells.emplace_back();  // a trailing comma: one more, empty, cell
      return Split::ok;
    }
  }
}

struct Column {
  std::string name;
  Lifted lifted = Lifted::none;
};

}  // namespace

void read_csv(ByteSource& source, BatchBuilder& b, const ReadOptions& opt) {
  LineReader lines(source, opt.max_record_bytes);
  std::vector<Column> columns;
  bool have_header = false;
  std::vector<std::string_view> cells;
  std::string unquoted;
  std::string row;  // a row whose quoted cell spans lines, gathered
  bool in_row = false;
  std::uint64_t row_offset = 0;

  std::string_view line;
  std::uint64_t offset = 0;
  bool overlong = false;
  const std::string too_long = "record longer than " + std::to_string(opt.max_record_bytes) + " bytes";
  while (lines.next(line, offset, overlong)) {
    if (b.full()) {
      b.flush(offset);
    }
    if (overlong) {
      if (in_row) {
        b.malformed(row_offset, "unterminated quoted CSV cell");
        in_row = false;
      }
      b.malformed(offset, too_long);
      continue;
    }
    std::string_view text;
    if (in_row) {
      row += '\n';
      row.append(line);
      if (row.size() > opt.max_record_bytes) {
        b.malformed(row_offset, "unterminated quoted CSV cell");
        in_row = false;
        continue;
      }
      text = row;
    } else {
      text = line;
      row_offset = offset;
      if (offset == 0 && text.substr(0, 3) == "\xEF\xBB\xBF") {
        text.remove_prefix(3);
        row_offset = 3;
      }
      if (text.empty()) {
        continue;  // blank line
      }
    }
    const Split status = split_row(text, cells, unquoted);
    if (status == Split::open_quote) {
      if (!in_row) {
        row.assign(text);
        in_row = true;
      }
      continue;
    }
    in_row = false;
    if (status == Split::bad_quote) {
      b.malformed(row_offset, "bad quoting in CSV row");
      continue;
    }
    if (!have_header) {
      for (const auto cell : cells) {
        columns.push_back(Column{std::string(cell), lifted_key(cell)});
      }
      have_header = true;
      continue;
    }
    if (cells.size() != columns.size()) {
      b.malformed(row_offset, "CSV row has " + std::to_string(cells.size()) + " cells, header has " +
                                  std::to_string(columns.size()));
      continue;
    }
    Record& r = b.begin(row_offset);
    for (std::size_t i = 0; i < cells.size(); ++i) {
      const std::string_view cell = cells[i];
      if (cell.empty()) {
        continue;  // missing
      }
      const Column& c = columns[i];
      if (c.lifted != Lifted::none && lift_text(b, r, c.lifted, cell)) {
        continue;
      }
      if (const auto number = parse_number(cell)) {
        b.add_number(c.name, *number);
      } else {
        b.add_text(c.name, cell);
      }
    }
    b.commit();
  }
  if (in_row) {
    b.malformed(row_offset, "unterminated quoted CSV cell");
  }
}

}  // namespace aiot::lineage::detail
