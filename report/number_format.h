#pragma once
// Number formatting for reports. Tables show a metric with its precision (MetricInfo::precision
// significant digits); machine-readable outputs (CSV, plot data) use the shortest text that
// round-trips, so no digit is lost.

#include <string>

namespace repro {
struct TableSpec;
}

namespace repro::report {

// Significant digits used for a metric the suite does not declare.
inline constexpr int kUnknownMetricPrecision = 4;

// `digits` significant digits (clamped to [1, 17]), trailing zeros kept so the precision shows:
// 31.7, 39.0, 0.00123. Integer digits are never dropped (12345.6 at 3 digits -> "12346").
// |v| < 1e-4 or >= 1e16 -> scientific ("1.23e-05"). 0 -> "0"; NaN -> "nan"; +-inf -> "inf", "-inf".
std::string format_value(double v, int digits);

// format_value with an explicit sign for differences: "+1.20", "-0.300", "0".
std::string format_signed(double v, int digits);

// format_value without trailing zeros (nor a trailing point): 41.2, 30, 0.5, 1e-05. For
// percentages and thresholds in prose.
std::string format_trimmed(double v, int digits);

// Shortest text that parses back to the same double: 0.1, 31.7, 1e-05, 12345.678. NaN -> "nan".
std::string format_exact(double v);

// a - b without the rounding noise of the subtraction, for machine-readable outputs: rounded to
// the decimals of the more precise input as format_exact prints it (4.1 - 4 -> "0.1", not
// 0.0999999999999996; 21.4 - 6.14 -> "15.26"). NaN in either -> "nan".
std::string format_difference(double a, double b);

// A repeated metric's mean and standard deviation as two texts: the mean as format_value(mean,
// digits), the standard deviation rounded to the mean's last shown decimal (31.72 and 0.43; 12346
// and 210). When the mean has no decimal place to align to (0, NaN, inf, scientific notation), the
// standard deviation gets 2 significant digits.
struct MeanStdText {
  std::string mean, stddev;
};
MeanStdText format_mean_std(double mean, double stddev, int digits);

// The declared precision of a table's metric, or kUnknownMetricPrecision.
int metric_precision(const TableSpec& table, const std::string& metric);

}  // namespace repro::report
