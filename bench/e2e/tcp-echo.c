/* A raw TCP echo server in C: the reference that shows the load generator is not the bottleneck. If loadgen drives
 * this echo far faster than any JavaScript server runs, the JavaScript figures measure the servers, not loadgen.
 *
 *   tcp-echo            listens on 127.0.0.1, port 0; prints `PORT <n>` once listening
 *
 * One thread, epoll, level-triggered. Each connection reads into a 256 KiB buffer and writes it back; while a write
 * is incomplete it stops reading (backpressure, like every other echo in this bench) and waits for EPOLLOUT. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct { int fd; size_t r, w; unsigned char buf[256 * 1024]; } conn_t;

static int epfd;

static void drop(conn_t *c) { close(c->fd); free(c); }

static void pump(conn_t *c) {
  for (;;) {
    while (c->r < c->w) {
      ssize_t n = write(c->fd, c->buf + c->r, c->w - c->r);
      if (n > 0) { c->r += (size_t)n; continue; }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) {
        struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
        epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
        return;
      }
      drop(c); return;
    }
    c->r = c->w = 0;
    ssize_t n = read(c->fd, c->buf, sizeof c->buf);
    if (n > 0) { c->w = (size_t)n; continue; }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
      epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
      return;
    }
    drop(c); return;
  }
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
          conn_t *c = malloc(sizeof *c);
          c->fd = fd; c->r = c->w = 0;
          struct epoll_event ce = {.events = EPOLLIN, .data.ptr = c};
          epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ce);
        }
        continue;
      }
      pump(evs[i].data.ptr);
    }
  }
}
