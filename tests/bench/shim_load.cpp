// A small load generator for switchboard-shim: N keep-alive HTTP/1.1 clients, each sending the
// same request back to back for a fixed time; prints requests/s and latency percentiles. With
// --dsn it runs one prepared SQL statement through libpq instead, measured the same way.
//   shim_load --port 18690 [--method POST] --path /rpc/is_member --body '{"org_id":"..."}' --token
//   JWT
//             [--clients 4] [--seconds 10] [--warmup 2]
//   shim_load --dsn 'host=... dbname=...' --sql 'SELECT ...' [--clients 4] ...
// Output (one line): requests=N errors=N seconds=S rps=R p50_us=A p99_us=B
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libpq-fe.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  int port = 18690;
  std::string method = "POST";
  std::string path = "/rpc/is_member";
  std::string body = "{}";
  std::string token;
  std::string dsn;  // libpq mode: run `sql` directly instead of HTTP requests
  std::string sql;
  int clients = 4;
  double seconds = 10;
  double warmup = 2;
};

// The value after `name` in argv, or `fallback`.
std::string arg(int argc, char** argv, const char* name, const std::string& fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  return fallback;
}

// The options of the command line.
Options parse(int argc, char** argv) {
  Options o;
  o.port = std::atoi(arg(argc, argv, "--port", "18690").c_str());
  o.method = arg(argc, argv, "--method", o.method);
  o.path = arg(argc, argv, "--path", o.path);
  o.body = arg(argc, argv, "--body", o.body);
  o.token = arg(argc, argv, "--token", "");
  o.dsn = arg(argc, argv, "--dsn", "");
  o.sql = arg(argc, argv, "--sql", "");
  o.clients = std::atoi(arg(argc, argv, "--clients", "4").c_str());
  o.seconds = std::atof(arg(argc, argv, "--seconds", "10").c_str());
  o.warmup = std::atof(arg(argc, argv, "--warmup", "2").c_str());
  return o;
}

// The bytes of one request.
std::string request_text(const Options& o) {
  std::string r = o.method + " " + o.path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  if (o.method == "GET")
    return r + (o.token.empty() ? "" : "Authorization: Bearer " + o.token + "\r\n") + "\r\n";
  r += "Content-Type: application/json\r\n";
  if (!o.token.empty()) r += "Authorization: Bearer " + o.token + "\r\n";
  r += "Content-Length: " + std::to_string(o.body.size()) + "\r\n\r\n" + o.body;
  return r;
}

// A TCP connection to 127.0.0.1:port without Nagle, or -1.
int connect_to(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Reads one response; returns its status (0 when the connection failed).
int read_response(int fd, std::string& buffer) {
  char chunk[8192];
  std::size_t head_end;
  while ((head_end = buffer.find("\r\n\r\n")) == std::string::npos) {
    ssize_t n = recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return 0;
    buffer.append(chunk, static_cast<std::size_t>(n));
  }
  int status = std::atoi(buffer.c_str() + 9);
  std::size_t length = 0;
  auto cl = buffer.find("Content-Length: ");
  if (cl != std::string::npos && cl < head_end)
    length = std::strtoul(buffer.c_str() + cl + 16, nullptr, 10);
  while (buffer.size() < head_end + 4 + length) {
    ssize_t n = recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return 0;
    buffer.append(chunk, static_cast<std::size_t>(n));
  }
  buffer.erase(0, head_end + 4 + length);
  return status;
}

struct ClientResult {
  std::vector<double> latencies_us;
  long errors = 0;
};

// One client's way of making one request; true when it succeeded.
using Requester = std::function<bool()>;

// An HTTP/1.1 keep-alive client sending the request of `o` (reconnecting after failures).
Requester http_requester(const Options& o) {
  struct State {
    std::string request, buffer;
    int fd = -1;
    int port = 0;
  };
  auto st = std::make_shared<State>();
  st->request = request_text(o);
  st->port = o.port;
  return [st] {
    if (st->fd < 0) st->fd = connect_to(st->port);
    if (st->fd < 0) return false;
    bool sent = send(st->fd, st->request.data(), st->request.size(), MSG_NOSIGNAL) ==
                static_cast<ssize_t>(st->request.size());
    int status = sent ? read_response(st->fd, st->buffer) : 0;
    if (status == 0) {
      close(st->fd);
      st->fd = -1;
      st->buffer.clear();
    }
    return status == 200;
  };
}

// A libpq client running the prepared statement `o.sql` (the direct path, for comparison).
Requester pg_requester(const Options& o) {
  std::shared_ptr<PGconn> conn(PQconnectdb(o.dsn.c_str()), PQfinish);
  PGresult* prepared = PQprepare(conn.get(), "bench", o.sql.c_str(), 0, nullptr);
  bool ok = PQresultStatus(prepared) == PGRES_COMMAND_OK;
  PQclear(prepared);
  if (!ok) std::fprintf(stderr, "prepare failed: %s", PQerrorMessage(conn.get()));
  return [conn, ok] {
    if (!ok) return false;
    PGresult* r = PQexecPrepared(conn.get(), "bench", 0, nullptr, nullptr, nullptr, 0);
    bool done = PQresultStatus(r) == PGRES_TUPLES_OK;
    PQclear(r);
    return done;
  };
}

// Makes requests until `stop`; records latencies once `measuring` is set.
void run_client(const Options& o, const std::atomic<bool>& measuring, const std::atomic<bool>& stop,
                ClientResult& out) {
  Requester request = o.dsn.empty() ? http_requester(o) : pg_requester(o);
  while (!stop) {
    auto start = Clock::now();
    bool ok = request();
    double us = std::chrono::duration<double, std::micro>(Clock::now() - start).count();
    if (!measuring) continue;
    if (ok)
      out.latencies_us.push_back(us);
    else
      ++out.errors;
  }
}

// The value at fraction `p` of sorted values.
double percentile(std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  std::size_t index = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(index, sorted.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  std::atomic<bool> measuring{false}, stop{false};
  std::vector<ClientResult> results(static_cast<std::size_t>(o.clients));
  std::vector<std::thread> threads;
  for (auto& r : results)
    threads.emplace_back(run_client, std::cref(o), std::cref(measuring), std::cref(stop),
                         std::ref(r));
  std::this_thread::sleep_for(std::chrono::duration<double>(o.warmup));
  measuring = true;
  auto start = Clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(o.seconds));
  measuring = false;
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  stop = true;
  for (auto& t : threads) t.join();
  std::vector<double> all;
  long errors = 0;
  for (auto& r : results) {
    all.insert(all.end(), r.latencies_us.begin(), r.latencies_us.end());
    errors += r.errors;
  }
  std::sort(all.begin(), all.end());
  std::printf("requests=%zu errors=%ld seconds=%.2f rps=%.0f p50_us=%.0f p99_us=%.0f\n", all.size(),
              errors, elapsed, static_cast<double>(all.size()) / elapsed, percentile(all, 0.50),
              percentile(all, 0.99));
  return errors == 0 ? 0 : 1;
}
