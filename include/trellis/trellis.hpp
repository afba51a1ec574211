// The trellis front end: stages, parameters, targets, rules and the pipeline. No LibTorch,
// fmt, range-v3 or heavy standard headers here, so a program that only checks its
// configuration compiles fast. The rule headers come first: a diagnostic then shows a
// two-line include chain.
#pragma once
#include "trellis/rules/capacity.hpp"
#include "trellis/rules/compatibility.hpp"
#include "trellis/rules/names.hpp"
#include "trellis/rules/structure.hpp"
#include "trellis/rules/catalog.hpp"
#include "trellis/pipeline.hpp"
#include "trellis/models.hpp"
#include "trellis/targets/azure_vms.hpp"
#include "trellis/targets/environments.hpp"
#include "trellis/targets/local.hpp"
