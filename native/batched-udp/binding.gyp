{
  "targets": [
    {
      "target_name": "batched_udp",
      "sources": ["batched_udp.c"],
      "cflags": ["-O2", "-Wall"],
      "conditions": [["OS!='linux'", { "type": "none" }]]
    }
  ]
}
