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

namespace {

// Decimal places of format_exact(v): "4.1" -> 1, "1.5e-07" -> 8, "1200" -> 0.
int exact_decimals(double v) {
  std::string s = format_exact(v);
  size_t e = s.find('e');
  std::string mantissa = s.substr(0, e);
  int exponent = e == std::string::npos ? 0 : std::atoi(s.c_str() + e + 1);
  size_t dot = mantissa.find('.');
  int decimals = dot == std::string::npos ? 0 : static_cast<int>(mantissa.size() - dot - 1);
  return std::max(0, decimals - exponent);
}

}  // namespace

std::string format_difference(double a, double b) {
  double d = a - b;
  if (std::isnan(d) || std::isinf(d)) return format_exact(d);
  constexpr int kMaxDecimals = 40;  // below this, fall back to every digit of the difference
  int decimals = std::max(exact_decimals(a), exact_decimals(b));
  if (decimals > kMaxDecimals) return format_exact(d);
  char buf[512];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, d);
  std::string s = buf;
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  if (s == "-0") s = "0";
  return s;
}

MeanStdText format_mean_std(double mean, double stddev, int digits) {
  MeanStdText out;
  out.mean = format_value(mean, digits);
  if (std::isnan(stddev) || std::isinf(stddev)) {
    out.stddev = format_value(stddev, digits);
    return out;
  }
  const bool aligned = mean != 0.0 && std::isfinite(mean) && out.mean.find('e') == std::string::npos;
  if (!aligned) {
    out.stddev = format_value(stddev, 2);
    return out;
  }
  const size_t dot = out.mean.find('.');
  const int decimals = dot == std::string::npos ? 0 : static_cast<int>(out.mean.size() - dot - 1);
  char buf[512];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, stddev);
  out.stddev = buf;
  return out;
}

int metric_precision(const TableSpec& table, const std::string& metric) {
  if (table.suite_info)
    if (const MetricInfo* m = table.suite_info->find_metric(metric)) return m->precision;
  return kUnknownMetricPrecision;
}

}  // namespace repro::report
