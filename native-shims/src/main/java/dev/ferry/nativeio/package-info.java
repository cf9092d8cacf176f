/**
 * Linux devices through the JDK's FFM API: libc calls with errno, TUN, AF_PACKET rings and
 * rtnetlink. No JNI and nothing compiled from C; the JVM needs
 * {@code --enable-native-access=ALL-UNNAMED} (or the module's name).
 *
 * <ul>
 *   <li>{@link dev.ferry.nativeio.libc}: the whole native boundary. {@code LibC} binds each libc
 *       call once with {@code Linker.Option.captureCallState("errno")}; calls return the C result
 *       or {@code -errno}, and control paths turn that into a {@code NativeException} naming the
 *       call and the errno, e.g. {@code ioctl(TUNSETIFF ferry0): EPERM (Operation not permitted)}.</li>
 *   <li>{@link dev.ferry.nativeio.probe}: says what is missing (Linux, native access,
 *       /dev/net/tun, CAP_NET_ADMIN, CAP_NET_RAW) before anything is opened.</li>
 *   <li>{@link dev.ferry.nativeio.netns}: run code in another network namespace (setns on a
 *       dedicated platform thread); sockets and devices opened there stay there.</li>
 *   <li>{@link dev.ferry.nativeio.tun}: the {@code tun} port type (multi-queue, {@code IFF_VNET_HDR}
 *       and TUNSETOFFLOAD).</li>
 *   <li>{@link dev.ferry.nativeio.virtio}: {@code struct virtio_net_hdr}, shared by TUN and AF_PACKET.</li>
 *   <li>{@link dev.ferry.nativeio.packet}: the {@code packet} port type (TPACKET_V3 rings).</li>
 *   <li>{@link dev.ferry.nativeio.netlink}: rtnetlink (links, addresses, routes, rules,
 *       neighbours) and sysctls, for host setup. Nothing here shells out to {@code ip}.</li>
 * </ul>
 *
 * <h2>Adapting to the dataplane's PacketPort</h2>
 * A {@code PacketPort} over a TUN queue: {@code receive} loops {@code tun.read(address, capacity)}
 * into one preallocated buffer up to {@code maxPackets} times, stopping at a negative result
 * ({@code -EAGAIN}: nothing waiting), and hands each packet on; {@code send} is
 * {@code tun.write(buffer.addressOffset() + offset, length) == length}; {@code flush} does nothing.
 * Over an AF_PACKET socket: {@code receive} is {@code socket.receiveBatch(handler, maxPackets)},
 * the handler wrapping {@code memory.address() + offset} (skipping the 10-byte
 * {@code virtio_net_hdr} and the 14-byte Ethernet header) in a reusable buffer; {@code send}
 * writes the vnet and Ethernet headers in front of the IP packet and calls
 * {@code socket.queueTx(address, length)}; {@code flush} is {@code socket.flushTx()}. Both are
 * allocation-free and need one receiving and one sending thread at most.
 *
 * <h2>Measured on the development VM (2 vCPUs, kernel 6.18, JDK 25)</h2>
 * From {@code dev.ferry.perf.nativeio.NativeIoBenchmark} (5 s runs after 1 s warm-up):
 * <pre>
 *  TUN read+write, 64 B packets                          ~0.8-0.9 M packets/s
 *  AF_PACKET RX+TX rings, 64 B frames reflected          ~0.32 M/s (no vnet header), ~0.18 M/s (vnet header, 64 TX slots)
 *  TCP through a reflector on the port (offloads default):
 *    TUN                                                 ~1.2-1.7 Gbit/s
 *    packet port with PACKET_VNET_HDR                    ~7.8-9.7 Gbit/s
 *    packet port, no vnet header, offloads off on ferry0 ~1.9-2.2 Gbit/s
 *    packet port, no vnet header, offloads on            stalls (truncated GSO frames, partial checksums)
 * </pre>
 */
package dev.ferry.nativeio;
