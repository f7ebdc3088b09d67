#pragma once
// Reading an HDF5 file from somewhere else (an unpacked archive's run.h5) once, in a child
// process, before anything in this process trusts it. HDF5 1.10 itself can crash (a crafted
// variable-length string attribute sends H5HG_read past its buffer) or loop for minutes on a
// file whose hashes all match its manifest; sinklab cannot check HDF5's internals from outside,
// so it lets a forked child read every dataset and attribute and refuses the file if the child
// dies, hangs or finds it unreadable.
#include <string>

namespace sinklab {

// Reads every dataset and every attribute of `path` in a child process. Throws InputError
// naming the file and what happened (crashed with signal N, did not finish within `seconds`,
// or the reader's own error) when that read does not succeed. seconds <= 0: a limit from the
// file's size (60 s plus 1 s per 20 MB).
void check_hdf5_in_child(const std::string& path, double seconds = 0);

}  // namespace sinklab
