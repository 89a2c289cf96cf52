/*
 * The benchmark's floor: a UDP responder that does no DNS work. Each datagram goes back to its
 * sender as it came, with the QR bit set, read and sent in batches with recvmmsg/sendmmsg on one
 * thread that blocks in the kernel between batches, as gdnsd's do. Whatever latency it shows at a
 * load is what this machine (kernel, loopback, scheduler, hypervisor) gives any server at that load:
 * the comparison runs it beside the servers so a run's percentiles can be read against it.
 * Usage: floor-responder HOST PORT   (prints "ready" once bound)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define BATCH 64
#define SLOT 1232

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s HOST PORT\n", argv[0]);
    return 2;
  }
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in at = { .sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[2])) };
  if (fd < 0 || inet_pton(AF_INET, argv[1], &at.sin_addr) != 1 || bind(fd, (struct sockaddr *)&at, sizeof at) != 0) {
    perror("floor-responder: bind");
    return 1;
  }
  printf("ready\n");
  fflush(stdout);
  static char slots[BATCH][SLOT];
  struct mmsghdr messages[BATCH];
  struct iovec vectors[BATCH];
  struct sockaddr_in senders[BATCH];
  for (;;) {
    for (int i = 0; i < BATCH; i++) {
      vectors[i].iov_base = slots[i];
      vectors[i].iov_len = SLOT;
      memset(&messages[i].msg_hdr, 0, sizeof messages[i].msg_hdr);
      messages[i].msg_hdr.msg_iov = &vectors[i];
      messages[i].msg_hdr.msg_iovlen = 1;
      messages[i].msg_hdr.msg_name = &senders[i];
      messages[i].msg_hdr.msg_namelen = sizeof senders[i];
    }
    int n = recvmmsg(fd, messages, BATCH, MSG_WAITFORONE, NULL);
    if (n <= 0) continue;
    for (int i = 0; i < n; i++) {
      if (messages[i].msg_len > 2) slots[i][2] |= (char)0x80;
      vectors[i].iov_len = messages[i].msg_len;
    }
    sendmmsg(fd, messages, (unsigned)n, 0);
  }
}
