// --web.max-requests: scrapes in flight at once, as node_exporter's promhttp
// MaxRequestsInFlight. One over the cap gets 503 at once instead of queueing behind the
// others: a scrape that waits past Prometheus' timeout is wasted work anyway.
#pragma once

#include <atomic>
#include <string>
#include <utility>

#include "http_server.h"

namespace xw::exporter {

class RequestLimit {
 public:
  explicit RequestLimit(int max) : max_(max) {}

  // `handler` behind the cap; 0 means no cap. The limit must outlive the returned handler.
  HttpServer::Handler Wrap(HttpServer::Handler handler) {
    if (max_ <= 0) return handler;
    return [this, h = std::move(handler)](const HttpRequest& req) {
      struct Slot {
        std::atomic<int>& n;
        ~Slot() { n.fetch_sub(1); }
      };
      const int now = in_flight_.fetch_add(1) + 1;
      const Slot slot{in_flight_};
      if (now > max_) {
        return HttpResponse{503, "text/plain; charset=utf-8",
                            "Limit of concurrent requests reached (" + std::to_string(max_) + "), try again later.\n"};
      }
      return h(req);
    };
  }

 private:
  const int max_;
  std::atomic<int> in_flight_{0};
};

}  // namespace xw::exporter
