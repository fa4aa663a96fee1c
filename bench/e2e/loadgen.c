/* Load generator for the end-to-end echo benchmark (bench/e2e).
 *
 * Written in C so that it is none of the implementations under test and costs far less CPU per message than any
 * JavaScript server: it runs on its own core (taskset) and run.mjs reports its CPU use next to the server's, so a
 * reader can see which side saturated. One thread, epoll, non-blocking sockets, its own minimal WebSocket client.
 *
 *   loadgen --port P [--host 127.0.0.1] [--mode ws|tcp] [--conns 64] [--inflight 16] [--size 16]
 *           [--type binary|text] [--deflate] [--warmup 1] [--duration 3] [--idle] [--path /] [--fixed-mask]
 *
 * Every connection keeps `inflight` messages outstanding: each echo that arrives is checked and answered by the
 * next message, so the offered load adapts to the server (closed loop) and the round trip is measured per message.
 *
 * Payload (so that each echo is verified by content, not only by length): message `seq` of connection `c` starts
 * with a header naming (c, seq) — 8 bytes little-endian for binary, 16 hex digits for text — followed by a slice
 * of a fixed pseudo-random pattern starting at an offset that depends on (c, seq). An echo must carry the expected
 * opcode, exactly `size` bytes, the header of the oldest message in flight (echoes are in order per connection) and
 * the pattern slice byte for byte. Any mismatch aborts the run with exit code 2.
 * Text and deflate payloads are words (printable ASCII, compressible about 3x); binary payloads are random bytes.
 *
 * Masking: RFC 6455 (5.3) requires a fresh, unpredictable key for every client frame, and that is what browsers send,
 * so by default every frame gets a new key from a xorshift generator seeded from the kernel (getrandom): a server
 * cannot profit from a key that repeats (a cached key word, a precomputed mask). `--fixed-mask` restores one fixed
 * key per connection (derived from its index) to measure what a repeating key is worth.
 *
 * permessage-deflate (--deflate): offers `permessage-deflate; client_max_window_bits`, honours what the server
 * answers (no_context_takeover, window bits) and keeps one zlib stream per direction per connection. The client
 * compresses at level 1 so the load generator's side stays cheap; the server compresses with its own defaults.
 *
 * Raw TCP mode (--mode tcp): the same messages without framing against a byte echo; an echo is complete when
 * `size` bytes came back, checked incrementally. That is the ceiling no WebSocket server can beat.
 *
 * Idle mode (--idle): opens `conns` connections (at most 128 handshakes at a time, under the default cap of servers on pending handshakes), does one echo on each so the
 * server holds its full per-connection state, prints `READY <n>` and keeps them open until stdin closes or says
 * anything. run.mjs samples the server's RSS before and after.
 *
 * Output: `WINDOW` when the measuring window opens (after the warm-up), then one JSON line on stdout. msgsPerSec counts echoes completed in the measuring window; mibPerSec is that
 * times the payload size (one direction); p50/p99 are round-trip times in microseconds; cpu is the load
 * generator's own CPU time in the window divided by the window's length (1.0 = one core saturated).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "sha1.h"

enum { ST_IDLE, ST_CONNECTING, ST_HANDSHAKE, ST_OPEN, ST_READY };

typedef struct {
  int fd, state, id;
  uint8_t *in; size_t in_cap, in_r, in_w;
  uint8_t *out; size_t out_cap, out_r, out_w;
  int want_out;                 /* EPOLLOUT registered */
  uint64_t sent, recvd;         /* sequence numbers: next to send, next expected back */
  uint64_t *ts;                 /* send time of message seq at ts[seq % inflight] */
  uint8_t mask[4];
  char key[32];
  /* fragmented / compressed message assembly */
  uint8_t *msg; size_t msg_len, msg_cap; int msg_op, msg_rsv1, in_msg;
  /* tcp mode: bytes of the current echo already checked */
  size_t tcp_off;
  /* permessage-deflate */
  int pmd, client_no_ctx;
  z_stream def, inf;
} conn_t;

