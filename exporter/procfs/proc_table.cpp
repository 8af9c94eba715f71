#include "proc_table.h"

#include <dlfcn.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>

namespace xw::exporter {
namespace {

// libproc2 is opened on first use instead of linked: it pulls in libsystemd and, through it,
// libgcrypt, libgpg-error, libcap and three compression libraries, about 0.9 MiB of resident
// memory in an exporter that does not enable the processes or service collectors (node_exporter's
// defaults). The three entry points used are checked against the header's prototypes.
struct Libproc2 {
  decltype(&procps_pids_new) pids_new = nullptr;
  decltype(&procps_pids_reap) pids_reap = nullptr;
  decltype(&procps_pids_unref) pids_unref = nullptr;
  std::string error;  // why it could not be loaded; empty when loaded
};

template <typename Fn>
void Resolve(void* lib, const char* name, Fn& fn, std::string& error) {
  fn = reinterpret_cast<Fn>(::dlsym(lib, name));  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast)
  if (fn == nullptr && error.empty()) error = std::string("libproc2.so.0 has no ") + name;
}

const Libproc2& Load() {
  static Libproc2 lib;
  static std::once_flag once;
  std::call_once(once, [] {
    // Never closed: the library lives as long as the process, like a linked one.
    void* handle = ::dlopen("libproc2.so.0", RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* why = ::dlerror();
      lib.error = std::string("cannot load libproc2.so.0 (Debian package libproc2-0): ") + (why ? why : "?");
      return;
    }
    Resolve(handle, "procps_pids_new", lib.pids_new, lib.error);
    Resolve(handle, "procps_pids_reap", lib.pids_reap, lib.error);
    Resolve(handle, "procps_pids_unref", lib.pids_unref, lib.error);
  });
  if (!lib.error.empty()) throw std::runtime_error(lib.error);
  return lib;
}

}  // namespace

ProcTable::ProcTable(std::vector<pids_item> items) : items_(std::move(items)) {
  const int rc = Load().pids_new(&info_, items_.data(), static_cast<int>(items_.size()));
  if (rc < 0) throw std::runtime_error("libproc2: procps_pids_new failed: " + std::string(std::strerror(-rc)));
}

ProcTable::~ProcTable() {
  if (info_ != nullptr) Load().pids_unref(&info_);
}

std::span<pids_stack*> ProcTable::Reap(pids_fetch_type which) {
  pids_fetch* fetch = Load().pids_reap(info_, which);
  if (fetch == nullptr)
    throw std::runtime_error("libproc2: reading /proc failed: " + std::string(std::strerror(errno)));
  return {fetch->stacks, static_cast<std::size_t>(fetch->counts->total)};
}

}  // namespace xw::exporter
