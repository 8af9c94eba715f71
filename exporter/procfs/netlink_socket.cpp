#include "procfs/netlink_socket.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <stdexcept>
#include <string>
#include <system_error>

namespace xw::exporter {
namespace {

UniqueFd OpenSocket(int protocol, const char* what) {
  UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol));
  if (!fd.ok()) throw std::system_error(errno, std::generic_category(), std::string(what) + " socket");
  // The kernel answers within the recvmsg call itself; a wait this long means the answer is
  // lost, and the scrape falls back instead of hanging.
  const timeval timeout{.tv_sec = 2, .tv_usec = 0};
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) != 0) {
    throw std::system_error(errno, std::generic_category(), std::string(what) + " SO_RCVTIMEO");
  }
  return fd;
}

}  // namespace

NetlinkSocket::NetlinkSocket(int protocol, const char* what)
    : protocol_(protocol), what_(what), fd_(OpenSocket(protocol, what)), buf_(std::size_t{32} * 1024) {}

void NetlinkSocket::Dump(nlmsghdr& request, const std::function<void(const nlmsghdr&)>& on_message) {
  try {
    Run(request, on_message);
  } catch (...) {
    fd_ = UniqueFd();
    fd_ = OpenSocket(protocol_, what_);
    throw;
  }
}

void NetlinkSocket::Run(nlmsghdr& request, const std::function<void(const nlmsghdr&)>& on_message) {
  request.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  request.nlmsg_seq = ++seq_;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(fd_.get(), &request, request.nlmsg_len, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0) {
    throw std::system_error(errno, std::generic_category(), std::string(what_) + " dump request");
  }
  for (;;) {
    sockaddr_nl from{};
    iovec iov{buf_.data(), buf_.size()};
    msghdr msg{};
    msg.msg_name = &from;
    msg.msg_namelen = sizeof from;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    const ssize_t n = ::recvmsg(fd_.get(), &msg, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), std::string(what_) + " recvmsg");
    }
    if (msg.msg_flags & MSG_TRUNC) throw std::runtime_error(std::string(what_) + ": message larger than the buffer");
    if (from.nl_pid != 0) continue;  // only the kernel's answers count
    int len = static_cast<int>(n);
    for (auto* h = reinterpret_cast<const nlmsghdr*>(buf_.data()); NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_seq != seq_) continue;
      if (h->nlmsg_flags & NLM_F_DUMP_INTR) {
        throw std::runtime_error(std::string(what_) + ": the table changed during the dump");
      }
      if (h->nlmsg_type == NLMSG_DONE) return;
      if (h->nlmsg_type == NLMSG_ERROR) {
        if (h->nlmsg_len < NLMSG_LENGTH(sizeof(nlmsgerr)))
          throw std::runtime_error(std::string(what_) + ": short error");
        const auto* e = static_cast<const nlmsgerr*>(NLMSG_DATA(h));
        if (e->error == 0) continue;  // an acknowledgement
        throw std::system_error(-e->error, std::generic_category(), std::string(what_) + " dump");
      }
      on_message(*h);
    }
  }
}

}  // namespace xw::exporter
