#include "tests/support/catch.h"

#include "framework/util/error.h"
#include "framework/util/hash.h"
#include "tests/support/temp_dir.h"

using namespace sinklab;

TEST_CASE("SHA-256 matches the FIPS 180-2 test vectors", "[util]") {
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST_CASE("file hashing streams the file and names a missing one", "[util]") {
  test::TempDir dir;
  std::string big(3 << 20, 'a');  // larger than the 1 MiB read buffer
  auto path = dir.write("big.txt", big);
  CHECK(sha256_file(path) == sha256_hex(big));
  try {
    sha256_file(dir / "missing.bin");
    FAIL("expected an error");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find("missing.bin") != std::string::npos);
  }
}
