#pragma once
// Writing a Value table as TOML text (the inverse of parse_toml in core/config.h), for files that
// ReproBench writes for people and for itself to read back, such as a compressed model's
// recipe.toml.

#include <string>

#include "core/value.h"

namespace repro {

// TOML text of a Value table, keys sorted. Null values in tables are left out (TOML has no null);
// a null inside an array is an InternalError. parse_toml() reads the text back to an equal Value.
std::string to_toml(const Value& table);

}  // namespace repro
