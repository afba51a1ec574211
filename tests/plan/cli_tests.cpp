// The shared command line and --set: flags, run-time fields, and the errors for unknown
// stages or fields, compile-time fields and badly typed values.
#include <catch2/catch.hpp>
#include <trellis/main.hpp>
#include <trellis/trellis.hpp>

#include <string>
#include <vector>

using namespace trellis;

namespace {
cli::options parse(std::vector<const char*> args) {
  args.insert(args.begin(), "/opt/bin/prog");
  return cli::parse_options(static_cast<int>(args.size()), args.data());
}

auto sample() {
  return dataset<idx, classes<10>, input_shape<1, 28, 28>>{.root = "/data"}
       | compute<local::cpu>{}
       | distributed<PyTorch, nodes<1>, procs<2>>{}
       | train<models::small_cnn, epochs<3>>{.lr = 0.1}
       | register_model<"fashion-base">{}
       | export_onnx<>{};
}

template <class P>
std::string set_error(P& p, const std::string& assignment) {
  try {
    cli::apply_setting(p, assignment);
  } catch (const cli::usage_error& e) {
    return e.what();
  }
  return "no error";
}

using sample_train = train<models::small_cnn, epochs<3>>;
}  // namespace

TEST_CASE("options: flags in both spellings") {
  auto o = parse({"--dry-run", "--backend", "azure", "--workspace=ws", "--set", "train.lr=0.5",
                  "--set=dataset.root=/x"});
  CHECK(o.dry_run);
  CHECK(o.backend == "azure");
  CHECK(o.workspace == "ws");
  CHECK(o.program == "prog");
  CHECK(o.settings == std::vector<std::string>{"train.lr=0.5", "dataset.root=/x"});
  CHECK(parse({"-h"}).help);
}

TEST_CASE("options: mistakes are usage errors that say what is wrong") {
  CHECK_THROWS_WITH(parse({"--bogus"}), Catch::Contains("unknown argument '--bogus'"));
  CHECK_THROWS_WITH(parse({"--backend=gcp"}), Catch::Contains("expected local or azure"));
  CHECK_THROWS_WITH(parse({"--set"}), Catch::Contains("--set needs a value"));
  CHECK_THROWS_WITH(parse({"--workspace="}), Catch::Contains("needs a folder"));
  CHECK_THROWS_WITH(parse({"--tag", "novalue"}),
                    Catch::Contains("--tag novalue: expected key=value"));
}

TEST_CASE("--resume names the run to continue") {
  CHECK(parse({"--resume", "fashion_3"}).resume == "fashion_3");
  CHECK(parse({"--resume=fashion_3"}).resume == "fashion_3");
  CHECK(parse({}).invoked_as == "/opt/bin/prog");
  CHECK_THROWS_WITH(parse({"--resume="}), Catch::Contains("--resume needs the id of a run"));
  CHECK_THROWS_WITH(parse({"--resume"}), Catch::Contains("--resume needs a value"));
}

TEST_CASE("--set changes run-time fields of every type") {
  auto p = sample();
  cli::apply_setting(p, "train.lr=0.25");
  cli::apply_setting(p, "train.batch=48");
  cli::apply_setting(p, "train.freeze_backbone=true");
  cli::apply_setting(p, "train.schedule=step");
  cli::apply_setting(p, "dataset.root=/elsewhere");
  cli::apply_setting(p, "dataset.transform.mean=0.5,0.25,0.125");
  cli::apply_setting(p, "distributed.master_port=29611");
  cli::apply_setting(p, "register_model.tags=team:vision,stage:dev");
  const auto& t = get<stage_order::train>(p);
  CHECK(t.lr == 0.25);
  CHECK(t.batch == 48);
  CHECK(t.freeze_backbone);
  CHECK(t.schedule == text{"step"});
  const auto& d = get<stage_order::dataset>(p);
  CHECK(d.root == text{"/elsewhere"});
  CHECK(d.transform.mean[2] == 0.125);
  CHECK(get<stage_order::distributed>(p).master_port == 29611);
  const auto& tags = get<stage_order::register_model>(p).tags;
  REQUIRE(tags.size() == 2);
  CHECK(tags.begin()[1].key == text{"stage"});
  CHECK(tags.begin()[1].value == text{"dev"});
}

