package dev.ferry.nativeio.libc;

import java.lang.foreign.ValueLayout;

/** C value types that the struct layouts share: native shorts and network-order integers. */
public final class CTypes {
    /** A native-order {@code short}. */
    public static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT;
    /** A big-endian (network order) {@code __be16}. */
    public static final ValueLayout.OfShort BE16 = ValueLayout.JAVA_SHORT.withOrder(java.nio.ByteOrder.BIG_ENDIAN);
    /** A big-endian (network order) {@code __be32}. */
    public static final ValueLayout.OfInt BE32 = ValueLayout.JAVA_INT.withOrder(java.nio.ByteOrder.BIG_ENDIAN);

    private CTypes() {
    }
}
