// File formats: IDX (the real Fashion-MNIST, raw and gzip, and damaged copies), PNG and JPEG
// decoding, image_folder scanning, and corrupt images through a loader (error or skip).
#include <png.h>

#include <cstdio>  // before jpeglib.h, which needs FILE

#include <jpeglib.h>

#include <torch/torch.h>  // before Catch: LibTorch's glog would replace Catch's CHECK

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <torch/types.h>

#include "test_files.hpp"
#include "trellis/core/data/idx.hpp"
#include "trellis/core/data/image.hpp"
#include "trellis/core/data/image_folder.hpp"
#include "trellis/core/data/loader.hpp"

namespace fs = std::filesystem;
using trellis::core::data_error;
using trellis::test::temp_dir;

namespace {

const fs::path fashion_mnist{TRELLIS_FASHION_MNIST_DIR};

/// Runs `f`, which must throw data_error about `file` (its path and its message name it).
template <class F>
std::string expect_data_error(F f, const fs::path& file) {
  try {
    f();
  } catch (const data_error& e) {
    CHECK(e.path() == file);
    CHECK_THAT(e.what(), Catch::Contains(file.string()));
    return e.what();
  }
  FAIL("no data_error about " << file);
  return {};
}

std::vector<unsigned char> cut(std::vector<unsigned char> bytes, std::size_t keep) {
  bytes.resize(keep);
  return bytes;
}

// ---- writing test images with libpng's simplified API and libjpeg

using rgb = std::array<std::uint8_t, 3>;

std::uint8_t luma(rgb c) {  // PIL's ITU-R 601-2 integer weights, as read_image uses
  return static_cast<std::uint8_t>((c[0] * 19595u + c[1] * 38470u + c[2] * 7471u + 0x8000u) >> 16);
}

/// A uniform w x h image of colour c with `channels` 1 (gray), 2 (gray+alpha), 3 or 4 (RGBA).
std::vector<std::uint8_t> uniform(std::size_t w, std::size_t h, std::size_t channels, rgb c) {
  std::vector<std::uint8_t> px;
  for (std::size_t i = 0; i < w * h; ++i) {
    if (channels <= 2)
      px.push_back(luma(c));
    else
      px.insert(px.end(), c.begin(), c.end());
    if (channels == 2 || channels == 4) px.push_back(static_cast<std::uint8_t>(i % 256));
  }
  return px;
}

void write_png(const fs::path& file, std::size_t w, std::size_t h, std::size_t channels, rgb c) {
  fs::create_directories(file.parent_path());
  const png_uint_32 formats[] = {0, PNG_FORMAT_GRAY, PNG_FORMAT_GA, PNG_FORMAT_RGB,
                                 PNG_FORMAT_RGBA};
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = static_cast<png_uint_32>(w);
  image.height = static_cast<png_uint_32>(h);
  image.format = formats[channels];
  const auto px = uniform(w, h, channels, c);
  REQUIRE(png_image_write_to_file(&image, file.c_str(), 0, px.data(), 0, nullptr) != 0);
}

void write_jpeg(const fs::path& file, std::size_t w, std::size_t h, std::size_t channels, rgb c) {
  fs::create_directories(file.parent_path());
  std::FILE* out = std::fopen(file.c_str(), "wb");
  REQUIRE(out != nullptr);
  jpeg_compress_struct info{};
  jpeg_error_mgr errors{};
  info.err = jpeg_std_error(&errors);  // exits on error: good enough for a test writer
  jpeg_create_compress(&info);
  jpeg_stdio_dest(&info, out);
  info.image_width = static_cast<JDIMENSION>(w);
  info.image_height = static_cast<JDIMENSION>(h);
  info.input_components = static_cast<int>(channels);
  info.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&info);
  jpeg_set_quality(&info, 95, TRUE);
  jpeg_start_compress(&info, TRUE);
  auto px = uniform(w, h, channels, c);
  while (info.next_scanline < info.image_height) {
    JSAMPROW row = px.data() + info.next_scanline * w * channels;
    jpeg_write_scanlines(&info, &row, 1);
  }
  jpeg_finish_compress(&info);
  jpeg_destroy_compress(&info);
  std::fclose(out);
}