static const char *host = "127.0.0.1";
static const char *path = "/";
static int port = 0, nconns = 64, inflight = 16, is_text = 0, use_deflate = 0, tcp_mode = 0, idle_mode = 0, fixed_mask = 0;
static size_t size = 16;
static double warmup = 1.0, duration = 3.0;

static uint8_t *pattern; static size_t pattern_len;
static uint8_t *scratch, *scratch2; static size_t scratch_cap;
static int epfd;
static conn_t *conns;

static int measuring = 0, running = 1;
static uint64_t win_msgs = 0;
static uint32_t *lat; static size_t lat_n = 0, lat_cap = 0;
static int ready = 0, handshaking = 0;

static double now_s(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static uint64_t clock_ns(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return (uint64_t)t.tv_sec * 1000000000ull + t.tv_nsec; }
/* The time of the last read: every echo parsed from one read() arrived at that moment, and every message sent in
 * answer leaves with the write that follows, so one clock reading per read() serves them all. */
static uint64_t now_cached;
static uint64_t now_ns(void) { return now_cached; }

static void fail(const conn_t *c, const char *what) {
  printf("{\"ok\":false,\"error\":\"conn %d: %s\"}\n", c ? c->id : -1, what);
  fflush(stdout);
  exit(2);
}

static void *xrealloc(void *p, size_t n) { void *q = realloc(p, n); if (!q) { fail(NULL, "out of memory"); } return q; }

/* ---- payload ---------------------------------------------------------------------------------------------- */

static uint64_t tag(const conn_t *c, uint64_t seq) { return (uint64_t)c->id << 40 | (seq & 0xFFFFFFFFFFull); }
static size_t pat_off(const conn_t *c, uint64_t seq) { return (size_t)((seq * 7 + (uint64_t)c->id) % 251); }
static size_t hdr_len(void) { return is_text ? 16 : 8; }

static void write_header(uint8_t *p, uint64_t t) {
  if (is_text) { static const char hx[] = "0123456789abcdef"; for (int i = 0; i < 16; i++) p[i] = hx[(t >> (60 - 4 * i)) & 15]; }
  else for (int i = 0; i < 8; i++) p[i] = (uint8_t)(t >> (8 * i));
}

static void build_payload(const conn_t *c, uint64_t seq, uint8_t *p) {
  size_t h = hdr_len();
  write_header(p, tag(c, seq));
  memcpy(p + h, pattern + pat_off(c, seq) + h, size - h);
}

static void make_pattern(void) {
  pattern_len = size + 256;
  pattern = xrealloc(NULL, pattern_len);
  uint64_t x = 0x9E3779B97F4A7C15ull;
  if (is_text || use_deflate) {
    static const char *words[] = {"stream", "socket", "frame", "message", "deflate", "echo", "binary", "text", "close",
                                  "ping", "pong", "mask", "payload", "opcode", "server", "client", "the", "of", "and", "a"};
    size_t i = 0;
    while (i < pattern_len) {
      x ^= x << 13; x ^= x >> 7; x ^= x << 17;
      const char *w = words[x % 20];
      for (size_t k = 0; w[k] && i < pattern_len; k++) pattern[i++] = (uint8_t)w[k];
      if (i < pattern_len) pattern[i++] = ' ';
    }
  } else {
    for (size_t i = 0; i < pattern_len; i++) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; pattern[i] = (uint8_t)(x >> 24); }
  }
}

/* ---- output buffer ---------------------------------------------------------------------------------------- */

static uint8_t *out_reserve(conn_t *c, size_t n) {
  if (c->out_r == c->out_w) c->out_r = c->out_w = 0;
  if (c->out_cap - c->out_w < n) {
    memmove(c->out, c->out + c->out_r, c->out_w - c->out_r);
    c->out_w -= c->out_r; c->out_r = 0;
    if (c->out_cap - c->out_w < n) { c->out_cap = c->out_w + n + 4096; c->out = xrealloc(c->out, c->out_cap); }
  }
  return c->out + c->out_w;
}

