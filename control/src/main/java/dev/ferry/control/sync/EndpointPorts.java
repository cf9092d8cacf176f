package dev.ferry.control.sync;

import dev.ferry.dataplane.service.Protocol;

import java.util.BitSet;
import java.util.EnumMap;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * A set of (protocol, port) pairs: the ports that endpoints answer from. A reply of a flow
 * Ferry DNATed comes from its endpoint's address, protocol and port, so these pairs are what
 * the host's reply steering must send into ferry0 (docs/ARCHITECTURE.md, "Attach").
 * Immutable; built with {@link #builder()}.
 */
public final class EndpointPorts {
    public static final EndpointPorts NONE = builder().build();

    private final Map<Protocol, BitSet> ports;

    private EndpointPorts(final Map<Protocol, BitSet> ports) {
        this.ports = ports;
    }

    public static Builder builder() {
        return new Builder();
    }

    public boolean contains(final Protocol protocol, final int port) {
        final BitSet set = ports.get(protocol);
        return set != null && set.get(port);
    }

    public boolean isEmpty() {
        return ports.values().stream().allMatch(BitSet::isEmpty);
    }

    /** The number of (protocol, port) pairs. */
    public int size() {
        return ports.values().stream().mapToInt(BitSet::cardinality).sum();
    }

    /** The ports of {@code protocol}, as a copy. */
    public BitSet ports(final Protocol protocol) {
        final BitSet set = ports.get(protocol);
        return set == null ? new BitSet() : (BitSet) set.clone();
    }

    /** Calls {@code visitor} with each protocol that has ports and its ports (a copy). */
    public void forEachProtocol(final BiConsumer<Protocol, BitSet> visitor) {
        for (final Protocol protocol : Protocol.values()) {
            final BitSet set = ports.get(protocol);
            if (set != null && !set.isEmpty()) {
                visitor.accept(protocol, (BitSet) set.clone());
            }
        }
    }

    /** The pairs in this set or in {@code other}. */
    public EndpointPorts union(final EndpointPorts other) {
        final Builder out = builder();
        forEachProtocol(out::addAll);
        other.forEachProtocol(out::addAll);
        return out.build();
    }

    /** The pairs in this set and not in {@code other}. */
    public EndpointPorts minus(final EndpointPorts other) {
        final Builder out = builder();
        forEachProtocol((protocol, set) -> {
            set.andNot(other.ports(protocol));
            out.addAll(protocol, set);
        });
        return out.build();
    }

    @Override
    public boolean equals(final Object o) {
        if (!(o instanceof EndpointPorts other)) {
            return false;
        }
        for (final Protocol protocol : Protocol.values()) {
            if (!ports(protocol).equals(other.ports(protocol))) {
                return false;
            }
        }
        return true;
    }

    @Override
    public int hashCode() {
        int h = 0;
        for (final Protocol protocol : Protocol.values()) {
            h = 31 * h + ports(protocol).hashCode();
        }
        return h;
    }

    @Override
    public String toString() {
        final StringBuilder sb = new StringBuilder("{");
        forEachProtocol((protocol, set) -> {
            if (sb.length() > 1) {
                sb.append(", ");
            }
            sb.append(protocol).append(' ').append(set);
        });
        return sb.append('}').toString();
    }

    /** Collects pairs; {@link #build()} freezes them. */
    public static final class Builder {
        private final Map<Protocol, BitSet> ports = new EnumMap<>(Protocol.class);

        public Builder add(final Protocol protocol, final int port) {
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("not a port: " + port);
            }
            ports.computeIfAbsent(protocol, p -> new BitSet(65536)).set(port);
            return this;
        }

        public Builder addAll(final Protocol protocol, final BitSet set) {
            if (!set.isEmpty()) {
                ports.computeIfAbsent(protocol, p -> new BitSet(65536)).or(set);
            }
            return this;
        }

        public EndpointPorts build() {
            final Map<Protocol, BitSet> frozen = new EnumMap<>(Protocol.class);
            ports.forEach((protocol, set) -> frozen.put(protocol, (BitSet) set.clone()));
            return new EndpointPorts(frozen);
        }
    }
}
