#include <uv.h>

/* The server drives its sockets itself (an epoll set watched by one uv_poll_t), so it needs a
   few Linux calls that Swift's Glibc module does not show: epoll, accept4, MSG_NOSIGNAL sends.
   Thin inline wrappers keep the packed `struct epoll_event` and its union out of Swift. */
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

/* accept4 is declared only under _GNU_SOURCE, which the system module was not built with:
   bind the symbol under a name of our own instead of redeclaring it. */
int noex_accept4_symbol(int fd, struct sockaddr *addr, socklen_t *len, int flags) __asm__("accept4");

/* A non-blocking, close-on-exec connection from a listening socket (one call, no fcntl). */
static inline int noex_accept_nonblocking(int fd) {
    return noex_accept4_symbol(fd, 0, 0, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

static inline int noex_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

static const uint32_t noex_epoll_in = EPOLLIN;
static const uint32_t noex_epoll_out = EPOLLOUT;
static const uint32_t noex_epoll_err_hup = EPOLLERR | EPOLLHUP;

/* op: 0 add, 1 modify, 2 delete. */
static inline int noex_epoll_ctl(int ep, int op, int fd, uint32_t events, uint64_t data) {
    struct epoll_event ev;
    ev.events = events;
    ev.data.u64 = data;
    int ops[3] = { EPOLL_CTL_ADD, EPOLL_CTL_MOD, EPOLL_CTL_DEL };
    return epoll_ctl(ep, ops[op], fd, &ev);
}

/* Room for `count` events, for noex_epoll_wait (free with free()). */
static inline void *noex_epoll_events_alloc(int count) {
    return calloc((size_t)count, sizeof(struct epoll_event));
}

static inline int noex_epoll_wait(int ep, void *events, int max) {
    return epoll_wait(ep, (struct epoll_event *)events, max, 0);
}

static inline uint32_t noex_epoll_event_flags(const void *events, int i) {
    return ((const struct epoll_event *)events)[i].events;
}

static inline uint64_t noex_epoll_event_data(const void *events, int i) {
    return ((const struct epoll_event *)events)[i].data.u64;
}

static inline int noex_set_nodelay(int fd) {
    int one = 1;
    return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* send without SIGPIPE, whatever the process (or a host application) did with the signal. */
static inline ssize_t noex_send(int fd, const void *bytes, size_t count) {
    return send(fd, bytes, count, MSG_NOSIGNAL);
}

/* A frame header and a payload in three parts (a push: its own head, the shared data, its
   tail) in one call, without SIGPIPE. Empty parts are left out. */
static inline ssize_t noex_send4(int fd, const void *h, size_t hcount, const void *a, size_t acount,
                                 const void *b, size_t bcount, const void *c, size_t ccount) {
    struct iovec iov[4];
    int n = 0;
    if (hcount > 0) { iov[n].iov_base = (void *)h; iov[n].iov_len = hcount; n++; }
    if (acount > 0) { iov[n].iov_base = (void *)a; iov[n].iov_len = acount; n++; }
    if (bcount > 0) { iov[n].iov_base = (void *)b; iov[n].iov_len = bcount; n++; }
    if (ccount > 0) { iov[n].iov_base = (void *)c; iov[n].iov_len = ccount; n++; }
    struct msghdr msg = { 0 };
    msg.msg_iov = iov;
    msg.msg_iovlen = n;
    return sendmsg(fd, &msg, MSG_NOSIGNAL);
}


/* No fastbins in malloc: a block freed into one is only merged with its neighbours by a later
   large allocation, which then walks every such block first. After a bucket's records were
   deleted in bulk, that walk held the loop for 35 ms at half a million records
   (bench/README.md, "A bucket closes its holes in steps"). Without them a free merges at once. */
static inline void noex_disable_malloc_fastbins(void) { mallopt(M_MXFAST, 0); }
