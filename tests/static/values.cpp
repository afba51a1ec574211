// Stage values: every stage, and so every pipeline, is trivially copyable, so `|` copies slots
// and emits no code of its own; a pipeline whose run-time fields are literals is a constant.
#include <trellis/trellis.hpp>

#include <type_traits>

using namespace trellis;

namespace stage_values {

template <class T>
inline constexpr bool plain_value_v =
    std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>;

static_assert(plain_value_v<text> && plain_value_v<text_list> && plain_value_v<tag_list>);
static_assert(plain_value_v<dataset<idx, classes<10>>>);
static_assert(plain_value_v<environment<custom<"env">, cuda<12, 1>>>);
static_assert(plain_value_v<compute<local::cpu>>);
static_assert(plain_value_v<distributed<pytorch, nodes<2>, procs<2>>>);
static_assert(plain_value_v<train<models::small_cnn>>);
static_assert(plain_value_v<register_model<"m">>);
static_assert(plain_value_v<export_onnx<opset<17>>>);

// Built during constant evaluation: texts point at their literals.
constexpr auto constant_pipeline = dataset<idx, classes<10>, input_shape<1, 28, 28>>{.root = "data"}
                                 | train<models::small_cnn, epochs<2>>{.schedule = "step"}
                                 | export_onnx<opset<17>>{};
static_assert(plain_value_v<std::remove_const_t<decltype(constant_pipeline)>>);
static_assert(is_valid_v<std::remove_const_t<decltype(constant_pipeline)>>);
static_assert(get<stage_order::train>(constant_pipeline).schedule == text{"step"});
static_assert(get<stage_order::dataset>(constant_pipeline).root == text{"data"});
static_assert(get<stage_order::export_onnx>(constant_pipeline).file == text{"model.onnx"});

constexpr text literal_text = "data/fowl";
static_assert(literal_text.size() == 9 && literal_text.view() == "data/fowl");
static_assert(text{}.empty() && text{}.view() == "");
static_assert(train<models::small_cnn>{}.schedule == text{"cosine"});

}  // namespace stage_values
