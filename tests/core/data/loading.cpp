// Transforms, the distributed sampler and the loader: determinism (seeds, thread counts),
// sharding and padding, resume, errors from worker threads and shutdown that never hangs; and
// open_dataset, from its options and from a `dataset` stage (backends/stage_config/dataset.hpp).
#include <torch/torch.h>  // before Catch: LibTorch's glog would replace Catch's CHECK

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <torch/types.h>

#include "trellis/backends/stage_config/dataset.hpp"
#include "trellis/core/data/idx.hpp"
#include "trellis/core/data/loader.hpp"
#include "trellis/core/data/open.hpp"
#include "trellis/core/data/sampler.hpp"
#include "trellis/core/data/transforms.hpp"

namespace fs = std::filesystem;
using trellis::core::data_error;
using trellis::core::distributed_sampler;
using trellis::core::loader;
using trellis::core::loader_options;

namespace {

torch::Tensor ramp(std::int64_t c, std::int64_t h, std::int64_t w) {
  return torch::arange(c * h * w, torch::kFloat).reshape({c, h, w});
}

/// Sample i: a 1 x 12 x 12 uint8 image whose pixels encode i, label i. Optionally slow, and
/// optionally broken at one index (a data_error naming "bad/<i>.png").
class pattern_source final : public trellis::core::sample_source {
 public:
  explicit pattern_source(std::size_t n, std::chrono::microseconds delay = {},
                          std::size_t broken = static_cast<std::size_t>(-1))
      : n_{n}, delay_{delay}, broken_{broken} {}
  std::size_t size() const override { return n_; }
  std::int64_t label(std::size_t i) const override { return static_cast<std::int64_t>(i); }
  torch::Tensor image(std::size_t i) const override {
    if (delay_.count() > 0) std::this_thread::sleep_for(delay_);
    if (i == broken_) throw data_error{file(i), "cannot decode"};
    auto t = torch::empty({1, 12, 12}, torch::kUInt8);
    for (std::int64_t p = 0; p < 144; ++p)
      t.data_ptr<std::uint8_t>()[p] =
          static_cast<std::uint8_t>((i * 7 + static_cast<std::size_t>(p)) % 256);
    return t;
  }
  fs::path file(std::size_t i) const override {
    return fs::path{"bad"} / (std::to_string(i) + ".png");
  }
  fs::path origin() const override { return "pattern"; }