TEST_CASE("--set refuses what cannot change at run time") {
  auto p = sample();
  CHECK_THAT(set_error(p, "train.epochs=5"),
             Catch::Contains("'epochs' is fixed at compile time") && Catch::Contains("lr, batch"));
  CHECK_THAT(set_error(p, "dataset.classes=3"),
             Catch::Contains("'classes' is fixed at compile time"));
  CHECK_THAT(set_error(p, "environment.pip=x"),
             Catch::Contains("no stage 'environment'") &&
                 Catch::Contains("dataset, compute, distributed"));
  CHECK_THAT(set_error(p, "train.lrate=1"), Catch::Contains("train has no field 'lrate'"));
  CHECK_THAT(set_error(p, "train.lr=fast"), Catch::Contains("train.lr=fast: expected a number"));
  // JSON (the plan's) has no NaN or infinity, and no setting means one.
  for (const char* bad : {"nan", "-nan", "inf", "-inf", "infinity", "1e999"})
    CHECK_THAT(set_error(p, std::string{"train.lr="} + bad),
               Catch::Contains(std::string{"train.lr="} + bad + ": expected a"));
  CHECK_THAT(set_error(p, "dataset.transform.std=1,nan,1"),
             Catch::Contains("expected a finite number"));
  CHECK_THAT(set_error(p, "train.batch=-1"), Catch::Contains("expected a whole number"));
  CHECK_THAT(set_error(p, "distributed.master_port=70000"), Catch::Contains("out of range"));
  CHECK_THAT(set_error(p, "train.freeze_backbone=maybe"),
             Catch::Contains("expected true or false"));
  CHECK_THAT(set_error(p, "trainlr=1"), Catch::Contains("expected stage.field=value"));
  // A field that the stage's type makes meaningless is refused, saying why.
  auto adam_global = dataset<idx, classes<10>>{.root = "/data"} |
                     train<models::small_cnn, adam, global_batch<64>>{};
  CHECK_THAT(set_error(adam_global, "train.momentum=0.5"),
             Catch::Contains("--set train.momentum: this pipeline does not use 'momentum': the "
                             "optimizer has no momentum (sgd only)"));
  CHECK_THAT(set_error(adam_global, "train.batch=0"),
             Catch::Contains("--set train.batch: this pipeline does not use 'batch': "
                             "global_batch<N> sets each rank's batch (N / world size)"));
  // A refused assignment leaves the value as it was.
  CHECK(get<stage_order::train>(p).lr == 0.1);
}

TEST_CASE("--set refuses values that would be dropped or could not be written to the plan") {
  auto p = sample();
  CHECK_THAT(set_error(p, "train.lr=nan"),
             Catch::Contains("train.lr=nan: expected a finite number"));
  CHECK_THAT(set_error(p, "train.lr=-inf"), Catch::Contains("expected a finite number"));
  CHECK_THAT(set_error(p, "register_model.tags=team:vision,"),
             Catch::Contains("empty item in the comma-separated list"));
  CHECK_THAT(set_error(p, "register_model.tags=a:1,,b:2"), Catch::Contains("empty item"));
  CHECK_THAT(set_error(p, "register_model.tags=team:a,team:b"),
             Catch::Contains("tag 'team' given twice"));
  CHECK(get<stage_order::train>(p).lr == 0.1);
  text_list pip;
  CHECK_THROWS_WITH(plan::parse_value(",onnx", pip), Catch::Contains("empty item"));
  plan::parse_value("torchvision,onnx", pip);
  CHECK(pip.size() == 2);
  plan::parse_value("", pip);
  CHECK(pip.empty());
}