static void set_want_out(conn_t *c, int want) {
  if (c->want_out == want) return;
  struct epoll_event ev = {.events = EPOLLIN | (want ? EPOLLOUT : 0), .data.ptr = c};
  epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
  c->want_out = want;
}

static void flush_out(conn_t *c) {
  while (c->out_r < c->out_w) {
    ssize_t n = write(c->fd, c->out + c->out_r, c->out_w - c->out_r);
    if (n > 0) { c->out_r += (size_t)n; continue; }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) { set_want_out(c, 1); return; }
    fail(c, "write failed (server closed the connection?)");
  }
  set_want_out(c, 0);
}

/* The next frame's masking key: a fresh one per frame unless --fixed-mask (see the header comment). xorshift64* is
 * not a cryptographic generator, but a server cannot predict it from the keys it saw without modelling it, which is
 * what matters here: no key repeats in a way an implementation could exploit. */
static uint64_t rng_state;
static void next_mask(conn_t *c) {
  if (fixed_mask) return;
  uint32_t k;
  do {
    rng_state ^= rng_state >> 12; rng_state ^= rng_state << 25; rng_state ^= rng_state >> 27;
    k = (uint32_t)((rng_state * 0x2545F4914F6CDD1Dull) >> 32);
  } while (k == 0);
  memcpy(c->mask, &k, 4);
}

static void mask_bytes(uint8_t *p, size_t n, const uint8_t m[4]) {
  /* 8 bytes at a time; the key repeats every 4 bytes, so an 8-byte word of it lines up as long as p starts the payload */
  uint64_t k; uint8_t kb[8] = {m[0], m[1], m[2], m[3], m[0], m[1], m[2], m[3]};
  memcpy(&k, kb, 8);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) { uint64_t v; memcpy(&v, p + i, 8); v ^= k; memcpy(p + i, &v, 8); }
  for (; i < n; i++) p[i] ^= m[i & 3];
}

/* Appends one masked client frame carrying `len` bytes from `payload` (NULL: the payload is already in place). */
static void put_frame(conn_t *c, int op, int rsv1, const uint8_t *payload, size_t len) {
  uint8_t *f = out_reserve(c, len + 14);
  size_t h = 0;
  f[h++] = (uint8_t)(0x80 | (rsv1 ? 0x40 : 0) | op);
  if (len < 126) f[h++] = (uint8_t)(0x80 | len);
  else if (len < 65536) { f[h++] = 0x80 | 126; f[h++] = (uint8_t)(len >> 8); f[h++] = (uint8_t)len; }
  else { f[h++] = 0x80 | 127; for (int i = 7; i >= 0; i--) f[h++] = (uint8_t)((uint64_t)len >> (8 * i)); }
  next_mask(c);
  memcpy(f + h, c->mask, 4); h += 4;
  memcpy(f + h, payload, len);
  mask_bytes(f + h, len, c->mask);
  c->out_w += h + len;
}