const std::map<std::string, rgb> class_colours{
    {"cat", {220, 40, 40}}, {"dog", {40, 200, 40}}, {"fowl", {40, 40, 230}}};

/// root/{train,val}/{cat,dog,fowl}: train has six files per class in every supported layout
/// (19 x 13 to 24 x 18 pixels), val two; plus files the scan must ignore.
void make_folder(const fs::path& root) {
  for (const auto& [name, c] : class_colours) {
    const fs::path train = root / "train" / name, val = root / "val" / name;
    write_png(train / "a_rgb.png", 20, 16, 3, c);
    write_png(train / "b_gray.png", 19, 13, 1, c);
    write_png(train / "c_rgba.png", 24, 18, 4, c);
    write_png(train / "d_gray_alpha.PNG", 21, 17, 2, c);
    write_jpeg(train / "e_rgb.jpg", 22, 16, 3, c);
    write_jpeg(train / "f_gray.jpeg", 20, 20, 1, c);
    write_png(val / "a_rgb.png", 20, 16, 3, c);
    write_jpeg(val / "b_rgb.jpg", 23, 15, 3, c);
    trellis::test::write_bytes(train / "notes.txt", {'h', 'i'});
    trellis::test::write_bytes(train / ".hidden.png", {1, 2, 3});
  }
}

std::vector<unsigned char> file_bytes(const fs::path& file) {
  return trellis::core::read_file(file);
}

}  // namespace

// ---- IDX

TEST_CASE("Fashion-MNIST IDX files hold the published counts and statistics",
          "[idx][fashion_mnist]") {
  const auto splits = trellis::core::open_idx(fashion_mnist, 10);
  REQUIRE(splits.train->size() == 60000);
  REQUIRE(splits.val->size() == 10000);
  const auto& train = dynamic_cast<const trellis::core::idx_source&>(*splits.train).split();
  const auto& val = dynamic_cast<const trellis::core::idx_source&>(*splits.val).split();
  CHECK((train.images.sizes() == torch::IntArrayRef{60000, 1, 28, 28}));
  CHECK((val.images.sizes() == torch::IntArrayRef{10000, 1, 28, 28}));
  CHECK(train.images.scalar_type() == torch::kUInt8);
  CHECK(train.labels.scalar_type() == torch::kLong);
  // Balanced: 6000 training and 1000 test images per class, labels 0..9.
  CHECK(torch::equal(torch::bincount(train.labels), torch::full({10}, 6000, torch::kLong)));
  CHECK(torch::equal(torch::bincount(val.labels), torch::full({10}, 1000, torch::kLong)));
  const double mean = train.images.to(torch::kDouble).mean().item<double>();
  const double stdev = train.images.to(torch::kDouble).std().item<double>();
  INFO("mean " << mean << ", std " << stdev);
  CHECK(mean == Approx(72.94).margin(0.01));  // 0.2860 of 255, the usual normalisation mean
  CHECK(mean / 255 == Approx(0.2860).margin(0.0001));
  CHECK(stdev / 255 == Approx(0.3530).margin(0.0001));
  CHECK((splits.train->image(0).sizes() == torch::IntArrayRef{1, 28, 28}));
  CHECK(splits.train->label(0) == 9);  // the first training image is an ankle boot
}

