// Forged headers that claim huge images or arrays (30000 x 30000 or 9000 x 9000 pixels,
// 60000 x 28 x 28 values) in a few bytes: each decoder refuses them with an error naming the
// file and the claimed size, and the peak memory of a fresh child process that decodes one
// stays small. Not in the sanitizer build: ASan's allocator keeps pages of its own resident.
#include <png.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <catch2/catch.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

// clang-format off
#include <cstdio>  // before jpeglib.h, which needs FILE and size_t
#include <jpeglib.h>
// clang-format on

#include "gzip.hpp"
#include "trellis/core/data/decode.hpp"
#include "trellis/core/data/idx_file.hpp"

namespace fs = std::filesystem;
using bytes = std::vector<unsigned char>;

namespace {

// ---- forged files

void put_u32(bytes& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<unsigned char>(v >> shift));
}

void png_chunk(bytes& out, const char* type, const bytes& data) {
  put_u32(out, static_cast<std::uint32_t>(data.size()));
  const std::size_t start = out.size();
  out.insert(out.end(), type, type + 4);
  out.insert(out.end(), data.begin(), data.end());
  put_u32(out, static_cast<std::uint32_t>(
                   crc32(0, out.data() + start, static_cast<uInt>(out.size() - start))));
}

/// A 74-byte 8-bit gray PNG whose IHDR (valid CRC) claims width x height, with 17 bytes of
/// the start of a zlib stream as its only IDAT.
bytes forged_png(std::uint32_t width, std::uint32_t height) {
  bytes out{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  bytes ihdr;
  put_u32(ihdr, width);
  put_u32(ihdr, height);
  ihdr.insert(ihdr.end(), {8, 0, 0, 0, 0});  // 8 bits, gray, deflate, no filter, no interlace
  png_chunk(out, "IHDR", ihdr);
  bytes zeros(4096, 0), idat(compressBound(4096));
  uLongf size = idat.size();
  REQUIRE(compress(idat.data(), &size, zeros.data(), zeros.size()) == Z_OK);
  idat.resize(17);
  png_chunk(out, "IDAT", idat);
  png_chunk(out, "IEND", {});
  return out;
}

/// A real gray PNG of width x height zero pixels, written by libpng.
bytes real_png(std::uint32_t width, std::uint32_t height) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = width;
  image.height = height;
  image.format = PNG_FORMAT_GRAY;
  const bytes pixels(std::size_t{width} * height, 0);
  png_alloc_size_t size = 0;
  REQUIRE(png_image_write_to_memory(&image, nullptr, &size, 0, pixels.data(), 0, nullptr) != 0);
  bytes out(size);
  REQUIRE(png_image_write_to_memory(&image, out.data(), &size, 0, pixels.data(), 0, nullptr) != 0);
  out.resize(size);
  return out;
}

/// A 16 x 16 gray JPEG (baseline or progressive) whose frame header is patched to claim
/// width x height, cut 4 bytes into its first scan.
bytes forged_jpeg(std::uint16_t width, std::uint16_t height, bool progressive) {
  jpeg_compress_struct info{};
  jpeg_error_mgr errors{};
  info.err = jpeg_std_error(&errors);
  jpeg_create_compress(&info);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&info, &buffer, &size);
  info.image_width = info.image_height = 16;
  info.input_components = 1;
  info.in_color_space = JCS_GRAYSCALE;
  jpeg_set_defaults(&info);
  if (progressive) jpeg_simple_progression(&info);
  jpeg_start_compress(&info, TRUE);
  bytes row(16, 128);
  while (info.next_scanline < 16) {
    JSAMPROW r = row.data();
    jpeg_write_scanlines(&info, &r, 1);
  }
  jpeg_finish_compress(&info);
  bytes out(buffer, buffer + size);
  jpeg_destroy_compress(&info);
  std::free(buffer);

  auto marker = [&](unsigned char code) {
    for (std::size_t i = 2; i + 1 < out.size(); ++i)
      if (out[i] == 0xFF && out[i + 1] == code) return i;
    FAIL("no marker FF" << std::hex << int{code});
    return std::size_t{0};
  };
  const std::size_t sof = marker(progressive ? 0xC2 : 0xC0);
  out[sof + 5] = static_cast<unsigned char>(height >> 8);
  out[sof + 6] = static_cast<unsigned char>(height);
  out[sof + 7] = static_cast<unsigned char>(width >> 8);
  out[sof + 8] = static_cast<unsigned char>(width);
  const std::size_t sos = marker(0xDA);
  out.resize(sos + 2 + (std::size_t{out[sos + 2]} << 8 | out[sos + 3]) + 4);
  return out;
}

/// An IDX header claiming `dims` followed by `values` bytes of zeros.
bytes forged_idx(const std::vector<std::uint32_t>& dims, std::size_t values) {
  bytes out{0, 0, 0x08, static_cast<unsigned char>(dims.size())};
  for (auto d : dims) put_u32(out, d);
  out.resize(out.size() + values, 0);
  return out;
}

// ---- peak memory of a fresh child process

long status_kb(const char* field) {
  std::ifstream status{"/proc/self/status"};
  for (std::string line; std::getline(status, line);)
    if (line.rfind(field, 0) == 0) return std::stol(line.substr(line.find(':') + 1));
  return -1;
}

struct child_result {
  long growth_kb = -1;  ///< peak resident memory (VmHWM) above the resident memory at the start
  std::string outcome;  ///< the data_error's message, or "decoded"
};

