/*
 * Batched UDP for Meridian (Linux): a UDP socket this module owns, read with recvmmsg and answered
 * with sendmmsg, many datagrams per system call. Each readable event reads one batch of up to BATCH
 * (the rest on the loop's next turn): the datagrams go into slots of the caller's input buffer,
 * their lengths and senders into its meta array, the JavaScript callback answers each into the same
 * slot of the output buffer and writes the answer's length (0: none), and one sendmmsg sends the
 * batch back to the senders.
 * Nothing is allocated per datagram on either side. Loaded by src/wire/batched-udp.ts when built.
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <uv.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The interface's version: src/wire/batched-udp.ts refuses a module built from other source. */
#define INTERFACE_VERSION 4
#define BATCH 64
#define SLOT 4096
/* meta per slot, int32: input length, output length, sender port, sender family (4 or 6) */
#define META 4
/*
 * The caller's stats array (Float64Array, read without a call): recvmmsg calls, sendmmsg calls,
 * datagrams in, datagrams out, send failures, too long, receive errors, the last failure's errno.
 */
#define STATS 8
enum { RECEIVE_CALLS, SEND_CALLS, DATAGRAMS_IN, DATAGRAMS_OUT, SEND_FAILURES, TOO_LONG, RECEIVE_ERRORS, LAST_ERRNO };

typedef struct {
  int fd;
  int closing;
  uv_poll_t poll;
  napi_env env;
  napi_ref callback, input_ref, output_ref, meta_ref, addresses_ref, stats_ref, resource_ref;
  napi_async_context context;
  uint8_t *input, *output, *addresses;
  int32_t *meta;
  double *stats;
  struct mmsghdr rmsgs[BATCH], smsgs[BATCH];
  struct iovec riov[BATCH], siov[BATCH];
  struct sockaddr_storage from[BATCH];
} Socket;

static napi_value fail(napi_env env, const char *message) {
  napi_throw_error(env, NULL, message);
  return NULL;
}

/* A failed system call thrown as Node's own are: code "EADDRINUSE", message "bind EADDRINUSE". */
static napi_value fail_errno(napi_env env, const char *syscall, int error) {
  const char *code = uv_err_name(uv_translate_sys_error(error));
  char message[96];
  snprintf(message, sizeof message, "%s %s", syscall, code);
  napi_throw_error(env, code, message);
  return NULL;
}

static void answer_batch(Socket *s, int n) {
  napi_env env = s->env;
  for (int i = 0; i < n; i++) {
    int32_t *m = s->meta + i * META;
    m[0] = (s->rmsgs[i].msg_hdr.msg_flags & MSG_TRUNC) ? -1 : (int32_t)s->rmsgs[i].msg_len;
    m[1] = 0;
    if (s->from[i].ss_family == AF_INET6) {
      struct sockaddr_in6 *a = (struct sockaddr_in6 *)&s->from[i];
      m[2] = ntohs(a->sin6_port);
      m[3] = 6;
      memcpy(s->addresses + i * 16, &a->sin6_addr, 16);
    } else {
      struct sockaddr_in *a = (struct sockaddr_in *)&s->from[i];
      m[2] = ntohs(a->sin_port);
      m[3] = 4;
      memcpy(s->addresses + i * 16, &a->sin_addr, 4);
    }
    if (m[0] < 0) s->stats[TOO_LONG]++;
  }
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value callback, resource, argv[1], result;
  napi_get_reference_value(env, s->callback, &callback);
  napi_get_reference_value(env, s->resource_ref, &resource);
  napi_create_int32(env, n, &argv[0]);
  /* As a 'message' event is delivered: the tick queue runs afterwards. */
  napi_make_callback(env, s->context, resource, callback, 1, argv, &result);
  napi_close_handle_scope(env, scope);

  int m = 0;
  for (int i = 0; i < n; i++) {
    int32_t length = s->meta[i * META + 1];
    if (length <= 0 || length > SLOT) continue;
    s->siov[m].iov_base = s->output + (size_t)i * SLOT;
    s->siov[m].iov_len = (size_t)length;
    memset(&s->smsgs[m].msg_hdr, 0, sizeof(struct msghdr));
    s->smsgs[m].msg_hdr.msg_iov = &s->siov[m];
    s->smsgs[m].msg_hdr.msg_iovlen = 1;
    s->smsgs[m].msg_hdr.msg_name = &s->from[i];
    s->smsgs[m].msg_hdr.msg_namelen = s->rmsgs[i].msg_hdr.msg_namelen;
    m++;
  }
  int sent = 0;
  while (sent < m) {
    int k = sendmmsg(s->fd, s->smsgs + sent, (unsigned)(m - sent), MSG_DONTWAIT);
    s->stats[SEND_CALLS]++;
    if (k < 0) {
      if (errno == EINTR) continue;
      /* A full send buffer or a failing destination: that datagram is lost, as a UDP answer may be. */
      s->stats[SEND_FAILURES]++;
      s->stats[LAST_ERRNO] = errno;
      sent++;
      continue;
    }
    sent += k;
    s->stats[DATAGRAMS_OUT] += k;
  }
}

