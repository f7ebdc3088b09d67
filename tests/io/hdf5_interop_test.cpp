// Our files must open in the tools researchers use: h5dump and h5py. Skipped (with a message)
// where the tool is not installed; scripts/test.sh installs both.
#include <ATen/ATen.h>

#include "tests/support/catch.h"
#include <cstdlib>

#include "framework/io/hdf5_store.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/skip.h"

using namespace sinklab;

static bool have(const std::string& command) { return std::system((command + " >/dev/null 2>&1").c_str()) == 0; }

static void write_sample(const std::string& path) {
  Hdf5File f(path, Hdf5File::Mode::create);
  f.write("f16", at::tensor({0.5f, -2.0f, 65504.f}).to(at::kHalf));
  f.write("bf16", at::tensor({1.0f, -3.0f}).to(at::kBFloat16));
  f.write("mask", at::tensor({1, 0, 1}).to(at::kBool));
  f.write("big", at::arange(100000, at::kDouble).reshape({1000, 100}));
  f.set_attr("/", "note", std::string("hello"));
  f.write_strings("tokens", {"<s>", " caf\u00e9", "\n", ""});
}

TEST_CASE("h5dump reads sinklab files", "[io][interop]") {
  if (!have("h5dump --version")) {
    SINKLAB_SKIP("h5dump not installed (apt-get install hdf5-tools)");
  }
  test::TempDir dir;
  write_sample(dir / "s.h5");
  auto r = test::run_process({"/bin/sh", "-c", "h5dump -d /f16 " + (dir / "s.h5")});
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("65504") != std::string::npos);
}

TEST_CASE("h5py reads sinklab files and sinklab reads h5py files", "[io][interop]") {
  // Debian's python3-h5py lives under /usr/bin/python3, which may not be the first python3 on PATH.
  std::string python;
  for (const char* candidate : {"/usr/bin/python3", "python3"})
    if (python.empty() && have(std::string(candidate) + " -c 'import h5py'")) python = candidate;
  if (python.empty()) {
    SINKLAB_SKIP("no python3 with h5py (apt-get install python3-h5py)");
  }
  test::TempDir dir;
  write_sample(dir / "s.h5");
  std::string script = R"PY(
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], 'r')
assert f['f16'].dtype == np.float16, f['f16'].dtype
assert list(f['f16'][:]) == [0.5, -2.0, 65504.0]
assert f['mask'].dtype == np.bool_, f['mask'].dtype
assert list(f['mask'][:]) == [True, False, True]
bits = f['bf16'][:].astype(np.uint32) << 16
assert list(bits.view(np.float32)) == [1.0, -3.0]
assert f['bf16'].attrs['dtype'] == 'bfloat16'
assert f['big'][999, 99] == 99999.0 and f['big'].compression == 'gzip'
assert f.attrs['note'] == 'hello'
assert list(f['tokens'].asstr()[:]) == ['<s>', ' caf\u00e9', '\n', ''], list(f['tokens'].asstr()[:])
g = h5py.File(sys.argv[2], 'w')
g['from_h5py'] = np.arange(6, dtype=np.int32).reshape(2, 3)
g['flags'] = np.array([True, False])
g['half'] = np.array([1.5], dtype=np.float16)
g.create_dataset('words', data=['a', '\u00fcber'], dtype=h5py.string_dtype())
)PY";
  auto py = dir.write("check.py", script);
  auto r = test::run_process({"/usr/bin/env", python, py, dir / "s.h5", dir / "h5py.h5"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  Hdf5File g(dir / "h5py.h5", Hdf5File::Mode::read);
  CHECK(at::equal(g.read("from_h5py"), at::arange(6, at::kInt).reshape({2, 3})));
  CHECK(at::equal(g.read("flags"), at::tensor({1, 0}).to(at::kBool)));
  CHECK(g.read("half").scalar_type() == at::kHalf);
  CHECK(g.read("half").item<float>() == 1.5f);
  CHECK(g.read_strings("words") == std::vector<std::string>{"a", "\u00fcber"});
}
