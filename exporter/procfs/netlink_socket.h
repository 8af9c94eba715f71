// A netlink socket kept for the process's lifetime, for the dumps the kernel answers over
// netlink faster than procfs and sysfs format the same table (rtnetlink's device table,
// sock_diag's socket queues).
#pragma once

#include <linux/netlink.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "unique_fd.h"

namespace xw::exporter {

class NetlinkSocket {
 public:
  // NETLINK_ROUTE, NETLINK_SOCK_DIAG, ...; `what` names the family in errors ("rtnetlink").
  // Throws std::system_error.
  NetlinkSocket(int protocol, const char* what);

  // Sends a dump request (a netlink header followed by the family's request, nlmsg_len set)
  // and hands each message of the answer to `on_message` until NLMSG_DONE. Throws
  // std::system_error when the kernel cannot be asked or refuses, and std::runtime_error when
  // the answer is malformed or the table changed during the dump (NLM_F_DUMP_INTR). After a
  // failure the socket is replaced, as a dump left half-read keeps the kernel's dump state busy.
  void Dump(nlmsghdr& request, const std::function<void(const nlmsghdr&)>& on_message);

 private:
  void Run(nlmsghdr& request, const std::function<void(const nlmsghdr&)>& on_message);

  int protocol_;
  const char* what_;
  UniqueFd fd_;
  std::uint32_t seq_ = 0;
  std::vector<char> buf_;
};

}  // namespace xw::exporter
