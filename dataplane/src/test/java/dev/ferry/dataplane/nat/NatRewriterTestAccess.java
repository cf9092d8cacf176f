package dev.ferry.dataplane.nat;

import org.agrona.concurrent.UnsafeBuffer;

/** Lets tests in other packages check a packet's checksums the way {@link NatRewriterTest} does. */
public final class NatRewriterTestAccess {
    private NatRewriterTestAccess() {
    }

    public static void assertChecksumsValid(final byte[] packet) {
        NatRewriterTest.assertChecksumsValid(new UnsafeBuffer(packet), packet.length);
    }
}
