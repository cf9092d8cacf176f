package dev.ferry.control.config;

import java.util.Locale;

/** How packets reach the dataplane (docs/ARCHITECTURE.md, "Attach"): a TUN device or a packet socket. */
public enum PortType {
    TUN,
    PACKET;

    /** The spelling used in the node config: "tun" or "packet". */
    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
