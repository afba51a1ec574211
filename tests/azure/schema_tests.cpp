// Every request body the backend can send validates against Azure's published schemas
// (spec/2025-09-01, patched at load time as spec/README.md says): every VM size of the catalog,
// both distributions, dedicated and low priority, curated and custom environments, per-node
// launch and a data asset input. The stored examples validate too, and broken bodies are refused.
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <set>
#include <trellis/backends/azure/make_submission.hpp>
#include <trellis/plan/make_plan.hpp>
#include <trellis/trellis.hpp>
#include <type_traits>

#include "emulator.hpp"
#include "run_python.hpp"

namespace fs = std::filesystem;
namespace az = trellis::backends::azure;
using namespace trellis;
using azure_test::json;

namespace {

constexpr const char* tiny = TRELLIS_AZURE_TEST_DIR "/data/tiny-shapes";

struct bodies {
  fs::path folder;
  std::size_t count = 0;
  std::set<std::string> vm_sizes;

  void write(const std::string& resource, const std::string& label, const json& body) {
    std::ofstream(folder / (resource + "__" + label + ".json")) << body.dump(1);
    ++count;
  }

  /// Every body one submission of `p` sends, as make_submission and the driver build them.
  template <class Pipeline>
  void add(const std::string& label, Pipeline p, std::vector<std::string> settings = {},
           std::optional<plan::transfer_source> transfer = std::nullopt) {
    cli::options o;
    o.workspace = (folder / "ws").string();
    o.settings = settings;
    for (const auto& s : settings) cli::apply_setting(p, s);
    auto plan = plan::make_plan(p, o);
    plan.transfer = transfer;  // what the workspace's plan check resolves
    const auto s = az::make_submission(p, plan, o, {});
    const std::string ws =
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/"
        "w";
    const auto env_id =
        s.environment.curated ? s.environment.registry_id : ws + "/" + s.environment.relative();
    if (!s.environment.curated)
      write("workspaces_environments_versions", label, s.environment.body());
    write("PendingUploadRequestDto", label,
          az::code_asset::start_upload_body("0123456789abcdef0123456789abcdef"));
    write("workspaces_codes_versions", label,
          s.code.body("https://acct.blob.core.windows.net/c/" + s.code.version));
    write("workspaces_computes", label, s.compute.body(std::string{"westeurope"}));
    write("workspaces_jobs", label,
          s.job.body(env_id, ws + "/" + s.code.relative(), ws + "/" + s.compute.relative()));
    if (s.model)
      write("workspaces_models_versions", label, s.model->body(s.job.name, s.job.model_output));
    if (s.transfer) {
      const std::string uri = "https://acct.blob.core.windows.net/c/" + s.transfer->files.version;
      write("workspaces_codes_versions", label + "_transfer", s.transfer->files.body(uri));
      write("workspaces_models_versions", label + "_transfer", s.transfer->body(uri));
    }
    vm_sizes.insert(s.compute.vm_size);
  }
};

template <class Size, class Env, class Framework, class Priority, std::size_t Procs,
          class... Launch>
auto make_pipeline() {
  return dataset<image_folder, classes<3>, input_shape<1, 28, 28>>{.root = tiny} | Env{} |
         compute<Size, max_nodes<4>, Priority, cluster<"test-cluster">>{} |
         distributed<Framework, nodes<2>, procs<Procs>, Launch...>{} |
         train<models::small_cnn, epochs<2>, adam, checkpoint_every<1>, experiment<"schema">>{} |
         register_model<"schema-model">{.description = "d", .tags = {{"k", "v"}}};
}

using cpu_env = environment<custom<"trellis-cpu">, with_mpi>;
using gpu_env = environment<curated::pytorch_cuda>;

/// One pipeline per distribution for each VM size: PyTorch on dedicated nodes, Mpi on low
/// priority; a rank per GPU (a curated CUDA environment) or two per CPU node (a custom one).
template <class... Sizes>
void add_sizes(bodies& b) {
  auto add = [&]<class Size>(std::type_identity<Size>) {
    constexpr std::size_t procs = Size::gpus_per_node > 0 ? Size::gpus_per_node : 2;
    using env = std::conditional_t<(Size::gpus_per_node > 0), gpu_env, cpu_env>;
    const std::string name{Size::name.data(), Size::name.size()};
    b.add(name + "_pytorch_dedicated", make_pipeline<Size, env, PyTorch, dedicated, procs>());
    b.add(name + "_mpi_low_priority", make_pipeline<Size, env, mpi, low_priority, procs>());
  };
  (add(std::type_identity<Sizes>{}), ...);
}

/// The in-service sizes azure_vms.hpp declares (retired ones cannot be compiled into a pipeline).
std::set<std::string> catalog_sizes() {
  std::ifstream in(std::string{TRELLIS_SOURCE_DIR} + "/include/trellis/targets/azure_vms.hpp");
  const std::string text{std::istreambuf_iterator<char>{in}, {}};
  std::set<std::string> sizes;
  static const std::regex entry(R"re(vm_size<"(Standard_[A-Za-z0-9_]+)",[^>]*>)re");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), entry);
       it != std::sregex_iterator(); ++it) {
    const std::string args = (*it)[0].str();
    const bool retired = std::count(args.begin(), args.end(), ',') > 4;  // a replacement is named
    if (!retired) sizes.insert((*it)[1].str());
  }
  return sizes;
}

