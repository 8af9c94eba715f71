#include "procfs/rtnl_links.h"

#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cstring>
#include <stdexcept>

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

RtnlSocket::RtnlSocket() : socket_(NETLINK_ROUTE, "rtnetlink") {}

std::map<std::string, RtnlLink> RtnlSocket::DumpLinks() {
  struct {
    nlmsghdr h;
    ifinfomsg ifi;
    // Counters are netdev's business: asking the kernel to leave them out saves it the work.
    rtattr ext_mask_hdr;
    std::uint32_t ext_mask;
  } req{};
  req.h.nlmsg_len = sizeof req;
  req.h.nlmsg_type = RTM_GETLINK;
  req.ifi.ifi_family = AF_UNSPEC;
  req.ext_mask_hdr.rta_type = IFLA_EXT_MASK;
  req.ext_mask_hdr.rta_len = RTA_LENGTH(sizeof req.ext_mask);
  req.ext_mask = RTEXT_FILTER_SKIP_STATS;
  std::map<std::string, RtnlLink> links;
  socket_.Dump(req.h, [&](const nlmsghdr& h) {
    if (h.nlmsg_type != RTM_NEWLINK) return;
    std::string name;
    RtnlLink link = ParseLink(&h, name);
    if (!name.empty()) links.insert_or_assign(std::move(name), std::move(link));
  });
  return links;
}

}  // namespace xw::exporter
