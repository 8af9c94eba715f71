// RAII wrapper around libproc2's pids API (procps 4), shared by the processes and service
// collectors. The handle is not thread-safe: callers serialise Reap() and their reads.
#pragma once

extern "C" {
#include <libproc2/pids.h>
}

#include <span>
#include <vector>

namespace xw::exporter {

class ProcTable {
 public:
  // Throws std::runtime_error when libproc2 cannot be set up (no /proc).
  explicit ProcTable(std::vector<pids_item> items);
  ~ProcTable();
  ProcTable(const ProcTable&) = delete;
  ProcTable& operator=(const ProcTable&) = delete;

  // Reads every process (or every thread too). The stacks stay valid until the next Reap().
  std::span<pids_stack*> Reap(pids_fetch_type which);

  // Value of the item at `index` (its position in the constructor's list) in one stack.
  // libproc2 4.0.2's PIDS_VAL takes the info handle as a 4th argument; newer releases drop it.
  static const pids_result& At(const pids_stack* stack, int index) { return stack->head[index]; }

 private:
  pids_info* info_ = nullptr;
  std::vector<pids_item> items_;
};

}  // namespace xw::exporter