static void send_message(conn_t *c) {
  uint64_t seq = c->sent++;
  c->ts[seq % inflight] = now_ns();
  if (tcp_mode) { build_payload(c, seq, out_reserve(c, size)); c->out_w += size; return; }
  if (!c->pmd) {
    /* build the payload straight into the output buffer, behind room for the longest header, and mask in place */
    uint8_t *f = out_reserve(c, size + 14);
    size_t h = 0;
    f[h++] = (uint8_t)(0x80 | (is_text ? 1 : 2));
    if (size < 126) f[h++] = (uint8_t)(0x80 | size);
    else if (size < 65536) { f[h++] = 0x80 | 126; f[h++] = (uint8_t)(size >> 8); f[h++] = (uint8_t)size; }
    else { f[h++] = 0x80 | 127; for (int i = 7; i >= 0; i--) f[h++] = (uint8_t)((uint64_t)size >> (8 * i)); }
    next_mask(c);
    memcpy(f + h, c->mask, 4); h += 4;
    build_payload(c, seq, f + h);
    mask_bytes(f + h, size, c->mask);
    c->out_w += h + size;
    return;
  }
  build_payload(c, seq, scratch);
  c->def.next_in = scratch; c->def.avail_in = (uInt)size;
  c->def.next_out = scratch2; c->def.avail_out = (uInt)scratch_cap;
  if (deflate(&c->def, Z_SYNC_FLUSH) != Z_OK || c->def.avail_in != 0 || c->def.avail_out == 0) fail(c, "deflate failed");
  size_t clen = scratch_cap - c->def.avail_out;
  if (clen < 4 || memcmp(scratch2 + clen - 4, "\x00\x00\xff\xff", 4) != 0) fail(c, "deflate did not end in a sync flush");
  clen -= 4; /* RFC 7692 7.2.1: drop the empty stored block's tail */
  if (c->client_no_ctx) deflateReset(&c->def);
  put_frame(c, is_text ? 1 : 2, 1, scratch2, clen);
}

/* ---- checking echoes -------------------------------------------------------------------------------------- */

static void record_rtt(conn_t *c, uint64_t seq) {
  if (!measuring) return;
  uint64_t d = now_ns() - c->ts[seq % inflight];
  if (lat_n == lat_cap) { lat_cap = lat_cap ? lat_cap * 2 : 1 << 20; lat = xrealloc(lat, lat_cap * sizeof *lat); }
  lat[lat_n++] = d > 0xFFFFFFFFull ? 0xFFFFFFFFu : (uint32_t)d;
  win_msgs++;
}

static void echo_done(conn_t *c) {
  uint64_t seq = c->recvd++;
  record_rtt(c, seq);
  if (idle_mode) {
    if (c->state != ST_READY) { c->state = ST_READY; ready++; handshaking--; }
    return;
  }
  if (running) { send_message(c); }
}

static void check_message(conn_t *c, int op, const uint8_t *p, size_t n) {
  if (op != (is_text ? 1 : 2)) fail(c, "echo has the wrong opcode");
  if (c->recvd >= c->sent) fail(c, "echo of a message never sent");
  if (n != size) fail(c, "echo has the wrong length");
  uint8_t h[16];
  write_header(h, tag(c, c->recvd));
  if (memcmp(p, h, hdr_len()) != 0) fail(c, "echo header names the wrong message (lost, duplicated or reordered)");
  size_t off = pat_off(c, c->recvd) + hdr_len();
  if (memcmp(p + hdr_len(), pattern + off, size - hdr_len()) != 0) fail(c, "echo payload differs from what was sent");
  echo_done(c);
}

static void msg_append(conn_t *c, const uint8_t *p, size_t n) {
  if (c->msg_len + n > c->msg_cap) { c->msg_cap = (c->msg_len + n) * 2; c->msg = xrealloc(c->msg, c->msg_cap); }
  memcpy(c->msg + c->msg_len, p, n);
  c->msg_len += n;
}

static void finish_message(conn_t *c, int op, int rsv1, const uint8_t *p, size_t n) {
  if (!rsv1) { check_message(c, op, p, n); return; }
  if (!c->pmd) fail(c, "RSV1 set without permessage-deflate");
  /* inflate into scratch: the original is exactly `size` bytes; anything longer is a mismatch */
  static const uint8_t tail[4] = {0, 0, 0xff, 0xff};
  c->inf.next_out = scratch; c->inf.avail_out = (uInt)scratch_cap;
  c->inf.next_in = (uint8_t *)p; c->inf.avail_in = (uInt)n;
  int r = inflate(&c->inf, Z_SYNC_FLUSH);
  if (r != Z_OK && r != Z_BUF_ERROR) fail(c, "inflate failed");
  c->inf.next_in = (uint8_t *)tail; c->inf.avail_in = 4;
  r = inflate(&c->inf, Z_SYNC_FLUSH);
  if (r != Z_OK && r != Z_BUF_ERROR) fail(c, "inflate failed");
  check_message(c, op, scratch, scratch_cap - c->inf.avail_out);
}