json validate(const fs::path& folder) {
  const fs::path result = folder.parent_path() / "result.json";
  const auto run =
      azure_test::run_python({std::string{TRELLIS_AZURE_TEST_DIR} + "/validate_bodies.py",
                              std::string{TRELLIS_AZURE_TEST_DIR} + "/spec/2025-09-01",
                              std::string{az::api_version}, folder.string(), result.string()},
                             folder.parent_path() / "validate.log");
  INFO(run.output);
  REQUIRE(run.status.success());
  return json::parse(azure_test::read_file(result));
}

}  // namespace

TEST_CASE("every body the backend sends validates against Azure's schemas", "[schema]") {
  bodies b{azure_test::work_dir("schema") / "bodies", 0, {}};
  fs::create_directories(b.folder);
  add_sizes<azure::d2_v2, azure::ds3_v2, azure::d13_v2, azure::f4s_v2, azure::nc4as_t4_v3,
            azure::nc24ads_a100_v4, azure::nc48ads_a100_v4, azure::nc96ads_a100_v4,
            azure::nd96asr_v4, azure::nd96amsr_a100_v4, azure::nc40ads_h100_v5,
            azure::nd96isr_h100_v5>(b);
  // Curated on CPU, custom CUDA image on GPU, per-node launch, a data asset, a conda file, pip.
  b.add("curated_cpu",
        make_pipeline<azure::ds3_v2, environment<curated::pytorch_cpu>, PyTorch, dedicated, 2>());
  b.add("custom_cuda",
        make_pipeline<
            azure::nc24ads_a100_v4,
            environment<custom<"trellis-cuda">, base_image<"nvcr.io/nvidia/pytorch:24.01-py3">,
                        cuda<12, 1>, torch_version<2, 2>>,
            PyTorch, dedicated, 1>());
  b.add("per_node",
        make_pipeline<azure::nc96ads_a100_v4, gpu_env, PyTorch, dedicated, 4, per_node>());
  b.add("data_asset", make_pipeline<azure::ds3_v2, cpu_env, PyTorch, dedicated, 1>(),
        {"dataset.root=azureml:tiny-shapes:3", "environment.pip=onnx,pillow", "train.lr=0.5"});
  // transfer_from (its source a model input) and export_onnx.
  b.add("transfer_onnx",
        dataset<image_folder, classes<3>, input_shape<1, 28, 28>>{.root = tiny} | gpu_env{} |
            compute<azure::nc24ads_a100_v4, max_nodes<2>, cluster<"gpu">>{} |
            distributed<PyTorch, nodes<2>, procs<1>>{} |
            train<models::resnet18, epochs<2>, sgd, transfer_from<"base">>{} |
            register_model<"tuned">{} | export_onnx<opset<17>>{},
        {}, plan::transfer_source{"base:4", "/models/base/4/model.pt", std::string(64, 'a')});
  CHECK(b.vm_sizes == catalog_sizes());

  const auto result = validate(b.folder);
  CHECK(result.size() == b.count);
  for (const auto& [file, errors] : result.items()) {
    INFO(file << ": " << errors.dump());
    CHECK(errors.empty());
  }
}

