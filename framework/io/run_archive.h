#pragma once
// One verifiable file for a run or sweep directory (libarchive): a tar, gzip- or
// zstd-compressed by the file name (.tar.gz / .tgz / .tar.zst), whose first entry is
// MANIFEST.json - every file's path, size and SHA-256, the sinklab version and the run's
// provenance summary. Verifying recomputes every hash; unpacking refuses absolute paths, "..",
// links and devices, checks every hash, reads every .h5 once in a child process (io/hdf5_probe.h:
// HDF5 itself crashes on some crafted files), and only then moves the result into place.
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sinklab {

struct ArchiveOptions {
  bool checkpoints = true;  // *.safetensors (training checkpoints, pruned models)
  bool tensors = true;      // *.h5 (run.h5 and any other HDF5 store)
};

// Whether `file` is named as an archive (.tar.gz, .tgz, .tar.zst): the names pack writes.
bool is_archive_name(const std::string& file);
// Returns the number of files packed (MANIFEST.json not counted).
std::size_t pack_archive(const std::string& dir, const std::string& file, const ArchiveOptions& options = {});
// Problems found ("" per file is fine: empty vector = intact). Unreadable archives throw InputError.
std::vector<std::string> verify_archive(const std::string& file);
// Every regular file whose path inside the run ends with one of `names` ("summary.json" matches
// "summary.json" and "points/3/summary.json"), in one pass: path -> content.
std::map<std::string, std::string> read_archive_files(const std::string& file, const std::vector<std::string>& names);
// Every regular file whose path inside the run `wanted` accepts (each at most 64 MiB).
std::map<std::string, std::string> read_archive_files_if(const std::string& file,
                                                         const std::function<bool(const std::string&)>& wanted);
// Unpacks into `dest` (created; must not exist yet). InputError on any unsafe entry or mismatch.
void unpack_archive(const std::string& file, const std::string& dest);

}  // namespace sinklab
