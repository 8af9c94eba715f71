// ejabberd gauges from mod_http_api on the local node: up, status, sessions, online and
// registered users, uptime, Erlang processes, cluster members, MUC rooms.
//
// The API must be reachable on a loopback listener whose api_permissions let the exporter's
// address run read-only commands (server/templates/ejabberd.yml). ejabberd 23.01 wraps
// results: {"num_sessions":N}, {"stat":N}; status is a sentence; list_cluster a list.
// A down or hung node never fails the scrape: ejabberd_up goes to 0 within --timeout and the
// reason is counted in ejabberd_scrape_errors_total.
#include <nlohmann/json.hpp>

#include <chrono>
#include <map>
#include <mutex>
#include <set>

#include "collector.h"
#include "http_client.h"
#include "log.h"
#include "metric_family.h"
#include "text_file.h"
#include "web_config.h"

namespace xw::exporter {
namespace {

using nlohmann::json;

// A reply that is not what 23.01 sends for this command.
struct ShapeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class EjabberdCollector : public Collector {
 public:
  explicit EjabberdCollector(const CollectorContext& ctx)
      : api_url_(ctx.Option("collector.ejabberd.api-url")), muc_service_(ctx.Option("collector.ejabberd.muc-service")) {
    const auto timeout = ctx.DurationOption("collector.ejabberd.timeout");
    if (timeout <= std::chrono::nanoseconds::zero() || timeout > std::chrono::seconds(60)) {
      throw ConfigError("--collector.ejabberd.timeout must be in (0, 1m], got " + FormatGoDuration(timeout));
    }
    timeout_ = std::max(std::chrono::milliseconds(1), std::chrono::duration_cast<std::chrono::milliseconds>(timeout));
    while (api_url_.ends_with('/')) api_url_.pop_back();
    std::string members = ctx.Option("collector.ejabberd.cluster-members");
    for (auto f : Fields(std::string_view(members))) {
      std::string_view rest = f;
      while (!rest.empty()) {
        const auto comma = rest.find(',');
        if (!rest.substr(0, comma).empty()) known_members_.emplace(rest.substr(0, comma));
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
      }
    }
  }

  std::vector<prometheus::MetricFamily> Collect() const override {
    const auto deadline = std::chrono::steady_clock::now() + timeout_;
    std::vector<prometheus::MetricFamily> out;
    bool api_up = false;
    try {
      const json status = Call("status", json::object(), deadline);
      api_up = true;
      const std::string text = status.is_string() ? status.get<std::string>() : "";
      Emit(out, Gauge("ejabberd_status", "1 when the node reports itself started.")
                    .Add(text.find("Status: started") != std::string::npos ? 1 : 0));
      Emit(out, Gauge("ejabberd_connected_sessions", "Client sessions connected to this node.")
                    .Add(Field(Call("connected_users_number", json::object(), deadline), "num_sessions")));
      auto online = Gauge("ejabberd_online_users", "Users online, on this node or in the whole cluster.");
      online.Add(Stat("onlineusersnode", deadline), {{"scope", "node"}});
      online.Add(Stat("onlineusers", deadline), {{"scope", "cluster"}});
      Emit(out, std::move(online));
      Emit(out, Gauge("ejabberd_registered_users", "Registered accounts.").Add(Stat("registeredusers", deadline)));
      Emit(out,
           Gauge("ejabberd_uptime_seconds", "Seconds since the node started.").Add(Stat("uptimeseconds", deadline)));
      Emit(out,
           Gauge("ejabberd_erlang_processes", "Erlang processes in the node's VM.").Add(Stat("processes", deadline)));
      Emit(out, Members(Call("list_cluster", json::object(), deadline)));
      // muc_online_rooms needs mod_muc_admin; without it this gauge alone is missing.
      try {
        const json rooms = Call("muc_online_rooms", json{{"service", muc_service_}}, deadline);
        if (!rooms.is_array()) throw ShapeError("muc_online_rooms: expected a list");
        Emit(out, Gauge("ejabberd_muc_online_rooms", "MUC rooms online.").Add(static_cast<double>(rooms.size())));
      } catch (const ShapeError& e) {
        CountError(e.what() == std::string("unknown_command") ? "unknown_command" : "unexpected_reply", e.what());
      }
    } catch (const HttpError& e) {
      CountError(e.reason, e.what());
    } catch (const ShapeError& e) {
      CountError("unexpected_reply", e.what());
    }
    Emit(out, Gauge("ejabberd_up", "1 when the node's HTTP API answered this scrape.").Add(api_up ? 1 : 0));
    auto errors = Counter("ejabberd_scrape_errors_total", "Failed calls to the ejabberd API, by reason.");
    {
      std::lock_guard lock(mu_);
      for (const auto& [reason, n] : errors_) errors.Add(n, {{"reason", reason}});
    }
    Emit(out, std::move(errors));
    return out;
  }

