#include "data/pool.h"

#include <torch/torch.h>

#include <algorithm>
#include <stdexcept>
#include <string>

#include "core/errors.h"
#include "core/seeding.h"
#include "data/images.h"

namespace ganleaks::data {

namespace {

// The records model (MEDGAN: sigmoid output, BCE) takes features in [0, 1]: binary records, or continuous
// ones (location-style) scaled by the user.
TabularSet checked_unit_range(TabularSet set, const std::string& path) {
  const auto [lo, hi] = std::ranges::minmax(set.values);
  if (lo < 0 || hi > 1) {
    throw DataError(path + ": features range over [" + std::to_string(lo) + ", " + std::to_string(hi) +
                    "]; the records model (medgan) expects values in [0, 1]: binary records, or features scaled to [0, 1]");
  }
  return set;
}

TabularSet load_tabular(const std::string& path) {
  const auto ext = std::filesystem::path(path).extension();
  if (ext == ".h5" || ext == ".hdf5") return load_tabular_h5(path);
  if (ext == ".csv") return load_tabular_csv(path, "label", /*label_required=*/false);
  throw ConfigError("data.path = \"" + path + "\": data.dataset = \"tabular\" expects an .h5/.hdf5 or .csv file (data/tabular.h)");
}

}  // namespace

Pool Pool::load(const DataConfig& config) {
  if (config.dataset == "fashion-mnist") return Pool(load_fashion_mnist(config.path, config.pool), config.image_size);
  if (config.dataset == "fashion-mnist-binary") return Pool(binarised_images(load_fashion_mnist(config.path, config.pool)));
  return Pool(checked_unit_range(load_tabular(config.path), config.path));
}

Pool::Pool(ImageSet images, int image_size) : image_size_(image_size), count_(images.count) {
  labels_.assign(images.labels.begin(), images.labels.end());
  records_ = std::move(images);
}

Pool::Pool(TabularSet records) : count_(records.records), binary_(is_binary(records)) {
  labels_ = records.labels;
  records_ = std::move(records);
}

at::Tensor Pool::rows(std::span<const std::int64_t> indices) const {
  if (const auto* images = std::get_if<ImageSet>(&records_)) return images_to_tensor(*images, indices, image_size_);
  const auto& table = std::get<TabularSet>(records_);
  const auto n = static_cast<std::int64_t>(indices.size());
  // host: the pool lives in host memory; jobs move the rows they use to their device.
  const auto all = torch::from_blob(const_cast<float*>(table.values.data()), {table.records, table.features});
  const auto index = torch::from_blob(const_cast<std::int64_t*>(indices.data()), {n}, torch::kInt64);
  TORCH_CHECK(n == 0 || (index.min().item<std::int64_t>() >= 0 && index.max().item<std::int64_t>() < table.records),
              "Pool::rows: row index outside [0, ", table.records, ")");
  return all.index_select(0, index).contiguous();
}

Pool Pool::with_crafted(std::span<const Crafted> crafted) const {
  using Kind = Crafted::Kind;
  Pool out = *this;
  const auto label = [&](const Crafted& c) -> std::int64_t {
    return c.kind == Kind::kInverted && !labels_.empty() ? labels_[static_cast<std::size_t>(c.source)] : 0;
  };
  for (const auto& c : crafted) {
    if (c.kind == Kind::kInverted && (c.source < 0 || c.source >= count_)) {
      throw std::invalid_argument("Pool::with_crafted: source row outside the pool");
    }
  }
  if (auto* images = std::get_if<ImageSet>(&out.records_)) {
    const auto size = static_cast<std::size_t>(images->rows * images->cols);
    for (const auto& c : crafted) {
      const auto at = images->pixels.size();
      images->pixels.resize(at + size);
      if (c.kind == Kind::kInverted) {
        const auto* from = images->pixels.data() + static_cast<std::size_t>(c.source) * size;
        std::transform(from, from + size, images->pixels.begin() + static_cast<std::ptrdiff_t>(at),
                       [](std::uint8_t p) { return static_cast<std::uint8_t>(255 - p); });
      } else {
        Rng stream(c.seed);
        for (std::size_t i = 0; i < size; ++i) images->pixels[at + i] = static_cast<std::uint8_t>(stream.uniform(256));
      }
      images->labels.push_back(static_cast<std::uint8_t>(label(c)));
    }
    images->count += static_cast<std::int64_t>(crafted.size());
  } else {
    auto& table = std::get<TabularSet>(out.records_);
    const auto size = static_cast<std::size_t>(table.features);
    for (const auto& c : crafted) {
      const auto at = table.values.size();
      table.values.resize(at + size);
      Rng stream(c.seed);
      for (std::size_t i = 0; i < size; ++i) {
        if (c.kind == Kind::kInverted) {
          table.values[at + i] = 1.0f - table.values[static_cast<std::size_t>(c.source) * size + i];
        } else if (binary_) {
          table.values[at + i] = static_cast<float>(stream.uniform(2));
        } else {
          table.values[at + i] = static_cast<float>(static_cast<double>(stream.next() >> 11) * 0x1.0p-53);
        }
      }
      if (!table.labels.empty()) table.labels.push_back(label(c));
    }
    table.records += static_cast<std::int64_t>(crafted.size());
  }
  out.count_ += static_cast<std::int64_t>(crafted.size());
  if (!labels_.empty()) {
    for (const auto& c : crafted) out.labels_.push_back(label(c));
  }
  return out;
}

}  // namespace ganleaks::data
