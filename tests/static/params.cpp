// How stages read their parameters (params/param.hpp): a given parameter replaces its kind's
// default, a default that depends on another parameter follows it, a repeated kind keeps the
// last one, and what is not a parameter sets nothing.
#include <trellis/trellis.hpp>

#include <type_traits>

using namespace trellis;

namespace stage_params {

// given_t on its own: one layer per parameter over the defaults.
struct defaults {
  using epochs = trellis::epochs<1>;
  using experiment = trellis::experiment<"default">;
};
static_assert(std::is_same_v<given_t<defaults>, defaults>);
static_assert(given_t<defaults, epochs<5>>::epochs::value == 5);
static_assert(given_t<defaults, epochs<5>>::experiment::name == "default");
static_assert(given_t<defaults, experiment<"e">, epochs<5>>::experiment::name == "e");
static_assert(given_t<defaults, epochs<2>, epochs<3>>::epochs::value == 3);  // E009 reports it
// four or more parameters take more than one step
using five = given_t<defaults, epochs<2>, int, nodes<2>, procs<2>, experiment<"e">>;
static_assert(five::epochs::value == 2 && five::experiment::name == "e");
static_assert(five::nodes::value == 2 && five::procs::value == 2);

// What has no kind, or a kind without a layer, is not a parameter: it sets nothing (E008).
struct kind_without_layer {};
struct stranger {
  using kind = kind_without_layer;
};
static_assert(std::is_same_v<kind_of_t<int>, not_a_parameter>);
static_assert(std::is_same_v<kind_of_t<stranger>, not_a_parameter>);
static_assert(std::is_same_v<kind_of_t<epochs<1>>, kinds::epochs>);
static_assert(std::is_same_v<given_t<defaults, int, stranger>, defaults>);

// train: defaults, then given values.
using plain_train = train<models::small_cnn>;
static_assert(plain_train::facts.epochs == 1 && plain_train::facts.checkpoint_every == 1);
static_assert(!plain_train::facts.has_global_batch && plain_train::facts.global_batch == 0);
static_assert(std::is_same_v<plain_train::optimizer, sgd>);
static_assert(plain_train::facts.experiment == "trellis" &&
              plain_train::facts.best_metric == "val_accuracy");
static_assert(plain_train::transfer::name.empty());
using full_train = train<models::resnet18, epochs<30>, adam, global_batch<64>, checkpoint_every<5>,
                         transfer_from<"base">, experiment<"x">, logs<"f1">, select_best<"f1">>;
static_assert(std::is_same_v<full_train::model, models::resnet18>);
static_assert(std::is_same_v<full_train::optimizer, adam>);
static_assert(full_train::facts.epochs == 30 && full_train::facts.checkpoint_every == 5);
static_assert(full_train::facts.has_global_batch && full_train::facts.global_batch == 64);
static_assert(full_train::transfer::name == "base" && full_train::facts.transfer == "base");
static_assert(full_train::facts.experiment == "x");
static_assert(full_train::facts.best_metric == "f1" && full_train::extra_metrics::size == 1);
static_assert(full_train::facts.logs_best_metric);

// dataset: no default source or shape.
static_assert(std::is_same_v<dataset<classes<3>>::source, absent>);
static_assert(std::is_same_v<dataset<classes<3>>::shape, absent>);
static_assert(std::is_same_v<dataset<idx, classes<3>, input_shape<1, 28, 28>>::source, idx>);
static_assert(dataset<idx, classes<3>, input_shape<1, 28, 28>>::shape::height == 28);
static_assert(dataset<idx, classes<3>>::facts.classes == 3);
static_assert(!dataset<idx, classes<3>>::facts.static_shape);
static_assert(dataset<idx, classes<3>, input_shape<1, 28, 28>>::facts.static_shape);

// compute: max_nodes and the cluster name default after the target.
static_assert(compute<local::cpu>::facts.max_nodes == 1);
static_assert(compute<local::cpu>::facts.min_nodes == 0);
static_assert(compute<azure::nc96ads_a100_v4>::facts.max_nodes == 4);
static_assert(compute<azure::nc96ads_a100_v4, max_nodes<7>, min_nodes<1>>::facts.max_nodes == 7);
static_assert(compute<azure::nc96ads_a100_v4, max_nodes<7>, min_nodes<1>>::facts.min_nodes == 1);
static_assert(compute<local::cpu>::facts.cluster_name == "trellis-cpu");
static_assert(compute<azure::nc96ads_a100_v4>::facts.cluster_name == "trellis-gpu");
static_assert(compute<azure::nc96ads_a100_v4, cluster<"gpus">>::facts.cluster_name == "gpus");
static_assert(std::is_same_v<compute<local::cpu>::priority, dedicated>);
static_assert(std::is_same_v<compute<azure::d2_v2, low_priority>::priority, low_priority>);

// environment: versions and image default to the source's.
using acpt = environment<curated::pytorch_cuda>;
static_assert(acpt::facts.cuda == 1201 && acpt::facts.torch == 202);
static_assert(acpt::facts.image == curated::pytorch_cuda::image && acpt::facts.mpi);
using own = environment<custom<"own">, base_image<"img">, cuda<11, 8>, torch_version<2, 1>>;
static_assert(own::facts.cuda == 1108 && own::facts.torch == 201);
static_assert(own::facts.image == "img" && own::facts.name == "own" && !own::facts.mpi);
static_assert(environment<custom<"own">, with_mpi>::facts.mpi);

// distributed and export_onnx
using plain_distributed = distributed<pytorch>;
static_assert(plain_distributed::facts.nodes == 1 && plain_distributed::facts.procs == 1);
static_assert(plain_distributed::facts.max_restarts == 0);
static_assert(std::is_same_v<plain_distributed::launch, per_process>);
static_assert(std::is_same_v<plain_distributed::collective, auto_collective>);
static_assert(std::is_same_v<distributed<mpi, per_node, gloo>::collective, gloo>);
static_assert(distributed<pytorch, nodes<2>, procs<4>, max_restarts<3>>::facts.procs == 4);
static_assert(export_onnx<>::facts.opset == 17 && export_onnx<>::facts.dynamic_batch);
static_assert(!export_onnx<static_batch>::facts.dynamic_batch);
static_assert(export_onnx<opset<13>>::facts.opset == 13);
static_assert(register_model<"m">::facts.name == "m");

}  // namespace stage_params