static void on_frame(conn_t *c, int fin, int rsv1, int op, uint8_t *p, size_t n) {
  if (op >= 8) {
    if (op == 9) { put_frame(c, 10, 0, p, n); return; }
    if (op == 10) return;
    fail(c, "server sent a close frame");
  }
  if (op != 0) {
    if (c->in_msg) fail(c, "new message inside a fragmented one");
    if (fin) { finish_message(c, op, rsv1, p, n); return; }
    c->in_msg = 1; c->msg_op = op; c->msg_rsv1 = rsv1; c->msg_len = 0;
    msg_append(c, p, n);
    return;
  }
  if (!c->in_msg) fail(c, "continuation without a message");
  msg_append(c, p, n);
  if (fin) { c->in_msg = 0; finish_message(c, c->msg_op, c->msg_rsv1, c->msg, c->msg_len); }
}

/* Parses as many complete server frames as the input holds; makes room for the next one if it is partial. */
static void parse_frames(conn_t *c) {
  for (;;) {
    size_t avail = c->in_w - c->in_r;
    uint8_t *b = c->in + c->in_r;
    if (avail < 2) break;
    if (b[1] & 0x80) fail(c, "server frame is masked");
    size_t h = 2; uint64_t len = b[1] & 0x7f;
    if (len == 126) { h = 4; if (avail < h) break; len = (uint64_t)b[2] << 8 | b[3]; }
    else if (len == 127) { h = 10; if (avail < h) break; len = 0; for (int i = 0; i < 8; i++) len = len << 8 | b[2 + i]; }
    if (len > (1ull << 30)) fail(c, "frame too large");
    size_t total = h + (size_t)len;
    if (avail < total) {
      if (c->in_cap - c->in_r < total) {
        memmove(c->in, c->in + c->in_r, avail);
        c->in_w = avail; c->in_r = 0;
        if (c->in_cap < total) { c->in_cap = total + 65536; c->in = xrealloc(c->in, c->in_cap); }
      }
      break;
    }
    c->in_r += total;
    on_frame(c, b[0] >> 7, (b[0] >> 6) & 1, b[0] & 15, b + h, (size_t)len);
  }
  if (c->in_r == c->in_w) c->in_r = c->in_w = 0;
}

/* Raw TCP: checks the echoed bytes against the messages in flight, in order. */
static void tcp_input(conn_t *c) {
  const uint8_t *p = c->in + c->in_r;
  size_t n = c->in_w - c->in_r;
  size_t hl = hdr_len();
  while (n > 0) {
    if (c->recvd >= c->sent) fail(c, "echo of bytes never sent");
    size_t take = size - c->tcp_off < n ? size - c->tcp_off : n;
    uint8_t h[16];
    write_header(h, tag(c, c->recvd));
    size_t o = c->tcp_off, k = 0;
    for (; o < hl && k < take; o++, k++) if (p[k] != h[o]) fail(c, "echoed header differs");
    if (k < take && memcmp(p + k, pattern + pat_off(c, c->recvd) + o, take - k) != 0) fail(c, "echoed bytes differ");
    c->tcp_off += take; p += take; n -= take;
    if (c->tcp_off == size) { c->tcp_off = 0; echo_done(c); }
  }
  c->in_r = c->in_w = 0;
}

/* ---- handshake -------------------------------------------------------------------------------------------- */

static const char *find_header(const char *head, const char *name, size_t *vlen) {
  size_t nl = strlen(name);
  for (const char *line = strstr(head, "\r\n"); line && line[2] != '\r'; line = strstr(line + 2, "\r\n")) {
    const char *l = line + 2;
    if (strncasecmp(l, name, nl) == 0 && l[nl] == ':') {
      const char *v = l + nl + 1;
      while (*v == ' ' || *v == '\t') v++;
      const char *e = strstr(v, "\r\n");
      while (e > v && (e[-1] == ' ' || e[-1] == '\t')) e--;
      *vlen = (size_t)(e - v);
      return v;
    }
  }
  return NULL;
}

