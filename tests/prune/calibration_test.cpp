// Calibration data: every file format, reproducible windows, and clear errors.
#include <ATen/ATen.h>
#include <zlib.h>

#include "tests/support/catch.h"
#include <filesystem>

#include "framework/tokenizer/tokenizer.h"
#include "framework/prune/calibration.h"
#include "framework/util/error.h"
#include "tests/support/shared_dir.h"
#include "tests/support/temp_dir.h"
#include "tests/support/skip.h"

using namespace sinklab;
using Catch::Contains;
namespace fs = std::filesystem;

TEST_CASE("calibration documents come from text, JSON lines, gzip and directories", "[prune][calibration]") {
  test::TempDir dir;
  dir.write("data/a.txt", "A plain text document.\nWith two lines.");
  dir.write("data/b.jsonl", "{\"text\": \"first\"}\n\n{\"text\": \"second\", \"url\": \"x\"}\n");
  {
    gzFile f = gzopen((dir / "data/c.json.gz").c_str(), "wb");
    std::string line = "{\"text\": \"compressed one\"}\n{\"text\": \"compressed two\"}\n";
    gzwrite(f, line.data(), unsigned(line.size()));
    gzclose(f);
  }
  fs::create_symlink(dir / "data/a.txt", dir / "data/d-link-to-a.txt");
  auto docs = load_documents(dir / "data");
  REQUIRE(docs.size() == 5);  // the symlink counts once
  CHECK(docs[0] == "A plain text document.\nWith two lines.");
  CHECK(docs[1] == "first");
  CHECK(docs[4] == "compressed two");
  CHECK(load_documents(dir / "data/b.jsonl").size() == 2);

  dir.write("bad/x.jsonl", "{\"text\": \"ok\"}\nnot json\n");
  CHECK_THROWS_WITH(load_documents(dir / "bad/x.jsonl"), Contains("x.jsonl:2") && Contains("not a JSON line"));
  dir.write("bad/y.jsonl", "{\"body\": \"no text\"}\n");
  CHECK_THROWS_WITH(load_documents(dir / "bad/y.jsonl"), Contains("no string field 'text'"));
  CHECK(load_documents(dir / "bad/y.jsonl", "body").size() == 1);
  CHECK_THROWS_WITH(load_documents(dir / "missing"), Contains("does not exist"));
  dir.write("bad/z.json.gz", "this is not gzip");
  CHECK_THROWS_AS(load_documents(dir / "bad/z.json.gz"), InputError);
}

TEST_CASE("calibration windows are reproducible, start with BOS and cover the requested shape", "[prune][calibration]") {
  auto shared = test::shared_dir();
  if (!shared) {
    SINKLAB_SKIP("../shared not found (set SINKLAB_SHARED to the folder with golden/ and models/)");
  }
  auto tok = Tokenizer::from_file(*shared + "/models/tiny-phi3/tokenizer.json");
  std::vector<std::string> docs;
  for (int i = 0; i < 40; ++i) docs.push_back("Document number " + std::to_string(i) + " talks about the sea and ships.");
  CalibrationConfig c;
  c.samples = 5;
  c.seq_len = 24;
  auto a = draw_calibration_windows(tok, docs, c), b = draw_calibration_windows(tok, docs, c);
  REQUIRE(a.sizes() == at::IntArrayRef({5, 24}));
  CHECK(at::equal(a, b));
  CHECK(a.select(1, 0).eq(1).all().item<bool>());  // <s>
  CHECK(a.narrow(1, 1, 23).ne(1).all().item<bool>());
  c.seed = 1;
  CHECK_FALSE(at::equal(a, draw_calibration_windows(tok, docs, c)));
  c.seq_len = 100000;
  CHECK_THROWS_WITH(draw_calibration_windows(tok, docs, c), Contains("fewer than one window"));
}
