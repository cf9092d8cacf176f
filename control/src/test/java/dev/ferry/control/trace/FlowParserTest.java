package dev.ferry.control.trace;

import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.service.Protocol;
import dev.ferry.dataplane.trace.TraceFlow;
import dev.ferry.dataplane.trace.TraceResult;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class FlowParserTest {
    @Test
    void shouldParseFlowWithAndWithoutSourcePort() {
        assertEquals(new TraceFlow(Protocol.TCP, Ipv4.parse("10.0.0.2"), 40001, Ipv4.parse("172.30.0.41"), 80),
            FlowParser.parse("{\"proto\": \"TCP\", \"src\": \"10.0.0.2\", \"sport\": 40001, \"dst\": \"172.30.0.41\", \"dport\": 80}"));
        assertEquals(new TraceFlow(Protocol.UDP, Ipv4.parse("10.0.0.2"), 0, Ipv4.parse("172.30.0.41"), 53),
            FlowParser.parse("{\"proto\": \"udp\", \"src\": \"10.0.0.2\", \"dst\": \"172.30.0.41\", \"dport\": 53}"));
    }

    @Test
    void shouldNameTheFieldThatIsWrong() {
        assertEquals("dport: 0 is not a port (1-65535)", message("{\"proto\": \"TCP\", \"src\": \"10.0.0.2\", \"dst\": \"1.1.1.1\", \"dport\": 0}"));
        assertEquals("src: '10.0.0' is not an IPv4 address", message("{\"proto\": \"TCP\", \"src\": \"10.0.0\", \"dst\": \"1.1.1.1\", \"dport\": 1}"));
        assertEquals("proto: 'ICMP' is not a protocol (TCP, UDP or SCTP)", message("{\"proto\": \"ICMP\", \"src\": \"10.0.0.1\", \"dst\": \"1.1.1.1\", \"dport\": 1}"));
        assertEquals("dst_port: unknown key (known keys: proto, src, sport, dst, dport)",
            message("{\"proto\": \"TCP\", \"src\": \"10.0.0.1\", \"dst\": \"1.1.1.1\", \"dst_port\": 1}"));
        assertEquals("expected a JSON object", message("[1]").substring(0, "expected a JSON object".length()));
        assertEquals("not valid JSON", message("{\"proto\": ").substring(0, "not valid JSON".length()));
    }

    @Test
    void shouldFormatResultAsJsonInFixedKeyOrder() {
        final TraceResult result = new TraceResult("DNAT", "default/web:http", List.of("10.0.0.1:80", "10.0.0.2:80"), "10.0.0.2:80",
            false, "service default/web:http has 2 ready endpoints");
        assertEquals("{\"verdict\":\"DNAT\",\"service\":\"default/web:http\",\"candidates\":[\"10.0.0.1:80\",\"10.0.0.2:80\"],"
            + "\"selected\":\"10.0.0.2:80\",\"masquerade\":false,\"reason\":\"service default/web:http has 2 ready endpoints\"}",
            TraceFormat.json(result));
        assertEquals("{\"verdict\":\"PASS\",\"service\":null,\"candidates\":[],\"selected\":null,\"masquerade\":false,\"reason\":\"r\"}",
            TraceFormat.json(new TraceResult("PASS", null, List.of(), null, false, "r")));
    }

    private static String message(final String line) {
        return assertThrows(IllegalArgumentException.class, () -> FlowParser.parse(line)).getMessage();
    }
}