static void setup_deflate(conn_t *c, const char *ext, size_t n) {
  char v[512];
  if (n >= sizeof v) fail(c, "extension header too long");
  memcpy(v, ext, n); v[n] = 0;
  if (strncmp(v, "permessage-deflate", 18) != 0) fail(c, "server answered an extension other than permessage-deflate");
  int cbits = 15;
  c->client_no_ctx = strstr(v, "client_no_context_takeover") != NULL;
  const char *w = strstr(v, "client_max_window_bits=");
  if (w) cbits = atoi(w + 23);
  if (cbits < 9) cbits = 9; /* zlib cannot deflate with an 8-bit window; 9 is what it would use anyway */
  if (deflateInit2(&c->def, 1, Z_DEFLATED, -cbits, 8, Z_DEFAULT_STRATEGY) != Z_OK) fail(c, "deflateInit2");
  if (inflateInit2(&c->inf, -15) != Z_OK) fail(c, "inflateInit2");
  c->pmd = 1;
}

static void on_handshake_input(conn_t *c) {
  c->in[c->in_w < c->in_cap ? c->in_w : c->in_cap - 1] = 0;
  char *end = strstr((char *)c->in, "\r\n\r\n");
  if (!end) { if (c->in_w > 8192) fail(c, "handshake response too long"); return; }
  end[2] = 0; /* terminate after the last header line's CRLF; find_header stops at the empty line */
  if (strncmp((char *)c->in, "HTTP/1.1 101", 12) != 0) fail(c, "handshake refused (status is not 101)");
  size_t n;
  const char *acc = find_header((char *)c->in, "Sec-WebSocket-Accept", &n);
  char cat[128]; uint8_t dg[20]; char want[40];
  snprintf(cat, sizeof cat, "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", c->key);
  sha1((uint8_t *)cat, strlen(cat), dg);
  base64_encode(dg, 20, want);
  if (!acc || n != strlen(want) || memcmp(acc, want, n) != 0) fail(c, "wrong Sec-WebSocket-Accept");
  const char *ext = find_header((char *)c->in, "Sec-WebSocket-Extensions", &n);
  if (use_deflate) { if (!ext) fail(c, "server did not accept permessage-deflate"); setup_deflate(c, ext, n); }
  else if (ext) fail(c, "server answered an extension that was not offered");
  c->in_r = (size_t)(end + 4 - (char *)c->in);
  c->state = ST_OPEN;
  int k = idle_mode ? 1 : inflight;
  for (int i = 0; i < k; i++) send_message(c);
  flush_out(c);
  if (c->in_r < c->in_w) parse_frames(c); else c->in_r = c->in_w = 0;
}

static void start_conn(conn_t *c) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  inet_pton(AF_INET, host, &a.sin_addr);
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (c->fd < 0) fail(c, "socket() failed (fd limit?)");
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(c->fd, (struct sockaddr *)&a, sizeof a) < 0 && errno != EINPROGRESS) fail(c, "connect failed");
  c->state = ST_CONNECTING;
  handshaking++;
  now_cached = clock_ns();
  struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
  c->want_out = 1;
  epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev);
}

static void on_connected(conn_t *c) {
  int err = 0; socklen_t l = sizeof err;
  getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
  if (err) fail(c, "connect failed (server not listening?)");
  if (tcp_mode) {
    c->state = ST_OPEN;
    int k = idle_mode ? 1 : inflight;
    for (int i = 0; i < k; i++) send_message(c);
    flush_out(c);
    return;
  }
  c->state = ST_HANDSHAKE;
  uint8_t raw[16];
  for (int i = 0; i < 16; i++) raw[i] = (uint8_t)(c->id * 131 + i * 17 + 1);
  base64_encode(raw, 16, c->key);
  char req[1024];
  int n = snprintf(req, sizeof req,
                   "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s\r\n",
                   path, host, port, c->key,
                   use_deflate ? "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" : "");
  memcpy(out_reserve(c, (size_t)n), req, (size_t)n);
  c->out_w += (size_t)n;
  flush_out(c);
}