static void on_readable(uv_poll_t *handle, int status, int events) {
  Socket *s = (Socket *)handle->data;
  if (s->closing) return;
  if (status < 0) {
    /* The loop's poll failed on this socket: counted as a failed receive, as dgram reports it ('error'). */
    s->stats[RECEIVE_ERRORS]++;
    s->stats[LAST_ERRNO] = -status;
    return;
  }
  for (;;) {
    for (int i = 0; i < BATCH; i++) {
      s->riov[i].iov_base = s->input + (size_t)i * SLOT;
      s->riov[i].iov_len = SLOT;
      memset(&s->rmsgs[i].msg_hdr, 0, sizeof(struct msghdr));
      s->rmsgs[i].msg_hdr.msg_iov = &s->riov[i];
      s->rmsgs[i].msg_hdr.msg_iovlen = 1;
      s->rmsgs[i].msg_hdr.msg_name = &s->from[i];
      s->rmsgs[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_storage);
    }
    int n = recvmmsg(s->fd, s->rmsgs, BATCH, MSG_DONTWAIT, NULL);
    s->stats[RECEIVE_CALLS]++;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      s->stats[RECEIVE_ERRORS]++;
      s->stats[LAST_ERRNO] = errno;
    }
    if (n <= 0) break;
    s->stats[DATAGRAMS_IN] += n;
    answer_batch(s, n);
    /*
     * One batch per readable event, as libuv reads at most 32 datagrams per dgram callback: the poll
     * is level-triggered, so what is left is read on the loop's next turn, after the other handles
     * (TCP, probes, timers, other sockets) had theirs. Draining a deep queue in one go would starve
     * them for as long as the flood lasts, and burst thousands of answers at senders that read less.
     */
    break;
  }
}

static int buffer_of(napi_env env, napi_value value, void **data, size_t want) {
  size_t length = 0;
  if (napi_get_buffer_info(env, value, data, &length) != napi_ok || length < want) return 0;
  return 1;
}

/*
 * open(host, port, family, reusePort, receiveBufferBytes, callback, input, output, meta, addresses,
 * stats) -> handle; throws with errno text. reusePort: SO_REUSEPORT, so that each process of a
 * cluster binds a socket of its own on the same address and the kernel spreads the senders' flows
 * over them. receiveBufferBytes: SO_RCVBUF, as dgram sockets ask for it (capped by net.core.rmem_max).
 */
static napi_value Open(napi_env env, napi_callback_info info) {
  size_t argc = 11;
  napi_value argv[11];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 11) return fail(env, "open: 11 arguments");
  char host[64];
  size_t hostLength;
  int32_t port, family, receiveBuffer;
  bool reusePort = false;
  if (napi_get_value_string_utf8(env, argv[0], host, sizeof host, &hostLength) != napi_ok) return fail(env, "open: host");
  napi_get_value_int32(env, argv[1], &port);
  napi_get_value_int32(env, argv[2], &family);
  napi_get_value_bool(env, argv[3], &reusePort);
  if (napi_get_value_int32(env, argv[4], &receiveBuffer) != napi_ok || receiveBuffer < 0) return fail(env, "open: receiveBufferBytes");
  Socket *s = calloc(1, sizeof(Socket));
  if (s == NULL) return fail(env, "open: out of memory");
  s->env = env;
  void *stats = NULL;
  size_t statsLength = 0;
  napi_typedarray_type statsType;
  if (!buffer_of(env, argv[6], (void **)&s->input, BATCH * SLOT) || !buffer_of(env, argv[7], (void **)&s->output, BATCH * SLOT) ||
      !buffer_of(env, argv[8], (void **)&s->meta, BATCH * META * 4) || !buffer_of(env, argv[9], (void **)&s->addresses, BATCH * 16) ||
      napi_get_typedarray_info(env, argv[10], &statsType, &statsLength, &stats, NULL, NULL) != napi_ok || statsType != napi_float64_array || statsLength < STATS) {
    free(s);
    return fail(env, "open: buffers too small");
  }
  s->stats = (double *)stats;
  struct sockaddr_storage address;
  socklen_t addressLength;
  memset(&address, 0, sizeof address);
  if (family == 6) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&address;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons((uint16_t)port);
    if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1) { free(s); return fail(env, "open: not an IPv6 address"); }
    addressLength = sizeof(struct sockaddr_in6);
  } else {
    struct sockaddr_in *a = (struct sockaddr_in *)&address;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &a->sin_addr) != 1) { free(s); return fail(env, "open: not an IPv4 address"); }
    addressLength = sizeof(struct sockaddr_in);
  }
  s->fd = socket(family == 6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s->fd < 0) { int error = errno; free(s); return fail_errno(env, "socket", error); }
  int on = 1;
  if (family == 6) setsockopt(s->fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
  /* Best effort, as dgram's recvBufferSize: Linux caps it at net.core.rmem_max rather than failing. */
  if (receiveBuffer > 0) setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &receiveBuffer, sizeof receiveBuffer);
  if (reusePort && setsockopt(s->fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0) {
    int error = errno;
    close(s->fd);
    free(s);
    return fail_errno(env, "setsockopt SO_REUSEPORT", error);
  }
  if (bind(s->fd, (struct sockaddr *)&address, addressLength) != 0) {
    int error = errno;
    close(s->fd);
    free(s);
    return fail_errno(env, "bind", error);
  }
  napi_create_reference(env, argv[5], 1, &s->callback);
  napi_create_reference(env, argv[6], 1, &s->input_ref);
  napi_create_reference(env, argv[7], 1, &s->output_ref);
  napi_create_reference(env, argv[8], 1, &s->meta_ref);
  napi_create_reference(env, argv[9], 1, &s->addresses_ref);
  napi_create_reference(env, argv[10], 1, &s->stats_ref);
  napi_value resource, name;
  napi_create_object(env, &resource);
  napi_create_reference(env, resource, 1, &s->resource_ref);
  napi_create_string_utf8(env, "MeridianBatchedUdp", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, resource, name, &s->context);
  uv_loop_t *loop;
  napi_get_uv_event_loop(env, &loop);
  uv_poll_init(loop, &s->poll, s->fd);
  s->poll.data = s;
  uv_poll_start(&s->poll, UV_READABLE, on_readable);
  napi_value handle;
  napi_create_external(env, s, NULL, NULL, &handle);
  return handle;
}

