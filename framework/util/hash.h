#pragma once
// SHA-256 (OpenSSL) of bytes and files, as lowercase hex.
#include <string>

namespace sinklab {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, std::size_t size);
  void update(const std::string& s) { update(s.data(), s.size()); }
  std::string hex();  // finishes the digest

 private:
  void* ctx_;
};

std::string sha256_hex(const std::string& bytes);
// Streams the file; throws InputError if it cannot be read.
std::string sha256_file(const std::string& path);

}  // namespace sinklab