static void on_readable(conn_t *c) {
  if (c->in_cap - c->in_w < 4096) {
    if (c->in_r > 0) { memmove(c->in, c->in + c->in_r, c->in_w - c->in_r); c->in_w -= c->in_r; c->in_r = 0; }
    if (c->in_cap - c->in_w < 4096) { c->in_cap *= 2; c->in = xrealloc(c->in, c->in_cap); }
  }
  ssize_t n = read(c->fd, c->in + c->in_w, c->in_cap - c->in_w - 1);
  now_cached = clock_ns();
  if (n == 0) fail(c, "server closed the connection");
  if (n < 0) { if (errno == EAGAIN || errno == EINTR) return; fail(c, "read failed (connection reset?)"); }
  c->in_w += (size_t)n;
  if (c->state == ST_HANDSHAKE) on_handshake_input(c);
  else if (tcp_mode) tcp_input(c);
  else parse_frames(c);
  if (c->out_r < c->out_w) flush_out(c);
}

/* ---- main ------------------------------------------------------------------------------------------------- */

static int cmp_u32(const void *a, const void *b) { uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b; return x < y ? -1 : x > y; }
static double cpu_s(void) { struct rusage r; getrusage(RUSAGE_SELF, &r); return r.ru_utime.tv_sec + r.ru_utime.tv_usec * 1e-6 + r.ru_stime.tv_sec + r.ru_stime.tv_usec * 1e-6; }