/// Runs `decode` in a forked child. A forked process's VmHWM starts at its resident size, so
/// the difference is what the decoding added at its peak.
child_result in_child(const std::function<void()>& decode) {
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(pipe_fds[0]);
    const long start_kb = status_kb("VmRSS:");
    std::string outcome = "decoded";
    try {
      decode();
    } catch (const trellis::core::data_error& e) {
      outcome = e.what();
    } catch (const std::exception& e) {
      outcome = std::string{"not a data_error: "} + e.what();
    }
    const std::string report = std::to_string(status_kb("VmHWM:") - start_kb) + "\n" + outcome;
    const bool written =
        ::write(pipe_fds[1], report.data(), report.size()) == static_cast<ssize_t>(report.size());
    ::_exit(written ? 0 : 1);
  }
  ::close(pipe_fds[1]);
  std::string report;
  char buffer[4096];
  for (ssize_t n; (n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0;) report.append(buffer, n);
  ::close(pipe_fds[0]);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  const auto newline = report.find('\n');
  REQUIRE(newline != std::string::npos);
  return {std::stol(report.substr(0, newline)), report.substr(newline + 1)};
}

// A forged file may cost a decoder its chunk of output (4 MiB) and libjpeg's row buffers;
// what the headers claim would take 47 MB (IDX), 81 MB and 900 MB (images).
constexpr long small_kb = 12 * 1024;

void write_file(const fs::path& file, const bytes& content) {
  std::ofstream out{file, std::ios::binary};
  out.write(reinterpret_cast<const char*>(content.data()),
            static_cast<std::streamsize>(content.size()));
  REQUIRE(out);
}

struct scratch_dir {
  fs::path path = fs::temp_directory_path() / ("trellis-limits-" + std::to_string(::getpid()));
  scratch_dir() { fs::create_directories(path); }
  ~scratch_dir() { fs::remove_all(path); }
};

}  // namespace

TEST_CASE("the peak memory measurement sees a real decoding", "[limits]") {
  const fs::path file = "zeros_4000x4000.png";
  const bytes png = real_png(4000, 4000);
  const auto r = in_child([&] { (void)trellis::core::decode_image(png, file); });
  INFO(png.size() << "-byte PNG; peak growth " << r.growth_kb << " kB");
  CHECK(r.outcome == "decoded");
  CHECK(r.growth_kb >= 16000 * 1000 / 1024);  // its 16 MB of pixels
}

TEST_CASE("images claiming more than the decoder accepts are refused from their header",
          "[limits]") {
  const std::vector<std::pair<fs::path, bytes>> forged{
      {"forged_30000x30000.png", forged_png(30000, 30000)},
      {"forged_30000x30000.jpg", forged_jpeg(30000, 30000, false)},
      {"forged_30000x30000_progressive.jpg", forged_jpeg(30000, 30000, true)}};
  REQUIRE(forged[0].second.size() == 74);
  for (const auto& [file, content] : forged) {
    const auto r = in_child([&] { (void)trellis::core::decode_image(content, file); });
    INFO(file << ": peak growth " << r.growth_kb << " kB");
    CHECK(r.outcome == file.string() +
                           ": image is 30000x30000 pixels, more than the decoder accepts (256 MiB "
                           "decoded)");
    CHECK(r.growth_kb < small_kb);
  }
}

TEST_CASE("a 74-byte PNG claiming 9000x9000 pixels is refused before allocating", "[limits]") {
  const fs::path file = "forged_9000x9000.png";
  const bytes png = forged_png(9000, 9000);
  const auto r = in_child([&] { (void)trellis::core::decode_image(png, file); });
  INFO("peak growth " << r.growth_kb << " kB");
  CHECK(r.outcome == file.string() +
                         ": bad PNG: header claims 9000x9000 pixels (81000000 bytes of rows), "
                         "more than 74 bytes of PNG can hold (deflate expands at most 1032-fold)");
  CHECK(r.growth_kb < small_kb);
}

TEST_CASE("a cut JPEG claiming 9000x9000 pixels costs only the rows it holds", "[limits]") {
  for (bool progressive : {false, true}) {
    const fs::path file = progressive ? "forged_progressive.jpg" : "forged_baseline.jpg";
    const bytes jpeg = forged_jpeg(9000, 9000, progressive);
    const auto r = in_child([&] { (void)trellis::core::decode_image(jpeg, file); });
    INFO(jpeg.size() << "-byte JPEG; peak growth " << r.growth_kb << " kB");
    CHECK_THAT(r.outcome, Catch::StartsWith(file.string() + ": bad JPEG") &&
                              Catch::Contains("of 9000x9000 pixels)"));
    CHECK(r.growth_kb < small_kb);
  }
}

TEST_CASE("an IDX header claiming more values than its file holds is refused before reading",
          "[limits]") {
  scratch_dir dir;
  const fs::path raw = dir.path / "train-images-idx3-ubyte";
  const fs::path gz = dir.path / "train-images-idx3-ubyte.gz";
  write_file(raw, forged_idx({60000, 28, 28}, 100));
  const bytes idx = forged_idx({60000, 28, 28}, 100);
  write_file(gz, trellis::test::gzip_bytes(idx.data(), idx.size()));
  for (const fs::path& file : {raw, gz}) {
    const auto r = in_child([&] { (void)trellis::core::read_idx(file); });
    INFO(file << "; peak growth " << r.growth_kb << " kB");
    CHECK_THAT(r.outcome, Catch::StartsWith(file.string() + ": ") &&
                              Catch::Contains("60000x28x28 = 47040000 values"));
    CHECK(r.growth_kb < small_kb);
  }
  // The counts are checked against the size both ways: trailing bytes too.
  write_file(raw, forged_idx({2, 3}, 7));
  CHECK_THROWS_WITH(trellis::core::read_idx(raw), Catch::Contains("trailing bytes"));
  write_file(raw, forged_idx({2, 3}, 6));
  CHECK(trellis::core::read_idx(raw).values.size() == 6);
}