 private:
  std::size_t n_;
  std::chrono::microseconds delay_;
  std::size_t broken_;
};

loader_options augmenting(std::size_t batch, std::size_t workers) {
  loader_options o;
  o.batch_size = batch;
  o.workers = workers;
  o.prefetch = 3;
  o.sample.training = true;
  o.sample.seed = 42;
  o.sample.transform.random_crop = true;
  o.sample.transform.crop = 9;
  o.sample.transform.hflip = true;
  o.sample.transform.normalize = true;
  return o;
}

std::vector<trellis::core::batch> epoch(loader& l, std::uint64_t e) {
  std::vector<trellis::core::batch> out;
  l.set_epoch(e);
  while (auto b = l.next()) out.push_back(std::move(*b));
  return out;
}

void check_same(const std::vector<trellis::core::batch>& a,
                const std::vector<trellis::core::batch>& b) {
  REQUIRE(a.size() == b.size());
  for (std::size_t k = 0; k < a.size(); ++k) {
    INFO("batch " << k);
    CHECK(torch::equal(a[k].images, b[k].images));
    CHECK(torch::equal(a[k].labels, b[k].labels));
  }
}

template <class F>
double seconds(F f) {
  const auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

// ---- transforms

TEST_CASE("resize matches ATen's bilinear (antialiased when shrinking)", "[transforms]") {
  const torch::Tensor image = torch::rand({3, 37, 53});
  const auto down = trellis::core::detail::resize_shorter(image, 20);
  REQUIRE((down.sizes() == torch::IntArrayRef{3, 20, 28}));  // torchvision: int(20 * 53 / 37)
  const auto ref_down =
      at::_upsample_bilinear2d_aa(image.unsqueeze(0), std::vector<std::int64_t>{20, 28}, false)[0];
  CHECK(torch::allclose(down, ref_down, 0, 1e-5));
  const auto up = trellis::core::detail::resize_shorter(image, 50);
  REQUIRE((up.sizes() == torch::IntArrayRef{3, 50, 71}));
  const auto ref_up =
      at::upsample_bilinear2d(image.unsqueeze(0), std::vector<std::int64_t>{50, 71}, false)[0];
  CHECK(torch::allclose(up, ref_up, 0, 1e-5));
  CHECK(trellis::core::detail::resize_shorter(image, 37).data_ptr() == image.data_ptr());
}

TEST_CASE("centre crop follows torchvision, and pads when the image is smaller", "[transforms]") {
  trellis::core::transform_options t;
  t.crop = 3;
  std::mt19937_64 rng{1};
  const auto x = ramp(1, 5, 6);
  const auto out = trellis::core::apply_transforms(t, x, false, rng);
  // top = round((5 - 3) / 2) = 1, left = round((6 - 3) / 2) = round(1.5) = 2
  CHECK(torch::equal(out, x.slice(1, 1, 4).slice(2, 2, 5)));
  t.crop = 8;
  const auto padded = trellis::core::apply_transforms(t, x, false, rng);
  REQUIRE((padded.sizes() == torch::IntArrayRef{1, 8, 8}));
  CHECK(torch::equal(padded.slice(1, 1, 6).slice(2, 1, 7), x));  // torchvision pads (1, 1, 2, 2)
  CHECK(padded.sum().item<float>() == x.sum().item<float>());
}

TEST_CASE("random crop and flip only in training, fixed by the generator", "[transforms]") {
  trellis::core::transform_options t;
  t.crop = 4;
  t.random_crop = true;
  t.hflip = true;
  const auto x = ramp(3, 9, 9);
  std::mt19937_64 a{1}, b{2};
  const auto centre = trellis::core::apply_transforms(t, x, false, a);
  CHECK(torch::equal(centre, trellis::core::apply_transforms(t, x, false, b)));
  CHECK(torch::equal(centre, x.slice(1, 2, 6).slice(2, 2, 6)));

  std::set<std::pair<float, bool>> seen;  // (top-left value, flipped)
  for (std::uint64_t i = 0; i < 200; ++i) {
    auto r1 = trellis::core::sample_rng(7, 3, i), r2 = trellis::core::sample_rng(7, 3, i);
    const auto y = trellis::core::apply_transforms(t, x, true, r1);
    REQUIRE(torch::equal(y, trellis::core::apply_transforms(t, x, true, r2)));
    const bool flipped = y[0][0][0].item<float>() > y[0][0][1].item<float>();
    seen.insert({std::min(y[0][0][0].item<float>(), y[0][0][3].item<float>()), flipped});
  }
  CHECK(seen.size() > 30);  // 36 crop positions x 2 flips are possible
  CHECK(std::any_of(seen.begin(), seen.end(), [](auto p) { return p.second; }));
  CHECK(std::any_of(seen.begin(), seen.end(), [](auto p) { return !p.second; }));
  CHECK(trellis::core::sample_rng(7, 3, 1)() != trellis::core::sample_rng(7, 4, 1)());
  CHECK(trellis::core::sample_rng(7, 3, 1)() != trellis::core::sample_rng(8, 3, 1)());
}

TEST_CASE("gray_to_rgb, normalize and to_float_image", "[transforms]") {
  trellis::core::transform_options t;
  t.gray_to_rgb = true;
  t.normalize = true;
  std::mt19937_64 rng{1};
  const auto gray = torch::full({1, 4, 5}, 128, torch::kUInt8);
  const auto x = trellis::core::to_float_image(gray);
  CHECK(x.scalar_type() == torch::kFloat);
  CHECK(x[0][0][0].item<float>() == Approx(128.0 / 255));
  const auto y = trellis::core::apply_transforms(t, x, true, rng);
  REQUIRE((y.sizes() == torch::IntArrayRef{3, 4, 5}));
  for (int c = 0; c < 3; ++c)
    CHECK(y[c][2][3].item<float>() == Approx((128.0 / 255 - t.mean[c]) / t.std[c]).epsilon(1e-5));
  trellis::core::transform_options keep;
  CHECK(torch::equal(trellis::core::apply_transforms(keep, x, true, rng), x));
}

// ---- sampler

TEST_CASE("the distributed sampler shards, pads and shuffles like DistributedSampler",
          "[sampler]") {
  const std::size_t n = 10, world = 3;
  const auto perm = distributed_sampler{n, 0, 1, true, 7}.indices();
  REQUIRE(perm.size() == n);
  CHECK(std::set<std::size_t>(perm.begin(), perm.end()).size() == n);
  std::map<std::size_t, int> times;
  for (std::size_t r = 0; r < world; ++r) {
    const distributed_sampler s{n, r, world, true, 7};
    CHECK(s.size() == 4);  // ceil(10 / 3) on every rank
    const auto mine = s.indices();
    REQUIRE(mine.size() == 4);
    for (std::size_t k = 0; k < mine.size(); ++k) {
      CHECK(mine[k] ==
            perm[(r + k * world) % n]);  // positions r, r + world, ... padded from the front
      ++times[mine[k]];
    }
  }
  CHECK(times.size() == n);  // the union covers the dataset
  for (const auto& [index, count] : times) {
    const bool padding = index == perm[0] || index == perm[1];
    CHECK(count == (padding ? 2 : 1));  // disjoint except the two padding samples
  }

  distributed_sampler s{n, 1, world, true, 7};
  const auto e0 = s.indices();
  s.set_epoch(1);
  CHECK(s.indices() != e0);
  s.set_epoch(0);
  CHECK(s.indices() == e0);
  CHECK((distributed_sampler{n, 1, world, true, 8}.indices() != e0));
  CHECK(
      (distributed_sampler{n, 1, world, false}.indices() == std::vector<std::size_t>{1, 4, 7, 0}));

  const distributed_sampler few{3, 4, 5, false};  // more ranks than samples
  CHECK(few.indices() == std::vector<std::size_t>{1});
  std::set<std::size_t> all;
  for (std::size_t r = 0; r < 7; ++r)
    for (auto i : distributed_sampler{60000, r, 7, true, 3}.indices()) all.insert(i);
  CHECK(all.size() == 60000);
  CHECK((distributed_sampler{60000, 6, 7}.size() == 8572));
}

TEST_CASE("the sampler's epoch and position round-trip for resume", "[sampler]") {
  distributed_sampler s{100, 0, 2, true, 1};
  s.set_epoch(4);
  s.advance(20);
  const auto saved = s.state();
  CHECK((saved.epoch == 4 && saved.position == 20));
  distributed_sampler t{100, 0, 2, true, 1};
  t.restore(saved);
  CHECK(t.indices() == s.indices());
  CHECK(t.position() == 20);
  CHECK_THROWS_AS(t.advance(31), std::invalid_argument);
  CHECK_THROWS_AS((distributed_sampler{10, 2, 2}), std::invalid_argument);
  t.set_epoch(5);
  CHECK(t.position() == 0);
}

// ---- loader

TEST_CASE("the loader gives the same batches with 0, 1 and 4 worker threads", "[loader]") {
  const auto source = std::make_shared<pattern_source>(203);
  loader zero{source, augmenting(16, 0)}, one{source, augmenting(16, 1)},
      four{source, augmenting(16, 4)};
  const auto ref = epoch(zero, 2);
  REQUIRE(ref.size() == 13);
  CHECK(ref.back().images.size(0) == 203 - 12 * 16);
  CHECK((ref[0].images.sizes() == torch::IntArrayRef{16, 1, 9, 9}));
  check_same(ref, epoch(one, 2));
  check_same(ref, epoch(four, 2));
  auto many = augmenting(16, 4);
  many.prefetch = 1;
  loader narrow{source, many};
  check_same(ref, epoch(narrow, 2));
  CHECK(!torch::equal(ref[0].labels, epoch(four, 3)[0].labels));  // reshuffled per epoch
  check_same(ref, epoch(four, 2));
}

TEST_CASE("N ranks x batch b see the samples of 1 rank x batch N*b, augmented alike", "[loader]") {
  const auto source = std::make_shared<pattern_source>(96);
  loader single{source, augmenting(12, 2)};
  std::vector<std::unique_ptr<loader>> ranks;
  for (std::size_t r = 0; r < 3; ++r) {
    auto o = augmenting(4, 2);
    o.rank = r;
    o.world_size = 3;
    ranks.push_back(std::make_unique<loader>(source, o));
  }
  const auto whole = epoch(single, 1);
  std::vector<std::vector<trellis::core::batch>> parts;
  for (auto& l : ranks) parts.push_back(epoch(*l, 1));
  for (std::size_t k = 0; k < whole.size(); ++k) {
    std::vector<torch::Tensor> images, labels;
    for (const auto& p : parts) {
      REQUIRE(p.size() == whole.size());
      images.push_back(p[k].images);
      labels.push_back(p[k].labels);
    }
    const auto joined = torch::cat(labels);
    const auto [sorted, order] = joined.sort();
    const auto [want, want_order] = whole[k].labels.sort();
    CHECK(torch::equal(sorted, want));
    CHECK(torch::equal(torch::cat(images).index_select(0, order),
                       whole[k].images.index_select(0, want_order)));
  }
}

TEST_CASE("the loader's batches per epoch are equal on every rank, padding included", "[loader]") {
  const auto source = std::make_shared<pattern_source>(10);
  for (std::size_t r = 0; r < 3; ++r) {
    auto o = augmenting(3, 1);
    o.rank = r;
    o.world_size = 3;
    loader l{source, o};
    CHECK(l.batches_per_epoch() == 2);
    const auto batches = epoch(l, 0);
    REQUIRE(batches.size() == 2);
    CHECK(batches[0].labels.size(0) + batches[1].labels.size(0) == 4);
  }
}

TEST_CASE("the loader resumes mid-epoch from its state", "[loader]") {
  const auto source = std::make_shared<pattern_source>(100);
  loader a{source, augmenting(8, 2)};
  const auto full = epoch(a, 3);
  a.set_epoch(3);
  for (int k = 0; k < 3; ++k) REQUIRE(a.next());
  const auto saved = a.state();
  CHECK((saved.epoch == 3 && saved.position == 24));
  loader b{source, augmenting(8, 3)};
  b.restore(saved);
  std::size_t k = 3;
  while (auto batch = b.next()) {
    REQUIRE(k < full.size());
    CHECK(torch::equal(batch->images, full[k].images));
    CHECK(torch::equal(batch->labels, full[k].labels));
    ++k;
  }
  CHECK(k == full.size());
  CHECK(b.state().position == 100);
}

TEST_CASE("subset uses only the first N samples", "[loader]") {
  const auto source = std::make_shared<pattern_source>(1000);
  auto o = augmenting(32, 2);
  o.subset = 100;
  loader l{source, o};
  std::set<std::int64_t> labels;
  for (const auto& b : epoch(l, 0))
    for (std::int64_t k = 0; k < b.labels.size(0); ++k)
      labels.insert(b.labels[k].item<std::int64_t>());
  CHECK(labels.size() == 100);
  CHECK(*labels.rbegin() == 99);
  o.subset = 1001;
  CHECK_THROWS_AS((loader{source, o}), data_error);
}

TEST_CASE("a worker's decoding error is rethrown by next(), in order, naming the file",
          "[loader]") {
  auto o = augmenting(10, 4);
  o.sample.training = false;  // fixed order: sample 57 sits in batch 5
  const auto source = std::make_shared<pattern_source>(100, std::chrono::microseconds{0}, 57);
  loader l{source, o};
  l.set_epoch(0);
  for (int k = 0; k < 5; ++k) REQUIRE(l.next());
  try {
    (void)l.next();
    FAIL("no error");
  } catch (const data_error& e) {
    CHECK(e.path() == fs::path{"bad/57.png"});
    CHECK_THAT(e.what(), Catch::Contains("bad/57.png") && Catch::Contains("cannot decode"));
  }
  o.sample.skip_corrupt = true;
  loader skipping{source, o};
  const auto batches = epoch(skipping, 0);
  REQUIRE(batches.size() == 10);
  CHECK(batches[5].images.size(0) == 9);
  CHECK(batches[5].skipped == 1);
  CHECK(skipping.skipped() == 1);
}

TEST_CASE("destroying a loader early never hangs", "[loader]") {
  // 2 ms per sample, 50 per batch: a whole batch takes 100 ms, so only stopping between
  // samples gets the loaders below down in time.
  const auto slow = std::make_shared<pattern_source>(10000, std::chrono::microseconds{2000});
  auto o = augmenting(50, 4);
  o.prefetch = 8;
  CHECK((seconds([&] { loader l{slow, o}; }) < 0.05));  // never started
  CHECK(seconds([&] {
          loader l{slow, o};
          l.set_epoch(0);
          REQUIRE(l.next());
        }) < 0.5);  // workers busy on the next batches
  CHECK(seconds([&] {
          loader l{slow, o};
          REQUIRE(l.next());
          l.set_epoch(1);  // restarts: the old workers stop first
          REQUIRE(l.next());
        }) < 0.8);
  const auto broken = std::make_shared<pattern_source>(10000, std::chrono::microseconds{2000}, 3);
  o.sample.training = false;
  CHECK(seconds([&] {
          loader l{broken, o};
          CHECK_THROWS_AS(l.next(), data_error);
        }) < 0.5);  // failed, with other workers mid-batch
}

// ---- on the real Fashion-MNIST

TEST_CASE("Fashion-MNIST through the loader: every sample once, the known mean",
          "[loader][fashion_mnist]") {
  const auto splits = trellis::core::open_idx(TRELLIS_FASHION_MNIST_DIR, 10);
  loader_options o;
  o.batch_size = 1000;
  o.workers = 2;
  loader l{splits.train, o};
  double sum = 0;
  std::int64_t count = 0;
  torch::Tensor histogram = torch::zeros({10}, torch::kLong);
  for (const auto& b : epoch(l, 0)) {
    CHECK((b.images.sizes().slice(1) == torch::IntArrayRef{1, 28, 28}));
    sum += b.images.sum().item<double>();
    count += b.images.size(0);
    histogram += torch::bincount(b.labels, {}, 10);
  }
  CHECK(count == 60000);
  CHECK(torch::equal(histogram, torch::full({10}, 6000, torch::kLong)));
  CHECK(sum / (count * 28.0 * 28.0) == Approx(0.2860).margin(0.0001));
}

TEST_CASE("Fashion-MNIST with training transforms: the same batches for 1 and 4 threads",
          "[loader][fashion_mnist]") {
  const auto splits = trellis::core::open_idx(TRELLIS_FASHION_MNIST_DIR, 10);
  trellis::dataset<trellis::idx, trellis::classes<10>, trellis::input_shape<3, 28, 28>> stage{
      .root = TRELLIS_FASHION_MNIST_DIR,
      .transform = {.resize = 32,
                    .crop = 28,
                    .random_crop = true,
                    .hflip = true,
                    .gray_to_rgb = true,
                    .normalize = true},
      .subset = 3000};
  auto o = trellis::backends::loader_options_for(stage, 64, 1, 2, 11, true);
  CHECK((o.sample.shape == std::array<std::int64_t, 3>{3, 28, 28}));
  CHECK(o.sample.transform.resize == 32);
  CHECK(o.subset == 3000);
  CHECK(trellis::backends::loader_options_for(stage, 64, 1, 2, 11, false).subset == 0);
  o.workers = 1;
  loader one{splits.train, o};
  o.workers = 4;
  loader four{splits.train, o};
  const auto ref = epoch(one, 0);
  CHECK(ref.size() == 24);  // 1500 samples on this rank
  CHECK((ref[0].images.sizes() == torch::IntArrayRef{64, 3, 28, 28}));
  check_same(ref, epoch(four, 0));
}

TEST_CASE("open_dataset: IDX files with a held-out validation split, and without one",
          "[open][fashion_mnist]") {
  trellis::core::dataset_options o{.kind = trellis::core::dataset_kind::idx,
                                   .root = TRELLIS_FASHION_MNIST_DIR,
                                   .classes = 10,
                                   .val_split = 5000,
                                   .split_seed = 3};
  const auto splits = trellis::core::open_dataset(o);
  CHECK(splits.train->size() == 55000);
  CHECK(splits.val->size() == 5000);
  REQUIRE(splits.test);
  CHECK(splits.test->size() == 10000);  // t10k
  CHECK(splits.class_names.size() == 10);
  o.val_split = 0;
  CHECK_THROWS_WITH(trellis::core::open_dataset(o), Catch::Contains("no validation split"));
}

TEST_CASE("a dataset stage maps every field onto the core's options", "[open]") {
  const trellis::dataset<trellis::image_folder, trellis::classes<5>,
                         trellis::input_shape<1, 32, 32>>
      folder{.root = "data/fowl", .val_split = 0.2, .split_seed = 9};
  const auto d = trellis::backends::dataset_options_for(folder);
  CHECK(d.kind == trellis::core::dataset_kind::image_folder);
  CHECK(d.root == std::filesystem::path{"data/fowl"});
  CHECK(d.classes == 5);
  CHECK(d.channels == 1);  // input_shape's
  CHECK(d.val_split == 0.2);
  CHECK(d.split_seed == 9);
  CHECK(trellis::backends::dataset_options_for(
            trellis::dataset<trellis::image_folder, trellis::classes<5>>{})
            .channels == 3);
  CHECK(
      trellis::backends::dataset_options_for(trellis::dataset<trellis::idx, trellis::classes<10>>{})
          .kind == trellis::core::dataset_kind::idx);

  const trellis::transforms t{.resize = 40, .crop = 36, .random_crop = true, .hflip = true,
                              .gray_to_rgb = true, .normalize = true, .mean = {0.1, 0.2, 0.3},
                              .std = {0.4, 0.5, 0.6}};
  const auto c = trellis::backends::transform_options_for(t);
  CHECK(c.resize == 40);
  CHECK(c.crop == 36);
  CHECK(c.random_crop);
  CHECK(c.hflip);
  CHECK(c.gray_to_rgb);
  CHECK(c.normalize);
  CHECK((c.mean == std::array{0.1, 0.2, 0.3}));
  CHECK((c.std == std::array{0.4, 0.5, 0.6}));
  CHECK_FALSE(trellis::backends::transform_options_for(trellis::transforms{}).normalize);
  CHECK((trellis::backends::transform_options_for(trellis::transforms{}).mean ==
         trellis::core::transform_options{}.mean));

  trellis::dataset<trellis::idx, trellis::classes<10>> shapeless{.skip_corrupt = true,
                                                                 .workers = 3,
                                                                 .prefetch = 5};
  const auto l = trellis::backends::loader_options_for(shapeless, 16, 0, 1, 4, true);
  CHECK(l.batch_size == 16);
  CHECK(l.world_size == 1);
  CHECK(l.workers == 3);
  CHECK(l.prefetch == 5);
  CHECK(l.sample.skip_corrupt);
  CHECK(l.sample.seed == 4);
  CHECK(l.sample.training);
  CHECK((l.sample.shape == std::array<std::int64_t, 3>{0, 0, 0}));  // the first sample's
}
