package dev.ferry.control.admin;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.ferry.conntrack.ConntrackState;
import dev.ferry.conntrack.ConntrackTable;
import dev.ferry.conntrack.FlowKey;
import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.addr.Ipv6Address;
import dev.ferry.dataplane.nat.FlowFlags;
import dev.ferry.dataplane.service.ServicePort;
import dev.ferry.dataplane.service.ServiceTable;
import dev.ferry.nativeio.IpProtocol;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;

/**
 * Lists and deletes conntrack entries for {@code /conntrack} ({@code conntrack -L} and
 * {@code -D}). Each entry becomes a JSON object:
 * <pre>
 * {"proto": "TCP",
 *  "original": {"src": "10.244.1.9", "sport": 40000, "dst": "172.30.0.41", "dport": 80},
 *  "reply":    {"src": "10.244.1.5", "sport": 8080,  "dst": "10.244.1.9",  "dport": 40000},
 *  "state": "ESTABLISHED", "expiresInSeconds": 86399, "service": "default/web:http",
 *  "flags": ["MASQUERADED"],
 *  "packets": {"original": 3, "reply": 2}, "bytes": {"original": 180, "reply": 120}}
 * </pre>
 * The service is looked up from the original destination in the current snapshot (entries
 * store a snapshot-local id that a later snapshot may give to another port), so it is null for
 * flows whose frontend is gone. The walk runs beside the workers: an entry deleted or reused
 * while it is read can show a mix of two flows; a listing is a diagnostic, not a snapshot.
 */
public final class ConntrackEntries {
    private static final JsonFactory JSON = new JsonFactory();

    private ConntrackEntries() {
    }

    /** Writes the matching entries as one JSON array to {@code out}; returns how many. */
    public static int writeJson(
        final ConntrackTable table,
        final ServiceTable services,
        final ConntrackFilter filter,
        final long nowMs,
        final OutputStream out) {
        final FlowKey original = new FlowKey();
        final FlowKey reply = new FlowKey();
        final int[] count = {0};
        try (JsonGenerator json = JSON.createGenerator(out, JsonEncoding.UTF8)) {
            json.writeStartArray();
            table.forEach(handle -> {
                if (!table.readOriginalIfLive(handle, original)) {
                    return; // ended (and maybe reused) while we looked: not a flow to list
                }
                final String service = serviceOf(services, original);
                if (!filter.matches(original, service) || !table.readReplyIfLive(handle, reply)) {
                    return;
                }
                try {
                    writeEntry(json, table, handle, original, reply, service, nowMs);
                } catch (final IOException e) {
                    throw new UncheckedIOException(e);
                }
                count[0]++;
            });
            json.writeEndArray();
        } catch (final IOException e) {
            throw new UncheckedIOException(e);
        }
        return count[0];
    }

    /** Deletes the matching entries; returns how many this call deleted. */
    public static int delete(final ConntrackTable table, final ServiceTable services, final ConntrackFilter filter) {
        final FlowKey original = new FlowKey();
        final int[] deleted = {0};
        table.forEach(handle -> {
            if (table.readOriginalIfLive(handle, original) && filter.matches(original, serviceOf(services, original))
                && table.delete(handle)) {
                deleted[0]++;
            }
        });
        return deleted[0];
    }

    /** The service port a flow was sent to, by its original destination; null when no current port claims it. */
    public static String serviceOf(final ServiceTable services, final FlowKey original) {
        if (services == null || !original.isIpv4()) {
            return null;
        }
        final ServicePort port = services.find(original.dstIpv4(), original.protocol(), original.dstPort());
        return port == null ? null : port.displayName();
    }

    private static void writeEntry(
        final JsonGenerator json,
        final ConntrackTable table,
        final long handle,
        final FlowKey original,
        final FlowKey reply,
        final String service,
        final long nowMs) throws IOException {
        json.writeStartObject();
        json.writeStringField("proto", IpProtocol.name(original.protocol()));
        json.writeFieldName("original");
        writeTuple(json, original);
        json.writeFieldName("reply");
        writeTuple(json, reply);
        json.writeStringField("state", ConntrackState.name(table.state(handle)));
        json.writeNumberField("expiresInSeconds", Math.max(0, table.expiresAtMs(handle) - nowMs) / 1000);
        if (service == null) {
            json.writeNullField("service");
        } else {
            json.writeStringField("service", service);
        }
        json.writeArrayFieldStart("flags");
        if (FlowFlags.masqueraded(table.flags(handle))) {
            json.writeString("MASQUERADED");
        }
        json.writeEndArray();
        json.writeObjectFieldStart("packets");
        json.writeNumberField("original", table.packets(handle));
        json.writeNumberField("reply", table.packets(handle | 1));
        json.writeEndObject();
        json.writeObjectFieldStart("bytes");
        json.writeNumberField("original", table.bytes(handle));
        json.writeNumberField("reply", table.bytes(handle | 1));
        json.writeEndObject();
        json.writeEndObject();
    }

    private static void writeTuple(final JsonGenerator json, final FlowKey key) throws IOException {
        json.writeStartObject();
        json.writeStringField("src", address(key.srcAddrHi(), key.srcAddrLo()));
        json.writeNumberField("sport", key.srcPort());
        json.writeStringField("dst", address(key.dstAddrHi(), key.dstAddrLo()));
        json.writeNumberField("dport", key.dstPort());
        json.writeEndObject();
    }

    /** IPv4-mapped addresses as dotted quads, others as IPv6 text in its canonical form (RFC 5952). */
    static String address(final long hi, final long lo) {
        final Ipv6Address address = new Ipv6Address(hi, lo);
        return address.isIpv4Mapped() ? Ipv4.format((int) lo) : address.toString();
    }
}
