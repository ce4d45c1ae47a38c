#include "report/number_format.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/table_spec.h"

namespace repro::report {

std::string format_value(double v, int digits) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (v == 0.0) return "0";
  digits = std::clamp(digits, 1, 17);
  char buf[64];
  // The exponent after rounding to `digits` (9.996 at 3 digits is 1.00e+01, not 9.99e+00).
  std::snprintf(buf, sizeof buf, "%.*e", digits - 1, v);
  const char* e_pos = std::strchr(buf, 'e');
  int exponent = e_pos ? std::atoi(e_pos + 1) : 0;
  if (exponent < -4 || exponent >= 16) return buf;
  int decimals = std::max(0, digits - 1 - exponent);
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string format_signed(double v, int digits) {
  std::string s = format_value(v, digits);
  if (v > 0 && !std::isnan(v)) return "+" + s;
  return s;
}

std::string format_trimmed(double v, int digits) {
  std::string s = format_value(v, digits);
  size_t e = s.find('e');
  std::string mantissa = s.substr(0, e), exponent = e == std::string::npos ? "" : s.substr(e);
  if (mantissa.find('.') != std::string::npos) {
    while (mantissa.back() == '0') mantissa.pop_back();
    if (mantissa.back() == '.') mantissa.pop_back();
  }
  return mantissa + exponent;
}

std::string format_exact(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

int metric_precision(const TableSpec& table, const std::string& metric) {
  if (table.suite_info)
    if (const MetricInfo* m = table.suite_info->find_metric(metric)) return m->precision;
  return kUnknownMetricPrecision;
}

}  // namespace repro::report
