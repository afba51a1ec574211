// pipeline_view: what plan writers read of a stage list agrees with what the rules read, as both
// come from pipeline_facts: the world size, and NCCL when asked for or by default on GPUs.
#include <trellis/trellis.hpp>
#include <type_traits>

using namespace trellis;

namespace view_values {

using data = dataset<idx, classes<10>>;
using cuda2 = compute<local::cuda<gpus<2>>>;
template <class... S>
using view = pipeline_view_t<pipeline<S...>>;

// Each stage under its stage_order name, or its defaults when the pipeline has none.
static_assert(std::is_same_v<view<data>::dataset, data> && view<data>::has_dataset);
static_assert(std::is_same_v<view<data>::train, train<>> && !view<data>::has_train);
static_assert(std::is_same_v<view<data, cuda2>::compute, cuda2> && view<data, cuda2>::has_compute);
static_assert(view<data>::world_size == 1 && !view<data>::uses_nccl && !view<data>::gpu);
static_assert(view<data, cuda2, distributed<pytorch, procs<2>>>::world_size == 2);
static_assert(view<data, cuda2, distributed<pytorch, procs<2>>>::uses_nccl);  // GPUs: NCCL
static_assert(view<data, cuda2>::uses_nccl && view<data, cuda2>::gpu);  // without distributed too
static_assert(!view<data, cuda2, distributed<pytorch, gloo>>::uses_nccl);  // asked for Gloo
static_assert(!view<data, compute<local::cpu>, distributed<mpi, nodes<2>, procs<3>>>::uses_nccl);
static_assert(view<data, compute<local::cpu>, distributed<mpi, nodes<2>, procs<3>>>::world_size ==
              6);
static_assert(
    view<data, compute<azure::nc24ads_a100_v4>, distributed<Horovod, nodes<4>>>::uses_nccl);
static_assert(
    view<data, compute<azure::nc24ads_a100_v4>, distributed<Horovod, nodes<4>>>::world_size == 4);

}  // namespace view_values
