#pragma once
// Catch2, as every sinklab test includes it. LibTorch's c10 logging pulls in glog, whose
// CHECK(condition) aborts the process and replaces Catch's CHECK when glog's header comes
// after Catch's (both are system headers, so the compiler does not warn). Including glog
// first makes Catch's CHECK - record the failure, go on - the one every test uses.
#if __has_include(<glog/logging.h>)
#include <glog/logging.h>
#endif
#include <catch2/catch.hpp>
