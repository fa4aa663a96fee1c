/* A minimal WebSocket echo server in C: the load generator's own ceiling in WebSocket mode. If loadgen drives this
 * far faster than any JavaScript server runs, the WebSocket figures measure the servers, not loadgen.
 *
 *   ws-echo             listens on 127.0.0.1, port 0; prints `PORT <n>` once listening
 *
 * Not a conforming server (no UTF-8 validation, no fragmentation reassembly, no extensions, no limits): it unmasks
 * each client frame and sends it back unmasked with the same first header byte, which is a valid echo for the
 * unfragmented messages loadgen sends. One thread, epoll, level-triggered; reading stops while more than 4 MiB wait
 * to be written (backpressure). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sha1.h"

typedef struct {
  int fd, open, reading;
  uint8_t *in; size_t in_cap, in_r, in_w;
  uint8_t *out; size_t out_cap, out_r, out_w;
} conn_t;

static int epfd;
#define OUT_LIMIT (4u << 20)

static void drop(conn_t *c) { close(c->fd); free(c->in); free(c->out); free(c); }

static uint8_t *reserve(conn_t *c, size_t n) {
  if (c->out_r == c->out_w) c->out_r = c->out_w = 0;
  if (c->out_cap - c->out_w < n) {
    memmove(c->out, c->out + c->out_r, c->out_w - c->out_r);
    c->out_w -= c->out_r; c->out_r = 0;
    if (c->out_cap - c->out_w < n) { c->out_cap = c->out_w + n + 65536; c->out = realloc(c->out, c->out_cap); }
  }
  return c->out + c->out_w;
}

static void rearm(conn_t *c) {
  uint32_t ev = 0;
  c->reading = c->out_w - c->out_r < OUT_LIMIT;
  if (c->reading) ev |= EPOLLIN;
  if (c->out_r < c->out_w) ev |= EPOLLOUT;
  struct epoll_event e = {.events = ev, .data.ptr = c};
  epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &e);
}

/* returns 0 when the connection must be dropped */
static int flush(conn_t *c) {
  while (c->out_r < c->out_w) {
    ssize_t n = write(c->fd, c->out + c->out_r, c->out_w - c->out_r);
    if (n > 0) { c->out_r += (size_t)n; continue; }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return 1;
    return 0;
  }
  return 1;
}

