#include "framework/runner/runner.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <filesystem>
#include <map>

#include "framework/config/fields.h"
#include "framework/util/error.h"
#include "framework/util/hash.h"
#include "framework/util/interrupt.h"
#include "framework/util/log.h"
#include "framework/util/memory.h"
#include "framework/util/strings.h"
#include "framework/util/system.h"

namespace sinklab {

const Hdf5File& StageContext::input(const std::string& stage) {
  auto it = opened_.find(stage);
  if (it != opened_.end()) return *it->second;
  auto entry = upstream_entries_.find(stage);
  SINKLAB_CHECK(entry != upstream_entries_.end(), "stage reads '{}' but does not declare it upstream", stage);
  auto file = std::make_unique<Hdf5File>(entry->second, Hdf5File::Mode::read);
  return *(opened_[stage] = std::move(file));
}

std::string StageContext::artifact(const std::string& name) {
  SINKLAB_CHECK(!name.empty() && name.find('/') == std::string::npos, "artifact names are plain file names: '{}'", name);
  std::filesystem::create_directories(artifact_dir_);
  return (std::filesystem::path(artifact_dir_) / name).string();
}

std::string StageContext::artifact_dir() {
  std::filesystem::create_directories(artifact_dir_);
  return artifact_dir_;
}

std::string StageContext::resume_dir() {
  std::filesystem::create_directories(resume_dir_);
  return resume_dir_;
}

std::string StageContext::upstream_artifact(const std::string& stage, const std::string& name) const {
  auto entry = upstream_entries_.find(stage);
  SINKLAB_CHECK(entry != upstream_entries_.end(), "stage reads '{}' but does not declare it upstream", stage);
  std::string dir = entry->second.substr(0, entry->second.size() - 3) + ".files";  // <key>.h5 -> <key>.files
  std::string path = (std::filesystem::path(dir) / name).string();
  SINKLAB_CHECK(std::filesystem::exists(path), "stage '{}' wrote no file '{}'", stage, name);
  return path;
}

Runner::Runner(RunnerOptions options) : options_(std::move(options)), cache_(options_.cache_dir) {
  cache_.set_rehash(options_.rehash);
}

void Runner::add(std::unique_ptr<Stage> stage) { stages_.push_back(std::move(stage)); }

std::vector<std::string> Runner::stage_names() const {
  std::vector<std::string> names;
  for (const auto& s : stages_) names.push_back(s->name());
  return names;
}

std::vector<const Stage*> Runner::stages() const {
  std::vector<const Stage*> out;
  for (const auto& s : stages_) out.push_back(s.get());
  return out;
}

std::vector<const Stage*> Runner::ordered() const {
  std::map<std::string, const Stage*> by_name;
  for (const auto& s : stages_) {
    SINKLAB_CHECK(by_name.emplace(s->name(), s.get()).second, "two stages are named '{}'", s->name());
  }
  // Depth-first topological order; `state` 1 = on the path (a cycle if seen again), 2 = done.
  std::vector<const Stage*> out;
  std::map<std::string, int> state;
  std::function<void(const Stage*, std::vector<std::string>&)> visit = [&](const Stage* s, auto& path) {
    int& st = state[s->name()];
    if (st == 2) return;
    path.push_back(s->name());
    SINKLAB_CHECK(st != 1, "stage dependency cycle: {}", join(path, " -> "));
    st = 1;
    for (const auto& up : s->upstream()) {
      auto it = by_name.find(up);
      SINKLAB_CHECK(it != by_name.end(), "stage '{}' needs '{}', which is not part of this run", s->name(), up);
      visit(it->second, path);
    }
    st = 2;
    path.pop_back();
    out.push_back(s);
  };
  for (const auto& s : stages_) {
    std::vector<std::string> path;
    visit(s.get(), path);
  }
  return out;
}

void Runner::validate() const {
  ordered();
  auto names = stage_names();
  for (const auto& f : options_.force)
    SINKLAB_INPUT_CHECK(f == "all" || std::find(names.begin(), names.end(), f) != names.end(),
                        "--force {}: no such stage in this run{}; stages: {}", f, did_you_mean(f, names),
                        join(names, ", "));
}

std::string Runner::cache_key(const Stage& stage, const std::vector<std::string>& upstream_keys,
                              const std::vector<std::pair<std::string, std::string>>& file_hashes) {
  nlohmann::ordered_json j;
  j["stage"] = stage.name();
  j["version"] = stage.version();
  j["reads"] = stage.reads();
  j["upstream"] = upstream_keys;
  j["inputs"] = nlohmann::ordered_json::array();
  for (const auto& [path, hash] : file_hashes) j["inputs"].push_back({path, hash});
  return sha256_hex(canonical_json(j));
}

std::vector<PlannedStage> Runner::plan() const {
  validate();
  std::vector<PlannedStage> out;
  for (const Stage* stage : ordered()) {
    PlannedStage p;
    p.name = stage->name();
    try {
      p.cost = stage->cost();
    } catch (const InputError&) {
      throw;  // a bad config or input file: the run would fail on it later, so it fails now
    } catch (const std::exception& e) {
      p.note = std::string("not estimated: ") + e.what();
    }
    out.push_back(std::move(p));
  }
  return out;
}

std::vector<StageRecord> Runner::run() {
  validate();
  std::vector<StageRecord> records;
  std::map<std::string, std::string> keys, entries;
  std::set<std::string> forced;
  auto all_forced = std::find(options_.force.begin(), options_.force.end(), "all") != options_.force.end();

  for (const Stage* stage : ordered()) {
    auto t0 = std::chrono::steady_clock::now();
    StageRecord rec;
    rec.name = stage->name();
    rec.version = stage->version();
    rec.report = stage->is_report();
    std::vector<std::string> upstream_keys;
    std::map<std::string, std::string> upstream_entries;
    bool force = all_forced || std::find(options_.force.begin(), options_.force.end(), rec.name) != options_.force.end();
    for (const auto& up : stage->upstream()) {
      upstream_keys.push_back(keys.at(up));
      upstream_entries[up] = entries.at(up);
      force = force || forced.count(up) > 0;
    }
    std::vector<std::pair<std::string, std::string>> file_hashes;
    for (const auto& f : stage->input_files()) {
      file_hashes.emplace_back(f, cache_.fingerprint(f));
      rec.input_files.push_back(file_hashes.back());
    }
    rec.key = cache_key(*stage, upstream_keys, file_hashes);
    rec.entry = cache_.entry_path(rec.name, rec.key);

    auto lock = cache_.lock(rec.name, rec.key);
    if (!force && cache_.valid(rec.name, rec.key)) {
      rec.cached = true;
      const auto manifest = cache_.manifest(rec.name, rec.key);
      rec.artifact_sha256 = manifest.value("files", std::map<std::string, std::string>());
      rec.compute_seconds = manifest.value("seconds", 0.0);
      rec.peak_anonymous_mib = manifest.value("peak_anonymous_mib", 0.0);  // of the run that computed it
      log::info("{}: cached (key {})", rec.name, rec.key.substr(0, 12));
    } else {
      if (force) forced.insert(rec.name);
      log::info("{}: running{} (key {})", rec.name, force ? ", forced" : "", rec.key.substr(0, 12));
      cache_.remove_stale_temporaries(rec.name, rec.key);
      if (force) cache_.remove_resume_dir(rec.name, rec.key);
      std::string tmp = temporary_path_for(rec.entry);
      std::string tmp_files = temporary_path_for(cache_.artifact_dir(rec.name, rec.key));
      release_free_heap();   // what earlier stages freed is not this stage's
      AnonymousPeak memory;  // sampled while the stage runs
      RemoveOnInterrupt tmp_guard(tmp), tmp_files_guard(tmp_files);
      try {
        Hdf5File out(tmp, Hdf5File::Mode::create);
        out.set_attr("/", "stage", rec.name);
        out.set_attr("/", "stage_version", std::int64_t(rec.version));
        out.set_attr("/", "cache_key", rec.key);
        out.set_attr("/", "reads", stage->reads().dump());
        StageContext ctx(out, tmp_files, cache_.resume_dir(rec.name, rec.key), upstream_entries, options_.device,
                         options_.memory_budget);
        stage->run(ctx);
        out.close();
      } catch (...) {
        std::error_code ec;
        std::filesystem::remove(tmp, ec);
        std::filesystem::remove_all(tmp_files, ec);
        throw;
      }
      rec.compute_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      rec.peak_anonymous_mib = double(memory.peak()) / (1024.0 * 1024.0);
      nlohmann::json manifest{{"version", rec.version},       {"seconds", rec.compute_seconds},
                              {"peak_anonymous_mib", rec.peak_anonymous_mib},
                              {"created", now_iso8601()},     {"sinklab_version", SINKLAB_VERSION},
                              {"reads", stage->reads()},       {"upstream", upstream_keys}};
      rec.artifact_sha256 =
          cache_.commit(rec.name, rec.key, tmp, tmp_files, manifest).value("files", std::map<std::string, std::string>());
      log::info("{}: done in {:.2f}s, peak anonymous memory {:.0f} MiB", rec.name, rec.compute_seconds,
                rec.peak_anonymous_mib);
    }
    if (std::filesystem::is_directory(cache_.artifact_dir(rec.name, rec.key)))
      rec.artifacts = cache_.artifact_dir(rec.name, rec.key);
    rec.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    keys[rec.name] = rec.key;
    entries[rec.name] = rec.entry;
    records.push_back(rec);
  }
  return records;
}

}  // namespace sinklab
