// A small load generator for switchboard-shim: N keep-alive HTTP/1.1 clients, each sending the
// same request back to back for a fixed time; prints requests/s and latency percentiles. The
// clients share --threads event-loop threads (like wrk; default 1, so the generator takes little
// of the CPU it shares with the server). With --dsn it runs one prepared SQL statement through
// libpq instead (one thread per client), measured the same way.
//   shim_load --port 18690 [--method POST] --path /rpc/has_feature --body '{"org_id":"..."}'
//             --token JWT [--clients 4] [--threads 1] [--seconds 10] [--warmup 2]
//   shim_load --dsn 'host=... dbname=...' --sql 'SELECT ...' [--clients 4] ...
// Output (one line): requests=N errors=N seconds=S rps=R p50_us=A p99_us=B
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
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
  int threads = 1;  // HTTP mode: event-loop threads sharing the clients
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
  o.threads =
      std::max(1, std::min(o.clients, std::atoi(arg(argc, argv, "--threads", "1").c_str())));
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

// The status of the complete response at the front of `buffer`, which is then removed; -1 while
// it is incomplete.
int take_response(std::string& buffer) {
  std::size_t head_end = buffer.find("\r\n\r\n");
  if (head_end == std::string::npos) return -1;
  std::size_t length = 0;
  auto cl = buffer.find("Content-Length: ");
  if (cl != std::string::npos && cl < head_end)
    length = std::strtoul(buffer.c_str() + cl + 16, nullptr, 10);
  if (buffer.size() < head_end + 4 + length) return -1;
  int status = std::atoi(buffer.c_str() + 9);
  buffer.erase(0, head_end + 4 + length);
  return status;
}

struct ClientResult {
  std::vector<double> latencies_us;
  long errors = 0;
};

// One keep-alive HTTP connection of the event loop.
struct HttpConnection {
  int fd = -1;
  std::string buffer;
  Clock::time_point sent;
};

// Records one finished request (once measuring).
void record(ClientResult& out, bool measuring, bool ok, Clock::time_point start) {
  if (!measuring) return;
  if (ok)
    out.latencies_us.push_back(
        std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  else
    ++out.errors;
}

// (Re)connects `c` if needed, registers it with `epoll_fd` and sends the request; false when the
// server cannot be reached.
bool send_request(int epoll_fd, std::size_t index, HttpConnection& c, const std::string& request,
                  int port) {
  if (c.fd < 0) {
    c.fd = connect_to(port);
    if (c.fd < 0) return false;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = index;
    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, c.fd, &ev);
  }
  c.sent = Clock::now();
  return send(c.fd, request.data(), request.size(), MSG_NOSIGNAL) ==
         static_cast<ssize_t>(request.size());
}

// Drops a failed connection (the next send reconnects).
void reset(HttpConnection& c) {
  close(c.fd);  // also removes it from the epoll set
  c.fd = -1;
  c.buffer.clear();
}

// Reads what arrived on `c`; -1 while its response is incomplete, 0 when the connection failed,
// else the response status.
int receive(HttpConnection& c) {
  char chunk[8192];
  ssize_t n = recv(c.fd, chunk, sizeof chunk, 0);
  if (n <= 0) return 0;
  c.buffer.append(chunk, static_cast<std::size_t>(n));
  return take_response(c.buffer);
}

// `count` HTTP clients driven by one thread (like wrk): each sends its next request as soon as its
// answer is complete, until `stop`.
void run_http_clients(const Options& o, int count, const std::atomic<bool>& measuring,
                      const std::atomic<bool>& stop, ClientResult& out) {
  int epoll_fd = epoll_create1(0);
  std::string request = request_text(o);
  std::vector<HttpConnection> conns(static_cast<std::size_t>(count));
  for (std::size_t i = 0; i < conns.size(); ++i)
    if (!send_request(epoll_fd, i, conns[i], request, o.port)) reset(conns[i]);
  epoll_event events[64];
  while (!stop) {
    int n = epoll_wait(epoll_fd, events, 64, 50);
    for (int k = 0; k < n; ++k) {
      HttpConnection& c = conns[events[k].data.u64];
      int status = receive(c);
      if (status < 0) continue;
      record(out, measuring, status == 200, c.sent);
      if (status == 0 || !send_request(epoll_fd, events[k].data.u64, c, request, o.port)) reset(c);
    }
    for (std::size_t i = 0; i < conns.size(); ++i)  // retry connections that failed
      if (conns[i].fd < 0 && !send_request(epoll_fd, i, conns[i], request, o.port)) reset(conns[i]);
  }
  for (auto& c : conns)
    if (c.fd >= 0) close(c.fd);
  close(epoll_fd);
}

// One client's way of making one request; true when it succeeded.
using Requester = std::function<bool()>;

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

// A libpq client running `o.sql` until `stop`; records latencies once `measuring` is set.
void run_pg_client(const Options& o, const std::atomic<bool>& measuring,
                   const std::atomic<bool>& stop, ClientResult& out) {
  auto request = pg_requester(o);
  while (!stop) {
    auto start = Clock::now();
    bool ok = request();
    record(out, measuring, ok, start);
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
  bool http = o.dsn.empty();
  int workers = http ? o.threads : o.clients;
  std::vector<ClientResult> results(static_cast<std::size_t>(workers));
  std::vector<std::thread> threads;
  for (int i = 0; i < workers; ++i) {
    ClientResult& r = results[static_cast<std::size_t>(i)];
    int share = o.clients / workers + (i < o.clients % workers ? 1 : 0);
    if (http)
      threads.emplace_back(run_http_clients, std::cref(o), share, std::cref(measuring),
                           std::cref(stop), std::ref(r));
    else
      threads.emplace_back(run_pg_client, std::cref(o), std::cref(measuring), std::cref(stop),
                           std::ref(r));
  }
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
