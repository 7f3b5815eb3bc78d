/*
 * pcap_stats' ps_drop for the live capture: cap (libpcap) never calls pcap_stats, and Node has no
 * getsockopt, so the capture helper reads PACKET_STATISTICS from the packet socket itself.
 * packetStats(fd) -> [packets, drops] counted by the kernel since the last call (reading resets
 * them), or null when fd is not a packet socket.
 */
#include <node_api.h>
#include <string.h>
#ifdef __linux__
#include <linux/if_packet.h>
#include <sys/socket.h>
#endif

static napi_value PacketStats(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_value result;
  int32_t fd;
  napi_get_null(env, &result);
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok) {
    napi_throw_type_error(env, NULL, "packetStats(fd): fd must be a number");
    return NULL;
  }
#ifdef __linux__
  {
    /* the larger of the two layouts: TPACKET_V3 sockets answer with tp_freeze_q_cnt too */
    struct tpacket_stats_v3 st;
    socklen_t len = sizeof st;
    napi_value packets, drops;
    memset(&st, 0, sizeof st);
    if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) != 0) return result;
    napi_create_array_with_length(env, 2, &result);
    napi_create_uint32(env, st.tp_packets, &packets);
    napi_create_uint32(env, st.tp_drops, &drops);
    napi_set_element(env, result, 0, packets);
    napi_set_element(env, result, 1, drops);
  }
#endif
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "packetStats", NAPI_AUTO_LENGTH, PacketStats, NULL, &fn);
  napi_set_named_property(env, exports, "packetStats", fn);
  return exports;
}