static Socket *socket_of(napi_env env, napi_callback_info info, napi_value *argv, size_t *argc) {
  napi_get_cb_info(env, info, argc, argv, NULL, NULL);
  Socket *s = NULL;
  if (*argc < 1 || napi_get_value_external(env, argv[0], (void **)&s) != napi_ok) return NULL;
  return s;
}

/* port(handle) -> the bound port */
static napi_value Port(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  Socket *s = socket_of(env, info, argv, &argc);
  if (s == NULL) return fail(env, "port: handle");
  struct sockaddr_storage address;
  socklen_t length = sizeof address;
  getsockname(s->fd, (struct sockaddr *)&address, &length);
  int port = address.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&address)->sin6_port) : ntohs(((struct sockaddr_in *)&address)->sin_port);
  napi_create_int32(env, port, &result);
  return result;
}

/* receiveBufferSize(handle) -> SO_RCVBUF as the kernel reports it (twice what it granted) */
static napi_value ReceiveBufferSize(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  Socket *s = socket_of(env, info, argv, &argc);
  if (s == NULL) return fail(env, "receiveBufferSize: handle");
  int size = 0;
  socklen_t length = sizeof size;
  if (getsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &size, &length) != 0) return fail_errno(env, "getsockopt SO_RCVBUF", errno);
  napi_create_int32(env, size, &result);
  return result;
}

static void on_closed(uv_handle_t *handle) {
  Socket *s = (Socket *)handle->data;
  napi_env env = s->env;
  close(s->fd);
  napi_async_destroy(env, s->context);
  napi_delete_reference(env, s->callback);
  napi_delete_reference(env, s->input_ref);
  napi_delete_reference(env, s->output_ref);
  napi_delete_reference(env, s->meta_ref);
  napi_delete_reference(env, s->addresses_ref);
  napi_delete_reference(env, s->stats_ref);
  napi_delete_reference(env, s->resource_ref);
  free(s);
}

/* close(handle): stops reading and closes the socket (once) */
static napi_value Close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  Socket *s = socket_of(env, info, argv, &argc);
  if (s == NULL) return fail(env, "close: handle");
  if (s->closing) return NULL;
  s->closing = 1;
  uv_poll_stop(&s->poll);
  uv_close((uv_handle_t *)&s->poll, on_closed);
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_value f;
  napi_create_uint32(env, INTERFACE_VERSION, &f);
  napi_set_named_property(env, exports, "version", f);
  napi_create_uint32(env, BATCH, &f);
  napi_set_named_property(env, exports, "batch", f);
  napi_create_uint32(env, SLOT, &f);
  napi_set_named_property(env, exports, "slot", f);
  napi_create_function(env, "open", NAPI_AUTO_LENGTH, Open, NULL, &f);
  napi_set_named_property(env, exports, "open", f);
  napi_create_function(env, "port", NAPI_AUTO_LENGTH, Port, NULL, &f);
  napi_set_named_property(env, exports, "port", f);
  napi_create_function(env, "receiveBufferSize", NAPI_AUTO_LENGTH, ReceiveBufferSize, NULL, &f);
  napi_set_named_property(env, exports, "receiveBufferSize", f);
  napi_create_function(env, "close", NAPI_AUTO_LENGTH, Close, NULL, &f);
  napi_set_named_property(env, exports, "close", f);
  return exports;
}
