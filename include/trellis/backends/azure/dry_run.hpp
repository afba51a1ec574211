// --dry-run with the Azure backend: without any network, writes every request body a run would
// send (environment, startPendingUpload, code, compute, job, model, and for transfer_from the
// code and model version that carry its model.pt) and the CLI v2 files that submit the same job
// with `az ml` (job.yml, compute.yml, conda.yml), plus the snapshot's file list, to
// <workspace>/dry-run/azure/.
#pragma once
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "trellis/backends/azure/cli_yaml.hpp"
#include "trellis/backends/azure/endpoints.hpp"
#include "trellis/backends/azure/make_submission.hpp"
#include "trellis/backends/azure/workspace_config.hpp"
#include "trellis/main.hpp"
#include "trellis/plan/run_plan.hpp"

namespace trellis::backends::azure {

/// Writes the files; false (after saying why) when the submission cannot be made.
template <class Pipeline>
bool write_dry_run(const Pipeline& p, const plan::run_plan& plan, const cli::options& o,
                   const std::filesystem::path& plan_folder) {
  const auto folder = plan_folder / "azure";
  try {
    std::vector<std::string> secrets;
    for (const char* name : {"AZURE_CLIENT_SECRET", "AZURE_ACCESS_TOKEN"})
      if (const char* v = std::getenv(name); v && *v) secrets.emplace_back(v);
    const auto s = make_submission(p, plan, o, secrets);
    // Ids need the workspace; without config.json or flags they show placeholders.
    workspace_ref ws{"<subscription>", "<resource-group>", "<workspace>", {}};
    try {
      ws = resolve_workspace(o);
    } catch (const std::exception& e) {
      std::cout << "[trellis] azure: " << e.what() << "; the ids below use placeholders\n";
    }
    const auto id = [&](const std::string& relative) { return ws.path() + "/" + relative; };
    const auto environment_id =
        s.environment.curated ? s.environment.registry_id : id(s.environment.relative());
    // The code folder's URI is what startPendingUpload answers; this one shows its form.
    const auto code_uri = fmt::format(
        "https://<storage-account>.blob.core.windows.net/<container>/{}", s.code.version);
    std::filesystem::remove_all(folder);
    auto write_json = [&](const char* name, const json& body) {
      trellis::detail::write_file(folder / name, body.dump(2) + "\n");
    };
    if (!s.environment.curated) write_json("environment.json", s.environment.body());
    write_json("code_start_pending_upload.json", code_asset::start_upload_body("<upload id>"));
    write_json("code.json", s.code.body(code_uri));
    write_json("compute.json", s.compute.body(std::nullopt));
    write_json("job.json",
               s.job.body(environment_id, id(s.code.relative()), id(s.compute.relative())));
    if (s.model) write_json("model.json", s.model->body(s.job.name, s.job.model_output));
    // The transfer_from source's file, unless Azure already has a version with its SHA-256.
    const auto transfer_uri =
        s.transfer ? fmt::format("https://<storage-account>.blob.core.windows.net/<container>/{}",
                                 s.transfer->files.version)
                   : std::string{};
    if (s.transfer) {
      write_json("transfer_code.json", s.transfer->files.body(transfer_uri));
      write_json("transfer_model.json", s.transfer->body(transfer_uri));
    }
    std::string requests = fmt::format("# api-version {}; ids under {}\n", api_version, ws.path());
    if (!s.environment.curated)
      requests += "PUT " + s.environment.relative() + "  environment.json\n";
    requests +=
        "POST " + s.code.relative() + "/startPendingUpload  code_start_pending_upload.json\n";
    requests += fmt::format("PUT <sasUri>/<file> x {}  (block blobs, {} bytes)\n",
                            s.sources.files.size(), s.sources.bytes);
    requests += "PUT " + s.code.relative() + "  code.json\n";
    requests += "PUT " + s.compute.relative() + "  compute.json (with the workspace's location)\n";
    if (s.transfer)
      requests += fmt::format(
          "# transfer_from {}: unless a version of model {} has trellis.sha256 {}:\n"
          "POST {}/startPendingUpload  code_start_pending_upload.json\n"
          "PUT <sasUri>/model.pt  ({} bytes)\nPUT {}  transfer_code.json\n"
          "PUT {}  transfer_model.json\n"
          "# job.json's input {} names that version (azureml:{}:<version>)\n",
          s.transfer->local_ref, s.transfer->name, s.transfer->sha256, s.transfer->files.relative(),
          s.transfer->files.bytes, s.transfer->files.relative(),
          model_registration::relative(s.transfer->name, "<next version>"), transfer_model::input,
          s.transfer->name);
    requests += "PUT " + s.job.relative() + "  job.json\n";
    if (s.model)
      requests +=
          "PUT " + model_registration::relative(s.model->name, "<next version>") + "  model.json\n";
    trellis::detail::write_file(folder / "requests.txt", requests);
    trellis::detail::write_file(folder / "job.yml", job_yaml(s, s.project.source_dir.string()));
    trellis::detail::write_file(folder / "compute.yml", compute_yaml(s.compute));
    if (!s.environment.curated)
      trellis::detail::write_file(folder / "conda.yml", s.environment.conda_file);
    std::string listing;
    for (const auto& f : s.sources.files) listing += fmt::format("{}\t{}\n", f.size, f.relative);
    trellis::detail::write_file(folder / "snapshot.txt", listing);
    std::cout << fmt::format(
        "[trellis] azure: request bodies, job.yml and the snapshot's {} files ({:.1f} MB, from {}) "
        "written to {}\n",
        s.sources.files.size(), static_cast<double>(s.sources.bytes) / 1e6,
        s.project.source_dir.string(), folder.string());
    for (const auto& f : s.sources.withheld)
      std::cout << fmt::format(
          "[trellis] azure: {} would not be uploaded: it contains a secret in use\n", f);
    return true;
  } catch (const std::exception& e) {
    std::cout << "[trellis] azure: FAILED: " << e.what() << "\n";
    return false;
  }
}

}  // namespace trellis::backends::azure