TEST_CASE("a gunzipped copy of an IDX file reads the same as the .gz", "[idx][fashion_mnist]") {
  temp_dir dir;
  for (const char* name : {"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"})
    trellis::test::write_bytes(dir.path / name, trellis::test::read_gunzipped(
                                                    fashion_mnist / (std::string{name} + ".gz")));
  const auto gz = trellis::core::load_idx(fashion_mnist / "t10k-images-idx3-ubyte.gz",
                                          fashion_mnist / "t10k-labels-idx1-ubyte.gz", 10);
  const auto raw = trellis::core::load_idx(dir.path / "t10k-images-idx3-ubyte",
                                           dir.path / "t10k-labels-idx1-ubyte", 10);
  CHECK(torch::equal(gz.images, raw.images));
  CHECK(torch::equal(gz.labels, raw.labels));
  // find_idx_file prefers the raw spelling when both are there; here only raw is.
  CHECK(trellis::core::find_idx_file(dir.path, "t10k", "images", "idx3") ==
        dir.path / "t10k-images-idx3-ubyte");
}

TEST_CASE("a truncated Fashion-MNIST file is an error naming it", "[idx][fashion_mnist]") {
  temp_dir dir;
  const auto raw = trellis::test::read_gunzipped(fashion_mnist / "t10k-images-idx3-ubyte.gz");
  const fs::path truncated = dir.path / "t10k-images-idx3-ubyte";
  trellis::test::write_bytes(truncated, cut(raw, raw.size() - 100));
  const auto what = expect_data_error([&] { (void)trellis::core::read_idx(truncated); }, truncated);
  CHECK_THAT(what, Catch::Contains("truncated") && Catch::Contains("10000x28x28"));

  const fs::path truncated_gz = dir.path / "cut.gz";
  const auto gz = file_bytes(fashion_mnist / "t10k-images-idx3-ubyte.gz");
  trellis::test::write_bytes(truncated_gz, cut(gz, gz.size() / 2));
  CHECK_THAT(expect_data_error([&] { (void)trellis::core::read_idx(truncated_gz); }, truncated_gz),
             Catch::Contains("truncated"));
}

TEST_CASE("IDX headers, sizes, counts and labels are checked", "[idx]") {
  temp_dir dir;
  const std::vector<unsigned char> pixels(3 * 2 * 2, 7);
  const fs::path images = dir.path / "images-idx3", labels = dir.path / "labels-idx1";
  trellis::test::write_bytes(images, trellis::test::idx_bytes({3, 2, 2}, pixels));
  trellis::test::write_bytes(labels, trellis::test::idx_bytes({3}, {0, 2, 1}));

  SECTION("valid raw and gzip files give the same arrays") {
    const fs::path gz = dir.path / "images-idx3.gz";
    trellis::test::write_gzip(gz, trellis::test::idx_bytes({3, 2, 2}, pixels));
    const auto a = trellis::core::read_idx(images), b = trellis::core::read_idx(gz);
    CHECK((a.dims == std::vector<std::size_t>{3, 2, 2}));
    CHECK(a.values == pixels);
    CHECK((b.dims == a.dims && b.values == a.values));
    const auto split = trellis::core::load_idx(images, labels, 3);
    CHECK((split.images.sizes() == torch::IntArrayRef{3, 1, 2, 2}));
    CHECK(split.labels[1].item<std::int64_t>() == 2);
  }
  SECTION("a wrong magic number") {
    auto bytes = trellis::test::idx_bytes({3, 2, 2}, pixels);
    bytes[0] = 0x1f;
    trellis::test::write_bytes(images, bytes);
    CHECK_THAT(expect_data_error([&] { (void)trellis::core::read_idx(images); }, images),
               Catch::Contains("not an IDX file (magic number 0x1F000803 does not start"));
  }
  SECTION("an element type other than unsigned bytes") {
    auto bytes = trellis::test::idx_bytes({3, 2, 2}, pixels);
    bytes[2] = 0x0D;
    trellis::test::write_bytes(images, bytes);
    CHECK_THAT(expect_data_error([&] { (void)trellis::core::read_idx(images); }, images),
               Catch::Contains("element type 13"));
  }
  SECTION("a zero dimension, a short header, trailing bytes") {
    trellis::test::write_bytes(images, trellis::test::idx_bytes({3, 0, 2}, {}));
    CHECK_THAT(expect_data_error([&] { (void)trellis::core::read_idx(images); }, images),
               Catch::Contains("dimension 1 is 0"));
    trellis::test::write_bytes(images, {0, 0, 8, 3, 0, 0});
    CHECK_THAT(expect_data_error([&] { (void)trellis::core::read_idx(images); }, images),
               Catch::Contains("truncated IDX header"));
    auto longer = trellis::test::idx_bytes({3, 2, 2}, pixels);
    longer.push_back(0);
    trellis::test::write_bytes(images, longer);
    CHECK_THAT(expect_data_error([&] { (void)trellis::core::read_idx(images); }, images),
               Catch::Contains("trailing bytes"));
  }
  SECTION("a missing file") {
    const fs::path missing = dir.path / "nope";
    CHECK_THAT(expect_data_error([&] { (void)trellis::core::read_idx(missing); }, missing),
               Catch::Contains("cannot open"));
  }
  SECTION("images and labels that do not belong together") {
    trellis::test::write_bytes(labels, trellis::test::idx_bytes({2}, {0, 1}));
    CHECK_THAT(expect_data_error([&] { (void)trellis::core::load_idx(images, labels, 3); }, labels),
               Catch::Contains("holds 2 labels") && Catch::Contains("holds 3 images"));
    CHECK_THAT(expect_data_error([&] { (void)trellis::core::load_idx(labels, labels, 3); }, labels),
               Catch::Contains("expected 3 IDX dimensions"));
  }
  SECTION("a label outside the pipeline's classes") {
    CHECK_THAT(expect_data_error([&] { (void)trellis::core::load_idx(images, labels, 2); }, labels),
               Catch::Contains("label 2 of sample 1") && Catch::Contains("classes<2>"));
  }
  SECTION("a root without IDX files") {
    CHECK_THAT(expect_data_error([&] { (void)trellis::core::open_idx(dir.path, 10); }, dir.path),
               Catch::Contains("train-images-idx3-ubyte.gz"));
  }
}

