#pragma once
// Image data for the suites that evaluate image classifiers (dp_accuracy, conformal): where the
// sets live, their identity for row keys, and normalisation as a model expects.

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "core/run_context.h"
#include "datasets/image_dataset.h"
#include "training/dp/dp_trainer_loop.h"

namespace repro {

// --data-dir, or <project>/data (where `make images` puts the embedded sets).
std::filesystem::path image_data_dir(const RunContext& ctx);

// The images resized to the model's `image_size` when they differ, normalised with the set's mean and
// std; `black` holds each channel's normalised black pixel (what augmentation pads with).
dp::LabeledImages normalised_images(const ImageDataset& d, const ImageDatasetInfo& info, int64_t image_size);

// The identity of an image set's files: the MANIFEST that `make images` writes (it lists every file's
// sha256), else the names and sizes of the files in the set's folder (hashing CIFAR's 180 MB for
// every row's cache key would not be cheap). "synthetic" is its own identity.
nlohmann::json image_data_identity(const std::string& name, const std::filesystem::path& data_dir);

}  // namespace repro
