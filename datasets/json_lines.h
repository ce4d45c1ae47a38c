#pragma once
// Line-by-line reading of text and JSON-lines files, plain or gzip-compressed (detected from the
// bytes, not the name: zlib reads an uncompressed file as is). C4 shards and the zero-shot task
// exports are read through here.

#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace repro {

// Calls fn(line, line_number) for every line (1-based, without "\n" or a trailing "\r") until fn
// returns false. A final line without "\n" is still a line. Missing file -> DataError;
// a corrupt or truncated gzip stream -> DataError naming the file.
void for_each_line(const std::filesystem::path& path,
                   const std::function<bool(std::string_view line, size_t line_number)>& fn);

// Calls fn(record, line_number) for every non-blank line parsed as JSON, until fn returns false.
// A line that is not valid JSON -> DataError "<file>:<line>: not valid JSON (...)".
void for_each_json_line(const std::filesystem::path& path,
                        const std::function<bool(const nlohmann::json& record, size_t line_number)>& fn);

// "<file>:<line>" for messages.
std::string file_line(const std::filesystem::path& path, size_t line_number);

}  // namespace repro