// ---- PNG and JPEG

TEST_CASE("PNG and JPEG files decode to uint8 CHW tensors", "[image]") {
  temp_dir dir;
  const rgb c{220, 40, 40};
  const std::uint8_t l = luma(c);
  write_png(dir.path / "rgb.png", 20, 16, 3, c);
  write_png(dir.path / "gray.png", 20, 16, 1, c);
  write_png(dir.path / "rgba.png", 20, 16, 4, c);
  write_png(dir.path / "ga.png", 20, 16, 2, c);
  write_jpeg(dir.path / "rgb.jpg", 20, 16, 3, c);
  write_jpeg(dir.path / "gray.jpg", 20, 16, 1, c);
  auto uniform_colour = [](const torch::Tensor& t, std::vector<int> want, int tolerance) {
    REQUIRE(t.scalar_type() == torch::kUInt8);
    REQUIRE(t.size(0) == static_cast<std::int64_t>(want.size()));
    for (std::size_t ch = 0; ch < want.size(); ++ch) {
      const auto plane = t[static_cast<std::int64_t>(ch)].to(torch::kInt);
      CHECK(plane.min().item<int>() >= want[ch] - tolerance);
      CHECK(plane.max().item<int>() <= want[ch] + tolerance);
    }
  };
  using trellis::core::read_image;
  CHECK((read_image(dir.path / "rgb.png", 3).sizes() == torch::IntArrayRef{3, 16, 20}));
  uniform_colour(read_image(dir.path / "rgb.png", 3), {c[0], c[1], c[2]}, 0);
  uniform_colour(read_image(dir.path / "rgba.png", 3), {c[0], c[1], c[2]}, 0);  // alpha dropped
  uniform_colour(read_image(dir.path / "gray.png", 3), {l, l, l}, 0);           // gray repeated
  uniform_colour(read_image(dir.path / "ga.png", 3), {l, l, l}, 0);
  uniform_colour(read_image(dir.path / "rgb.png", 1), {l}, 0);  // RGB to luma
  uniform_colour(read_image(dir.path / "gray.png", 1), {l}, 0);
  CHECK((read_image(dir.path / "rgb.jpg", 3).sizes() == torch::IntArrayRef{3, 16, 20}));
  uniform_colour(read_image(dir.path / "rgb.jpg", 3), {c[0], c[1], c[2]}, 3);
  uniform_colour(read_image(dir.path / "gray.jpg", 3), {l, l, l}, 2);
  uniform_colour(read_image(dir.path / "rgb.jpg", 1), {l}, 3);
  // Content decides the decoder, not the name.
  fs::copy_file(dir.path / "rgb.jpg", dir.path / "really_a_jpeg.png");
  uniform_colour(read_image(dir.path / "really_a_jpeg.png", 3), {c[0], c[1], c[2]}, 3);
}