 private:
  json Call(const std::string& command, const json& args, std::chrono::steady_clock::time_point deadline) const {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) throw HttpError("timeout", "ejabberd API: out of time before " + command);
    const HttpReply reply = HttpPostJson(api_url_ + "/" + command, args.dump(), left);
    json body = json::parse(reply.body, nullptr, /*allow_exceptions=*/false);
    if (body.is_discarded())
      throw ShapeError(command + ": reply is not JSON (HTTP " + std::to_string(reply.status) + ")");
    if (body.is_string() && body.get<std::string>() == "unknown_command") throw ShapeError("unknown_command");
    if (reply.status != 200) {
      throw ShapeError(command + ": HTTP " + std::to_string(reply.status) + ": " + reply.body.substr(0, 200));
    }
    return body;
  }

  static double Field(const json& j, const char* key) {
    if (!j.is_object() || !j.contains(key) || !j[key].is_number()) {
      throw ShapeError(std::string("expected {\"") + key + "\": number}, got " + j.dump().substr(0, 200));
    }
    return j[key].get<double>();
  }

  double Stat(const char* name, std::chrono::steady_clock::time_point deadline) const {
    return Field(Call("stats", json{{"name", name}}, deadline), "stat");
  }

  // Members the node lists are up; members seen before (or configured) but no longer listed
  // are reported down, so a dead peer shows as a 0 rather than vanishing.
  Family Members(const json& listed) const {
    if (!listed.is_array()) throw ShapeError("list_cluster: expected a list, got " + listed.dump().substr(0, 200));
    std::set<std::string> running;
    for (const auto& m : listed) {
      if (m.is_string()) running.insert(m.get<std::string>());
    }
    auto family = Gauge("ejabberd_cluster_member_up",
                        "1 for each cluster member the node sees running, 0 for a known member it does not.");
    std::lock_guard lock(mu_);
    known_members_.insert(running.begin(), running.end());
    for (const auto& m : known_members_) family.Add(running.contains(m) ? 1 : 0, {{"member", m}});
    return family;
  }

  void CountError(const std::string& reason, const std::string& what) const {
    log::Warn("ejabberd API call failed", {{"reason", reason}, {"err", what}});
    std::lock_guard lock(mu_);
    ++errors_[reason];
  }

  std::string api_url_;
  std::string muc_service_;
  std::chrono::milliseconds timeout_{2000};
  mutable std::mutex mu_;
  mutable std::set<std::string> known_members_;
  mutable std::map<std::string, double> errors_;
};

const CollectorRegistrar kRegistrar({
    .name = "ejabberd",
    .enabled_by_default = false,
    .help = "ejabberd gauges from mod_http_api on the local node",
    .flags = {StringFlag("collector.ejabberd.api-url", "http://127.0.0.1:5280/api",
                         "Base URL of the node's mod_http_api"),
              DurationFlag("collector.ejabberd.timeout", "2s", "Time for all API calls of one scrape together"),
              StringFlag("collector.ejabberd.cluster-members", "",
                         "Comma list of node names expected in the cluster (reported 0 when not running)"),
              StringFlag("collector.ejabberd.muc-service", "global",
                         "MUC service for muc_online_rooms ('global' for all)")},
    .make = [](const CollectorContext& ctx) { return std::make_unique<EjabberdCollector>(ctx); },
});

}  // namespace
}  // namespace xw::exporter
