#pragma once
// Running gnuplot on a script file.

#include <filesystem>
#include <optional>

namespace repro::report {

// The gnuplot executable: $REPRO_GNUPLOT when set (an explicit path, checked), else the first
// executable `gnuplot` on $PATH; nullopt when none is found.
std::optional<std::filesystem::path> find_gnuplot();

// Runs `<gnuplot> <script file name>` in the script's folder (so the script's relative file names
// resolve there), with stdin from /dev/null. `gnuplot` empty: find_gnuplot().
// Not found or not executable -> NotSupported naming the script; a non-zero exit -> IoError with
// the exit status, the script path and the end of gnuplot's error output.
void run_gnuplot(const std::filesystem::path& script, const std::filesystem::path& gnuplot = {});

}  // namespace repro::report