TEST_CASE("corrupt, truncated or unreadable images are errors naming the file", "[image]") {
  temp_dir dir;
  write_png(dir.path / "good.png", 40, 30, 3, {1, 2, 3});
  write_jpeg(dir.path / "good.jpg", 40, 30, 3, {1, 2, 3});
  const auto png = file_bytes(dir.path / "good.png");
  const auto jpg = file_bytes(dir.path / "good.jpg");
  auto expect = [&](const std::string& name, const std::vector<unsigned char>& bytes,
                    const std::string& says) {
    const fs::path file = dir.path / name;
    trellis::test::write_bytes(file, bytes);
    INFO(name);
    CHECK_THAT(expect_data_error([&] { (void)trellis::core::read_image(file, 3); }, file),
               Catch::Contains(says));
  };
  expect("truncated.png", cut(png, png.size() / 2), "bad PNG");
  expect("header_only.png", cut(png, 40), "bad PNG");
  expect("signature_only.png", cut(png, 8), "bad PNG");
  auto flipped = png;
  flipped[png.size() / 2] ^= 0xFF;  // inside IDAT: its CRC no longer matches
  expect("crc.png", flipped, "bad PNG");
  expect("random.png", {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x11},
         "neither a PNG nor a JPEG");
  expect("empty.png", {}, "empty file");
  expect("truncated.jpg", cut(jpg, jpg.size() * 6 / 10), "Premature end of JPEG file");
  expect("header_only.jpg", cut(jpg, 200), "bad JPEG");
  expect("soi_only.jpg", {0xFF, 0xD8, 0xFF}, "bad JPEG");
  auto forged = png;  // a valid IHDR (CRC fixed) that claims 65535 x 65535 pixels
  for (std::size_t i = 16; i < 24; ++i) forged[i] = (i % 4 < 2) ? 0x00 : 0xFF;
  const auto crc = crc32(0, forged.data() + 12, 17);
  for (std::size_t i = 0; i < 4; ++i)
    forged[29 + i] = static_cast<unsigned char>(crc >> (24 - 8 * i));
  expect("forged.png", forged, "more than the decoder accepts");

  const fs::path missing = dir.path / "missing.png";
  CHECK_THAT(expect_data_error([&] { (void)trellis::core::read_image(missing, 3); }, missing),
             Catch::Contains("cannot open"));
  const fs::path folder = dir.path / "folder.png";
  fs::create_directories(folder);
  CHECK_THAT(expect_data_error([&] { (void)trellis::core::read_image(folder, 3); }, folder),
             Catch::Contains("cannot read"));
  const fs::path locked = dir.path / "locked.png";
  fs::copy_file(dir.path / "good.png", locked);
  fs::permissions(locked, fs::perms::none);
  if (std::FILE* f = std::fopen(locked.c_str(), "rb")) {
    std::fclose(f);
    WARN("running with permission to read mode-000 files (root?): unreadable case not checked");
  } else {
    CHECK_THAT(expect_data_error([&] { (void)trellis::core::read_image(locked, 3); }, locked),
               Catch::Contains("cannot open"));
  }
}

