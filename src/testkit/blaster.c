/*
 * The live-capture bench's and tests' packet generator: ready-made Ethernet frames sent in a paced
 * loop on a packet socket, up to 32 per sendmmsg call, so that the generator's own cost
 * (~0.5 us a packet) does not starve the monitor it measures on a 2-core machine (cap's send from
 * JavaScript cost ~3 us a packet and could not offer 100 k/s beside a busy core).
 *   blaster IFACE COUNT PPS FRAMES
 * FRAMES: frames sent in turn, each a 2-byte big-endian length and the bytes (written by blaster.ts).
 * Prints the packets sent and the achieved rate.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <errno.h>

#define BATCH 32
#define MAX_FRAMES 64

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: blaster IFACE COUNT PPS FRAMES\n");
    return 2;
  }
  long count = atol(argv[2]);
  double pps = atof(argv[3]);
  static unsigned char frames[MAX_FRAMES][2048];
  static size_t lens[MAX_FRAMES];
  int nframes = 0;
  FILE *f = fopen(argv[4], "rb");
  if (!f) {
    perror(argv[4]);
    return 1;
  }
  unsigned char hdr[2];
  while (nframes < MAX_FRAMES && fread(hdr, 1, 2, f) == 2) {
    lens[nframes] = (size_t)hdr[0] << 8 | hdr[1];
    if (lens[nframes] > sizeof frames[0] || fread(frames[nframes], 1, lens[nframes], f) != lens[nframes]) {
      fprintf(stderr, "%s: bad frame %d\n", argv[4], nframes);
      return 1;
    }
    nframes++;
  }
  fclose(f);
  if (nframes == 0) {
    fprintf(stderr, "%s: no frames\n", argv[4]);
    return 1;
  }
  int s = socket(AF_PACKET, SOCK_RAW, 0);
  if (s < 0) {
    perror("socket(AF_PACKET)");
    return 1;
  }
  struct sockaddr_ll to = {0};
  to.sll_family = AF_PACKET;
  to.sll_ifindex = (int)if_nametoindex(argv[1]);
  to.sll_halen = ETH_ALEN;
  if (to.sll_ifindex == 0) {
    perror(argv[1]);
    return 1;
  }
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  memset(msgs, 0, sizeof msgs);
  for (int i = 0; i < BATCH; i++) {
    msgs[i].msg_hdr.msg_name = &to;
    msgs[i].msg_hdr.msg_namelen = sizeof to;
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  double t0 = now();
  long sent = 0;
  while (sent < count) {
    long due = (long)((now() - t0) * pps);
    if (due > count) due = count;
    if (sent >= due) {
      /* ahead of schedule: sleep rather than spin, leaving the CPU to the capture */
      struct timespec nap = {0, 200000};
      nanosleep(&nap, NULL);
      continue;
    }
    int n = due - sent > BATCH ? BATCH : (int)(due - sent);
    for (int i = 0; i < n; i++) {
      int k = (int)((sent + i) % nframes);
      iov[i].iov_base = frames[k];
      iov[i].iov_len = lens[k];
    }
    int r = sendmmsg(s, msgs, (unsigned)n, 0);
    if (r < 0) {
      if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR) continue;
      perror("sendmmsg");
      return 1;
    }
    sent += r;
  }
  double secs = now() - t0;
  printf("%ld %ld\n", sent, (long)(secs > 0 ? sent / secs : 0));
  return 0;
}
