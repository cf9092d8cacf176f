package dev.ferry.nativeio.libc;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.nio.charset.StandardCharsets;

/**
 * {@code struct ifreq} (netdevice(7)), the argument of the interface ioctls such as
 * {@code TUNSETIFF}:
 * <pre>
 *  0                16                                      40
 *  +----------------+---------------------------------------+
 *  | ifr_name[16]   | union ifr_ifru: flags (short), ifindex |
 *  | NUL-terminated | (int), mtu (int), hwaddr, data (ptr)   |
 *  +----------------+---------------------------------------+
 * </pre>
 */
public final class IfReq {
    public static final int IFNAMSIZ = 16;

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            MemoryLayout.sequenceLayout(IFNAMSIZ, JAVA_BYTE).withName("ifr_name"),
            MemoryLayout.unionLayout(
                    JAVA_SHORT.withName("ifr_flags"),
                    JAVA_INT.withName("ifr_ifindex"),
                    JAVA_INT.withName("ifr_mtu"),
                    MemoryLayout.sequenceLayout(16, JAVA_BYTE).withName("ifr_hwaddr"),
                    ADDRESS.withName("ifr_data"),
                    MemoryLayout.sequenceLayout(24, JAVA_BYTE).withName("ifr_map")).withName("ifr_ifru"))
            .withName("ifreq");

    public static final long NAME = 0;
    public static final long FLAGS = LAYOUT.byteOffset(MemoryLayout.PathElement.groupElement("ifr_ifru"));
    public static final long IFINDEX = FLAGS;
    public static final long DATA = FLAGS;

    private IfReq() {
    }

    /** A zeroed ifreq carrying {@code name}. */
    public static MemorySegment allocate(Arena arena, String name) {
        byte[] bytes = name.getBytes(StandardCharsets.US_ASCII);
        if (bytes.length >= IFNAMSIZ) {
            throw new IllegalArgumentException("interface name '" + name + "' is longer than "
                    + (IFNAMSIZ - 1) + " characters");
        }
        MemorySegment ifr = arena.allocate(LAYOUT);
        MemorySegment.copy(bytes, 0, ifr, JAVA_BYTE, NAME, bytes.length);
        return ifr;
    }

    public static String name(MemorySegment ifr) {
        return ifr.getString(NAME, StandardCharsets.US_ASCII);
    }

    public static short flags(MemorySegment ifr) {
        return ifr.get(JAVA_SHORT, FLAGS);
    }

    public static void flags(MemorySegment ifr, short flags) {
        ifr.set(JAVA_SHORT, FLAGS, flags);
    }
}
