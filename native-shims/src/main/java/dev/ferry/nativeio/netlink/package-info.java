/**
 * An rtnetlink client over FFM ({@link dev.ferry.nativeio.netlink.RtNetlink}) and sysctls
 * through /proc ({@link dev.ferry.nativeio.netlink.Sysctl}): what the node's setup needs
 * (veth pairs, namespace moves, up/down, MTU, addresses, routes with tables and onlink next
 * hops, policy rules with iif/from/to/ipproto/dport, permanent neighbours). Kernel refusals
 * become exceptions naming the request, the errno and the kernel's extended-ack text. There is
 * no fallback to the {@code ip} command: everything needed is reachable over netlink, except
 * creating TUN devices, which goes through the TUN ioctl instead.
 */
package dev.ferry.nativeio.netlink;
