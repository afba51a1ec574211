// text and list at run time: they copy what they are made from, so the source may change or
// go away; copies share the kept characters.
#include <trellis/text.hpp>

#include <catch2/catch.hpp>
#include <string>

using trellis::tag;
using trellis::tag_list;
using trellis::text;
using trellis::text_list;

TEST_CASE("a run-time text keeps its own copy of the characters") {
  std::string source = "data/fowl";
  const text t = source;
  source.assign(source.size(), 'x');
  source.clear();
  source.shrink_to_fit();
  CHECK(t == text{"data/fowl"});
  CHECK(std::string{t.c_str()} == "data/fowl");
  CHECK(t.size() == 9);
  const text copy = t;
  CHECK(copy.c_str() == t.c_str());  // a copy shares the characters
}

TEST_CASE("a text made from a char array keeps a copy, for the array may change") {
  char buffer[16] = "data/fowl";
  const text t = buffer;
  buffer[0] = 'X';
  CHECK(t == text{"data/fowl"});
  const char* pointer = buffer;
  const text from_pointer = pointer;
  buffer[1] = 'Y';
  CHECK(from_pointer == text{"Xata/fowl"});
}

TEST_CASE("a text made from part of a string is NUL-terminated") {
  const std::string path = "data/fowl/train";
  const text part = std::string_view{path}.substr(5, 4);
  CHECK(std::string{part.c_str()} == "fowl");
  CHECK(text{}.c_str()[0] == '\0');
}

TEST_CASE("lists copy their items") {
  std::string a = "torchvision";
  text_list pip{text{a}, text{"onnx"}};
  a = "changed";
  REQUIRE(pip.size() == 2);
  CHECK(pip.begin()[0] == text{"torchvision"});
  CHECK(pip.begin()[1] == text{"onnx"});
  const tag items[] = {{"team", "vision"}, {"stage", "dev"}};
  const tag_list tags{items, 2};
  CHECK(tags.begin()[1].value == text{"dev"});
  CHECK(tag_list{}.empty());
}
