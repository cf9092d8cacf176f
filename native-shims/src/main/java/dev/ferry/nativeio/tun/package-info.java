/**
 * The {@code tun} port type: {@code /dev/net/tun} with {@code IFF_TUN | IFF_NO_PI}, optionally
 * {@code IFF_MULTI_QUEUE} (a queue per worker), non-blocking. Created with the TUNSETIFF ioctl
 * because the kernel refuses to create TUN devices over rtnetlink; without IFF_VNET_HDR the
 * kernel hands over complete checksums and segments.
 */
package dev.ferry.nativeio.tun;