static void usage(void) {
  fprintf(stderr, "usage: loadgen --port P [--host H] [--mode ws|tcp] [--conns N] [--inflight W] [--size BYTES]\n"
                  "               [--type binary|text] [--deflate] [--warmup S] [--duration S] [--idle] [--path /]\n");
  exit(64);
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define ARG(name) (strcmp(a, name) == 0 && v && ++i)
    if (ARG("--port")) port = atoi(v);
    else if (ARG("--host")) host = v;
    else if (ARG("--path")) path = v;
    else if (ARG("--mode")) tcp_mode = strcmp(v, "tcp") == 0;
    else if (ARG("--conns")) nconns = atoi(v);
    else if (ARG("--inflight")) inflight = atoi(v);
    else if (ARG("--size")) size = (size_t)atol(v);
    else if (ARG("--type")) is_text = strcmp(v, "text") == 0;
    else if (ARG("--warmup")) warmup = atof(v);
    else if (ARG("--duration")) duration = atof(v);
    else if (strcmp(a, "--deflate") == 0) use_deflate = 1;
    else if (strcmp(a, "--idle") == 0) idle_mode = 1;
    else if (strcmp(a, "--fixed-mask") == 0) fixed_mask = 1;
    else usage();
#undef ARG
  }
  if (!port || nconns < 1 || inflight < 1 || size < hdr_len() || (tcp_mode && use_deflate)) usage();

  /* 5,000 idle connections need more descriptors than the usual soft limit of 1024: raise it to the hard limit */
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) { rl.rlim_cur = rl.rlim_max; setrlimit(RLIMIT_NOFILE, &rl); }
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)nconns + 16) { fprintf(stderr, "fd limit %lu too low\n", (unsigned long)rl.rlim_cur); return 1; }

  if (getrandom(&rng_state, sizeof rng_state, 0) != sizeof rng_state || rng_state == 0) rng_state = (uint64_t)clock_ns() | 1;
  make_pattern();
  scratch_cap = deflateBound(NULL, size) + size + 1024;
  scratch = xrealloc(NULL, scratch_cap);
  scratch2 = xrealloc(NULL, scratch_cap);
  epfd = epoll_create1(0);
  conns = calloc((size_t)nconns, sizeof *conns);
  for (int i = 0; i < nconns; i++) {
    conn_t *c = &conns[i];
    c->id = i; c->fd = -1;
    c->in_cap = 65536; c->in = xrealloc(NULL, c->in_cap);
    c->out_cap = idle_mode ? 4096 : (size_t)inflight * (size + 14) + 4096; c->out = xrealloc(NULL, c->out_cap);
    c->ts = calloc((size_t)inflight, sizeof *c->ts);
    c->msg_cap = 0; c->msg = NULL;
    uint32_t k = 0x5bd1e995u * (uint32_t)(i + 1); /* the --fixed-mask key; otherwise replaced before every frame */
    if (k == 0) k = 1;
    memcpy(c->mask, &k, 4);
  }
  if (idle_mode) {
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(epfd, EPOLL_CTL_ADD, 0, &ev);
  }

  int started = 0;
  const int max_handshaking = idle_mode ? 128 : nconns;
  double t0 = now_s(), t_measure = 0, t_end = 0, cpu0 = 0;
  int announced = 0;
  struct epoll_event evs[256];
  for (;;) {
    while (started < nconns && handshaking < max_handshaking) start_conn(&conns[started++]);
    int n = epoll_wait(epfd, evs, 256, 20);
    for (int i = 0; i < n; i++) {
      conn_t *c = evs[i].data.ptr;
      if (!c) { printf("{\"ok\":true,\"idle\":%d}\n", ready); fflush(stdout); return 0; } /* stdin spoke or closed */
      uint32_t e = evs[i].events;
      if (c->state == ST_CONNECTING) { if (e & (EPOLLOUT | EPOLLERR | EPOLLHUP)) on_connected(c); continue; }
      if (e & EPOLLIN) on_readable(c);
      else if (e & (EPOLLERR | EPOLLHUP)) fail(c, "connection error");
      if ((e & EPOLLOUT) && c->out_r < c->out_w) flush_out(c);
    }
    double t = now_s();
    if (idle_mode) {
      if (!announced && ready == nconns) { printf("READY %d %.3f\n", ready, t - t0); fflush(stdout); announced = 1; }
      if (!announced && t - t0 > 120) fail(NULL, "idle connections not all established within 120 s");
      continue;
    }
    if (!t_measure) {
      /* the clock starts when every connection is open, so connection setup is never measured */
      int open = 0;
      for (int i = 0; i < nconns; i++) open += conns[i].state == ST_OPEN;
      if (open == nconns) { t_measure = t + warmup; t_end = t_measure + duration; }
      else if (t - t0 > 30) fail(NULL, "connections not established within 30 s");
      continue;
    }
    if (!measuring && t >= t_measure && t < t_end) {
      measuring = 1; win_msgs = 0; lat_n = 0; cpu0 = cpu_s(); t_measure = t;
      printf("WINDOW\n"); fflush(stdout); /* run.mjs samples the server's CPU time now and at the end */
    }
    if (t >= t_end) break;
  }
  double t1 = now_s(), cpu1 = cpu_s();
  running = 0;
  double win = t1 - t_measure;
  double mps = win_msgs / win;
  qsort(lat, lat_n, sizeof *lat, cmp_u32);
  double p50 = lat_n ? lat[lat_n / 2] / 1e3 : 0, p99 = lat_n ? lat[(size_t)(lat_n * 0.99)] / 1e3 : 0;
  printf("{\"ok\":true,\"msgs\":%llu,\"seconds\":%.3f,\"msgsPerSec\":%.1f,\"mibPerSec\":%.3f,\"p50us\":%.1f,\"p99us\":%.1f,"
         "\"cpu\":%.3f,\"conns\":%d,\"inflight\":%d,\"size\":%zu}\n",
         (unsigned long long)win_msgs, win, mps, mps * (double)size / 1048576.0, p50, p99, (cpu1 - cpu0) / win, nconns, inflight, size);
  fflush(stdout);
  return 0;
}