TEST_CASE("damaged images give a data_error or pixels, never a crash", "[image]") {
  temp_dir dir;
  write_png(dir.path / "a.png", 23, 17, 3, {9, 99, 199});
  write_jpeg(dir.path / "a.jpg", 23, 17, 3, {9, 99, 199});
  std::mt19937 rng{2024};
  for (const char* name : {"a.png", "a.jpg"}) {
    const fs::path file = dir.path / name;
    const auto bytes = file_bytes(file);
    INFO(name << ", " << bytes.size() << " bytes");
    for (std::size_t keep = 0; keep < bytes.size(); ++keep) {  // every truncation is caught
      INFO("first " << keep << " bytes");
      CHECK_THROWS_AS(trellis::core::decode_image(cut(bytes, keep), file), data_error);
    }
    std::size_t decoded = 0;
    for (int round = 0; round < 500; ++round) {
      auto damaged = bytes;
      for (int flips = 0; flips < 1 + round % 3; ++flips)
        damaged[rng() % damaged.size()] ^= static_cast<unsigned char>(1 + rng() % 255);
      try {
        const auto p = trellis::core::decode_image(damaged, file);
        CHECK(p.data.size() == p.width * p.height * p.channels);
        ++decoded;
      } catch (const data_error& e) {
        CHECK(e.path() == file);
      }
    }
    WARN(name << ": " << decoded << " of 500 damaged copies still decoded");
  }
}

// ---- image_folder

TEST_CASE("image_folder scans classes and files in sorted order", "[image_folder]") {
  temp_dir dir;
  make_folder(dir.path);
  const auto splits = trellis::core::open_image_folder(dir.path, 3, 3);
  CHECK((splits.class_names == std::vector<std::string>{"cat", "dog", "fowl"}));
  REQUIRE(splits.train->size() == 18);  // notes.txt and .hidden.png ignored
  REQUIRE(splits.val->size() == 6);
  const auto& train = dynamic_cast<const trellis::core::image_folder_source&>(*splits.train);
  CHECK(train.samples()[0].file == dir.path / "train" / "cat" / "a_rgb.png");
  CHECK(train.samples()[3].file == dir.path / "train" / "cat" / "d_gray_alpha.PNG");
  CHECK(train.samples()[6].file == dir.path / "train" / "dog" / "a_rgb.png");
  for (std::size_t i = 0; i < splits.train->size(); ++i) {
    INFO(splits.train->file(i));
    CHECK(splits.train->label(i) == static_cast<std::int64_t>(i / 6));
    const auto image = splits.train->image(i);
    CHECK(image.size(0) == 3);
    const rgb want =
        class_colours.at(splits.class_names[static_cast<std::size_t>(splits.train->label(i))]);
    const bool gray = splits.train->file(i).filename().string().find("gray") != std::string::npos;
    const int expect_r = gray ? luma(want) : want[0];
    CHECK(std::abs(image[0].to(torch::kFloat).mean().item<float>() -
                   static_cast<float>(expect_r)) <= 3.0f);
  }
}

