package dev.ferry.control.source;

import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.service.EndpointSpec;
import dev.ferry.dataplane.service.Protocol;
import dev.ferry.dataplane.service.ServicePortSpec;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** Services and endpoint changes counted per Service, as kube-proxy's change trackers count them. */
class ChangeCounterTest {
    private static ServicePortSpec port(final String service, final int port, final String... endpoints) {
        return port(service, "p" + port, port, endpoints);
    }

    private static ServicePortSpec port(final String service, final String portName, final int port, final String... endpoints) {
        return new ServicePortSpec("default", service, portName, Protocol.TCP, port, 0, List.of(Ipv4.parse("10.96.0.10")), List.of(),
            List.of(), List.of(), false, false, false, 10800, 0,
            java.util.Arrays.stream(endpoints).map(e -> new EndpointSpec(Ipv4.parse(e), 8080, true, true, false, false)).toList());
    }

    @Test
    void shouldCountPerServiceWhatChanged() {
        final List<ServicePortSpec> base = List.of(port("a", 80, "10.244.1.1"), port("a", 443, "10.244.1.1"), port("b", 53, "10.244.1.2"));
        assertArrayEquals(new int[] {0, 0}, ChangeCounter.count(base, base), "nothing");
        assertArrayEquals(new int[] {0, 0}, ChangeCounter.count(base, List.of(base.get(2), base.get(1), base.get(0))), "order does not matter");
        assertArrayEquals(new int[] {0, 1}, ChangeCounter.count(base,
            List.of(base.get(0), base.get(1), port("b", 53, "10.244.1.2", "10.244.1.3"))), "an endpoint added to b");
        assertArrayEquals(new int[] {1, 0}, ChangeCounter.count(base,
            List.of(base.get(0), port("a", "p443", 8443, "10.244.1.1"), base.get(2))), "a's port changed, its endpoints did not");
        assertArrayEquals(new int[] {1, 1}, ChangeCounter.count(base, List.of(base.get(0), base.get(1))), "b removed");
        assertArrayEquals(new int[] {1, 1}, ChangeCounter.count(List.of(), base.subList(2, 3)), "b added with an endpoint");
        assertArrayEquals(new int[] {1, 0}, ChangeCounter.count(List.of(), List.of(port("c", 80))), "c added without endpoints");
    }
}
