// expect-error: \[trellis E003\] train: there is no dataset to train on\. Fix: start the pipeline with dataset
// One mistake: the pipeline starts at environment, so train has nothing to read.
#include <trellis/trellis.hpp>
using namespace trellis;

int main() {
  auto p = environment<curated::pytorch_cpu>{}
         | compute<local::cpu>{}
         | train<models::small_cnn, epochs<5>>{.lr = 0.01, .batch = 64};
  (void)p;
}
