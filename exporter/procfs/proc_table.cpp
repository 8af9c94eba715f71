#include "proc_table.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace xw::exporter {

ProcTable::ProcTable(std::vector<pids_item> items) : items_(std::move(items)) {
  const int rc = procps_pids_new(&info_, items_.data(), static_cast<int>(items_.size()));
  if (rc < 0) throw std::runtime_error("libproc2: procps_pids_new failed: " + std::string(std::strerror(-rc)));
}

ProcTable::~ProcTable() {
  if (info_ != nullptr) procps_pids_unref(&info_);
}

std::span<pids_stack*> ProcTable::Reap(pids_fetch_type which) {
  pids_fetch* fetch = procps_pids_reap(info_, which);
  if (fetch == nullptr) throw std::runtime_error("libproc2: reading /proc failed: " + std::string(std::strerror(errno)));
  return {fetch->stacks, static_cast<std::size_t>(fetch->counts->total)};
}

}  // namespace xw::exporter