static int handshake(conn_t *c) {
  c->in[c->in_w] = 0;
  char *end = strstr((char *)c->in, "\r\n\r\n");
  if (!end) return c->in_w < 8192;
  char *k = strcasestr((char *)c->in, "\r\nSec-WebSocket-Key:");
  if (!k || k > end) return 0;
  k += 20;
  while (*k == ' ') k++;
  char key[64]; size_t kl = 0;
  while (k[kl] && k[kl] != '\r' && k[kl] != ' ' && kl < 40) { key[kl] = k[kl]; kl++; }
  key[kl] = 0;
  char cat[128]; uint8_t dg[20]; char acc[40];
  snprintf(cat, sizeof cat, "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);
  sha1((uint8_t *)cat, strlen(cat), dg);
  base64_encode(dg, 20, acc);
  char resp[256];
  int n = snprintf(resp, sizeof resp, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", acc);
  memcpy(reserve(c, (size_t)n), resp, (size_t)n);
  c->out_w += (size_t)n;
  c->in_r = (size_t)(end + 4 - (char *)c->in);
  c->open = 1;
  return 1;
}

static int frames(conn_t *c) {
  for (;;) {
    size_t avail = c->in_w - c->in_r;
    uint8_t *b = c->in + c->in_r;
    if (avail < 2) break;
    size_t h = 2; uint64_t len = b[1] & 0x7f;
    if (!(b[1] & 0x80)) return 0; /* client frames must be masked */
    if (len == 126) { h = 4; if (avail < h) break; len = (uint64_t)b[2] << 8 | b[3]; }
    else if (len == 127) { h = 10; if (avail < h) break; len = 0; for (int i = 0; i < 8; i++) len = len << 8 | b[2 + i]; }
    if (len > (1u << 30)) return 0;
    size_t total = h + 4 + (size_t)len;
    if (avail < total) {
      if (c->in_cap - c->in_r < total + 1) {
        memmove(c->in, c->in + c->in_r, avail);
        c->in_w = avail; c->in_r = 0;
        if (c->in_cap < total + 1) { c->in_cap = total + 65536; c->in = realloc(c->in, c->in_cap); }
      }
      break;
    }
    const uint8_t *m = b + h; uint8_t *p = b + h + 4;
    int op = b[0] & 15;
    if (op == 8) return 0;
    uint8_t *o = reserve(c, (size_t)len + 10);
    size_t oh = 0;
    o[oh++] = op == 9 ? (uint8_t)0x8A : b[0];
    if (len < 126) o[oh++] = (uint8_t)len;
    else if (len < 65536) { o[oh++] = 126; o[oh++] = (uint8_t)(len >> 8); o[oh++] = (uint8_t)len; }
    else { o[oh++] = 127; for (int i = 7; i >= 0; i--) o[oh++] = (uint8_t)(len >> (8 * i)); }
    uint64_t k8; uint8_t kb[8] = {m[0], m[1], m[2], m[3], m[0], m[1], m[2], m[3]};
    memcpy(&k8, kb, 8);
    size_t i = 0;
    for (; i + 8 <= len; i += 8) { uint64_t v; memcpy(&v, p + i, 8); v ^= k8; memcpy(o + oh + i, &v, 8); }
    for (; i < len; i++) o[oh + i] = p[i] ^ m[i & 3];
    c->out_w += oh + (size_t)len;
    c->in_r += total;
  }
  if (c->in_r == c->in_w) c->in_r = c->in_w = 0;
  return 1;
}

static void on_event(conn_t *c, uint32_t ev) {
  if (ev & EPOLLIN) {
    if (c->in_cap - c->in_w < 4097) {
      if (c->in_r) { memmove(c->in, c->in + c->in_r, c->in_w - c->in_r); c->in_w -= c->in_r; c->in_r = 0; }
      if (c->in_cap - c->in_w < 4097) { c->in_cap *= 2; c->in = realloc(c->in, c->in_cap); }
    }
    ssize_t n = read(c->fd, c->in + c->in_w, c->in_cap - c->in_w - 1);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) { drop(c); return; }
    if (n > 0) {
      c->in_w += (size_t)n;
      if (!c->open && !handshake(c)) { drop(c); return; }
      if (c->open && !frames(c)) { drop(c); return; }
    }
  }
  if (!flush(c)) { drop(c); return; }
  int want_out = c->out_r < c->out_w, want_in = c->out_w - c->out_r < OUT_LIMIT;
  if (want_out || want_in != c->reading || (ev & EPOLLOUT)) rearm(c);
}

int main(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) { rl.rlim_cur = rl.rlim_max; setrlimit(RLIMIT_NOFILE, &rl); }
  int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 4096) < 0) { perror("listen"); return 1; }
  socklen_t l = sizeof a;
  getsockname(ls, (struct sockaddr *)&a, &l);
  printf("PORT %d\n", ntohs(a.sin_port));
  fflush(stdout);
  epfd = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
  epoll_ctl(epfd, EPOLL_CTL_ADD, ls, &ev);
  struct epoll_event evs[256];
  for (;;) {
    int n = epoll_wait(epfd, evs, 256, -1);
    for (int i = 0; i < n; i++) {
      if (!evs[i].data.ptr) {
        int fd;
        while ((fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          conn_t *c = calloc(1, sizeof *c);
          c->fd = fd; c->reading = 1;
          c->in_cap = 16384; c->in = malloc(c->in_cap);
          c->out_cap = 16384; c->out = malloc(c->out_cap);
          struct epoll_event ce = {.events = EPOLLIN, .data.ptr = c};
          epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ce);
        }
        continue;
      }
      on_event(evs[i].data.ptr, evs[i].events);
    }
  }
}
