package dev.ferry.nativeio.testing;

/**
 * Two namespaces joined by a veth pair: {@code pa} (10.210.0.1/24) in {@link #a} and
 * {@code pb} in {@link #b}, which has no address (the kernel there drops what arrives, as on
 * ferry0p) unless {@code addressB} is set. IPv6 is off in both so nothing else crosses the
 * wire, and {@code a} holds a permanent neighbour entry for 10.210.0.2 at pb's MAC so sends
 * need no ARP.
 */
public final class VethLab implements AutoCloseable {
    public static final String IP_A = "10.210.0.1";
    public static final String IP_B = "10.210.0.2";

    public final TestNetns a;
    public final TestNetns b;
    public final String macA;
    public final String macB;

    private VethLab(TestNetns a, TestNetns b) {
        this.a = a;
        this.b = b;
        this.macA = a.mac("pa");
        this.macB = b.mac("pb");
    }

    public static VethLab create() {
        TestNetns a = TestNetns.create();
        TestNetns b = null;
        try {
            b = TestNetns.create();
            for (TestNetns ns : new TestNetns[] {a, b}) {
                ns.sysctl("net/ipv6/conf/all/disable_ipv6", "1");
                ns.sysctl("net/ipv6/conf/default/disable_ipv6", "1");
            }
            a.ip("link", "add", "pa", "type", "veth", "peer", "name", "pb", "netns", b.name());
            a.ip("addr", "add", IP_A + "/24", "dev", "pa");
            a.ip("link", "set", "pa", "up");
            b.ip("link", "set", "pb", "up");
            VethLab lab = new VethLab(a, b);
            a.ip("neigh", "replace", IP_B, "lladdr", lab.macB, "dev", "pa", "nud", "permanent");
            return lab;
        } catch (RuntimeException e) {
            a.close();
            if (b != null) {
                b.close();
            }
            throw e;
        }
    }

    /** "aa:bb:..." as 6 bytes. */
    public static byte[] macBytes(String mac) {
        String[] p = mac.split(":");
        byte[] out = new byte[6];
        for (int i = 0; i < 6; i++) {
            out[i] = (byte) Integer.parseInt(p[i], 16);
        }
        return out;
    }

    @Override
    public void close() {
        b.close();
        a.close();
    }
}
