package dev.ferry.nativeio.netlink;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

import dev.ferry.nativeio.libc.Errno;
import dev.ferry.nativeio.libc.LibC;
import dev.ferry.nativeio.libc.NativeException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Tells when the kernel changed an IPv4 routing table: a NETLINK_ROUTE socket subscribed to
 * RTNLGRP_IPV4_ROUTE (rtnetlink(7)), so that a watcher can re-read the table instead of polling
 * it. Only whether a table changed is reported, not how: the caller dumps it again, which also
 * covers notifications the kernel dropped when the socket's buffer overflowed (ENOBUFS).
 *
 * <p>Like {@link RtNetlink}, it acts on the network namespace of the thread that opened it, and
 * one thread waits in {@link #awaitChange}, blocked in the kernel (no CPU) until a notification
 * comes or another thread calls {@link #wakeUp()} (an eventfd polled beside the socket).
 */
public final class RouteMonitor implements AutoCloseable {
    /** RTMGRP_IPV4_ROUTE: the legacy group bit for RTNLGRP_IPV4_ROUTE (7). */
    private static final int RTMGRP_IPV4_ROUTE = 0x40;
    private static final int BUFFER_SIZE = 64 * 1024;
    /** Room for a burst of notifications (a sync adding many routes) before the kernel drops. */
    private static final int RECEIVE_BUFFER = 1 << 20;

    private final Arena arena = Arena.ofShared();
    private final MemorySegment buffer = arena.allocate(BUFFER_SIZE, 8);
    private final MemorySegment errno = LibC.newErrnoState();
    /** Two pollfds: the netlink socket, then the wake-up eventfd. */
    private final MemorySegment pollFds = arena.allocate(LibC.POLLFD, 2);
    private final MemorySegment counter = arena.allocate(JAVA_LONG);
    private final int fd;
    private final int wakeFd;

    private RouteMonitor(int fd, int wakeFd) {
        this.fd = fd;
        this.wakeFd = wakeFd;
        for (int i = 0; i < 2; i++) {
            pollFds.set(JAVA_INT, i * LibC.POLLFD.byteSize(), i == 0 ? fd : wakeFd);
            pollFds.set(JAVA_SHORT, i * LibC.POLLFD.byteSize() + 4, LibC.POLLIN);
        }
    }

    /** Opens the subscription in the calling thread's network namespace. */
    public static RouteMonitor open() {
        int fd = LibC.check("socket(AF_NETLINK, NETLINK_ROUTE)",
                LibC.socket(LibC.AF_NETLINK, LibC.SOCK_RAW | LibC.SOCK_CLOEXEC, Rtnl.NETLINK_ROUTE));
        try (Arena a = Arena.ofConfined()) {
            MemorySegment local = a.allocate(NetlinkStructs.SOCKADDR_NL);
            local.set(JAVA_SHORT, 0, (short) LibC.AF_NETLINK);
            local.set(JAVA_INT, 8, RTMGRP_IPV4_ROUTE); // nl_groups, after family, pad and pid
            LibC.check("bind(AF_NETLINK, RTMGRP_IPV4_ROUTE)", LibC.bind(fd, local));
            LibC.setsockopt(fd, LibC.SOL_SOCKET, LibC.SO_RCVBUF, RECEIVE_BUFFER);
            int wakeFd = LibC.check("eventfd", LibC.eventfd(0, LibC.EFD_NONBLOCK | LibC.EFD_CLOEXEC));
            return new RouteMonitor(fd, wakeFd);
        } catch (RuntimeException e) {
            LibC.close(fd);
            throw e;
        }
    }

    /** Makes a thread waiting in {@link #awaitChange} return (false) now; any thread may call it. */
    public void wakeUp() {
        try (Arena a = Arena.ofConfined()) {
            LibC.write(LibC.newErrnoState(), wakeFd, a.allocateFrom(JAVA_LONG, 1L).address(), Long.BYTES);
        }
    }

    /**
     * Waits up to {@code timeoutMs} (-1: no limit) for notifications or a {@link #wakeUp()}, then
     * reads every notification already queued.
     *
     * @param table the table of interest, below 256 (e.g. {@link Rtnl#RT_TABLE_LOCAL})
     * @return whether a route of {@code table} was added, changed or removed, or notifications
     *     were lost (so it may have been); false on a timeout, a wake-up or other tables only
     */
    public boolean awaitChange(int table, int timeoutMs) {
        int ready = LibC.poll(errno, pollFds.address(), 2, timeoutMs);
        if (ready < 0 && ready != -Errno.EINTR) {
            throw new NativeException("poll(route notifications)", -ready);
        }
        // reset the wake-up counter (EAGAIN when nobody woke us)
        LibC.read(errno, wakeFd, counter.address(), Long.BYTES);
        boolean changed = false;
        while (true) {
            long n = LibC.recvfrom(errno, fd, buffer.address(), BUFFER_SIZE, LibC.MSG_DONTWAIT, 0, 0);
            if (n == -Errno.EAGAIN || n == -Errno.EINTR) {
                return changed;
            }
            if (n == -Errno.ENOBUFS) {
                changed = true; // the kernel dropped some: assume the worst, the caller re-reads
                continue;
            }
            LibC.check("recv(route notifications)", n);
            changed |= touches(buffer, n, table);
        }
    }

    /** Whether any RTM_NEWROUTE/RTM_DELROUTE in the first {@code length} bytes is for {@code table}. */
    static boolean touches(MemorySegment messages, long length, int table) {
        long at = 0;
        while (at + NetlinkStructs.NLMSG_HDRLEN <= length) {
            int msgLen = messages.get(JAVA_INT_UNALIGNED, at + NetlinkStructs.NLMSG_LEN);
            if (msgLen < NetlinkStructs.NLMSG_HDRLEN || at + msgLen > length) {
                return true; // malformed: do not trust what it says, re-read
            }
            int type = Short.toUnsignedInt(messages.get(JAVA_SHORT_UNALIGNED, at + NetlinkStructs.NLMSG_TYPE));
            long rtm = at + NetlinkStructs.NLMSG_HDRLEN;
            if ((type == Rtnl.RTM_NEWROUTE || type == Rtnl.RTM_DELROUTE)
                    && rtm + NetlinkStructs.RTMSG.byteSize() <= at + msgLen) {
                // rtm_table holds ids below 256 (larger ones read 252, RT_TABLE_COMPAT, and are
                // only in RTA_TABLE): enough for the main and local tables
                int t = Byte.toUnsignedInt(messages.get(JAVA_BYTE, rtm + NetlinkStructs.RTM_TABLE));
                if (t == table) {
                    return true;
                }
            }
            at += NetlinkMessage.align(msgLen);
        }
        return false;
    }

    @Override
    public void close() {
        LibC.close(fd);
        LibC.close(wakeFd);
        arena.close();
    }
}