TEST_CASE("the stored examples validate, and broken bodies are refused", "[schema]") {
  const fs::path folder = azure_test::work_dir("schema-broken") / "bodies";
  fs::create_directories(folder);
  const fs::path examples = fs::path{TRELLIS_AZURE_TEST_DIR} / "spec/2025-09-01/examples";
  auto example = [&](const char* file) {
    const auto j = json::parse(azure_test::read_file(examples / file))["parameters"];
    return j.contains("body") ? j["body"] : j["parameters"];
  };
  auto save = [&](const std::string& name, const json& body) {
    std::ofstream(folder / (name + ".json")) << body.dump(1);
  };
  save("workspaces_jobs__example", example("Job/CommandJob/createOrUpdate.json"));
  save("workspaces_environments_versions__example",
       example("Workspace/EnvironmentVersion/createOrUpdate.json"));
  save("workspaces_codes_versions__example", example("Workspace/CodeVersion/createOrUpdate.json"));
  save("workspaces_models_versions__example",
       example("Workspace/ModelVersion/createOrUpdate.json"));
  save("workspaces_computes__example", example("Compute/createOrUpdate/BasicAmlCompute.json"));
  save("PendingUploadRequestDto__example",
       example("Workspace/CodeVersion/createOrGetStartPendingUpload.json"));

  // Bodies trellis would send, each broken in one place; the expected error names the place.
  cli::options o;
  o.workspace = (folder.parent_path() / "ws").string();
  auto p = make_pipeline<azure::ds3_v2, cpu_env, PyTorch, dedicated, 1>();
  const auto s = az::make_submission(p, plan::make_plan(p, o), o, {});
  const json job =
      s.job.body("azureml://registries/azureml/environments/e/labels/latest", "/c", "/k");
  std::map<std::string, std::string> expected;
  auto broken = [&](const std::string& name, json body, const std::string& where) {
    save(name, body);
    expected[name + ".json"] = where;
  };
  json j = job;
  j["properties"]["distribution"]["distributionType"] = "PyTorc";
  broken("workspaces_jobs__distribution_type", j, "properties/distribution/distributionType");
  j = job;
  j["properties"].erase("environmentId");
  broken("workspaces_jobs__no_environment", j, "'environmentId' is a required property");
  j = job;
  j["properties"]["resources"]["instanceCount"] = "2";
  broken("workspaces_jobs__instance_count_text", j, "properties/resources/instanceCount");
  j = job;
  j["properties"]["outputs"]["model"]["mode"] = "Mount";
  broken("workspaces_jobs__output_mode", j, "properties/outputs/model/mode");
  j = s.compute.body(std::string{"westeurope"});
  j["properties"]["properties"]["vmPriority"] = "Cheap";
  broken("workspaces_computes__priority", j, "properties/properties/vmPriority");
  j = s.compute.body(std::string{"westeurope"});
  j["properties"]["properties"]["scaleSettings"].erase("maxNodeCount");
  broken("workspaces_computes__no_max_nodes", j, "'maxNodeCount' is a required property");
  j = s.environment.body();
  j["properties"]["osType"] = "Plan9";
  broken("workspaces_environments_versions__os", j, "properties/osType");
  j = s.model->body("job", "model");
  j["properties"]["flavors"] = {{"torch", {{"data", {{"epochs", 2}}}}}};
  broken("workspaces_models_versions__flavor", j, "properties/flavors/torch/data/epochs");
  j = s.code.body("https://x/y");
  j["properties"]["isAnonymous"] = "no";
  broken("workspaces_codes_versions__anonymous", j, "properties/isAnonymous");
  broken("PendingUploadRequestDto__extra",
         {{"pendingUploadType", "TemporaryBlobReference"}, {"blob", 1}},
         "Additional properties are not allowed");

  const auto result = validate(folder);
  for (const auto& [file, errors] : result.items()) {
    INFO(file << ": " << errors.dump());
    if (file.find("__example") != std::string::npos) {
      CHECK(errors.empty());
    } else {
      REQUIRE(errors.size() == 1);
      CHECK_THAT(errors[0].get<std::string>(), Catch::Contains(expected.at(file)));
    }
  }
  CHECK(result.size() == 6 + expected.size());
}
