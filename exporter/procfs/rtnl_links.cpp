#include "procfs/rtnl_links.h"

#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

namespace xw::exporter {
namespace {

template <typename T>
std::optional<T> Scalar(const rtattr* a) {
  if (RTA_PAYLOAD(a) < sizeof(T)) return std::nullopt;
  T v;
  std::memcpy(&v, RTA_DATA(a), sizeof v);
  return v;
}

RtnlLink ParseLink(const nlmsghdr* h, std::string& name) {
  if (h->nlmsg_len < NLMSG_LENGTH(sizeof(ifinfomsg))) throw std::runtime_error("rtnetlink: short RTM_NEWLINK message");
  const auto* ifi = static_cast<const ifinfomsg*>(NLMSG_DATA(h));
  RtnlLink link;
  link.index = ifi->ifi_index;
  link.type = ifi->ifi_type;
  link.flags = ifi->ifi_flags;
  int len = static_cast<int>(h->nlmsg_len - NLMSG_LENGTH(sizeof(ifinfomsg)));
  for (const rtattr* a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
    const auto* data = static_cast<const unsigned char*>(RTA_DATA(a));
    const std::size_t size = RTA_PAYLOAD(a);
    switch (a->rta_type) {
      case IFLA_IFNAME:
        name.assign(reinterpret_cast<const char*>(data), strnlen(reinterpret_cast<const char*>(data), size));
        break;
      case IFLA_IFALIAS:
        link.alias.assign(reinterpret_cast<const char*>(data), strnlen(reinterpret_cast<const char*>(data), size));
        break;
      case IFLA_ADDRESS:
        link.address = FormatHardwareAddress(data, size);
        break;
      case IFLA_BROADCAST:
        link.broadcast = FormatHardwareAddress(data, size);
        break;
      case IFLA_MTU:
        link.mtu = Scalar<std::uint32_t>(a);
        break;
      case IFLA_TXQLEN:
        link.txqlen = Scalar<std::uint32_t>(a);
        break;
      case IFLA_GROUP:
        link.group = Scalar<std::uint32_t>(a);
        break;
      case IFLA_LINK:
        link.link = Scalar<std::uint32_t>(a);
        break;
      case IFLA_CARRIER_CHANGES:
        link.carrier_changes = Scalar<std::uint32_t>(a);
        break;
      case IFLA_CARRIER_UP_COUNT:
        link.carrier_up_count = Scalar<std::uint32_t>(a);
        break;
      case IFLA_CARRIER_DOWN_COUNT:
        link.carrier_down_count = Scalar<std::uint32_t>(a);
        break;
      case IFLA_OPERSTATE:
        link.operstate = Scalar<std::uint8_t>(a);
        break;
      case IFLA_LINKMODE:
        link.link_mode = Scalar<std::uint8_t>(a);
        break;
      case IFLA_CARRIER:
        link.carrier = Scalar<std::uint8_t>(a);
        break;
      default:
        break;
    }
  }
  return link;
}

}  // namespace

std::string FormatHardwareAddress(const unsigned char* bytes, std::size_t len) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 3);
  for (std::size_t i = 0; i < len; ++i) {
    if (i > 0) out += ':';
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 0xf];
  }
  return out;
}

namespace {
int OpenSocket() {
  const int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "rtnetlink socket");
  // The kernel answers within the recvmsg call itself; a wait this long means the answer is
  // lost, and the scrape reads sysfs instead of hanging.
  const timeval timeout{.tv_sec = 2, .tv_usec = 0};
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) != 0) {
    const int err = errno;
    ::close(fd);
    throw std::system_error(err, std::generic_category(), "rtnetlink SO_RCVTIMEO");
  }
  return fd;
}
}  // namespace

RtnlSocket::RtnlSocket() : fd_(OpenSocket()), buf_(std::size_t{32} * 1024) {}

RtnlSocket::~RtnlSocket() {
  ::close(fd_);
}

std::map<std::string, RtnlLink> RtnlSocket::DumpLinks() {
  try {
    return Dump();
  } catch (...) {
    // A dump left half-read would keep the kernel's dump state busy (EBUSY for the next
    // request): start over on a new socket.
    ::close(fd_);
    fd_ = -1;
    fd_ = OpenSocket();
    throw;
  }
}

std::map<std::string, RtnlLink> RtnlSocket::Dump() {
  struct {
    nlmsghdr h;
    ifinfomsg ifi;
    // Counters are netdev's business: asking the kernel to leave them out saves it the work.
    rtattr ext_mask_hdr;
    std::uint32_t ext_mask;
  } req{};
  req.h.nlmsg_len = sizeof req;
  req.h.nlmsg_type = RTM_GETLINK;
  req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.h.nlmsg_seq = ++seq_;
  req.ifi.ifi_family = AF_UNSPEC;
  req.ext_mask_hdr.rta_type = IFLA_EXT_MASK;
  req.ext_mask_hdr.rta_len = RTA_LENGTH(sizeof req.ext_mask);
  req.ext_mask = RTEXT_FILTER_SKIP_STATS;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(fd_, &req, sizeof req, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0) {
    throw std::system_error(errno, std::generic_category(), "rtnetlink RTM_GETLINK");
  }

  std::map<std::string, RtnlLink> links;
  for (;;) {
    sockaddr_nl from{};
    iovec iov{buf_.data(), buf_.size()};
    msghdr msg{};
    msg.msg_name = &from;
    msg.msg_namelen = sizeof from;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    const ssize_t n = ::recvmsg(fd_, &msg, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "rtnetlink recvmsg");
    }
    if (msg.msg_flags & MSG_TRUNC) throw std::runtime_error("rtnetlink: message larger than the buffer");
    if (from.nl_pid != 0) continue;  // only the kernel's answers count
    int len = static_cast<int>(n);
    for (auto* h = reinterpret_cast<const nlmsghdr*>(buf_.data()); NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_seq != seq_) continue;
      if (h->nlmsg_flags & NLM_F_DUMP_INTR) throw std::runtime_error("rtnetlink: device table changed during the dump");
      if (h->nlmsg_type == NLMSG_DONE) return links;
      if (h->nlmsg_type == NLMSG_ERROR) {
        const auto* e = static_cast<const nlmsgerr*>(NLMSG_DATA(h));
        if (e->error == 0) continue;  // an acknowledgement
        throw std::system_error(-e->error, std::generic_category(), "rtnetlink RTM_GETLINK");
      }
      if (h->nlmsg_type != RTM_NEWLINK) continue;
      std::string name;
      RtnlLink link = ParseLink(h, name);
      if (!name.empty()) links.insert_or_assign(std::move(name), std::move(link));
    }
  }
}

}  // namespace xw::exporter