TEST_CASE("image_folder needs the same classes in train and val, as many as classes<N>",
          "[image_folder]") {
  temp_dir dir;
  make_folder(dir.path);
  SECTION("a class missing from val") {
    fs::remove_all(dir.path / "val" / "fowl");
    CHECK_THAT(expect_data_error([&] { (void)trellis::core::open_image_folder(dir.path, 3); },
                                 dir.path / "val"),
               Catch::Contains("val") && Catch::Contains("'fowl'"));
  }
  SECTION("a class only val has") {
    write_png(dir.path / "val" / "horse" / "a.png", 8, 8, 3, {1, 2, 3});
    CHECK_THAT(expect_data_error([&] { (void)trellis::core::open_image_folder(dir.path, 3); },
                                 dir.path / "train"),
               Catch::Contains("train") && Catch::Contains("'horse'"));
  }
  SECTION("a class count other than classes<N>") {
    CHECK_THAT(
        expect_data_error([&] { (void)trellis::core::open_image_folder(dir.path, 5); },
                          dir.path / "train"),
        Catch::Contains("found 3 class folders (cat, dog, fowl)") && Catch::Contains("classes<5>"));
  }
  SECTION("a missing split or an empty class folder") {
    fs::remove_all(dir.path / "val");
    CHECK_THAT(expect_data_error([&] { (void)trellis::core::open_image_folder(dir.path, 3); },
                                 dir.path / "val"),
               Catch::Contains("missing folder"));
    make_folder(dir.path);
    fs::create_directories(dir.path / "train" / "emu");
    fs::create_directories(dir.path / "val" / "emu");
    CHECK_THAT(expect_data_error([&] { (void)trellis::core::open_image_folder(dir.path, 4); },
                                 dir.path / "train" / "emu"),
               Catch::Contains("no .png/.jpg/.jpeg"));
  }
}

namespace {

/// Every sample of an epoch through a loader over `source`: labels checked against pixels.
/// Images are decoded to one channel, where each class has its own gray level.
std::size_t check_epoch(trellis::core::loader& l, const std::vector<std::string>& classes) {
  std::size_t seen = 0;
  l.set_epoch(1);
  while (auto b = l.next()) {
    REQUIRE(b->images.dim() == 4);
    CHECK((b->images.sizes().slice(1) == torch::IntArrayRef{1, 8, 8}));
    for (std::int64_t k = 0; k < b->images.size(0); ++k) {
      const auto want = luma(
          class_colours.at(classes[static_cast<std::size_t>(b->labels[k].item<std::int64_t>())]));
      CHECK(std::abs(b->images[k].mean().item<float>() * 255.0f - static_cast<float>(want)) < 4.0f);
    }
    seen += static_cast<std::size_t>(b->images.size(0));
  }
  return seen;
}

}  // namespace

TEST_CASE("a corrupt image is a loader error naming it, or skipped and counted",
          "[image_folder][loader]") {
  temp_dir dir;
  make_folder(dir.path);
  const fs::path bad = dir.path / "train" / "dog" / "c_truncated.png";
  const auto good = file_bytes(dir.path / "train" / "dog" / "a_rgb.png");
  trellis::test::write_bytes(bad, cut(good, good.size() - 30));
  const auto splits = trellis::core::open_image_folder(dir.path, 3, 1);
  REQUIRE(splits.train->size() == 19);
  trellis::core::loader_options o;
  o.batch_size = 4;
  o.workers = 2;
  o.sample.training = true;
  o.sample.seed = 5;
  o.sample.transform.resize = 8;
  o.sample.transform.crop = 8;
  o.sample.transform.hflip = true;
  o.sample.shape = {1, 8, 8};

  SECTION("as an error") {
    trellis::core::loader l{splits.train, o};
    std::size_t batches = 0;
    const auto what = expect_data_error(
        [&] {
          l.set_epoch(1);
          while (l.next()) ++batches;
        },
        bad);
    CHECK(batches < l.batches_per_epoch());
    CHECK_THAT(what, Catch::Contains("bad PNG"));
    CHECK_THROWS_AS(l.next(), data_error);  // a failed epoch stays failed
  }
  SECTION("skipped and counted") {
    o.sample.skip_corrupt = true;
    trellis::core::loader l{splits.train, o};
    CHECK(check_epoch(l, splits.class_names) == 18);
    CHECK(l.skipped() == 1);
    CHECK(check_epoch(l, splits.class_names) == 18);
    CHECK(l.skipped() == 2);  // counted again in every epoch that meets it
  }
  SECTION("a sample of another size than the batch's is an error naming it") {
    o.sample.transform = {};
    trellis::core::loader l{splits.val, o};
    l.set_epoch(0);
    CHECK_THROWS_WITH(l.next(), Catch::Contains("after transforms") && Catch::Contains("Fix:"));
  }
}
