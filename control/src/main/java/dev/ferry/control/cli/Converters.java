package dev.ferry.control.cli;

import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.service.Protocol;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Option value converters; a bad value becomes picocli's usage error (exit 2) naming the option. */
final class Converters {
    private Converters() {
    }

    /** An IPv4 address in dotted-quad form, as an {@link Ipv4} int. */
    static final class Address implements ITypeConverter<Integer> {
        @Override
        public Integer convert(final String value) {
            try {
                return Ipv4.parse(value);
            } catch (final IllegalArgumentException e) {
                throw new TypeConversionException("'" + value + "' is not an IPv4 address");
            }
        }
    }

    /** A port number 1..65535. */
    static final class Port implements ITypeConverter<Integer> {
        @Override
        public Integer convert(final String value) {
            final int port;
            try {
                port = Integer.parseInt(value.trim());
            } catch (final NumberFormatException e) {
                throw new TypeConversionException("'" + value + "' is not a port number");
            }
            if (port < 1 || port > 65535) {
                throw new TypeConversionException(port + " is not a port (1-65535)");
            }
            return port;
        }
    }

    /** TCP, UDP or SCTP, any case. */
    static final class Proto implements ITypeConverter<Protocol> {
        @Override
        public Protocol convert(final String value) {
            try {
                return Protocol.parse(value);
            } catch (final IllegalArgumentException e) {
                throw new TypeConversionException("'" + value + "' is not a protocol (TCP, UDP or SCTP)");
            }
        }
    }
}
